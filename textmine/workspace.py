"""A workspace: every evaluation round in one embedded DuckDB database, plus its config.

A workspace is a folder::

    WORKSPACE/workspace.toml     the config (categories, group weights, scales), see textmine.config
    WORKSPACE/textmine.duckdb    the database: one table per kind of row, each with a ``round`` column

Ingesting a round stores the analysis' tables under its round id. Ingesting the same data again
changes nothing (a fingerprint of the stored rows is kept); ingesting different data for a round
replaces that round's rows in one transaction, so a reader sees either the old round or the new
one, never a mix. :meth:`Workspace.export_parquet` writes every table as Parquet for Dask, Spark
or pandas. DuckDB is imported only when a workspace is used.
"""
from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .config import WorkspaceConfig, default_config_path, load_config
from .errors import TextmineError

DB_NAME = "textmine.duckdb"
CONFIG_NAME = "workspace.toml"

_TEXT = "VARCHAR"
_INT = "BIGINT"
_REAL = "DOUBLE"
_BOOL = "BOOLEAN"
# table -> [(column, type)]; every table but ``rounds`` holds rows of one or more rounds
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "rounds": [("round", _INT), ("fingerprint", _TEXT), ("source", _TEXT), ("source_sha256", _TEXT),
               ("ingested_at", _TEXT), ("input_rows", _INT), ("accepted", _INT), ("rejected", _INT),
               ("ratings", _INT)],
    "comments": [("round", _INT), ("row_id", _INT), ("office", _TEXT), ("category", _TEXT),
                 ("office_as_written", _TEXT), ("group", _TEXT), ("satisfaction", _TEXT), ("date", _TEXT),
                 ("text", _TEXT), ("themes", _TEXT), ("theme_names", _TEXT), ("evidence", _TEXT)],
    "comment_themes": [("round", _INT), ("row_id", _INT), ("office", _TEXT), ("theme", _TEXT)],
    "rejects": [("round", _INT), ("row_id", _INT), ("office", _TEXT), ("text", _TEXT), ("reason_code", _TEXT),
                ("reason", _TEXT), ("duplicate_of", _INT)],
    "offices": [("round", _INT), ("office", _TEXT), ("category", _TEXT), ("opinions", _INT),
                ("with_theme", _INT), ("items", _INT), ("top_themes", _TEXT)],
    "office_themes": [("round", _INT), ("office", _TEXT), ("theme", _TEXT), ("theme_name", _TEXT),
                      ("count", _INT), ("opinions", _INT), ("share", _REAL), ("rank", _INT)],
    "items": [("round", _INT), ("office", _TEXT), ("category", _TEXT), ("item", _INT), ("theme", _TEXT),
              ("theme_name", _TEXT), ("problem", _TEXT), ("count", _INT), ("share", _REAL),
              ("examples", _TEXT), ("measures", _TEXT)],
    "ratings": [("round", _INT), ("row_id", _INT), ("office", _TEXT), ("category", _TEXT), ("group", _TEXT),
                ("rating", _TEXT), ("evaluator", _INT)],
    "scores": [("round", _INT), ("office", _TEXT), ("category", _TEXT), ("forms", _INT), ("n_satisfied", _INT),
               ("n_basic", _INT), ("n_dissatisfied", _INT), ("unrated", _INT), ("superseded", _INT),
               ("satisfaction_rate", _REAL), ("satisfaction_low", _REAL), ("satisfaction_high", _REAL),
               ("basic_rate", _REAL), ("dissatisfaction_rate", _REAL), ("dissatisfaction_low", _REAL),
               ("dissatisfaction_high", _REAL), ("weighted_satisfaction_rate", _REAL), ("composite", _REAL),
               ("groups", _INT), ("ranked", _BOOL), ("rank", _INT), ("category_rank", _INT),
               ("category_size", _INT), ("prev_round", _INT), ("prev_satisfaction_rate", _REAL),
               ("satisfaction_change", _REAL), ("prev_dissatisfaction_rate", _REAL),
               ("dissatisfaction_change", _REAL), ("prev_composite", _REAL), ("composite_change", _REAL),
               ("prev_rank", _INT), ("rank_change", _INT), ("bottom_of_category", _BOOL), ("fell", _BOOL),
               ("prominent_themes", _TEXT), ("key_help", _BOOL), ("key_help_reasons", _TEXT)],
}
# tables filled by ingesting a round (``scores`` is derived: see textmine.scoring)
ROUND_TABLES = ("comments", "comment_themes", "rejects", "offices", "office_themes", "items", "ratings")
_ORDER = {"rounds": ["round"], "offices": ["round", "office"], "office_themes": ["round", "office", "rank", "theme"],
          "items": ["round", "office", "item"], "scores": ["round", "office"]}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class IngestResult:
    """What :meth:`Workspace.ingest` did: ``added``, ``replaced`` or ``unchanged``."""

    round: int
    status: str
    rows: dict[str, int]


