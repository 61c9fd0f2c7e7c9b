"""The whole job: read → clean/mask → segment → classify → attach to offices → write.

``run`` is what ``textmine run`` calls; ``analyse`` is the same job on a table already
in memory (for notebooks and tests). Every input row ends either in ``comments`` or in
``rejects`` with its reason, and the counts are checked before anything is written.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .aggregate import ThemeTally, explode_themes, representative_opinions, spread_ranks
from .classify import ThemeClassifier, split_codes, theme_table
from .clean import NonSubstantiveFilter, clean_text, comparison_key, describe_reason, find_duplicates
from .default_classifier import default_theme_classifier, describe_classifier
from .errors import InputError, TextmineError
from .flood import flood_key, flood_summary, reject_floods
from .export import CsvWriter, csv_text, rectification_markdown, write_csv, write_json, write_rectification_xlsx, write_text
from .offices import OfficeDirectory
from .read import ChunkedTable, Table, read_chunks, read_table, resolve_columns
from .parallel import SerialMapper, make_mapper, per_distinct
from .redact import IDENTITY_PLACEHOLDERS, Masker, replace_known
from .resources import corpus_path, library_versions
from .scoring import rating_frame
from .segment import Segmenter
from .stream import Interner, Spill, text_hash
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
            classifier=classifier if classifier is not None else default_theme_classifier(tax),
        )


@dataclass
class Analysis:
    """The job's result tables plus the run record written to ``run.json``.

    ``comments`` and ``rejects`` hold one row per input row. A job run with
    ``keep_rows=False`` (a large input, see :func:`run`) does not keep them in memory:
    they are read back from the ``comments.csv`` and ``rejects.csv`` it wrote into
    ``rows_dir`` when first asked for (as the files have them: every cell a string but
    the row numbers, formula-like text with its leading apostrophe).
    """

    _comments: pd.DataFrame | None
    _rejects: pd.DataFrame | None
    summary: pd.DataFrame
    items: pd.DataFrame
    overview: pd.DataFrame
    info: dict = field(default_factory=dict)
    # every input row with a satisfaction value, also rows whose text was rejected (for scoring)
    ratings: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows_dir: Path | None = None

    @property
    def comments(self) -> pd.DataFrame:
        if self._comments is None:
            self._comments = _read_rows(self.rows_dir, "comments.csv")
        return self._comments

    @property
    def rejects(self) -> pd.DataFrame:
        if self._rejects is None:
            self._rejects = _read_rows(self.rows_dir, "rejects.csv")
        return self._rejects


def _read_rows(directory: Path | None, name: str) -> pd.DataFrame:
    if directory is None:
        raise TextmineError(f"the rows of this analysis were not kept and {name} was not written")
    frame = pd.read_csv(Path(directory) / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame["row_id"] = _numbers(frame["row_id"])
    if "duplicate_of" in frame:
        frame["duplicate_of"] = pd.array([int(v) if v else pd.NA for v in frame["duplicate_of"]], dtype="Int64")
    return frame


def _numbers(values: pd.Series) -> pd.Series:
    """Row numbers read back as integers (they are spreadsheet rows unless the caller gave others)."""
    try:
        return values.astype(np.int64)
    except ValueError:
        return values


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


CHUNK_ROWS = 50_000  # rows analysed at a time: the texts of one chunk at most are in memory


def analyse(frame: pd.DataFrame | Iterable[pd.DataFrame], columns: dict[str, str | None], toolkit: Toolkit, *,
            keep_duplicates: bool = False, n_examples: int = 3,
            keep_floods: bool = False, flood_min: int = 5, min_evaluators: int = 3,
            stopwatch: _Stopwatch | None = None, mapper: SerialMapper | None = None,
            out_dir: str | Path | None = None, keep_rows: bool = True, chunk_rows: int | None = None,
            max_offices: int = 0, source: str = "the input") -> Analysis:
    """Analyse a table of opinions.

    Parameters
    ----------
    frame : DataFrame, or an iterable of DataFrames
        The input rows; the index is used as ``row_id`` (the spreadsheet row number
        when read with :func:`textmine.read.read_table`). An iterable gives the rows of one
        table chunk by chunk, in order (e.g. :func:`textmine.read.read_chunks`).
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
    out_dir, keep_rows : path, bool
        With ``out_dir``, ``comments.csv`` and ``rejects.csv`` are written there as the rows
        are finished. ``keep_rows=False`` keeps them out of memory: ``Analysis.comments``
        and ``rejects`` are then read back from those files when asked for.
    chunk_rows : int
        Rows analysed at a time (default :data:`CHUNK_ROWS`). Only one or two chunks' texts are in memory at once;
        of the rest the job keeps a few numbers per row (codes of the office, theme set and
        writer, 64-bit hashes of the text's duplicate keys) and the texts it quotes.
    max_offices : int
        Refuse an office column naming more offices than this (0: no limit); ``source``
        names the input in that message.

    The result is the same, row for row, for any ``chunk_rows`` and any mapper.
    """
    watch = stopwatch or _Stopwatch()
    mapper = mapper or SerialMapper(toolkit)
    if not columns.get("text"):
        raise TextmineError("no text column given")
    chunk_rows = CHUNK_ROWS if chunk_rows is None else chunk_rows
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    rows = _RowState(columns, toolkit)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".textmine-rows-", dir=out_dir) as tmp, \
            Spill(Path(tmp) / "rows.pickle") as spill:
        pending = None
        for chunk in _timed(_chunks(frame, chunk_rows, columns), watch, "read"):
            with watch.stage("clean_mask_classify"):  # started here, done by the workers
                texts = rows.submit_texts(chunk, mapper)
            with watch.stage("offices"):  # meanwhile
                started = rows.add_chunk(chunk)
                rows.check_office_count(max_offices, source)
            if pending is not None:
                with watch.stage("clean_mask_classify"):
                    spill.write(rows.finish_chunk(*pending))
            pending = (started, texts)
        with watch.stage("clean_mask_classify"):
            spill.write(rows.finish_chunk(*pending))
        with watch.stage("deduplicate"):
            floods = rows.decide(keep_duplicates=keep_duplicates, keep_floods=keep_floods, flood_min=flood_min)
        with watch.stage("write_rows"):
            comments, rejects, tally, candidates = rows.write(spill, mapper, out_dir=out_dir, keep=keep_rows)
    with watch.stage("aggregate"):
        summary = tally.summary(toolkit.taxonomy)
        texts = {pos: text for group in candidates.values() for pos, text in group}
        chosen = representative_opinions(texts, {key: [pos for pos, _ in group] for key, group in candidates.items()},
                                         _Tokenizer(toolkit, mapper), n=n_examples)
        items = tally.items(summary, toolkit.taxonomy, toolkit.offices,
                            {key: [texts[pos] for pos in picked] for key, picked in chosen.items()},
                            min_evaluators=min_evaluators)
        overview = tally.overview(items, toolkit.offices)
        ratings = rows.ratings()
    counts, written = rows.counts, rows.written
    if (written["comments"], written["rejects"]) != (counts["accepted"], counts["rejected"]) \
            or written["comments"] + written["rejects"] != rows.n:  # pragma: no cover - an invariant
        raise AssertionError(f"row accounting broken: {written} written for {rows.n} rows, {counts}")
    info = {
        "counts": {
            "input_rows": rows.n,
            "accepted": counts["accepted"],
            "rejected": counts["rejected"],
            "rejected_by_reason": counts["rejected_by_reason"],
            "with_theme": int(sum(tally.with_theme.values())),
        },
        "themes": {code: int(summary.loc[summary["theme"] == code, "count"].sum()) for code in toolkit.taxonomy.codes},
        "offices": {
            "count": len(tally.opinions),
            "unknown": {str(k): int(v) for k, v in sorted(rows.unknown_offices.items())},
        },
        "columns": {role: col for role, col in columns.items() if col},
        "floods": flood_summary(floods, kept=keep_floods),
        "timings_s": watch.timings,
    }
    return Analysis(comments, rejects, summary, items, overview, info, ratings,
                    rows_dir=None if out_dir is None else Path(out_dir))


def _chunks(frame, chunk_rows: int, columns: dict[str, str | None]) -> Iterator[pd.DataFrame]:
    """The input in chunks of at most ``chunk_rows`` rows; at least one (maybe empty) chunk."""
    if isinstance(frame, pd.DataFrame):
        for start in range(0, max(len(frame), 1), chunk_rows):
            yield frame.iloc[start:start + chunk_rows]
        return
    empty = True
    for chunk in frame:
        empty = False
        for start in range(0, len(chunk), chunk_rows):
            yield chunk.iloc[start:start + chunk_rows]
    if empty:
        yield pd.DataFrame(columns=list(dict.fromkeys(c for c in columns.values() if c)), dtype=object)


def _timed(iterable, watch: _Stopwatch, stage: str):
    """Iterate, adding the time spent waiting for each item to ``stage``."""
    iterator = iter(iterable)
    while True:
        with watch.stage(stage):
            item = next(iterator, _END)
        if item is _END:
            return
        yield item


_END = object()


class _RowState:
    """What :func:`analyse` keeps of every row between reading it and writing it out:
    small codes and hashes (see :mod:`textmine.stream`), never the texts."""

    def __init__(self, columns: dict[str, str | None], toolkit: Toolkit):
        self.columns = columns
        self.toolkit = toolkit
        self.identity_roles = [r for r in IDENTITY_ROLES if columns.get(r)]
        self.passthrough = [r for r in PASSTHROUGH_ROLES if columns.get(r)]
        self.n = 0
        self.chunk_rows: list[int] = []
        self.offices = Interner()
        self.themes, self.dates, self.scope = Interner(), Interner(), Interner()
        self.identity = {role: Interner() for role in self.identity_roles}
        self.parts: dict[str, list[np.ndarray]] = {}
        self.unknown_offices: Counter = Counter()
        self._first_unknown: tuple[str, object] | None = None
        self._ratings: list[pd.DataFrame] = []

    # -- pass 1: chunk by chunk ---------------------------------------------------------
    def submit_texts(self, chunk: pd.DataFrame, mapper: SerialMapper) -> Callable[[], list]:
        """Start :func:`_texts_task` on the chunk's distinct texts; the returned function
        waits for it and gives one result per row (see :func:`_texts_task`)."""
        raw = _strings(chunk[self.columns["text"]])
        codes, distinct = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=False)
        # each distinct text goes with the identities of everyone who wrote it
        writers: list[dict[tuple, int]] = [{} for _ in distinct]
        if self.identity_roles:
            values = [_strings(chunk[self.columns[r]], strip=True) for r in self.identity_roles]
            holders = [IDENTITY_PLACEHOLDERS[r] for r in self.identity_roles]
            knowns = [tuple(zip(known, holders)) for known in zip(*values)]
        else:
            knowns = [()] * len(raw)
        which = np.empty(len(raw), dtype=np.int64)
        for i, (code, known) in enumerate(zip(codes, knowns)):
            which[i] = writers[code].setdefault(known, len(writers[code]))
        pending = mapper.submit(_texts_task, [(text, tuple(w)) for text, w in zip(distinct, writers)])

        def results() -> list:
            done = pending()
            return [(*done[c][:4], *done[c][4][w]) for c, w in zip(codes, which)]
        return results

    def add_chunk(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """Resolve offices and keep the row codes of ``chunk``; return its columns that go
        into comments.csv (office as written and the pass-through roles)."""
        columns = self.columns
        office_col = columns.get("office")
        written = _objects(clean_many(_strings(chunk[office_col]) if office_col else [""] * len(chunk)))
        # resolved after cleaning, so that 市監局 and "市监局&nbsp;" find 市监局's entry
        resolved = self.toolkit.offices.resolve_many(written)
        office = resolved["office"].to_numpy(dtype=object)
        known = resolved["office_known"].to_numpy(dtype=bool)
        for name, count in pd.Series(office[~known]).value_counts().items():
            self.unknown_offices[name] += int(count)
        if self._first_unknown is None and not known.all():
            first = int((~known).argmax())
            self._first_unknown = (office[first], chunk.index[first])
        out = pd.DataFrame({"office_as_written": written})
        for role in self.passthrough:
            out[role] = _objects(clean_many(_strings(chunk[columns[role]])))
        keep = {"row_id": chunk.index.to_numpy(), "office": self.offices.codes(office)}
        for role in self.identity_roles:
            keep[f"id_{role}"] = self.identity[role].codes(_strings(chunk[columns[role]], strip=True))
        if columns.get("evaluator"):  # duplicates are looked for per evaluator id as written
            keep["scope"] = self.scope.codes(_strings(chunk[columns["evaluator"]]))
        if "date" in out:
            keep["date"] = self.dates.codes(out["date"])
        for name, values in keep.items():
            self.parts.setdefault(name, []).append(values)
        if "satisfaction" in out:
            work = pd.DataFrame({"row_id": keep["row_id"], "office": office, "satisfaction": out["satisfaction"]})
            if "group" in out:
                work["group"] = out["group"]
            ids = keep.get("id_evaluator")
            codes = None if ids is None else np.where(self.identity["evaluator"].values(ids) == "", 0, ids + 1)
            ratings = rating_frame(work, chunk, columns, evaluators=codes)
            ratings["category"] = ratings["office"].map(self.toolkit.offices.category)
            self._ratings.append(ratings)
        self.n += len(chunk)
        self.chunk_rows.append(len(chunk))
        return out

    def check_office_count(self, max_offices: int, source: str) -> None:
        """Refuse an office column with more than ``max_offices`` offices after alias resolution:
        it is the wrong column, or its spellings need an alias table — thousands of one-opinion
        "offices" would each get a rectification sheet."""
        count = len(self.offices)
        if not max_offices or count <= max_offices:
            return
        example = ""
        if self._first_unknown is not None:
            name, row = self._first_unknown
            example = f", e.g. {name!r} in row {row}"
        last_row = self.parts["row_id"][-1][-1]
        raise InputError(f"{source}: column {self.columns.get('office')} names {count:,} different offices "
                         f"by row {last_row} ({len(self.unknown_offices):,} not in the alias table{example}), "
                         f"more than --max-offices {max_offices:,}; check --office-col, add the spellings to an "
                         "alias table (--offices) or raise --max-offices")

    def finish_chunk(self, out: pd.DataFrame, texts: Callable[[], list]) -> pd.DataFrame:
        """Keep the codes of the chunk's texts; return its rows (``out`` of :meth:`add_chunk`
        with the masked texts and themes) to be written later."""
        results = texts()
        reason, raw, key, flood, masked, themed = zip(*results) if results else ([],) * 6
        self._append("reason", np.array(reason, dtype=object))
        for name, values in (("raw", raw), ("key", key)):
            self._append(name, np.array(values, dtype=np.int64))
        self._append("flood", np.array([0 if f is None else f for f in flood], dtype=np.int64))
        self._append("has_flood", np.array([f is not None for f in flood], dtype=bool))
        themes = _theme_frame(list(themed), self.toolkit)
        self._append("themes", self.themes.codes(themes["themes"]))
        out["text"] = _objects(masked)
        return pd.concat([out, themes.set_axis(out.index)], axis=1)

    def _append(self, name: str, values: np.ndarray) -> None:
        self.parts.setdefault(name, []).append(values)

    # -- pass 2: over all rows ----------------------------------------------------------
    def column(self, name: str) -> np.ndarray:
        parts = self.parts.get(name, [])
        if len(parts) != 1:
            self.parts[name] = parts = [np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)]
        return parts[0]

    def decide(self, *, keep_duplicates: bool, keep_floods: bool, flood_min: int) -> pd.DataFrame:
        """Mark floods and duplicates (they compare rows across the whole input)."""
        work = pd.DataFrame({"row_id": self.column("row_id"), "office": self.offices.values(self.column("office")),
                             "reason_code": self.column("reason"), "duplicate_of": None})
        identity = {role: self.identity[role].values(self.column(f"id_{role}")) for role in self.identity_roles}
        dates = self.dates.values(self.column("date")).tolist() if "date" in self.passthrough else None
        keys = self.column("flood").astype(object)
        keys[~self.column("has_flood")] = ""
        floods = reject_floods(work, identity, dates, keep=keep_floods, min_copies=flood_min, keys=keys)
        if not keep_duplicates:
            scope = ["office"]
            if "scope" in self.parts:
                work["_scope"] = self.column("scope")
                scope.append("_scope")
            work["_raw"], work["_key"] = self.column("raw"), self.column("key")
            candidates = work[work["reason_code"].isna()]
            dups = find_duplicates(candidates, text="_raw", key="_key", by=scope, row_id="row_id")
            work.loc[dups.index, "reason_code"] = work.loc[dups.index, "reason_code"].where(
                dups["reason"].isna(), dups["reason"])
            work.loc[dups.index, "duplicate_of"] = dups["duplicate_of"]
        self.reason = work["reason_code"].to_numpy(dtype=object)
        self.duplicate_of = work["duplicate_of"].to_numpy(dtype=object)
        self.accepted = pd.isna(self.reason)
        rejected = pd.Series(self.reason[~self.accepted]).value_counts().sort_index()
        self.counts = {"accepted": int(self.accepted.sum()), "rejected": int((~self.accepted).sum()),
                       "rejected_by_reason": {str(k): int(v) for k, v in rejected.items()}}
        return floods

    def write(self, spill: Spill, mapper: SerialMapper, *, out_dir: str | Path | None, keep: bool):
        """Split the spilled rows into comments and rejects, written to ``out_dir`` and/or
        kept, counting the opinions (:class:`~textmine.aggregate.ThemeTally`) and keeping the
        texts typical-opinion picking compares (:func:`~textmine.aggregate.typical_candidates`:
        at most ``TYPICAL_CANDIDATES`` per office and theme, spread evenly). Each chunk is
        done by :func:`_rows_task` through ``mapper`` (a few chunks at a time, in order);
        this process merges the tallies and writes the lines. Returns (comments or None,
        rejects or None, tally, candidates: (office, theme) → [(position among the
        opinions, text)])."""
        tally, candidates = ThemeTally(), {}
        kept: dict[str, list[pd.DataFrame]] = {"comments": [], "rejects": []}
        self.written = dict.fromkeys(kept, 0)
        with contextlib.ExitStack() as stack:
            files = {} if out_dir is None else {
                name: stack.enter_context(CsvWriter(Path(out_dir) / f"{name}.csv")) for name in kept}

            def take(pending: Callable[[], list]) -> None:
                done = pending()[0]
                tally.merge(done["tally"])
                for key, picked in done["candidates"]:
                    candidates.setdefault(key, []).extend(picked)
                for name in kept:
                    lines, columns, rows = done[name]
                    self.written[name] += rows
                    if name in files:
                        files[name].write_text(lines, columns)
                    if keep:
                        kept[name].append(done[f"{name}_frame"])

            in_flight: deque = deque()
            # sending a chunk to a worker costs a copy both ways: worth it with more chunks than workers
            away = 1 if spill.chunks > mapper.jobs else 2
            for job in self._row_jobs(spill, lines=bool(files), keep=keep):
                in_flight.append(mapper.submit(_rows_task, [job], min_items=away))
                if len(in_flight) > mapper.jobs:  # a few chunks in memory at a time
                    take(in_flight.popleft())
            while in_flight:
                take(in_flight.popleft())
        if keep:
            comments, rejects = (pd.concat(kept[name], ignore_index=True) for name in ("comments", "rejects"))
        else:
            comments = rejects = None
        return comments, rejects, tally, candidates

    def _row_jobs(self, spill: Spill, *, lines: bool, keep: bool) -> Iterator[dict]:
        """One :func:`_rows_task` job per spilled chunk: its rows, the decisions about them,
        and per (office, theme) how many opinions came before it and how many there are."""
        accepted, offices, row_ids = self.accepted, self.column("office"), self.column("row_id")
        writers = self._writers()
        ends = np.cumsum(self.chunk_rows)
        per_chunk = [self._group_counts(end - rows, end) for rows, end in zip(self.chunk_rows, ends)]
        sizes = sum(per_chunk, Counter())
        before: Counter = Counter()
        start = opinions = 0
        for number, (chunk, here) in enumerate(zip(spill, per_chunk)):
            end = start + len(chunk)
            yield {"chunk": chunk, "row_id": row_ids[start:end], "office": self.offices.values(offices[start:end]),
                   "accepted": accepted[start:end], "reason": self.reason[start:end],
                   "duplicate_of": self.duplicate_of[start:end],
                   "writers": None if writers is None else writers[start:end], "first": opinions,
                   "before": {key: before[key] for key in here}, "sizes": {key: sizes[key] for key in here},
                   "header": number == 0, "lines": lines, "keep": keep}
            before.update(here)
            start, opinions = end, opinions + int(accepted[start:end].sum())

    def _group_counts(self, start: int, end: int) -> Counter:
        """Opinions per (office, theme) among rows ``start:end``, from the row codes."""
        themes = max(len(self.themes), 1)
        mine = self.accepted[start:end]
        pairs = self.column("office")[start:end][mine].astype(np.int64) * themes \
            + self.column("themes")[start:end][mine]
        counts: Counter = Counter()
        for pair, count in zip(*np.unique(pairs, return_counts=True)):
            office, theme_set = divmod(int(pair), themes)
            name = self.offices.values([office])[0]
            for theme in split_codes(self.themes.values([theme_set])[0]):
                counts[(name, theme)] += int(count)
        return counts

    def _writers(self) -> np.ndarray | None:
        """Who wrote each row (its first identity column), for the min_evaluators rule."""
        if not self.identity_roles:
            return None
        role = self.identity_roles[0]
        return self.identity[role].values(self.column(f"id_{role}"))

    def ratings(self) -> pd.DataFrame:
        if not self._ratings:
            return rating_frame(pd.DataFrame(), pd.DataFrame(), {})
        return pd.concat(self._ratings, ignore_index=True)


def _rows_task(toolkit: Toolkit, jobs: list[dict]) -> list[dict]:
    """Per job of :meth:`_RowState._row_jobs` (one chunk): its comments and rejects (as CSV
    lines, and as frames when kept), the chunk's :class:`~textmine.aggregate.ThemeTally`,
    and its candidates for typical opinions per (office, theme)."""
    return [_finish_rows(toolkit, **job) for job in jobs]


def _finish_rows(toolkit: Toolkit, *, chunk: pd.DataFrame, row_id: np.ndarray, office: np.ndarray,
                 accepted: np.ndarray, reason: np.ndarray, duplicate_of: np.ndarray, writers: np.ndarray | None,
                 first: int, before: dict, sizes: dict, header: bool, lines: bool, keep: bool) -> dict:
    comments = chunk[accepted].reset_index(drop=True)
    comments.insert(0, "row_id", row_id[accepted])
    comments.insert(1, "office", _objects(office[accepted]))
    comments.insert(2, "category", _objects([toolkit.offices.category(o) for o in office[accepted]]))
    tally = ThemeTally().add(comments, None if writers is None else writers[accepted])
    long = explode_themes(comments[["office", "themes", "text"]].assign(_pos=np.arange(first, first + len(comments))))
    candidates = []
    for key, group in long.groupby(["office", "theme"], sort=False):
        picked = spread_ranks(before[key] + np.arange(len(group)), sizes[key])
        candidates.append((key, list(zip(group["_pos"].to_numpy()[picked].tolist(),
                                         group["text"].to_numpy()[picked].tolist()))))
    rejected = ~accepted
    rejects = pd.DataFrame({
        "row_id": row_id[rejected], "office": _objects(office[rejected]),
        "text": _objects(chunk["text"].to_numpy(dtype=object)[rejected]), "reason_code": _objects(reason[rejected]),
        "reason": _objects([describe_reason(c, d) for c, d in zip(reason[rejected], duplicate_of[rejected])]),
        "duplicate_of": pd.array(duplicate_of[rejected].tolist(), dtype="Int64"),
    })
    done = {"tally": tally, "candidates": candidates}
    for name, table in (("comments", comments), ("rejects", rejects)):
        done[name] = (csv_text(table, header=header) if lines else "", list(table.columns), len(table))
        done[f"{name}_frame"] = table if keep else None
    return done


def _strings(values: pd.Series, *, strip: bool = False) -> np.ndarray:
    """A column's cells as Python strings ("" for a missing cell)."""
    values = values.fillna("").astype(str)
    if strip:
        values = values.str.strip()
    return values.to_numpy(dtype=object)


