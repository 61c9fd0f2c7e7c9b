"""Find hot issues (热点问题): many messages about one specific problem at one place.

Two steps, both deterministic:

1. **Place.** Each message's place — a housing estate, school, hospital, village or road
   named in its title or text — is found by :class:`PlaceFinder` from the suffixes, cut
   words and administrative-unit patterns of ``corpora/hotspots.toml``.
2. **Event.** Messages naming the same place are clustered by what they say (TF-IDF of
   title and text tokens without the place's own words, cosine distance, average linkage):
   "魅力之城小区 油烟扰民" and "魅力之城小区 停车难" become two issues. Messages naming no
   place are clustered too, with a stricter threshold.

Each issue with at least ``min_messages`` messages is ranked by its heat index::

    heat = (writers + repeat_weight × (messages − writers) + likes_weight × log2(1 + likes))
           × 0.5 ^ (age_days / half_life_days)

``writers`` = distinct writers (each message is its own writer when the file has no writer
column), ``likes`` = the members' total likes (0 without a likes column), ``age_days`` = days
from the issue's last message to the latest message of the input. Weights live in
``corpora/hotspots.toml`` (``[heat]``).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .datafiles import line_of_key, load_toml
from .errors import ColumnError, DataFileError, InputError
from .resources import corpus_path

HOTSPOT_COLUMNS = ["issue", "title", "place", "place_kind", "first", "last", "span_days", "count",
                   "writers", "likes", "heat", "terms", "message_ids"]
MEMBER_COLUMNS = ["issue", "message_id", "row_id", "date", "likes", "title"]
_HAN_OR_WORD = r"[\u4e00-\u9fa5A-Za-z0-9]"


@dataclass(frozen=True)
class HotspotSettings:
    """Everything read from ``hotspots.toml``."""

    kinds: tuple[tuple[str, tuple[str, ...]], ...]
    cut_words: tuple[str, ...]
    cut_patterns: tuple[str, ...]
    generic: frozenset[str]
    not_followed_by: tuple[tuple[str, str], ...] = ()
    max_name: int = 8
    min_name: int = 2
    repeat_weight: float = 0.2
    likes_weight: float = 1.0
    half_life_days: float = 365.0
    place_distance: float = 0.9
    distance: float = 0.75
    merge_distance: float = 0.6
    text_chars: int = 300
    min_messages: int = 2
    source: str = "<memory>"


def load_hotspot_settings(path: str | Path | None = None) -> HotspotSettings:
    """Read and validate a hot-issue settings file; the shipped ``hotspots.toml`` when None."""
    path = Path(path) if path is not None else corpus_path("hotspots.toml")
    data, text = load_toml(path, "hot-issue settings")

    def fail(key: str, message: str) -> DataFileError:
        return DataFileError(f"{path}:{line_of_key(text, key)}: {message}")

    def strings(key: str, value: object) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(key, f"'{key}' must be a list of non-empty strings")
        return tuple(value)

    kinds_raw = data.get("kinds")
    if not isinstance(kinds_raw, list) or not kinds_raw:
        raise DataFileError(f"{path}:1: no [[kinds]] tables found; hot issues need place suffixes")
    kinds = []
    for entry in kinds_raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str) or not entry["kind"]:
            raise fail("kind", "each [[kinds]] table needs a non-empty string 'kind'")
        unknown = sorted(set(entry) - {"kind", "suffixes"})
        if unknown:
            raise fail("kind", f"[[kinds]] {entry['kind']!r} has unknown key(s) {', '.join(unknown)}; "
                       "top-level settings must come before the first [[kinds]] table")
        kinds.append((entry["kind"], strings("suffixes", entry.get("suffixes"))))
    patterns = strings("cut_patterns", data.get("cut_patterns", []))
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail("cut_patterns", f"invalid pattern {pattern!r}: {exc}") from None
    numbers = {}
    for table, keys in (("", ("max_name", "min_name")),
                        ("heat", ("repeat_weight", "likes_weight", "half_life_days")),
                        ("grouping", ("place_distance", "distance", "merge_distance", "text_chars", "min_messages"))):
        source = data.get(table, {}) if table else data
        for key in keys:
            if key not in source:
                continue
            value = source[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise fail(key, f"'{key}' must be a non-negative number, got {value!r}")
            numbers[key] = value
    followers = data.get("not_followed_by", {})
    if not isinstance(followers, dict) or not all(isinstance(v, str) for v in followers.values()):
        raise fail("not_followed_by", "[not_followed_by] must map a suffix to a string of characters")
    settings = HotspotSettings(kinds=tuple(kinds), not_followed_by=tuple(sorted(followers.items())), cut_words=strings("cut_words", data.get("cut_words", [])),
                               cut_patterns=patterns, generic=frozenset(strings("generic", data.get("generic", []))),
                               source=str(path), **numbers)
    if settings.min_name < 1 or settings.max_name < settings.min_name:
        raise fail("max_name", f"need 1 ≤ min_name ≤ max_name, got {settings.min_name} and {settings.max_name}")
    if settings.half_life_days <= 0:
        raise fail("half_life_days", "'half_life_days' must be positive")
    if not all(0 < d <= 1 for d in (settings.place_distance, settings.distance, settings.merge_distance)):
        raise fail("distance", "distances must be in (0, 1]")
    return settings


class PlaceFinder:
    """Find the places (estates, schools, villages, roads …) a text names.

    ``find(text)`` returns ``(place, kind, position)`` for every place, in text order.
    """

    def __init__(self, settings: HotspotSettings):
        self.settings = settings
        self.rank = {kind: i for i, (kind, _) in enumerate(settings.kinds)}
        suffix_kind = {}
        for kind, suffixes in settings.kinds:
            for suffix in suffixes:
                suffix_kind.setdefault(suffix, kind)
        self.suffix_kind = suffix_kind
        ordered = sorted(suffix_kind, key=len, reverse=True)
        self._suffix_re = re.compile("|".join(map(re.escape, ordered)))
        cuts = sorted(settings.cut_words, key=len, reverse=True)
        pieces = [*settings.cut_patterns, *(re.escape(c) for c in cuts)]
        self._cut_re = re.compile("|".join(f"(?:{p})" for p in pieces)) if pieces else None
        self._run_re = re.compile(f"{_HAN_OR_WORD}+")
        self._followers = dict(settings.not_followed_by)

    def find(self, text: str) -> list[tuple[str, str, int]]:
        found = []
        s = self.settings
        for run in self._run_re.finditer(text):
            chunk = run.group(0)
            for match in self._suffix_re.finditer(chunk):
                suffix = match.group(0)
                after = chunk[match.end():match.end() + 1]
                if after and after in self._followers.get(suffix, ""):
                    continue
                before = chunk[max(0, match.start() - s.max_name * 2):match.start()]
                name = self._after_last_cut(before)[-s.max_name:]
                if len(name) < s.min_name or name.isdigit():
                    continue
                place = name + suffix
                if self._generic(place, suffix):
                    continue
                found.append((place, self.suffix_kind[suffix], run.start() + match.start() - len(name)))
        return found

    def _after_last_cut(self, text: str) -> str:
        """Return the end of ``text`` after its last cut word, unit or inner place.

        An inner suffix cuts only when a valid place ends with it ("梅溪湖看云路|一师润芳园"),
        so that "龙湾国际社区" stays whole (龙 alone is too short to be a place).
        """
        start = 0
        for i in range(len(text)):
            cut = self._cut_re.match(text, i) if self._cut_re is not None else None
            if cut and cut.end() > start:
                start = cut.end()
            inner = self._suffix_re.match(text, i)
            if inner and i - start >= self.settings.min_name and inner.end() > start:
                start = inner.end()
        return text[start:]

    def _generic(self, place: str, suffix: str) -> bool:
        if place in self.settings.generic:
            return True
        return any(place.endswith(g) and len(g) > len(suffix) for g in self.settings.generic)

    def primary(self, title: str, text: str) -> tuple[str, str]:
        """Return the message's place and its kind ("", "" when it names none)."""
        in_title = self.find(title) if title else []
        if in_title:
            place, kind, _ = min(in_title, key=lambda f: (self.rank[f[1]], f[2]))
            return place, kind
        in_text = self.find(text)
        if not in_text:
            return "", ""
        counts = Counter(p for p, _, _ in in_text)
        first = {}
        for place, kind, pos in in_text:
            first.setdefault(place, (kind, pos))
        place = min(counts, key=lambda p: (-counts[p], self.rank[first[p][0]], first[p][1]))
        return place, first[place][0]


