"""The whole job: read → clean/mask → segment → classify → attach to offices → write.

``run`` is what ``textmine run`` calls; ``analyse`` is the same job on a table already
in memory (for notebooks and tests). Every input row ends either in ``comments`` or in
``rejects`` with its reason, and the counts are checked before anything is written.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .aggregate import office_overview, office_theme_summary, rectification_items
from .classify import LexiconThemeClassifier, ThemeClassifier, theme_table
from .clean import NonSubstantiveFilter, clean_text, comparison_key, describe_reason, find_duplicates
from .errors import InputError, TextmineError
from .flood import flood_key, flood_summary, reject_floods
from .export import rectification_markdown, write_csv, write_json, write_rectification_xlsx, write_text
from .offices import OfficeDirectory
from .read import read_table, resolve_columns
from .parallel import SerialMapper, make_mapper, per_distinct, submit_distinct
from .redact import IDENTITY_PLACEHOLDERS, Masker, replace_known
from .resources import corpus_path, library_versions
from .scoring import rating_frame
from .segment import Segmenter
from .taxonomy import Taxonomy, load_taxonomy

# roles copied from the input into comments.csv (evaluator identity never is)
PASSTHROUGH_ROLES = ("group", "satisfaction", "date")
IDENTITY_ROLES = ("evaluator", "name", "phone")
SAMPLE_FILE = ("sample", "opinions_2025.csv")
PREVIOUS_SAMPLE_FILE = ("sample", "opinions_2024.csv")  # the sample's previous round, for the demo's comparison


@dataclass
class Toolkit:
    """Everything the job loads from data files, built once and reused across runs."""

    taxonomy: Taxonomy
    offices: OfficeDirectory
    masker: Masker
    filler: NonSubstantiveFilter
    segmenter: Segmenter
    classifier: ThemeClassifier

    @classmethod
    def load(cls, *, taxonomy: str | Path | None = None, offices: str | Path | None = None,
             classifier: ThemeClassifier | None = None) -> "Toolkit":
        tax = load_taxonomy(taxonomy)
        directory = OfficeDirectory.from_file(offices)
        theme_words = [t for theme in tax.themes for t in theme.terms if 2 <= len(t) <= 6]
        return cls(
            taxonomy=tax,
            offices=directory,
            masker=Masker.from_file(),
            filler=NonSubstantiveFilter(),
            segmenter=Segmenter(extra_words=directory.vocabulary() + theme_words),
            classifier=classifier if classifier is not None else LexiconThemeClassifier(taxonomy=tax).fit(),
        )


@dataclass
class Analysis:
    """The job's result tables plus the run record written to ``run.json``."""

    comments: pd.DataFrame
    rejects: pd.DataFrame
    summary: pd.DataFrame
    items: pd.DataFrame
    overview: pd.DataFrame
    info: dict = field(default_factory=dict)
    # every input row with a satisfaction value, also rows whose text was rejected (for scoring)
    ratings: pd.DataFrame = field(default_factory=pd.DataFrame)


def clean_many(values) -> list[str]:
    """:func:`~textmine.clean.clean_text` of each (string) value, computed once per distinct
    value (offices, dates and categories repeat on every row, and so do many opinions);
    the distinct values are found in C by :func:`pandas.factorize`."""
    codes, distinct = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    cleaned = np.empty(len(distinct), dtype=object)
    for i, value in enumerate(distinct):
        cleaned[i] = clean_text(value)
    return cleaned[codes].tolist()


class _Stopwatch:
    def __init__(self):
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 4)


