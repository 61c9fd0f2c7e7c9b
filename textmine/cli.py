"""The ``textmine`` command: a thin layer over the library (one library call per command)."""
from __future__ import annotations

import contextlib
import functools
import logging
import sys
import warnings
from pathlib import Path

import click

from . import __version__


def _fail_cleanly(func):
    """Turn library errors into ``Error: …`` with exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .errors import TextmineError

        try:
            return func(*args, **kwargs)
        except TextmineError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def input_options(func):
    """Options shared by every command that reads an opinion file."""
    for decorator in reversed([
        click.option("--encoding", help="Force the CSV encoding (e.g. gbk, utf-8); detected by default."),
        click.option("--sheet", help="XLSX sheet name or 1-based number (default: the first sheet)."),
    ]):
        func = decorator(func)
    return func


def column_options(func):
    for decorator in reversed([
        click.option("--text-col", help="Column with the opinion text (detected from common headers)."),
        click.option("--office-col", help="Column naming the office evaluated (optional)."),
        click.option("--group-col", help="Column with the evaluator group (评议人类别)."),
        click.option("--satisfaction-col", help="Column with the satisfaction choice (满意度)."),
        click.option("--evaluator-col", help="Column identifying the evaluator (used for duplicates; never written out)."),
        click.option("--name-col", help="Column with the evaluator's name (never written out)."),
        click.option("--phone-col", help="Column with the evaluator's phone (never written out)."),
        click.option("--date-col", help="Column with the date."),
    ]):
        func = decorator(func)
    return func


def analysis_options(func):
    for decorator in reversed([
        click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out", show_default=True,
                     help="Folder for the outputs."),
        click.option("--taxonomy", type=click.Path(dir_okay=False), help="Your own taxonomy TOML file."),
        click.option("--model", "model_dir", type=click.Path(file_okay=False),
                     help="A theme model made by textmine train (default: the shipped lexicon, and its learned model where "
                          "the lexicon finds nothing)."),
        click.option("--offices", type=click.Path(dir_okay=False), help="Your own office alias table (CSV)."),
        click.option("--keep-duplicates", is_flag=True, help="Analyse duplicates instead of rejecting them."),
        click.option("--keep-floods", is_flag=True,
                     help="Analyse every opinion of a flood (ballot stuffing) instead of counting it once."),
        click.option("--flood-min", default=5, show_default=True, type=click.IntRange(2, None),
                     help="Near-identical opinions on one office, from one source or one time window, that make a flood."),
        click.option("--min-evaluators", default=3, show_default=True, type=click.IntRange(1, None),
                     help="Quote opinions in a rectification item only when this many distinct evaluators back it."),
        click.option("--examples", default=3, show_default=True, type=click.IntRange(1, 10),
                     help="Representative opinions per rectification item."),
        click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors."),
    ]):
        func = decorator(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="textmine")
def main():
    """Sort evaluation opinions into problem themes and write each office's rectification list."""
    import jieba  # cheap to import; only its dictionary is slow to load

    jieba.setLogLevel(logging.WARNING)  # the application, not the library, decides what is logged


def _run_and_report(call, out_dir: str, quiet: bool) -> None:
    status = _stage_status(quiet)
    with _warnings_as_messages():
        try:
            analysis = call(status.show if status else None)
        finally:
            if status:
                status.close()
    if quiet:
        return
    counts = analysis.info["counts"]
    click.echo(f"input rows {counts['input_rows']:,} = accepted {counts['accepted']:,} "
               f"+ rejected {counts['rejected']:,}")
    for reason, n in counts["rejected_by_reason"].items():
        click.echo(f"  rejected {reason}: {n:,}")
    unknown = analysis.info["offices"]["unknown"]
    click.echo(f"offices {analysis.info['offices']['count']} ({len(unknown)} not in the alias table); "
               f"opinions with a theme {counts['with_theme']:,}")
    floods = analysis.info.get("floods", {})
    if floods.get("detected"):
        how = "counted once each (--keep-floods to analyse them all)" if floods["weighted_once"] else "all analysed (--keep-floods)"
        click.echo(f"floods {floods['detected']:,}: {floods['rows']:,} near-identical opinions, {how}")
    click.echo(f"outputs in {Path(out_dir)}/")
    if "workspace" in analysis.info:
        stored = analysis.info["workspace"]
        click.echo(f"round {stored['round']} {stored['status']} in workspace {stored['path']}")