@dataclass
class HotspotAnalysis:
    """Result of :func:`find_hotspots`.

    hotspots : one row per issue, hottest first — ``issue`` (1 = hottest), ``title`` (the
        most typical member's title, masked; place + top terms when there is no title
        column), ``place``, ``place_kind``, ``first``/``last`` (dates), ``span_days``,
        ``count``, ``writers``, ``likes``, ``heat``, ``terms`` (the issue's top words),
        ``message_ids`` (joined by ``;``).
    members : ``issue, message_id, row_id, date, likes, title`` for every message of a listed issue.
    messages : ``row_id, message_id, place, place_kind, group`` for every input row (``group``
        = the issue it belongs to, -1 when none).
    """

    hotspots: pd.DataFrame
    members: pd.DataFrame
    messages: pd.DataFrame
    info: dict = field(default_factory=dict)


def find_hotspots(frame: pd.DataFrame, columns: dict[str, str | None], *, settings: HotspotSettings | None = None,
                  segmenter=None, masker=None, top: int | None = None) -> HotspotAnalysis:
    """Group messages into hot issues and rank them by heat.

    frame, columns : input rows (index = row id) and role → column as from
        :func:`textmine.read.resolve_columns`. Used roles: ``text`` (required), ``title``,
        ``id`` (message ids; the row id otherwise), ``name`` (writer), ``date``, ``likes``.
    top : keep only the ``top`` hottest issues (all when None).
    """
    from .clean import clean_text
    from .redact import Masker
    from .segment import Segmenter

    if not columns.get("text"):
        raise ColumnError("no text column given")
    settings = settings or load_hotspot_settings()
    segmenter = segmenter or Segmenter()
    masker = masker or Masker.from_file()
    n = len(frame)

    def column(role: str) -> list[str] | None:
        name = columns.get(role)
        return [clean_text(v) for v in frame[name].fillna("").astype(str)] if name else None

    texts = column("text")
    titles = column("title") or [""] * n
    writers = column("name")
    ids = column("id") or [str(r) for r in frame.index]
    dates = pd.to_datetime(pd.Series(column("date") or [""] * n), errors="coerce", format="mixed")
    likes = _numbers(column("likes"), columns["likes"], frame.index) if columns.get("likes") else np.zeros(n)

    finder = PlaceFinder(settings)
    places = _merge_variants([finder.primary(title, text) for title, text in zip(titles, texts)])
    tokens, bigram_set = _event_tokens(titles, texts, places, segmenter, settings.text_chars)
    groups = _cluster(tokens, [p for p, _ in places], settings)

    messages = pd.DataFrame({"row_id": frame.index.to_numpy(), "message_id": ids,
                             "place": [p for p, _ in places], "place_kind": [k for _, k in places],
                             "group": groups})
    latest = dates.max()
    rows, members = [], []
    for group, positions in _members(groups, settings.min_messages).items():
        count = len(positions)
        n_writers = len({writers[i] or f"#{i}" for i in positions}) if writers else count
        total_likes = float(likes[positions].sum())
        when = dates.iloc[positions].dropna()
        first, last = (when.min(), when.max()) if len(when) else (pd.NaT, pd.NaT)
        age = (latest - last).days if pd.notna(last) and pd.notna(latest) else 0
        heat = (n_writers + settings.repeat_weight * (count - n_writers)
                + settings.likes_weight * math.log2(1 + total_likes)) * 0.5 ** (age / settings.half_life_days)
        place = places[positions[0]][0]
        kind = places[positions[0]][1]
        typical = _typical(positions, tokens)
        terms = _top_terms([[w for w in tokens[i] if w not in bigram_set[i]] for i in positions])
        title = masker.mask(titles[typical]) if titles[typical] else f"{place or '（无地点）'}：{' '.join(terms[:3])}"
        ordered = sorted(positions, key=lambda i: (dates.iloc[i] if pd.notna(dates.iloc[i]) else pd.Timestamp.max, i))
        rows.append({"_group": group, "title": title, "place": place, "place_kind": kind,
                     "first": first.strftime("%Y-%m-%d") if pd.notna(first) else "",
                     "last": last.strftime("%Y-%m-%d") if pd.notna(last) else "",
                     "span_days": int((last - first).days) + 1 if pd.notna(first) else 0,
                     "count": count, "writers": n_writers, "likes": int(total_likes),
                     "heat": round(heat, 3), "terms": " ".join(terms),
                     "message_ids": ";".join(ids[i] for i in ordered)})
        members.extend({"_group": group, "message_id": ids[i], "row_id": messages["row_id"].iloc[i],
                        "date": dates.iloc[i].strftime("%Y-%m-%d %H:%M") if pd.notna(dates.iloc[i]) else "",
                        "likes": int(likes[i]), "title": masker.mask(titles[i] or texts[i][:60])}
                       for i in ordered)
    hotspots = pd.DataFrame(rows, columns=["_group", *HOTSPOT_COLUMNS[1:]])
    hotspots = hotspots.sort_values(["heat", "count", "first", "_group"],
                                    ascending=[False, False, True, True]).reset_index(drop=True)
    if top is not None:
        hotspots = hotspots.head(top)
    issue_of = {g: i + 1 for i, g in enumerate(hotspots["_group"])}
    hotspots.insert(0, "issue", range(1, len(hotspots) + 1))
    hotspots = hotspots.drop(columns="_group")[HOTSPOT_COLUMNS]
    member_frame = pd.DataFrame(members, columns=["_group", *MEMBER_COLUMNS[1:]])
    member_frame = member_frame[member_frame["_group"].isin(issue_of)]
    member_frame.insert(0, "issue", member_frame["_group"].map(issue_of).astype(int))
    member_frame = member_frame.drop(columns="_group").sort_values(["issue"], kind="stable").reset_index(drop=True)
    messages["group"] = messages["group"].map(lambda g: issue_of.get(g, -1)).astype(int)
    messages = messages.rename(columns={"group": "issue"})
    info = {
        "messages": n, "with_place": int(sum(1 for p, _ in places if p)),
        "issues": int(len(hotspots)), "messages_in_issues": int(len(member_frame)),
        "columns": {role: col for role, col in columns.items() if col},
        "heat": {"repeat_weight": settings.repeat_weight, "likes_weight": settings.likes_weight,
                 "half_life_days": settings.half_life_days,
                 "latest": latest.strftime("%Y-%m-%d") if pd.notna(latest) else None},
        "settings": settings.source,
    }
    return HotspotAnalysis(hotspots, member_frame, messages, info)