def analyse(frame: pd.DataFrame, columns: dict[str, str | None], toolkit: Toolkit, *,
            keep_duplicates: bool = False, n_examples: int = 3,
            keep_floods: bool = False, flood_min: int = 5, min_evaluators: int = 3,
            stopwatch: _Stopwatch | None = None, mapper: SerialMapper | None = None) -> Analysis:
    """Analyse a table of opinions.

    Parameters
    ----------
    frame : DataFrame
        The input rows; its index is used as ``row_id`` (the spreadsheet row number
        when read with :func:`textmine.read.read_table`).
    columns : dict
        Role → column name, as returned by :func:`textmine.read.resolve_columns`;
        ``text`` is required, the other roles optional.
    keep_duplicates : bool
        Keep duplicates and near-duplicates as opinions instead of rejecting them.
    keep_floods, flood_min : bool, int
        Floods (:mod:`textmine.flood`: ``flood_min`` or more near-identical opinions on
        one office from one source or in one time window) are weighted once — the rest
        rejected as ``flood`` — unless ``keep_floods``; they are reported either way.
    min_evaluators : int
        Rectification items backed by fewer distinct evaluators show no verbatim opinion.
    mapper : SerialMapper or ProcessMapper
        Runs the per-text steps (cleaning, masking, classifying, segmenting); a
        :func:`textmine.parallel.make_mapper` spreads them over worker processes. The
        default runs them here. The results are the same either way.
    """
    watch = stopwatch or _Stopwatch()
    mapper = mapper or SerialMapper(toolkit)
    text_col = columns.get("text")
    if not text_col:
        raise TextmineError("no text column given")
    with watch.stage("clean"):
        work = pd.DataFrame({"row_id": frame.index.to_numpy()})
        raw_text = frame[text_col].fillna("").astype(str).to_numpy()
        prepared = per_distinct(_prepare_task, raw_text, mapper)
        work["text"] = _objects(p[0] for p in prepared)
        identity = {role: frame[columns[role]].fillna("").astype(str).str.strip().to_numpy()
                    for role in IDENTITY_ROLES if columns.get(role)}
        # masking and theme tagging need nothing from the steps below: the workers do them
        # while this process resolves offices and looks for floods and duplicates
        tagged = submit_distinct(_mask_and_tag_task, _with_identity_masked(work["text"], identity), mapper)
        office_col = columns.get("office")
        written = frame[office_col].fillna("").astype(str).to_numpy() if office_col else [""] * len(frame)
        work["office_as_written"] = _objects(clean_many(written))
        # resolved after cleaning, so that 市監局 and "市监局&nbsp;" find 市监局's entry
        resolved = toolkit.offices.resolve_many(work["office_as_written"])
        work["office"] = _objects(resolved["office"])
        work["_known"] = resolved["office_known"].to_numpy()
        for role in PASSTHROUGH_ROLES:
            if columns.get(role):
                work[role] = _objects(clean_many(frame[columns[role]].fillna("").astype(str)))
        work["reason_code"] = _objects(p[1] for p in prepared)
        work["duplicate_of"] = None
    with watch.stage("deduplicate"):
        floods = reject_floods(work, identity, work["date"].tolist() if "date" in work else None,
                               keep=keep_floods, min_copies=flood_min, keys=[p[3] for p in prepared])
        if not keep_duplicates:
            scope = ["office"]
            if columns.get("evaluator"):
                work["_evaluator"] = _objects(frame[columns["evaluator"]].fillna("").astype(str))
                scope.append("_evaluator")
            work["_raw"] = _objects(t.strip() for t in raw_text)  # exact duplicates: the text as written
            work["_key"] = _objects(p[2] for p in prepared)
            candidates = work[work["reason_code"].isna()]
            dups = find_duplicates(candidates, text="_raw", key="_key", by=scope, row_id="row_id")
            work.loc[dups.index, "reason_code"] = work.loc[dups.index, "reason_code"].where(
                dups["reason"].isna(), dups["reason"])
            work.loc[dups.index, "duplicate_of"] = dups["duplicate_of"]
            work = work.drop(columns=["_raw", "_key", *scope[1:]])
        del prepared, raw_text
    with watch.stage("mask_classify"):  # waiting for the workers (all of the work with one process)
        tagged = tagged()
        work["text"] = _objects(masked for masked, _ in tagged)
        # who wrote each opinion, for the min_evaluators rule (never written out)
        work["_who"] = _objects(next((identity[r] for r in IDENTITY_ROLES if r in identity), [""] * len(work)))
        rejected = work["reason_code"].notna()
        accepted = work[~rejected].reset_index(drop=True)
        themes = _theme_frame([row for (_, row), out in zip(tagged, rejected) if not out], toolkit)
        del tagged
        accepted = pd.concat([accepted, themes], axis=1)
    with watch.stage("aggregate"):
        comment_cols = ["row_id", "office", "office_as_written"] + [r for r in PASSTHROUGH_ROLES if r in work] \
            + ["text"] + list(themes.columns)   # themes, theme_names, evidence (+ confidence from a model)
        comments = accepted[comment_cols].copy()
        comments.insert(2, "category", comments["office"].map(toolkit.offices.category))
        rejects = work[rejected].copy()
        rejects["reason"] = [describe_reason(c, d) for c, d in zip(rejects["reason_code"], rejects["duplicate_of"])]
        rejects["duplicate_of"] = pd.array(rejects["duplicate_of"].tolist(), dtype="Int64")
        rejects = rejects[["row_id", "office", "text", "reason_code", "reason", "duplicate_of"]].reset_index(drop=True)
        summary = office_theme_summary(comments, toolkit.taxonomy)
        items = rectification_items(comments, summary, toolkit.taxonomy, toolkit.offices,
                                    _Tokenizer(toolkit, mapper), n_examples=n_examples,
                                    evaluators=accepted["_who"].tolist(), min_evaluators=min_evaluators)
        overview = office_overview(comments, items, toolkit.offices)
        ratings = rating_frame(work, frame, columns)
        ratings["category"] = ratings["office"].map(toolkit.offices.category)
    if len(comments) + len(rejects) != len(frame):  # pragma: no cover - an invariant, not an input error
        raise AssertionError(f"row accounting broken: {len(comments)} + {len(rejects)} != {len(frame)}")
    unknown = work.loc[~work["_known"], "office"].value_counts()
    info = {
        "counts": {
            "input_rows": int(len(frame)),
            "accepted": int(len(comments)),
            "rejected": int(len(rejects)),
            "rejected_by_reason": {k: int(v) for k, v in rejects["reason_code"].value_counts().sort_index().items()},
            "with_theme": int((comments["themes"] != "").sum()),
        },
        "themes": {code: int(summary.loc[summary["theme"] == code, "count"].sum()) for code in toolkit.taxonomy.codes},
        "offices": {
            "count": int(comments["office"].nunique()),
            "unknown": {str(k): int(v) for k, v in unknown.sort_index().items()},
        },
        "columns": {role: col for role, col in columns.items() if col},
        "floods": flood_summary(floods, kept=keep_floods),
        "timings_s": watch.timings,
    }
    return Analysis(comments, rejects, summary, items, overview, info, ratings)