def workspace_options(func):
    """``--workspace`` and ``--round``: where evaluation rounds are kept, and which one."""
    for decorator in reversed([
        click.option("--workspace", type=click.Path(file_okay=False),
                     help="Workspace folder made by `textmine init` (keeps every round)."),
        click.option("--round", "round_id", type=int, help="The evaluation round (year), e.g. 2025."),
    ]):
        func = decorator(func)
    return func


@main.command()
@click.argument("input_path", type=click.Path(exists=True))
@column_options
@input_options
@analysis_options
@workspace_options
@click.option("--max-offices", default=1000, show_default=True, type=click.IntRange(1, None),
              help="Refuse an office column naming more offices than this (after alias resolution).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="dask: clean/mask/classify/segment partitions on a Dask cluster (INPUT may be a folder "
                   "of CSV/Parquet partitions).")
@click.option("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local "
                                  "2-worker cluster). Only with --engine dask.")
@click.option("--jobs", type=click.IntRange(1, None),
              help="Processes for cleaning, masking, classifying and segmenting (default: every core, up to 8; "
                   "with --engine dask and no --scheduler: the local cluster's workers, default 2).")
@_fail_cleanly
def run(input_path, text_col, office_col, group_col, satisfaction_col, evaluator_col, name_col, phone_col,
        date_col, encoding, sheet, out_dir, taxonomy, model_dir, offices, keep_duplicates, keep_floods, flood_min,
        min_evaluators, examples, quiet,
        workspace, round_id, max_offices, engine, scheduler, jobs):
    """Analyse INPUT (CSV or XLSX) and write comments, rejects, summaries and rectification lists."""
    import functools

    from .pipeline import run as run_job

    if round_id is not None and workspace is None:
        raise click.UsageError("--round needs --workspace (the folder made by `textmine init`)")
    if engine == "dask":
        from .dask_engine import run_dask

        run_job = functools.partial(run_dask, scheduler=scheduler, n_workers=jobs or 2)
    elif scheduler:
        raise click.UsageError("--scheduler needs --engine dask")
    elif Path(input_path).is_dir():
        raise click.UsageError(f"{input_path} is a folder: pass one file, or --engine dask for a folder of partitions")
    columns = {"text": text_col, "office": office_col, "group": group_col,
               "satisfaction": satisfaction_col, "evaluator": evaluator_col, "name": name_col,
               "phone": phone_col, "date": date_col}
    _run_and_report(lambda progress: run_job(
        input_path, out_dir, columns=columns, encoding=encoding, sheet=_sheet(sheet), taxonomy=taxonomy,
        offices=offices, keep_duplicates=keep_duplicates, n_examples=examples, progress=progress,
        keep_floods=keep_floods, flood_min=flood_min, min_evaluators=min_evaluators, max_offices=max_offices,
        workspace=workspace, round_id=round_id, model_dir=model_dir,
        **({"jobs": jobs} if engine == "local" else {})),
        out_dir, quiet)


@main.command()
@analysis_options
@_fail_cleanly
def demo(out_dir, taxonomy, model_dir, offices, keep_duplicates, keep_floods, flood_min, min_evaluators, examples,
         quiet):
    """Run the whole job on the embedded sample corpus (a synthetic evaluation round)."""
    from .pipeline import demo as run_demo

    _run_and_report(lambda progress: run_demo(
        out_dir, taxonomy=taxonomy, offices=offices, keep_duplicates=keep_duplicates,
        keep_floods=keep_floods, flood_min=flood_min, min_evaluators=min_evaluators,
        n_examples=examples, progress=progress, model_dir=model_dir), out_dir, quiet)
    if not quiet:
        click.echo(f"year-over-year scores and tracking (rounds 2024 → 2025) in {Path(out_dir) / 'rounds'}/")


def labelled_options(func):
    """Options shared by train and evaluate."""
    for decorator in reversed([
        click.option("--text-col", help="Column with the text (detected from common headers)."),
        click.option("--title-col", help="Optional title column, prefixed to the text."),
        click.option("--label-col", help="Column with the labels: theme codes joined by ';' (themes) or one label (route)."),
        click.option("--task", type=click.Choice(["themes", "route"]), default="themes", show_default=True,
                     help="Multi-label conduct themes, or single-label routing to a domain/office."),
        click.option("--taxonomy", type=click.Path(dir_okay=False), help="Your own taxonomy TOML file."),
    ]):
        func = decorator(func)
    return func


@main.command()
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--text-col", help="Column with the text (detected from common headers).")
@click.option("--title-col", help="Optional title column, prefixed to the text.")
@click.option("--out", "output", type=click.Path(dir_okay=False), required=True,
              help="CSV to write: the input rows plus themes, theme_names, evidence (or route, route_confidence).")
@click.option("--model", "model_dir", type=click.Path(file_okay=False), help="A model trained with textmine train.")
@click.option("--min-confidence", type=float, help="With a routing model: route 'unsure' below this confidence.")
@click.option("--taxonomy", type=click.Path(dir_okay=False), help="Your own taxonomy TOML file.")
@input_options
@_fail_cleanly
def classify(input_path, text_col, title_col, output, model_dir, min_confidence, taxonomy, encoding, sheet):
    """Tag every row of INPUT with its themes and evidence, or route it with a routing model."""
    from .training import classify_file

    result = classify_file(input_path, output, text_col=text_col, title_col=title_col, model_dir=model_dir,
                           min_confidence=min_confidence, encoding=encoding, sheet=_sheet(sheet), taxonomy=taxonomy)
    if "route" in result:
        unsure = int((result["route"] == "unsure").sum())
        click.echo(f"{len(result):,} rows routed, {unsure:,} unsure → {output}")
    else:
        click.echo(f"{len(result):,} rows classified, {(result['themes'] != '').sum():,} with a theme → {output}")


@main.command()
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False))
@labelled_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Model folder to write, e.g. models/NAME.")
@click.option("--weak", is_flag=True, help="No label column: learn from the lexicon's labels over INPUT (weak supervision).")
@click.option("--folds", type=click.IntRange(0, 20), default=0, help="Also record K-fold cross-validated scores.")
@input_options
@_fail_cleanly
def train(input_path, text_col, title_col, label_col, task, taxonomy, out_dir, weak, folds, encoding, sheet):
    """Train a theme or routing model on a labelled file and save it under --out."""
    from .training import train_file

    metadata = train_file(input_path, out_dir, text_col=text_col, label_col=label_col, title_col=title_col,
                          task=task, weak=weak, taxonomy=taxonomy, folds=folds, encoding=encoding,
                          sheet=_sheet(sheet))
    used = metadata["training"]["rows_used"]
    click.echo(f"trained a {task} model on {used:,} rows ({len(metadata['labels'])} labels) → {out_dir}")
    cv = metadata["metrics"].get("cross_validation")
    if cv:
        click.echo(f"{folds}-fold cross-validation: micro-F1 {cv.get('micro', {}).get('f1', float('nan')):.3f}, "
                   f"macro-F1 {cv['macro_f1']:.3f}")