def _merge_variants(places: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Name a place by the shortest other place of the batch it ends with (万科魅力之城 → 魅力之城)."""
    names = sorted({p for p, _ in places if p}, key=lambda p: (len(p), p))
    canonical = {}
    for place in names:
        canonical[place] = next((q for q in names if len(q) < len(place) and place.endswith(q)), place)
    return [(canonical.get(p, p), k) for p, k in places]


def _numbers(values: list[str], name: str, rows: pd.Index) -> np.ndarray:
    """Read a count column ("1,234" allowed, blank = 0); a non-number names its row."""
    result = np.zeros(len(values))
    for i, (value, row) in enumerate(zip(values, rows)):
        value = value.strip().replace(",", "")
        if not value:
            continue
        try:
            result[i] = float(value)
        except ValueError:
            raise InputError(f"likes column {name}: value {value!r} in row {row} is not a number") from None
    return result


def _event_tokens(titles: Sequence[str], texts: Sequence[str], places: Sequence[tuple[str, str]],
                  segmenter, text_chars: int) -> tuple[list[list[str]], list[set[str]]]:
    """Return the words that say what a message is about, and which of them are title bigrams.

    The title counts twice and adds its character bigrams ("58车贷" → 58, 8车, 车贷), which
    catch short names jieba splits differently from one message to the next.
    """
    from .topics import topic_stopwords

    stop = topic_stopwords() | segmenter.stopword_set
    result, bigram_sets = [], []
    for title, text, (place, _) in zip(titles, texts, places):
        bigrams = [title[i:i + 2] for i in range(len(title) - 1) if _BIGRAM_RE.fullmatch(title[i:i + 2])]
        jieba_words = segmenter.tokens(title) * 2 + segmenter.tokens(text[:text_chars])
        words = jieba_words + bigrams
        # the place's own words would make every message about the place look alike
        result.append([w for w in words if len(w) >= 2 and w not in stop and not _CODE_RE.fullmatch(w)
                       and not (place and _overlaps(w, place))])
        bigram_sets.append(set(bigrams) - set(jieba_words))  # kept out of the terms shown to people
    return result, bigram_sets


_BIGRAM_RE = re.compile(r"[\u4e00-\u9fa5]{2}|[0-9]{2}")
_CODE_RE = re.compile(r"[A-Za-z][0-9]{0,2}")  # anonymised or coded units: A市, A3区 → A, A3


def _overlaps(word: str, place: str) -> bool:
    """Tell whether ``word`` shares two consecutive characters with ``place`` (区丽发 ~ 丽发新城)."""
    return any(word[i:i + 2] in place for i in range(len(word) - 1))


def _cluster(tokens: list[list[str]], places: list[str], settings: HotspotSettings) -> np.ndarray:
    """Return a group number per message: same place (or no place) and close event vectors."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.feature_extraction.text import TfidfVectorizer

    from .topics import _identity

    groups = np.full(len(tokens), -1, dtype=int)
    usable = [i for i, doc in enumerate(tokens) if doc]
    if not usable:
        return groups
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
    matrix = vectorizer.fit_transform([tokens[i] for i in usable])
    by_place: dict[str, list[int]] = {}
    for row, i in enumerate(usable):
        by_place.setdefault(places[i], []).append(row)
    next_group = 0
    for place in sorted(by_place):
        rows = by_place[place]
        threshold = settings.place_distance if place else settings.distance
        if len(rows) == 1:
            labels = np.array([1])
        else:
            sub = matrix[rows]
            similarity = (sub @ sub.T).toarray()
            distance = np.clip(1.0 - similarity, 0.0, 1.0)
            np.fill_diagonal(distance, 0.0)
            condensed = distance[np.triu_indices(len(rows), k=1)]
            labels = fcluster(linkage(condensed, method="average"), t=threshold, criterion="distance")
        if not place and len(rows) > 1:
            labels = _merge_close_clusters(matrix[rows], labels, settings.merge_distance)
        for label in sorted(set(labels.tolist())):
            for row in np.flatnonzero(labels == label):
                groups[usable[rows[row]]] = next_group
            next_group += 1
    return groups


def _merge_close_clusters(sub, labels: np.ndarray, threshold: float) -> np.ndarray:
    """Merge clusters of two or more messages whose centroids are within ``threshold``.

    Messages naming no place have no place to hold an event together, and their wording
    varies ("58车贷案件进展" / "58车贷立案半年毫无进展"): comparing cluster centroids, where
    the shared words of each cluster dominate, joins such pieces.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    big = [label for label in sorted(set(labels.tolist())) if (labels == label).sum() >= 2]
    if len(big) < 2:
        return labels
    centroids = np.vstack([np.asarray(sub[labels == label].mean(axis=0)).ravel() for label in big])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    distance = np.clip(1.0 - centroids @ centroids.T, 0.0, 1.0)
    np.fill_diagonal(distance, 0.0)
    merged = fcluster(linkage(distance[np.triu_indices(len(big), k=1)], method="average"),
                      t=threshold, criterion="distance")
    target = {label: big[int(np.flatnonzero(merged == merged[i])[0])] for i, label in enumerate(big)}
    return np.array([target.get(label, label) for label in labels.tolist()])


def _members(groups: np.ndarray, min_messages: int) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups.tolist()):
        if g >= 0:
            members.setdefault(g, []).append(i)
    return {g: rows for g, rows in members.items() if len(rows) >= max(1, min_messages)}


def _typical(positions: list[int], tokens: list[list[str]]) -> int:
    """Return the member sharing the most words with the other members (earliest on a tie)."""
    counts = Counter(w for i in positions for w in set(tokens[i]))
    return max(positions, key=lambda i: (sum(counts[w] - 1 for w in set(tokens[i])) / (1 + len(set(tokens[i]))) ** 0.5, -i))


def _top_terms(docs: list[list[str]], n: int = 8) -> list[str]:
    counts = Counter(w for doc in docs for w in set(doc))
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def run_hotspots(input_path: str | Path, out_dir: str | Path, *, columns: dict[str, str | None] | None = None,
                 encoding: str | None = None, sheet: str | int | None = None, settings: str | Path | None = None,
                 top: int | None = None) -> HotspotAnalysis:
    """Read ``input_path``, find hot issues and write ``hotspots.csv``, ``hotspot_messages.csv``
    and ``hotspots.json`` into ``out_dir``."""
    from .export import write_csv, write_json
    from .read import read_table, resolve_columns

    table = read_table(input_path, encoding=encoding, sheet=sheet)
    mapping = resolve_columns(table, **(columns or {}))
    result = find_hotspots(table.frame, mapping, settings=load_hotspot_settings(settings), top=top)
    out = Path(out_dir)
    write_csv(result.hotspots, out / "hotspots.csv")
    write_csv(result.members, out / "hotspot_messages.csv")
    result.info["input"] = {"path": str(input_path), "encoding": table.encoding, "sheet": table.sheet}
    write_json(result.info, out / "hotspots.json")
    return result