def _objects(values) -> pd.Series:
    """A column of Python objects: the working table keeps its strings as they are, instead
    of converting them to Arrow and back at every step (pandas ≥ 3 would)."""
    if isinstance(values, pd.Series):  # by position, never aligned on the index
        values = values.to_numpy(dtype=object)
    elif not isinstance(values, (list, np.ndarray)):
        values = list(values)
    return pd.Series(values, dtype=object)


def _prepare_task(toolkit: Toolkit, raws: list[str]) -> list[tuple]:
    """Per raw text: (cleaned text, rejection reason or None, near-duplicate key, flood key)."""
    out = []
    for raw in raws:
        cleaned = clean_text(raw)
        key = comparison_key(cleaned)
        out.append((cleaned, toolkit.filler.reason(cleaned, key), key, flood_key(cleaned)))
    return out


def _with_identity_masked(texts, identity: dict[str, np.ndarray]) -> list[str]:
    """Each text with its own writer's id, name and phone (identity columns) replaced."""
    if not identity:
        return list(texts)
    roles = list(identity.items())
    return [replace_known(t, {values[i]: IDENTITY_PLACEHOLDERS[role] for role, values in roles})
            for i, t in enumerate(texts)]


def _mask_and_tag_task(toolkit: Toolkit, texts: list[str]) -> list[tuple[str, dict]]:
    """Per text: (masked text, its row of :func:`~textmine.classify.theme_table`)."""
    masked = [toolkit.masker.mask(t) for t in texts]
    rows = theme_table(toolkit.classifier, masked, toolkit.taxonomy.names()).to_dict("records")
    return list(zip(masked, rows))


def _tokens_task(toolkit: Toolkit, texts: list[str]) -> list[tuple[str, ...]]:
    return [tuple(toolkit.segmenter.tokens(t)) for t in texts]


@dataclass
class _Tokenizer:
    """The segmenter's ``tokens``; ``many`` segments a batch once per distinct text through
    the mapper (see :func:`textmine.aggregate.representative_opinions`)."""

    toolkit: Toolkit
    mapper: SerialMapper

    def __call__(self, text: str) -> list[str]:
        return self.toolkit.segmenter.tokens(text)

    def many(self, texts: list[str]) -> list[list[str]]:
        return [list(t) for t in per_distinct(_tokens_task, texts, self.mapper)]


def _theme_frame(rows: list[dict], toolkit: Toolkit) -> pd.DataFrame:
    """The rows of :func:`~textmine.classify.theme_table` made by the workers, as one table."""
    if not rows:
        return theme_table(toolkit.classifier, [], toolkit.taxonomy.names())
    return pd.DataFrame.from_records(rows)