@main.command()
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False))
@labelled_options
@click.option("--model", "model_dir", type=click.Path(file_okay=False), help="Evaluate this saved model.")
@click.option("--folds", type=click.IntRange(0, 20), default=0,
              help="Cross-validate a model trained on INPUT with K folds.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@input_options
@_fail_cleanly
def evaluate(input_path, text_col, title_col, label_col, task, taxonomy, model_dir, folds, as_json, encoding, sheet):
    """Score the shipped default, a saved model, or K-fold cross-validation against labels in INPUT."""
    import json

    from .training import evaluate_file

    report = evaluate_file(input_path, text_col=text_col, label_col=label_col, title_col=title_col, task=task,
                           model_dir=model_dir, folds=folds, taxonomy=taxonomy, encoding=encoding,
                           sheet=_sheet(sheet))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"{report['classifier']} on {report['n']:,} rows ({task})")
    if task == "themes":
        micro = report["micro"]
        click.echo(f"micro precision {micro['precision']:.3f}  recall {micro['recall']:.3f}  F1 {micro['f1']:.3f}"
                   f"   macro-F1 {report['macro_f1']:.3f}   exact set match {report['exact_match']:.3f}")
    else:
        click.echo(f"accuracy {report['accuracy']:.3f}   macro-F1 {report['macro_f1']:.3f}")
    click.echo(f"{'label':<16}{'support':>8}{'precision':>11}{'recall':>8}{'F1':>7}")
    for row in report["per_label"]:
        click.echo(f"{row['label']:<16}{row['support']:>8}{row['precision']:>11.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}")


