"""The HTML report: one self-contained page built from the files a run wrote.

``build_report(DIR)`` reads ``comments.csv``, ``office_summary.csv``,
``rectification_items.csv`` and ``run.json`` (plus ``topics.csv`` / ``hotspots.csv`` when
present), draws the charts into ``DIR/charts/`` (PNG and SVG) and writes ``DIR/report.html``:
styles, script, chart images and a subset of the CJK font are inlined, so the file opens
anywhere without network. Citizen text is escaped by Jinja2's autoescaping, and a
Content-Security-Policy allows only the report's own script (by hash) and ``data:`` images,
so nothing in an opinion can run or load anything.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import ColumnError, InputError
from .export import FORMULA_PREFIXES, atomic_path

REPORT_FILE = "report.html"
CHART_DIR = "charts"
TEMPLATES = Path(__file__).parent / "templates"
REQUIRED_COLUMNS = {
    "comments.csv": ["row_id", "office", "text", "themes"],
    "office_summary.csv": ["office", "theme", "theme_name", "count", "opinions", "share", "rank"],
    "rectification_items.csv": ["office", "item", "theme", "theme_name", "problem", "count", "share",
                                "examples", "measures"],
}
# the columns of comments.csv that the report and the notices use (the opinion texts, the
# largest part of the file, are shown from rectification_items.csv's examples instead)
COMMENT_COLUMNS = ("row_id", "office", "category", "satisfaction", "themes")
OPTIONAL_TABLES = ("topics.csv", "hotspots.csv", "scores.csv", "tracking.csv")
OPTIONAL_DIRS = ("", "rounds")  # optional tables are looked for in DIR, then in DIR/rounds (the demo's)
SATISFACTION_LEVELS = ("满意", "基本满意", "不满意")
OPTIONAL_ROWS = 300  # rows shown of an optional table (topics, hot issues)
FONT_FACE_SLOT = "/*textmine:font-face*/"
# a chart with fewer labels is not worth a second process (measured: 5 offices, 55 labels, lost time)
FORK_MIN_LABELS = 200
CHILD_TIMEOUT_S = 600  # a chart drawn by a second process that takes longer is drawn here instead

Progress = Callable[..., Iterable]  # tqdm-like: progress(iterable, desc=..., total=...)


def _no_progress(iterable: Iterable, **_kwargs) -> Iterable:
    return iterable


# --- reading the run's files ---------------------------------------------------------

@dataclass
class Results:
    """The tables of one run, read back from its output folder (of ``comments.csv`` only the
    columns in :data:`COMMENT_COLUMNS`)."""

    directory: Path
    comments: pd.DataFrame
    summary: pd.DataFrame
    items: pd.DataFrame
    run: dict
    optional: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def theme_order(self) -> list[str]:
        """Theme codes in taxonomy order (run.json keeps it), then any other code seen."""
        codes = list(self.run.get("themes", {})) or list(self.run.get("taxonomy", {}).get("themes", []))
        return list(dict.fromkeys(codes + list(self.summary["theme"]) + list(self.items["theme"])))

    @property
    def theme_names(self) -> dict[str, str]:
        return dict(zip(self.summary["theme"], self.summary["theme_name"])) | \
            dict(zip(self.items["theme"], self.items["theme_name"]))

    @property
    def has_satisfaction(self) -> bool:
        return "satisfaction" in self.comments and bool((self.comments["satisfaction"] != "").any())


def restore_text(value: object) -> object:
    """Undo the apostrophe that CSV export put before formula-like text (for display only)."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _read_csv(directory: Path, name: str, required: list[str] | None,
              keep: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Read an output table as text; ``keep``: only these columns (those present) are parsed."""
    path = directory / name
    if not path.is_file():
        raise InputError(f"{path}: not found — run `textmine run INPUT --out {directory}` first, "
                         f"or pass the folder a run wrote")
    try:
        columns = list(pd.read_csv(path, dtype=str, encoding="utf-8-sig", nrows=0).columns)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                            usecols=None if keep is None else [c for c in columns if c in keep])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read as a UTF-8 CSV ({exc})") from None
    if required:
        missing = [c for c in required if c not in columns]
        if missing:
            raise ColumnError(f"{path}: column(s) {', '.join(missing)} not found; columns are "
                              f"{', '.join(columns)} — was it written by `textmine run`?")
    frame.columns = [restore_text(c) for c in frame.columns]
    for column in frame.columns:  # only cells that start with an apostrophe can change (a vectorised test)
        quoted = frame[column].str.startswith("'").to_numpy(dtype=bool)
        if quoted.any():
            frame.loc[quoted, column] = frame.loc[quoted, column].map(restore_text)
    return frame


def _numeric(frame: pd.DataFrame, path: Path, columns: list[str], kind: str = "float") -> pd.DataFrame:
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & (frame[column] != "")
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 2  # header is line 1
            raise InputError(f"{path}:{row}: column {column}: {frame[column].iloc[row - 2]!r} is not a number")
        frame[column] = values.fillna(0).astype(int) if kind == "int" else values.fillna(0.0)
    return frame


def load_results(directory: str | Path) -> Results:
    """Read the output folder of a run (see the module docstring for the files)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: no such folder — pass the --out folder of `textmine run`")
    run_path = directory / "run.json"
    if not run_path.is_file():
        raise InputError(f"{run_path}: not found — run `textmine run INPUT --out {directory}` first")
    try:
        run = json.loads(run_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{run_path}: not valid JSON ({exc})") from None
    comments = _read_csv(directory, "comments.csv", REQUIRED_COLUMNS["comments.csv"], COMMENT_COLUMNS)
    summary = _numeric(_read_csv(directory, "office_summary.csv", REQUIRED_COLUMNS["office_summary.csv"]),
                       directory / "office_summary.csv", ["count", "opinions", "rank"], "int")
    summary = _numeric(summary, directory / "office_summary.csv", ["share"])
    items = _read_csv(directory, "rectification_items.csv", REQUIRED_COLUMNS["rectification_items.csv"])
    items = _numeric(items, directory / "rectification_items.csv", ["item", "count"], "int")
    items = _numeric(items, directory / "rectification_items.csv", ["share"])
    optional = {}
    for name in OPTIONAL_TABLES:
        found = [directory / sub / name for sub in OPTIONAL_DIRS if (directory / sub / name).is_file()]
        if found:
            optional[name] = _read_csv(found[0].parent, name, None)
    return Results(directory, comments, summary, items, run if isinstance(run, dict) else {}, optional)


# --- tidy tables for the report (the charts only draw these) -------------------------

def theme_totals(results: Results) -> pd.DataFrame:
    """Opinions per theme over all offices: ``theme, theme_name, count, share`` (of accepted opinions),
    most frequent first, ties in taxonomy order."""
    order = {code: i for i, code in enumerate(results.theme_order)}
    totals = results.summary.groupby("theme", as_index=False)["count"].sum()
    totals["theme_name"] = totals["theme"].map(results.theme_names)
    accepted = max(len(results.comments), 1)
    totals["share"] = (totals["count"] / accepted).round(4)
    totals["_order"] = totals["theme"].map(order)
    totals = totals.sort_values(["count", "_order"], ascending=[False, True]).reset_index(drop=True)
    return totals[["theme", "theme_name", "count", "share"]]


def office_table(results: Results) -> pd.DataFrame:
    """One row per office: ``office, category, opinions, with_theme, items, top_themes, themes``
    (``themes`` the codes with complaints, most frequent first), most opinions first."""
    comments = results.comments
    category = comments["category"] if "category" in comments else pd.Series("", index=comments.index)
    base = comments.assign(category=category, _with=comments["themes"] != "").groupby("office").agg(
        category=("category", "first"), opinions=("row_id", "size"), with_theme=("_with", "sum")).reset_index()
    items = results.items.sort_values(["office", "item"])
    themes = items.groupby("office")["theme"].agg(list)
    names = items.groupby("office")["theme_name"].agg(list)
    base["items"] = [len(themes.get(o, [])) for o in base["office"]]
    base["top_themes"] = ["、".join(names.get(o, [])[:3]) for o in base["office"]]
    base["themes"] = [themes.get(o, []) for o in base["office"]]
    base["with_theme"] = base["with_theme"].astype(int)
    return base.sort_values(["opinions", "office"], ascending=[False, True]).reset_index(drop=True)


def satisfaction_table(results: Results) -> pd.DataFrame:
    """Tidy ``office, satisfaction, count, share`` (share within the office's accepted opinions
    that carry a rating); levels 满意 / 基本满意 / 不满意 first, then any other value."""
    comments = results.comments
    rated = comments[comments["satisfaction"] != ""]
    counts = rated.groupby(["office", "satisfaction"]).size().rename("count").reset_index()
    counts["share"] = (counts["count"] / counts.groupby("office")["count"].transform("sum")).round(4)
    return counts


def satisfaction_levels(table: pd.DataFrame) -> list[str]:
    seen = list(dict.fromkeys(table["satisfaction"]))
    return [lv for lv in SATISFACTION_LEVELS if lv in seen] + sorted(lv for lv in seen if lv not in SATISFACTION_LEVELS)


def satisfaction_wide(table: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """One row per office: ``office, rated`` and the count of each level, plus ``satisfied_rate``
    (满意 share) and ``dissatisfied_rate`` (不满意 share); best satisfied rate first."""
    wide = table.pivot_table(index="office", columns="satisfaction", values="count", aggfunc="sum",
                             fill_value=0).reindex(columns=levels, fill_value=0)
    wide["rated"] = wide.sum(axis=1)
    wide["satisfied_rate"] = (wide.get("满意", 0) / wide["rated"]).round(4)
    wide["dissatisfied_rate"] = (wide.get("不满意", 0) / wide["rated"]).round(4)
    wide = wide.reset_index().sort_values(["satisfied_rate", "dissatisfied_rate", "office"],
                                          ascending=[False, True, True]).reset_index(drop=True)
    wide.columns.name = None
    return wide


# --- charts ----------------------------------------------------------------------------

def draw_charts(results: Results, *, progress: Progress = _no_progress, font=None,
                jobs: int | None = None) -> dict[str, dict[str, Path]]:
    """Draw the report's charts into ``DIR/charts/`` as PNG and SVG; return their paths by chart.

    With ``jobs`` ≥ 2 where processes can be forked, the costliest chart (the heat map: a
    label per office and theme), when it has at least :data:`FORK_MIN_LABELS` labels, is
    drawn by a forked process while this one draws the others; the files are the same either
    way. By default (None or 1) all are drawn here.
    """
    from . import charts

    colours = charts.theme_colours(results.theme_order)
    offices = office_table(results)["office"].tolist()
    plan: list[tuple[str, int, Callable]] = []  # name, cost (~ text labels drawn), draw
    totals = theme_totals(results)
    if not totals.empty:
        themes = [t for t in results.theme_order if t in set(results.summary["theme"])]
        plan.append(("theme_distribution", 2 * len(totals),
                     lambda: charts.theme_distribution(totals, colours=colours, font=font)))
        plan.append(("office_theme_heatmap", len(offices) * (len(themes) + 1), lambda: charts.office_theme_heatmap(
            results.summary, themes=themes, offices=offices, font=font)))
    if results.has_satisfaction:
        table = satisfaction_table(results)
        levels = satisfaction_levels(table)
        order = satisfaction_wide(table, levels)["office"]
        table = table.set_index("office").loc[order].reset_index()
        plan.append(("satisfaction", 2 * len(offices),
                     lambda: charts.satisfaction_by_office(table, levels=levels, font=font)))
    out = results.directory / CHART_DIR
    child = None
    name, cost, draw = max(plan, key=lambda step: step[1], default=("", 0, None))
    if len(plan) > 1 and cost >= FORK_MIN_LABELS and _can_fork(jobs):
        process = _start_process(_save_chart, draw, out, name)
        child = (name, process) if process is not None else None
    paths = {}
    for name, _, draw in progress(sorted(plan, key=lambda step: child is not None and step[0] == child[0]),
                                  desc="charts", total=len(plan), unit="chart"):
        if child is not None and name == child[0]:
            child[1].join(CHILD_TIMEOUT_S)
            if child[1].is_alive():  # stuck (a lock copied in a held state at fork?): draw it here
                child[1].kill()
                child[1].join()
                for partial in out.glob(f".{name}.*.tmp"):  # what atomic_path had not moved yet
                    partial.unlink(missing_ok=True)
            elif child[1].exitcode == 0:
                paths[name] = {fmt: out / f"{name}.{fmt}" for fmt in ("png", "svg")}
                continue
        paths[name] = charts.save_figure(draw(), out, name)  # here, or again after the process failed
    return {name: paths[name] for name, _, _ in plan}


def _save_chart(draw: Callable, directory: Path, name: str) -> None:
    """Draw and save one chart (in a forked process: exit 1 on any error, which the parent
    then meets itself when it draws the chart again)."""
    import gc
    import sys

    from . import charts

    gc.disable()  # a collection would touch every object inherited from the parent: copies of its pages
    try:
        charts.save_figure(draw(), directory, name)
    except BaseException:  # noqa: BLE001 - any failure: the parent redraws and reports it
        sys.exit(1)


def _can_fork(jobs: int | None) -> bool:
    """Whether to draw in a second process: asked for (``jobs`` ≥ 2; None, the default, means
    no: on the shared 2-core machine it measured no faster, benchmarks/report.py) and forking
    exists and is safe here (not macOS)."""
    from .parallel import fork_available

    return jobs is not None and jobs >= 2 and fork_available()


def _start_process(target: Callable, *args):
    import multiprocessing

    from .parallel import frozen_gc

    # forked: the child inherits the drawing function and the data without pickling
    process = multiprocessing.get_context("fork").Process(target=target, args=args, daemon=True)
    try:
        with frozen_gc():
            process.start()
    except (OSError, AssertionError):  # no process left, or this one is a daemon (a pool worker)
        return None
    return process


# --- the page --------------------------------------------------------------------------

def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _font_face(font_path: Path, text: str) -> str:
    """An @font-face rule with the font subset to the characters of ``text`` (empty on failure)."""
    chars = "".join(sorted(ch for ch in set(text) if ord(ch) > 0x2E7F))  # CJK and full-width forms
    return _subset_face(str(font_path), chars) if chars else ""


@functools.lru_cache(maxsize=4)  # the same page rebuilt in one process (tests, notebooks) reuses it
def _subset_face(font_path: str, chars: str) -> str:
    data = _subset_font(font_path, chars)
    if not data:
        return ""
    fmt, mime = ("opentype", "font/otf") if data[:4] == b"OTTO" else ("truetype", "font/ttf")
    encoded = base64.b64encode(data).decode("ascii")
    return f'@font-face{{font-family:"TextmineCJK";src:url(data:{mime};base64,{encoded}) format("{fmt}");}}'


def _subset_font(font_path: str, chars: str) -> bytes:
    """The font (first face of a collection) cut down to ``chars``, with every name record
    (the OFL notice) kept; empty bytes when neither subsetter can read it (the page then falls
    back to system fonts).

    HarfBuzz's subsetter (``uharfbuzz``) does this in ~20 ms for ~900 characters of Noto Sans SC;
    fontTools, the fallback, takes ~1 s (it re-executes every CFF charstring in Python).
    """
    try:
        import uharfbuzz as hb
    except ImportError:
        return _subset_font_fonttools(font_path, chars)
    try:
        face = hb.Face(hb.Blob.from_file_path(font_path), 0)
        plan = hb.SubsetInput()
        plan.unicode_set.update(ord(ch) for ch in chars)
        plan.name_id_set.add_range(0, 0x7FFF)  # all names: copyright and licence included
        plan.flags = hb.SubsetFlags.NOTDEF_OUTLINE
        return bytes(hb.subset(face, plan).blob.data)
    except (RuntimeError, OSError, AttributeError):  # a face HarfBuzz cannot cut (or an old uharfbuzz): fontTools
        return _subset_font_fonttools(font_path, chars)


def _subset_font_fonttools(font_path: str, chars: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont, TTLibError

    try:
        # lazy: only the tables and glyphs kept are parsed; the bounding boxes the font states are
        # kept (recomputing them re-runs every CFF charstring); no timestamp: same bytes each time
        font = TTFont(font_path, fontNumber=0, lazy=True, recalcBBoxes=False, recalcTimestamp=False)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
    except (TTLibError, OSError, KeyError, AssertionError):
        return b""
    return buffer.getvalue()


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v, digits=1: f"{float(v):.{digits}%}"
    env.filters["thousands"] = lambda v: f"{int(v):,}"
    return env


def _office_sections(results: Results, offices: pd.DataFrame, colours: dict[str, str],
                     n_opinions: int = 5) -> list[dict]:
    by_office: dict[str, list[dict]] = {}
    for it in results.items.to_dict("records"):  # plain dicts: row access on frames costs ~0.5 s at 50k
        by_office.setdefault(it["office"], []).append(it)
    sections = []
    for i, row in enumerate(offices.to_dict("records"), 1):
        items = sorted(by_office.get(row["office"], []), key=lambda it: it["item"])
        top = [{"theme": it["theme"], "name": it["theme_name"], "count": it["count"], "share": it["share"],
                "colour": colours.get(it["theme"], "#BAB0AC")} for it in items[:5]]
        picked, seen = [], set()
        for round_ in range(3):  # first example of each item, then the second …
            for it in items:
                examples = [e for e in it["examples"].split("\n") if e.strip()]
                if round_ < len(examples) and examples[round_] not in seen and len(picked) < n_opinions:
                    seen.add(examples[round_])
                    picked.append({"theme": it["theme"], "name": it["theme_name"], "text": examples[round_]})
        sections.append({
            "anchor": f"office-{i}", "office": row["office"], "category": row["category"],
            "opinions": row["opinions"], "with_theme": row["with_theme"], "themes": " ".join(row["themes"]),
            "top": top, "examples": picked,
            "rows": [{"item": it["item"], "theme": it["theme"], "name": it["theme_name"], "problem": it["problem"],
                      "count": it["count"], "share": it["share"],
                      "measures": "；".join(m for m in it["measures"].split("；") if m)}
                     for it in items],
        })
    return sections


def _optional_table(frame: pd.DataFrame, title: str, anchor: str) -> dict:
    shown = frame.head(OPTIONAL_ROWS)
    return {"title": title, "anchor": anchor, "columns": list(shown.columns), "total": len(frame),
            "rows": [{"office": r.get("office", ""), "themes": r.get("theme", ""),
                      "cells": [str(r[c]) for c in shown.columns]} for r in shown.to_dict("records")]}


def render_report(results: Results, charts: dict[str, dict[str, Path]], *, font_path: Path | None = None,
                  title: str = "群众评议意见分析报告") -> str:
    """Return the report page as a string (charts are read from their PNG files)."""
    from . import charts as charts_module

    env = _environment()
    colours = charts_module.theme_colours(results.theme_order)
    offices = office_table(results)
    counts = results.run.get("counts", {})
    accepted = int(counts.get("accepted", len(results.comments)))
    overview = {
        "input_rows": int(counts.get("input_rows", accepted)),
        "accepted": accepted,
        "rejected": int(counts.get("rejected", 0)),
        "with_theme": int(counts.get("with_theme", (results.comments["themes"] != "").sum())),
        "rejected_by_reason": counts.get("rejected_by_reason", {}),
        "offices": len(offices),
        "unknown_offices": results.run.get("offices", {}).get("unknown", {}),
        "input_name": Path(str(results.run.get("input", {}).get("path", ""))).name,
        "input_sha": str(results.run.get("input", {}).get("sha256", ""))[:12],
        "started_at": results.run.get("started_at", ""),
        "version": results.run.get("textmine_version", ""),
    }
    satisfaction = None
    if results.has_satisfaction:
        table = satisfaction_table(results)
        levels = satisfaction_levels(table)
        wide = satisfaction_wide(table, levels)
        total = table.groupby("satisfaction")["count"].sum()
        satisfaction = {"levels": levels, "rows": wide.to_dict("records"),
                        "total": {lv: int(total.get(lv, 0)) for lv in levels}, "rated": int(total.sum())}
    themes = [{"code": c, "name": results.theme_names.get(c, c), "colour": colours[c]}
              for c in results.theme_order if c in set(results.summary["theme"])]
    images = {name: {"src": _data_uri(paths["png"], "image/png"), "png": f"{CHART_DIR}/{paths['png'].name}",
                     "svg": f"{CHART_DIR}/{paths['svg'].name}"} for name, paths in charts.items()}
    optional = []
    if "topics.csv" in results.optional:
        optional.append(_optional_table(results.optional["topics.csv"], "主题发现（topics.csv）", "topics"))
    if "hotspots.csv" in results.optional:
        optional.append(_optional_table(results.optional["hotspots.csv"], "热点问题（hotspots.csv）", "hotspots"))
    if "scores.csv" in results.optional:
        optional.append(_optional_table(results.optional["scores.csv"], "评议得分与排名（scores.csv）", "scores"))
    if "tracking.csv" in results.optional:
        optional.append(_optional_table(results.optional["tracking.csv"], "整改跟踪（tracking.csv）", "tracking"))
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    style = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    if "</" in script or "</" in style:  # pragma: no cover - guards our own static files
        raise AssertionError("report.js/report.css must not contain '</'")
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    context = {
        "title": title, "overview": overview, "themes": themes, "totals": theme_totals(results).to_dict("records"),
        "offices": offices.to_dict("records"), "sections": _office_sections(results, offices, colours),
        "satisfaction": satisfaction, "images": images, "optional": optional,
        "anchors": dict(zip(offices["office"], (f"office-{i}" for i in range(1, len(offices) + 1)))),
        "script": script, "style": style, "script_hash": script_hash, "font_face": FONT_FACE_SLOT,
    }
    html = env.get_template("report.html.j2").render(context)
    # rendered once: the @font-face rule (ASCII only, so it adds no character to subset) goes into
    # the slot in <head>, which comes before any citizen text
    face = _font_face(font_path, html) if font_path is not None else ""
    return html.replace(FONT_FACE_SLOT, face, 1)


def build_report(directory: str | Path, *, output: str | Path | None = None, embed_font: bool = True,
                 progress: Progress | None = None, jobs: int | None = None) -> Path:
    """Rebuild ``report.html`` (and ``charts/``) from the files a run wrote into ``directory``.

    Parameters
    ----------
    directory : path
        The ``--out`` folder of ``textmine run``/``demo``.
    output : path, optional
        Where to write the page (default ``directory/report.html``).
    embed_font : bool
        Inline the CJK font, subset to the page's characters (a few hundred kB), so Chinese
        text shows on machines without a Chinese font.
    progress : callable, optional
        A tqdm-like wrapper ``progress(iterable, desc=..., total=...)`` for progress bars.
    jobs : int, optional
        Processes drawing the charts (see :func:`draw_charts`; default: this one only).
    """
    from .fonts import cjk_font

    progress = progress or _no_progress
    results = load_results(directory)
    font = cjk_font()
    charts = draw_charts(results, progress=progress, font=font, jobs=jobs)
    html = render_report(results, charts, font_path=font.path if (font and embed_font) else None)
    path = Path(output) if output is not None else results.directory / REPORT_FILE
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
