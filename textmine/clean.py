"""Normalise opinion text, and find empty, non-substantive and duplicate opinions."""
from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from .datafiles import read_word_list
from .resources import corpus_path

# Chinese full-width punctuation reads better than its ASCII twin in Chinese text, so it
# is kept through NFKC (which would otherwise turn "，" into ","). Letters, digits and
# spaces are still folded to half-width.
_KEEP_FULLWIDTH = "，！？：；（）"
_PROTECT = {ord(c): 0xF0000 + i for i, c in enumerate(_KEEP_FULLWIDTH)}
_RESTORE = {v: k for k, v in _PROTECT.items()}
_TAG_RE = re.compile(r"<\s*(br|p|div|/p|/div|span|/span|b|/b|i|/i|strong|/strong)\s*/?\s*>", re.I)
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE_RE = re.compile(r"\s+")

REASONS = {
    "empty": "empty text",
    "no_content": "no text content (only punctuation, symbols or emoji)",
    "numeric": "only a number, not an opinion",
    "non_substantive": "non-substantive answer (无意见/满意/没有 …)",
    "duplicate": "exact duplicate of row {row}",
    "near_duplicate": "near-duplicate of row {row} (same text after normalisation)",
    "flood": "flood of near-identical opinions on one office (one source or one time window); counted once as row {row}",
}


def clean_text(text: object) -> str:
    """Return ``text`` with HTML entities/tags resolved, NFKC-folded, whitespace collapsed and
    traditional characters folded to simplified ones (see :func:`to_simplified`)."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = _nfkc(str(text))
    if "&" in s:  # after NFKC, so that full-width "&ｎｂｓｐ;" is an entity too
        unescaped = html.unescape(html.unescape(s))  # exports often double-escape (&amp;nbsp;)
        if unescaped != s:
            s = _nfkc(unescaped)
    if "<" in s:
        s = _TAG_RE.sub(" ", s)
    s = _INVISIBLE_RE.sub("", s)
    return to_simplified(_SPACE_RE.sub(" ", s).strip())


def to_simplified(text: str) -> str:
    """Fold traditional characters to simplified ones (態度惡劣 → 态度恶劣), leaving every
    character that is already in GB2312 — the simplified set — exactly as it is.

    OpenCC's phrase-aware t2s conversion picks the simplified form; keeping GB2312
    characters protects simplified text from its rare over-conversions (坏 → 坯).
    """
    try:
        text.encode("gb2312")
        return text  # nothing traditional (the common case, checked in C)
    except UnicodeEncodeError:
        pass
    converted = _t2s().convert(text)
    if len(converted) != len(text):  # phrase conversions keep the length; be safe if not
        converted = "".join(_t2s().convert(ch) if not in_gb2312(ch) else ch for ch in text)
        return converted
    return "".join(o if in_gb2312(o) else c for o, c in zip(text, converted))


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc  # lazily: only texts with traditional characters need it

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=65536)
def in_gb2312(ch: str) -> bool:
    """True when ``ch`` is in GB2312, i.e. a common simplified character (never changed by t2s)."""
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s.translate(_PROTECT)).translate(_RESTORE)


class KeepChars(dict):
    """A :meth:`str.translate` table that deletes every character ``keep`` rejects.

    Each character is judged once, when first met; after that ``translate`` looks the
    decision up in C, several times faster than a Python loop over the characters.
    """

    def __init__(self, keep: Callable[[str], bool]):
        super().__init__()
        self.keep = keep

    def __missing__(self, code: int) -> int | None:
        decision = self[code] = code if self.keep(chr(code)) else None
        return decision


_LETTERS_AND_DIGITS = KeepChars(lambda ch: unicodedata.category(ch)[0] in "LN")


def comparison_key(text: str) -> str:
    """Return the text reduced to lower-cased letters and digits, for near-duplicate checks."""
    return text.lower().translate(_LETTERS_AND_DIGITS)


class NonSubstantiveFilter:
    """Recognise answers that carry no opinion ("无意见", "满意，没有", "/").

    Parameters
    ----------
    phrases : sequence of str or None
        Filler phrases; ``None`` reads ``corpora/nonsubstantive.txt``.
    """

    def __init__(self, phrases: Sequence[str] | None = None):
        if phrases is None:
            phrases = read_word_list(corpus_path("nonsubstantive.txt"), "non-substantive phrase list")
        keys = {comparison_key(clean_text(p)) for p in phrases}
        keys.discard("")
        self.phrases = tuple(sorted(keys, key=len, reverse=True))
        self._filler = re.compile("|".join(re.escape(p) for p in self.phrases)) if self.phrases else None

    @classmethod
    def from_file(cls, path: str | Path) -> "NonSubstantiveFilter":
        return cls(read_word_list(Path(path), "non-substantive phrase list"))

    def reason(self, cleaned: str, key: str | None = None) -> str | None:
        """Return a rejection reason code for a cleaned text, or None when it is substantive.

        ``key`` is the text's :func:`comparison_key`, when already computed."""
        if not cleaned:
            return "empty"
        key = comparison_key(cleaned) if key is None else key
        if not key:
            return "no_content"
        if key.isdigit():
            return "numeric"
        if self._filler is not None and not self._filler.sub("", key):
            return "non_substantive"
        return None


def find_duplicates(frame: pd.DataFrame, *, text: str, key: str, by: Sequence[str], row_id: str) -> pd.DataFrame:
    """Mark repeats of an earlier row within the same ``by`` group.

    A row whose ``text`` equals an earlier row's is an exact duplicate; one whose
    ``key`` (normalised text) equals an earlier row's is a near-duplicate. Returns a
    frame aligned with ``frame`` with columns ``reason`` ("duplicate",
    "near_duplicate" or None) and ``duplicate_of`` (the first row's id, or None).
    """
    result = pd.DataFrame({"reason": None, "duplicate_of": None}, index=frame.index, dtype=object)
    if frame.empty:
        return result
    for column, reason in ((text, "duplicate"), (key, "near_duplicate")):
        cols = [*by, column]
        pending = result["reason"].isna()
        sub = frame.loc[pending, cols + [row_id]]
        repeated = sub.duplicated(cols, keep="first")
        if not repeated.any():
            continue
        first_ids = sub.groupby(cols, sort=False, dropna=False)[row_id].transform("first")
        idx = repeated[repeated].index
        result.loc[idx, "reason"] = reason
        result.loc[idx, "duplicate_of"] = first_ids.loc[idx]
    return result


def describe_reason(code: str, duplicate_of: object = None) -> str:
    """Return the human-readable rejection reason for a reason code."""
    return REASONS[code].format(row=duplicate_of)