class _StageStatus:
    """One status line on stderr: the job's current stage and the time elapsed (tqdm)."""

    def __init__(self):
        from tqdm import tqdm

        self._bar = tqdm(total=None, bar_format="{desc} [{elapsed}]", file=sys.stderr, leave=False)

    def show(self, message: str) -> None:
        self._bar.set_description_str(f"… {message}")

    def close(self) -> None:
        self._bar.close()


def _stage_status(quiet: bool) -> _StageStatus | None:
    return None if quiet or not sys.stderr.isatty() else _StageStatus()


def _progress_bar(quiet: bool):
    """A tqdm wrapper for the library's loops; None when quiet or when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return lambda iterable, **kwargs: tqdm(iterable, leave=False, file=sys.stderr, **kwargs)


@contextlib.contextmanager
def _warnings_as_messages():
    """Show the library's warnings (e.g. no Chinese font) as one ``Warning: …`` line each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        yield
    for warning in caught:
        click.echo(f"Warning: {warning.message}", err=True)


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "output", type=click.Path(dir_okay=False), help="Where to write the page (default: DIR/report.html).")
@click.option("--no-embed-font", is_flag=True,
              help="Do not inline the Chinese font (a smaller file; readers then need a Chinese font installed).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_fail_cleanly
def report(directory, output, no_embed_font, quiet):
    """Rebuild DIR/report.html and DIR/charts/ from the files `textmine run` wrote into DIR."""
    from .report import build_report

    with _warnings_as_messages():
        path = build_report(directory, output=output, embed_font=not no_embed_font, progress=_progress_bar(quiet))
    if not quiet:
        click.echo(f"report → {path}")


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--office", "offices", multiple=True, help="Office to write the notice for (repeat for several).")
@click.option("--all", "all_offices", is_flag=True, help="Write a notice for every office.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Folder for the .docx files (default: DIR/notices).")
@click.option("--issuer", help="Who issues the notice (default: 群众评议工作领导小组办公室).")
@click.option("--template", type=click.Path(exists=True, dir_okay=False),
              help="Your own wording (a copy of textmine/templates/notice.toml).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_fail_cleanly
def notice(directory, offices, all_offices, out_dir, issuer, template, quiet):
    """Write a rectification notice (整改通知, .docx) per office from the files `textmine run` wrote into DIR."""
    if bool(offices) == all_offices:
        raise click.UsageError("give --office NAME (one or more) or --all")
    from .notice import DEFAULT_ISSUER, write_notices

    written = write_notices(directory, offices=None if all_offices else list(offices), out_dir=out_dir,
                            issuer=issuer or DEFAULT_ISSUER, template=template, progress=_progress_bar(quiet))
    if not quiet:
        if written.empty:
            click.echo(f"no office has accepted opinions in {Path(directory) / 'comments.csv'}: no notice written")
        for row in written.head(5).itertuples(index=False):
            click.echo(f"{row.office}: {row.items} items from {row.opinions} opinions → {row.path}")
        if len(written) > 5:
            click.echo(f"… {len(written):,} notices in {Path(written['path'].iloc[0]).parent}/")


config_option = click.option("--config", type=click.Path(dir_okay=False),
                             help="Workspace config (default: WORKSPACE/workspace.toml).")


@main.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="Start from this config instead of the shipped default.")
@_fail_cleanly
def init(workspace, config):
    """Create WORKSPACE: a folder with workspace.toml (categories, group weights, scales) and the database."""
    from .workspace import Workspace

    ws = Workspace.init(workspace, config=config)
    click.echo(f"workspace {ws.path}/ ready: edit {ws.config_path.name}, then "
               f"`textmine run FILE --workspace {ws.path} --round YEAR`")


@main.command()
@click.option("--workspace", type=click.Path(file_okay=False), required=True, help="Workspace folder.")
@click.option("--round", "round_id", type=int, help="Write only this round's scores (all rounds are scored).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out", show_default=True,
              help="Folder for scores.csv.")
@config_option
@_fail_cleanly
def score(workspace, round_id, out_dir, config):
    """Score every office of every round: satisfaction rates, weighted composite, ranks, key-help flags."""
    from .scoring import score_workspace

    scores = score_workspace(workspace, out_dir, round_id=round_id, config=config)
    ranked = int(scores["ranked"].sum())
    click.echo(f"{len(scores):,} office scores ({ranked:,} ranked, {int(scores['key_help'].sum()):,} "
               f"重点帮助单位) → {Path(out_dir) / 'scores.csv'}")


@main.command()
@click.option("--workspace", type=click.Path(file_okay=False), required=True, help="Workspace folder.")
@click.option("--round", "round_id", type=int, required=True, help="The round to check, e.g. 2026.")
@click.option("--since", type=int, required=True, help="The earlier round to compare with, e.g. 2025.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out", show_default=True,
              help="Folder for tracking.csv, tracking.md, scores.csv and rectification.xlsx.")
@config_option
@_fail_cleanly
def track(workspace, round_id, since, out_dir, config):
    """Track each office's problem themes from round SINCE to ROUND: improved, persisting, new, rebounded."""
    from .tracking import track_workspace

    tracking = track_workspace(workspace, round_id, since, out_dir, config=config)
    counts = tracking["status"].value_counts()
    click.echo(", ".join(f"{status} {int(counts.get(status, 0)):,}"
                         for status in ("improved", "absent", "persisting", "new", "rebounded")))
    click.echo(f"outputs in {Path(out_dir)}/")


@main.command()
@click.option("--workspace", type=click.Path(file_okay=False), required=True, help="Workspace folder.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for one <table>.parquet per workspace table.")
@_fail_cleanly
def export(workspace, out_dir):
    """Write every workspace table as Parquet (for pandas, Dask or Spark)."""
    from .workspace import Workspace

    paths = Workspace.open(workspace).export_parquet(out_dir)
    click.echo(f"{len(paths)} tables → {Path(out_dir)}/")


@main.command()
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out", show_default=True,
              help="Folder for topics.csv, doc_topics.csv, representatives.csv and the breakdowns.")