class Workspace:
    """A folder with the workspace config and the DuckDB database of every round."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def db_path(self) -> Path:
        return self.path / DB_NAME

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_NAME

    # ---- life cycle --------------------------------------------------------------------------

    @classmethod
    def init(cls, path: str | Path, *, config: str | Path | None = None) -> "Workspace":
        """Create (or complete) a workspace; an existing config or database is kept as it is."""
        ws = cls(path)
        if ws.path.exists() and not ws.path.is_dir():
            raise TextmineError(f"{ws.path}: exists and is not a folder; choose another workspace path")
        source = Path(config) if config is not None else default_config_path()
        load_config(source)  # refuse an invalid config before creating anything
        ws.path.mkdir(parents=True, exist_ok=True)
        if not ws.config_path.exists():
            shutil.copyfile(source, ws.config_path)
        with ws._connect() as con:
            for table, columns in SCHEMA.items():
                body = ", ".join(f"{_quote(c)} {t}" for c, t in columns)
                con.execute(f"CREATE TABLE IF NOT EXISTS {_quote(table)} ({body})")
        return ws

    @classmethod
    def open(cls, path: str | Path) -> "Workspace":
        """Open an existing workspace (made by :meth:`init` / ``textmine init``)."""
        ws = cls(path)
        if not ws.db_path.is_file():
            raise TextmineError(f"{ws.path}: not a textmine workspace (no {DB_NAME}); "
                                f"create it with: textmine init {ws.path}")
        return ws

    @contextlib.contextmanager
    def _connect(self) -> Iterator:
        import duckdb

        try:
            con = duckdb.connect(str(self.db_path))
        except duckdb.Error as exc:
            raise TextmineError(f"{self.db_path}: cannot open the workspace database ({exc})") from None
        try:
            yield con
        finally:
            con.close()

    def config(self, path: str | Path | None = None) -> WorkspaceConfig:
        """Load ``path``, else the workspace's own config, else the shipped default."""
        if path is not None:
            return load_config(path)
        return load_config(self.config_path if self.config_path.exists() else None)

    # ---- reading ----------------------------------------------------------------------------

    def table(self, name: str, round_id: int | None = None) -> pd.DataFrame:
        """Return a table (every round, or one) as a DataFrame with the schema's columns."""
        if name not in SCHEMA:
            raise TextmineError(f"no table {name!r} in a workspace; tables are {', '.join(SCHEMA)}")
        order = ", ".join(_quote(c) for c in _ORDER.get(name, ["round", "row_id"]))
        where, args = ("WHERE round = ?", [round_id]) if round_id is not None else ("", [])
        with self._connect() as con:
            frame = con.execute(f"SELECT * FROM {_quote(name)} {where} ORDER BY {order}", args).df()
        for column, kind in SCHEMA[name]:
            if kind == _INT:
                frame[column] = frame[column].astype("Int64")
            elif kind == _TEXT:
                frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        return frame

    def rounds(self) -> pd.DataFrame:
        """One row per ingested round: id, fingerprint, source file and counts."""
        return self.table("rounds")

    # ---- writing ----------------------------------------------------------------------------

    def ingest(self, analysis, round_id: int) -> IngestResult:
        """Store an :class:`~textmine.pipeline.Analysis` as round ``round_id``.

        Same rows as already stored → nothing changes (``unchanged``); other rows → the round's
        rows in every table are replaced in one transaction (``replaced``); a new round is
        ``added``. Scores of this and later rounds are dropped (they depend on it): run
        :func:`textmine.scoring.score_workspace` again.
        """
        if isinstance(round_id, bool) or not isinstance(round_id, int):
            raise TextmineError(f"round must be a whole number such as 2025, got {round_id!r}")
        frames = round_frames(analysis)
        fingerprint = _fingerprint(frames)
        source = analysis.info.get("input", {}) if isinstance(analysis.info, dict) else {}
        counts = analysis.info.get("counts", {}) if isinstance(analysis.info, dict) else {}
        meta = pd.DataFrame([{
            "fingerprint": fingerprint, "source": source.get("path"), "source_sha256": source.get("sha256"),
            "ingested_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "input_rows": counts.get("input_rows", len(analysis.comments) + len(analysis.rejects)),
            "accepted": len(analysis.comments), "rejected": len(analysis.rejects), "ratings": len(frames["ratings"]),
        }])
        with self._connect() as con:
            found = con.execute("SELECT fingerprint FROM rounds WHERE round = ?", [round_id]).fetchone()
            if found and found[0] == fingerprint:
                return IngestResult(round_id, "unchanged", {k: len(v) for k, v in frames.items()})
            con.execute("BEGIN TRANSACTION")
            try:
                for table in (*ROUND_TABLES, "rounds"):
                    con.execute(f"DELETE FROM {_quote(table)} WHERE round = ?", [round_id])
                con.execute("DELETE FROM scores WHERE round >= ?", [round_id])
                for table, frame in frames.items():
                    self._insert(con, table, frame, round_id)
                self._insert(con, "rounds", meta, round_id)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return IngestResult(round_id, "replaced" if found else "added", {k: len(v) for k, v in frames.items()})

    def save_scores(self, scores: pd.DataFrame) -> None:
        """Replace the stored scores of every round present in ``scores`` (one transaction)."""
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for round_id in sorted(scores["round"].dropna().unique()):
                    con.execute("DELETE FROM scores WHERE round = ?", [int(round_id)])
                    self._insert(con, "scores", scores[scores["round"] == round_id], int(round_id))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    @staticmethod
    def _insert(con, table: str, frame: pd.DataFrame, round_id: int) -> None:
        columns = [c for c, _ in SCHEMA[table]]
        data = frame.reset_index(drop=True).copy()
        data["round"] = round_id
        for column in columns:
            if column not in data:
                data[column] = None
        data = data[columns]
        con.register("_incoming", data)
        try:
            names = ", ".join(_quote(c) for c in columns)
            casts = ", ".join(f"CAST({_quote(c)} AS {t})" for c, t in SCHEMA[table])
            con.execute(f"INSERT INTO {_quote(table)} ({names}) SELECT {casts} FROM _incoming")
        finally:
            con.unregister("_incoming")

    def export_parquet(self, out_dir: str | Path) -> list[Path]:
        """Write every table as ``<table>.parquet`` into ``out_dir``; return the paths."""
        from .export import atomic_path

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        with self._connect() as con:
            for table in SCHEMA:
                order = ", ".join(_quote(c) for c in _ORDER.get(table, ["round", "row_id"]))
                target = out / f"{table}.parquet"
                with atomic_path(target) as tmp:
                    literal = str(tmp).replace("'", "''")
                    con.execute(f"COPY (SELECT * FROM {_quote(table)} ORDER BY {order}) "
                                f"TO '{literal}' (FORMAT parquet)")
                paths.append(target)
        return paths


