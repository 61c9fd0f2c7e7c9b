"""Detect ballot stuffing: floods of near-identical opinions on one office.

A *flood* is a group of at least ``min_copies`` opinions about the same office whose texts
are near-identical (the same :func:`flood_key`: only the Chinese and other letters that are
not Latin, so punctuation, spacing, digits and Latin letters — counters such as "第3条" or
"abc" added to beat a duplicate check — do not tell them apart) and that either

* come from **one source**: the same evaluator id, the same phone number or the same name
  (each identity column present is checked on its own, so one person using many evaluator
  ids but one phone is caught), or
* fall in **one time window**: all within ``window`` of the first (a burst). When the
  date column holds days without a time of day, the window is one calendar day.

A file with neither an identity nor a date column cannot show a flood (identical opinions
from unknown people stay ordinary duplicates). The earliest row of a flood is kept as its
one opinion; the others repeat it.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .clean import KeepChars
from .errors import TextmineError

FLOOD_COLUMNS = ["flood", "office", "kind", "source", "rows", "kept_row", "row_ids", "first", "last"]
_DATE_SEPARATORS = re.compile(r"[年月/.]")


_NON_LATIN_LETTERS = KeepChars(lambda ch: unicodedata.category(ch)[0] == "L" and not ("a" <= ch <= "z"))


def flood_key(text: str) -> str:
    """Reduce a text to its non-Latin letters, lower-cased: the key of near-identical texts."""
    return str(text).lower().translate(_NON_LATIN_LETTERS)


def parse_times(values: Sequence[object]) -> tuple[pd.Series, bool]:
    """Parse dates such as ``2025-11-01``, ``2025/11/1 09:30`` or ``2025年11月1日``.

    Returns the times (NaT where a value cannot be read) and whether any value has a
    time of day.
    """
    # a round has few distinct dates: parse each once
    codes, distinct = pd.factorize(pd.Series(list(values), dtype=object), use_na_sentinel=False)
    text = pd.Series([str(v).strip() for v in distinct], dtype=object)
    text = text.str.replace("日", " ", regex=False).str.replace("时", ":", regex=False)
    text = text.str.replace("分", "", regex=False).map(lambda s: _DATE_SEPARATORS.sub("-", s).strip())
    parsed = pd.to_datetime(text.where(text != ""), errors="coerce", format="mixed")
    with_clock = bool((parsed.dropna() != parsed.dropna().dt.normalize()).any())
    return pd.Series(parsed.to_numpy()[codes] if len(codes) else parsed.to_numpy()[:0]), with_clock


def find_floods(frame: pd.DataFrame, *, office: str, key: str, row_id: str,
                sources: Mapping[str, str] | None = None, time: str | None = None,
                min_copies: int = 5, window: str | pd.Timedelta = "1h") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Find floods among the rows of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        One row per opinion still in play (already cleaned).
    office, key, row_id : str
        Columns with the normalised office, the :func:`flood_key` of the text and the row id.
    sources : mapping of role → column
        Identity columns (evaluator, phone, name) of ``frame``; empty values never match.
    time : str or None
        Column with the date/time as written.
    min_copies : int
        Smallest number of near-identical opinions that make a flood (at least 2).
    window : str or Timedelta
        Width of a burst when times have a time of day (one day when they are dates only).

    Returns
    -------
    (marks, floods)
        ``marks`` is aligned with ``frame``: ``flood`` (group number, NA when none) and
        ``flood_of`` (the kept row's id for the other rows of a flood, else NA).
        ``floods`` has one row per flood: ``flood, office, kind`` ("source" or "burst"),
        ``source`` (the identity role, e.g. "evaluator", never its value), ``rows``,
        ``kept_row``, ``row_ids`` (list), ``first``/``last`` (times, or "" when unknown).
    """
    if not isinstance(min_copies, int) or isinstance(min_copies, bool) or min_copies < 2:
        raise TextmineError(f"min_copies must be an integer ≥ 2, got {min_copies!r}")
    try:
        width = pd.Timedelta(window)
    except (ValueError, TypeError):
        raise TextmineError(f"window must be a duration such as '1h' or '30min', got {window!r}") from None
    if width <= pd.Timedelta(0):
        raise TextmineError(f"window must be positive, got {window!r}")

    marks = pd.DataFrame({"flood": pd.array([pd.NA] * len(frame), dtype="Int64"),
                          "flood_of": pd.array([pd.NA] * len(frame), dtype="Int64")}, index=frame.index)
    if frame.empty:
        return marks, pd.DataFrame(columns=FLOOD_COLUMNS)
    position = pd.Series(range(len(frame)), index=frame.index)
    usable = frame[key].astype(str) != ""
    groups: list[tuple[str, str, list]] = []  # (kind, source role, index labels)

    for role, column in (sources or {}).items():
        values = frame[column].fillna("").astype(str).str.strip()
        sub = frame[usable & (values != "")]
        sub = _in_large_groups(sub, [sub[office], sub[key], values[sub.index]], min_copies)
        if sub.empty:
            continue
        for _, members in sub.groupby([sub[office], sub[key], values[sub.index]], sort=False).groups.items():
            groups.append(("source", role, list(members)))

    times = pd.Series(pd.NaT, index=frame.index)
    if time is not None:
        times, with_clock = parse_times(frame[time].tolist())
        times.index = frame.index
        if not with_clock:  # days only: a burst is one calendar day
            times, width = times.dt.normalize(), pd.Timedelta(days=1)
        sub = frame[usable & times.notna()]
        sub = _in_large_groups(sub, [sub[office], sub[key]], min_copies)
        # every group's rows by time (ties in row order), groups in order of first appearance
        codes = sub.groupby([sub[office], sub[key]], sort=False).ngroup().to_numpy()
        all_stamps = times[sub.index].to_numpy()
        order = np.lexsort((all_stamps, codes))
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        limit = width.to_timedelta64()
        for rows in np.split(order, bounds) if len(order) else []:
            stamps = all_stamps[rows]
            labels = list(sub.index[rows])
            flagged: set = set()
            end = 0
            for start in range(len(stamps)):
                end = max(end, start)
                while end < len(stamps) and stamps[end] - stamps[start] < limit:
                    end += 1
                if end - start >= min_copies:
                    flagged.update(labels[start:end])
            if flagged:
                groups.append(("burst", "", [label for label in labels if label in flagged]))

    records = []
    for kind, role, members in groups:
        members = [m for m in members if pd.isna(marks.at[m, "flood"])]  # a row joins one flood only
        if len(members) < min_copies:
            continue
        members.sort(key=lambda m: position[m])
        number = len(records) + 1
        kept = _plain(frame.at[members[0], row_id])
        marks.loc[members, "flood"] = number
        marks.loc[members[1:], "flood_of"] = kept
        stamps = times[members].dropna()
        records.append({
            "flood": number, "office": frame.at[members[0], office], "kind": kind, "source": role,
            "rows": len(members), "kept_row": kept, "row_ids": [_plain(frame.at[m, row_id]) for m in members],
            "first": str(stamps.min()) if len(stamps) else "", "last": str(stamps.max()) if len(stamps) else "",
        })
    return marks, pd.DataFrame(records, columns=FLOOD_COLUMNS)