def _objects(values) -> pd.Series:
    """A column of Python objects: the working table keeps its strings as they are, instead
    of converting them to Arrow and back at every step (pandas ≥ 3 would)."""
    if isinstance(values, pd.Series):  # by position, never aligned on the index
        values = values.to_numpy(dtype=object)
    elif not isinstance(values, (list, np.ndarray)):
        values = list(values)
    return pd.Series(values, dtype=object)


def _texts_task(toolkit: Toolkit, items: list[tuple[str, tuple]]) -> list[tuple]:
    """Per (text as written, the identities of its writers — each a tuple of (value,
    placeholder) pairs): the rejection reason or None, :func:`~textmine.stream.text_hash` of
    the text as written (exact duplicates), of its near-duplicate key and of its flood key
    (None when empty), and per writer the cleaned text with identities masked and its row of
    :func:`~textmine.classify.theme_table`. Writers whose identity is not in the text share
    one masked text."""
    facts, variants, to_tag = [], [], {}
    for raw, writers in items:
        cleaned = clean_text(raw)
        key, flood = comparison_key(cleaned), flood_key(cleaned)
        facts.append((toolkit.filler.reason(cleaned, key), text_hash(raw.strip()), text_hash(key),
                      text_hash(flood) if flood else None))
        plain = toolkit.masker.mask(cleaned)
        masked = []
        for known in writers:
            replaced = replace_known(cleaned, dict(known)) if known else cleaned
            masked.append(plain if replaced == cleaned else toolkit.masker.mask(replaced))
        variants.append(masked)
        for text in masked:
            to_tag.setdefault(text, len(to_tag))
    rows = theme_table(toolkit.classifier, list(to_tag), toolkit.taxonomy.names()).to_dict("records")
    tagged = {text: (text, rows[i]) for text, i in to_tag.items()}
    return [(*fact, [tagged[text] for text in masked]) for fact, masked in zip(facts, variants)]


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