def round_frames(analysis) -> dict[str, pd.DataFrame]:
    """Return the rows an analysis contributes to each round table (without the round column)."""
    from .aggregate import explode_themes

    comments = analysis.comments
    items = analysis.items.copy()
    if not items.empty:
        items["examples"] = items["examples"].map(lambda xs: "\n".join(xs))
        items["measures"] = items["measures"].map(lambda xs: "；".join(xs))
    ratings = getattr(analysis, "ratings", None)
    if ratings is None:
        ratings = pd.DataFrame(columns=["row_id", "office", "category", "group", "rating", "evaluator"])
    long = explode_themes(comments[["row_id", "office", "themes"]])[["row_id", "office", "theme"]] \
        if not comments.empty else \
        pd.DataFrame(columns=["row_id", "office", "theme"])
    frames = {
        "comments": comments,
        "comment_themes": long,
        "rejects": analysis.rejects,
        "offices": analysis.overview,
        "office_themes": analysis.summary,
        "items": items,
        "ratings": ratings,
    }
    out = {}
    for table, frame in frames.items():
        columns = [c for c, _ in SCHEMA[table] if c != "round"]
        frame = frame.reset_index(drop=True)
        out[table] = pd.DataFrame({c: frame[c] if c in frame else None for c in columns}, index=frame.index)
    return out


def _fingerprint(frames: dict[str, pd.DataFrame]) -> str:
    """A digest of the rows to store: the same analysis gives the same fingerprint."""
    digest = hashlib.sha256()
    for table in sorted(frames):
        frame = frames[table]
        digest.update(f"{table}:{','.join(frame.columns)}:{len(frame)}\n".encode())
        if len(frame):
            text = frame.astype(object).where(frame.notna(), "\0").astype(str)
            digest.update(pd.util.hash_pandas_object(text, index=False).to_numpy().tobytes())
    return digest.hexdigest()