@click.option("--k", "k", default="10", show_default=True,
              help="Number of topics, or 'auto' to choose it by coherence among --k-range.")
@click.option("--k-range", default="5,10,15,20,25,30", show_default=True,
              help="Candidate numbers of topics for --k auto (comma-separated).")
@click.option("--method", type=click.Choice(["nmf", "lda", "gensim-lda"]), default="nmf", show_default=True,
              help="NMF on TF-IDF (fast default), scikit-learn LDA or gensim LDA.")
@click.option("--by", type=click.Choice(["office", "month"]), multiple=True,
              help="Breakdown(s) to write (default: every one whose column exists).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same input + seed → same topics.")
@click.option("--model", help="Saved topic model (a name under models/, or a folder): applied when it exists "
                              "so topic ids stay stable, otherwise the fitted model is saved there.")
@click.option("--coherence", type=click.Choice(["c_npmi", "c_v"]), default="c_npmi", show_default=True,
              help="gensim coherence measure reported per topic and used by --k auto.")
@click.option("--min-df", type=int, default=2, show_default=True, help="Drop words in fewer documents.")
@click.option("--max-df", type=float, default=0.5, show_default=True, help="Drop words in a larger share of documents.")
@click.option("--taxonomy", type=click.Path(dir_okay=False), help="Your own taxonomy TOML file (theme mapping).")
@click.option("--text-col", help="Column with the text (detected from common headers).")
@click.option("--office-col", help="Column naming the office (for topics_per_office.csv).")
@click.option("--date-col", help="Column with the date (for topics_over_time.csv).")
@input_options
@_fail_cleanly
def topics(input_path, out_dir, k, k_range, method, by, seed, model, coherence, min_df, max_df, taxonomy,
           text_col, office_col, date_col, encoding, sheet):
    """Discover the topics of INPUT, map them to taxonomy themes or flag them `new`."""
    from .topics import run_topics

    result = run_topics(input_path, out_dir, columns={"text": text_col, "office": office_col, "date": date_col},
                        encoding=encoding, sheet=_sheet(sheet), k=_k(k), method=method, seed=seed,
                        by=list(by) or None, model=model, taxonomy=taxonomy, measure=coherence,
                        k_values=_k_range(k_range), min_df=min_df, max_df=max_df)
    info = result.info
    click.echo(f"{info['n_topics']} topics ({info['method']}, seed {info['seed']}) on {info['with_topic']:,} of "
               f"{info['documents']:,} rows; mean {info['coherence_measure']} {info['mean_coherence']}, "
               f"diversity {info['diversity']}; {info['new_topics']} topic(s) flagged new")
    if not result.k_curve.empty:
        curve = ", ".join(f"{row.k}: {row.coherence}" for row in result.k_curve.itertuples())
        click.echo(f"mean {info['coherence_measure']} by k — {curve}; chose k = {info['n_topics']}")
    if info["model"]["path"]:
        verb = "applied" if info["model"]["reused"] else "saved to"
        click.echo(f"model {verb} {info['model']['path']}")
    click.echo(f"outputs in {Path(out_dir)}/")