def _resolve_on_first_chunk(table: ChunkedTable, columns: dict[str, str | None]):
    """:func:`~textmine.read.resolve_columns` judged on the first chunk's rows (the checks
    of column contents look at those); returns all the chunks again and the mapping."""
    chunks = iter(table)
    first = next(chunks, None)
    frame = first if first is not None else pd.DataFrame(columns=table.columns, dtype=object)
    head = Table(frame=frame, path=table.path, encoding=table.encoding, sheet=table.sheet,
                 delimiter=table.delimiter, header_row=table.header_row)
    return itertools.chain([] if first is None else [first], chunks), resolve_columns(head, **columns)


def write_outputs(analysis: Analysis, out_dir: str | Path, *, rows: bool = True) -> list[Path]:
    """Write comments.csv, rejects.csv, office_summary.csv, rectification.xlsx/.md and run.json
    (without comments.csv and rejects.csv when not ``rows``: :func:`analyse` wrote them)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items_flat = analysis.items.assign(
        examples=analysis.items["examples"].map(lambda xs: "\n".join(xs)),
        measures=analysis.items["measures"].map(lambda xs: "；".join(xs)),
    )
    paths = [write_csv(analysis.comments, out / "comments.csv"),
             write_csv(analysis.rejects, out / "rejects.csv")] if rows else []
    paths += [
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
    size = _file_size(input_path)
    # Everything is written into a staging folder inside out_dir and moved into place only
    # when all of it succeeded: a failure or Ctrl-C leaves the previous outputs as they were.
    with staged_directory(out_dir) as stage:
        with (nullcontext(mapper) if mapper is not None else make_mapper(toolkit, jobs)) as mapper:
            if size >= EAGER_WORKERS_BYTES:
                mapper.start()  # before the input is read: the forked workers stay small
            with watch.stage("read"):  # opened: the header is read, the rows are read while analysing
                table = read_chunks(input_path, encoding=encoding, sheet=sheet, chunk_rows=CHUNK_ROWS)
            say(f"analysing {table.source}")
            with table:
                chunks, mapping = _resolve_on_first_chunk(table, columns or {})
                analysis = analyse(chunks, mapping, toolkit, keep_duplicates=keep_duplicates,
                                   n_examples=n_examples, keep_floods=keep_floods, flood_min=flood_min,
                                   min_evaluators=min_evaluators, stopwatch=watch, mapper=mapper,
                                   out_dir=stage, keep_rows=workspace is not None or size < KEEP_ROWS_BYTES,
                                   max_offices=max_offices, source=table.source)
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
            "classifier": {**describe_classifier(toolkit.classifier), **({"model": str(model_dir)} if model_dir else {})},
            "versions": _versions(),
            "started_at": started.isoformat(timespec="seconds"),
        }
        with watch.stage("write"):
            write_outputs(analysis, stage, rows=False)  # comments.csv and rejects.csv are written
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
    analysis.rows_dir = Path(out_dir)
    return analysis


@contextmanager
def staged_directory(out_dir: str | Path):
    """Yield an empty staging folder inside ``out_dir``; move its entries into ``out_dir``
    on success (replacing files and folders of the same name), delete it on any failure."""
    import shutil

    out = Path(out_dir)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".textmine-staging-", dir=out))
    failed = True
    try:
        yield stage
        for entry in sorted(stage.iterdir()):
            target = out / entry.name
            if entry.is_dir() and target.is_dir():
                shutil.rmtree(target)
            os.replace(entry, target)
        failed = False
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if failed and created:  # a failed run leaves no trace
            with contextlib.suppress(OSError):
                out.rmdir()


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
KEEP_ROWS_BYTES = 32_000_000  # larger inputs (~200,000 opinions) leave comments/rejects on disk only


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