def _in_large_groups(frame: pd.DataFrame, by: list[pd.Series], min_size: int) -> pd.DataFrame:
    """The rows of ``frame`` whose group (by ``by``) has at least ``min_size`` rows, in order.

    Nearly every group of a real corpus is a single opinion: counting them with group
    numbers first means only the few large groups are materialised as lists of rows.
    """
    if frame.empty:
        return frame
    codes = frame.groupby(by, sort=False).ngroup().to_numpy()
    return frame[np.bincount(codes)[codes] >= min_size]


def _plain(value: object) -> object:
    """Turn numpy scalars into Python ones, so that run.json shows row numbers as numbers."""
    return value.item() if hasattr(value, "item") else value


def reject_floods(work: pd.DataFrame, sources: Mapping[str, Sequence[str]], times: Sequence[str] | None, *,
                  keep: bool = False, min_copies: int = 5, window: str = "1h",
                  keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Find floods among the rows of the pipeline's ``work`` table not yet rejected.

    ``work`` has ``row_id, office, text, reason_code, duplicate_of``; ``sources`` gives
    each identity role's values aligned with it, ``times`` the dates as written. Unless
    ``keep``, every row of a flood but its first gets ``reason_code`` "flood" and
    ``duplicate_of`` the first row (``work`` is changed in place). Returns the floods as
    :func:`find_floods` does. ``keys`` are the texts' :func:`flood_key` aligned with
    ``work``, when already computed.
    """
    pending = work[work["reason_code"].isna()]
    if keys is None:
        flood_keys = [flood_key(t) for t in pending["text"]]
    else:
        flood_keys = pd.Series(list(keys), index=work.index)[pending.index].tolist()
    candidates = pd.DataFrame({"row_id": pending["row_id"], "office": pending["office"],
                               "_key": flood_keys}, index=pending.index)
    for role, values in sources.items():
        candidates[f"_src_{role}"] = pd.Series(list(values), index=work.index)[pending.index]
    if times is not None:
        candidates["_time"] = pd.Series(list(times), index=work.index)[pending.index]
    marks, floods = find_floods(candidates, office="office", key="_key", row_id="row_id",
                                sources={role: f"_src_{role}" for role in sources},
                                time="_time" if times is not None else None,
                                min_copies=min_copies, window=window)
    if not keep:
        repeats = marks.index[marks["flood_of"].notna()]
        work.loc[repeats, "reason_code"] = "flood"
        work.loc[repeats, "duplicate_of"] = marks.loc[repeats, "flood_of"].astype(object)
    return floods


def flood_summary(floods: pd.DataFrame, *, kept: bool) -> dict:
    """The run record's ``floods`` section: counts and each flood without identities."""
    return {
        "detected": int(len(floods)),
        "rows": int(floods["rows"].sum()) if len(floods) else 0,
        "weighted_once": not kept,
        "groups": [{key: (_plain(value) if key != "row_ids" else [_plain(v) for v in value])
                    for key, value in record.items()} for record in floods.to_dict("records")],
    }