@main.command()
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out", show_default=True,
              help="Folder for hotspots.csv and hotspot_messages.csv.")
@click.option("--top", type=click.IntRange(1), help="Keep only the N hottest issues.")
@click.option("--settings", type=click.Path(dir_okay=False), help="Your own hot-issue settings (hotspots.toml).")
@click.option("--text-col", help="Column with the message text (detected from common headers).")
@click.option("--title-col", help="Column with the message title (留言主题).")
@click.option("--id-col", help="Column with the message number (留言编号); row numbers otherwise.")
@click.option("--name-col", help="Column identifying the writer (counted, never written out).")
@click.option("--date-col", help="Column with the date.")
@click.option("--likes-col", help="Column with the number of likes (点赞数).")
@input_options
@_fail_cleanly
def hotspots(input_path, out_dir, top, settings, text_col, title_col, id_col, name_col, date_col, likes_col,
             encoding, sheet):
    """Group messages about one problem at one place into hot issues, ranked by heat."""
    from .hotspots import run_hotspots

    columns = {"text": text_col, "title": title_col, "id": id_col, "name": name_col, "date": date_col,
               "likes": likes_col}
    result = run_hotspots(input_path, out_dir, columns=columns, encoding=encoding, sheet=_sheet(sheet),
                          settings=settings, top=top)
    info = result.info
    click.echo(f"{info['issues']:,} hot issues from {info['messages_in_issues']:,} of {info['messages']:,} "
               f"messages ({info['with_place']:,} name a place)")
    for row in result.hotspots.head(5).itertuples():
        click.echo(f"  {row.issue}. [{row.heat:g}] {row.title} — {row.count} messages, {row.place or '无地点'}")
    click.echo(f"outputs in {Path(out_dir)}/")


def _k(value: str) -> int | str:
    if value.strip().lower() == "auto":
        return "auto"
    if not value.strip().isdigit() or int(value) < 2:
        raise click.BadParameter(f"must be an integer ≥ 2 or 'auto', got {value!r}", param_hint="--k")
    return int(value)


def _k_range(value: str) -> list[int]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) >= 2 for p in parts):
        raise click.BadParameter(f"must be integers ≥ 2 separated by commas, got {value!r}",
                                 param_hint="--k-range")
    return [int(p) for p in parts]


def _sheet(value: str | None):
    return int(value) if value is not None and value.isdigit() else value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