def write_outputs(analysis: Analysis, out_dir: str | Path) -> list[Path]:
    """Write comments.csv, rejects.csv, office_summary.csv, rectification.xlsx/.md and run.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items_flat = analysis.items.assign(
        examples=analysis.items["examples"].map(lambda xs: "\n".join(xs)),
        measures=analysis.items["measures"].map(lambda xs: "；".join(xs)),
    )
    paths = [
        write_csv(analysis.comments, out / "comments.csv"),
        write_csv(analysis.rejects, out / "rejects.csv"),
        write_csv(analysis.summary, out / "office_summary.csv"),
        write_csv(items_flat, out / "rectification_items.csv"),
        write_rectification_xlsx(analysis.items, analysis.overview, out / "rectification.xlsx",
                                 themes=list(analysis.info.get("themes", {}))),
        write_text(rectification_markdown(analysis.items, analysis.overview), out / "rectification.md"),
    ]
    paths.append(write_json(analysis.info, out / "run.json"))
    return paths


def run(input_path: str | Path, out_dir: str | Path, *, columns: dict[str, str | None] | None = None,
        encoding: str | None = None, sheet: str | int | None = None,
        taxonomy: str | Path | None = None, offices: str | Path | None = None,
        keep_duplicates: bool = False, n_examples: int = 3,
        keep_floods: bool = False, flood_min: int = 5, min_evaluators: int = 3, max_offices: int = 1000,
        toolkit: Toolkit | None = None, progress: Callable[[str], None] | None = None,
        workspace: str | Path | None = None, round_id: int | None = None,
        model_dir: str | Path | None = None, report: bool = True, jobs: int | None = None,
        mapper: SerialMapper | None = None) -> Analysis:
    """Read ``input_path``, analyse it and write every output into ``out_dir``.

    ``jobs`` worker processes share the per-text steps (default: every core; 1 = this
    process only); see :mod:`textmine.parallel`. A ``mapper`` given instead runs them
    elsewhere (e.g. :class:`textmine.dask_engine.DaskMapper`).

    ``model_dir`` replaces the shipped theme classifier by a model made with ``textmine train``.

    With ``workspace`` the analysis is also stored there as round ``round_id`` (see
    :meth:`textmine.workspace.Workspace.ingest`); the result is in ``info["workspace"]``.
    """
    started = datetime.now(timezone.utc)
    if workspace is not None:
        from .workspace import Workspace

        if round_id is None:
            raise TextmineError("--workspace needs --round (the evaluation round, e.g. --round 2025)")
        store = Workspace.open(workspace)
    watch = _Stopwatch()
    say = progress or (lambda message: None)
    with watch.stage("load"):
        toolkit = toolkit or Toolkit.load(taxonomy=taxonomy, offices=offices,
                                          classifier=_theme_model(model_dir) if model_dir else None)
    with (nullcontext(mapper) if mapper is not None else make_mapper(toolkit, jobs)) as mapper:
        if _file_size(input_path) >= EAGER_WORKERS_BYTES:
            mapper.start()  # before the input is read: the forked workers stay small
        say("reading input")
        with watch.stage("read"):
            table = read_table(input_path, encoding=encoding, sheet=sheet)
            mapping = resolve_columns(table, **(columns or {}))
        check_office_count(table, mapping.get("office"), toolkit.offices, max_offices)
        say(f"analysing {len(table.frame):,} rows")
        analysis = analyse(table.frame, mapping, toolkit, keep_duplicates=keep_duplicates,
                           n_examples=n_examples, keep_floods=keep_floods, flood_min=flood_min,
                           min_evaluators=min_evaluators, stopwatch=watch, mapper=mapper)
    say("writing outputs")
    path = Path(input_path)
    analysis.info = {
        "textmine_version": __version__,
        "input": {"path": str(path), "sha256": _sha256(path), "encoding": table.encoding,
                  "sheet": table.sheet, "delimiter": table.delimiter},
        **analysis.info,
        "options": {"keep_duplicates": keep_duplicates, "examples": n_examples, "keep_floods": keep_floods,
                    "flood_min": flood_min, "min_evaluators": min_evaluators, "max_offices": max_offices},
        "taxonomy": {"path": toolkit.taxonomy.source, "sha256": toolkit.taxonomy.sha256,
                     "themes": toolkit.taxonomy.codes},
        "versions": _versions(),
        "started_at": started.isoformat(timespec="seconds"),
    }
    # Everything is written into a staging folder inside out_dir and moved into place only
    # when all of it succeeded: a failure or Ctrl-C leaves the previous outputs as they were.
    with staged_directory(out_dir) as stage:
        with watch.stage("write"):
            write_outputs(analysis, stage)
        if workspace is not None:
            with watch.stage("ingest"):
                ingested = store.ingest(analysis, round_id)
            analysis.info["workspace"] = {"path": str(workspace), "round": round_id, "status": ingested.status}
        if report:
            say("writing report")
            with watch.stage("report"):
                from .report import build_report

                build_report(stage, jobs=jobs)  # jobs=1: the charts too are drawn in this process
        analysis.info["timings_s"] = watch.timings
        analysis.info["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_json(analysis.info, stage / "run.json")  # again, now with the write timing
    return analysis


def check_office_count(table, column: str | None, directory: OfficeDirectory, max_offices: int) -> None:
    """Refuse an office column with more than ``max_offices`` offices after alias resolution:
    it is the wrong column, or its spellings need an alias table — thousands of one-opinion
    "offices" would each get a rectification sheet."""
    if not column or not max_offices:
        return
    resolved = directory.resolve_many(clean_many(table.frame[column].fillna("").astype(str)))
    count = resolved["office"].nunique()
    if count <= max_offices:
        return
    unknown = ~resolved["office_known"].to_numpy()
    names = resolved.loc[unknown, "office"]
    example = f", e.g. {names.iloc[0]!r} in row {table.frame.index[unknown.argmax()]}" if unknown.any() else ""
    raise InputError(f"{table.source}: column {column} names {count:,} different offices "
                     f"({names.nunique():,} not in the alias table{example}), more than --max-offices "
                     f"{max_offices:,}; check --office-col, add the spellings to an alias table (--offices) "
                     "or raise --max-offices")


@contextmanager
def staged_directory(out_dir: str | Path):
    """Yield an empty staging folder inside ``out_dir``; move its entries into ``out_dir``
    on success (replacing files and folders of the same name), delete it on any failure."""
    import shutil
    import tempfile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".textmine-staging-", dir=out))
    try:
        yield stage
        for entry in sorted(stage.iterdir()):
            target = out / entry.name
            if entry.is_dir() and target.is_dir():
                shutil.rmtree(target)
            os.replace(entry, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _theme_model(model_dir: str | Path):
    from .modelstore import load_model

    model, metadata = load_model(model_dir)
    if metadata["task"] != "themes":
        raise TextmineError(f"{model_dir} is a {metadata['task']} model; the main job needs a themes model")
    return model


def sample_path() -> Path:
    """The embedded sample corpus (a synthetic evaluation round)."""
    return corpus_path(*SAMPLE_FILE)


def demo(out_dir: str | Path, **kwargs) -> Analysis:
    """Run the whole job on the embedded sample corpus, then compare it with the previous round.

    ``out_dir`` gets the outputs of ``run`` for round 2025; ``out_dir/rounds/`` a workspace with
    rounds 2024 and 2025 and the outputs of ``textmine track --round 2025 --since 2024``
    (scores.csv, tracking.csv, tracking.md, rectification.xlsx with score and tracking sheets).
    """
    from .tracking import track_workspace
    from .workspace import Workspace

    if kwargs.get("toolkit") is None:
        model_dir = kwargs.get("model_dir")
        kwargs["toolkit"] = Toolkit.load(taxonomy=kwargs.get("taxonomy"), offices=kwargs.get("offices"),
                                         classifier=_theme_model(model_dir) if model_dir else None)
    analysis = run(sample_path(), out_dir, report=False, **kwargs)
    previous_table = read_table(corpus_path(*PREVIOUS_SAMPLE_FILE))
    previous = analyse(previous_table.frame, resolve_columns(previous_table), kwargs["toolkit"],
                       keep_duplicates=kwargs.get("keep_duplicates", False), n_examples=kwargs.get("n_examples", 3))
    rounds_dir = Path(out_dir) / "rounds"
    workspace = Workspace.init(rounds_dir / "workspace")
    workspace.ingest(previous, 2024)
    workspace.ingest(analysis, 2025)
    track_workspace(workspace.path, 2025, 2024, rounds_dir)
    from .report import build_report

    start = time.perf_counter()
    build_report(out_dir)  # once, now that rounds/ holds the scores and tracking it shows
    analysis.info["timings_s"]["report"] = round(time.perf_counter() - start, 4)
    write_json(analysis.info, Path(out_dir) / "run.json")
    return analysis


EAGER_WORKERS_BYTES = 2_000_000  # inputs this large (~10,000 opinions) will need the worker processes


def _file_size(path: str | Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0  # read_table names the problem


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    return library_versions("jieba", "pandas", "scikit-learn", "openpyxl", "numpy")


from .training import classify_file  # noqa: E402,F401  (re-exported: part of the pipeline API)
