"""Segment Chinese text into words without touching any process-wide dictionary.

Two engines sit behind one :class:`Segmenter` interface: ``jieba`` (the reference
implementation, pure Python) and ``rjieba`` (jieba-rs, the same dictionary and
algorithm in Rust, ~20x faster). Each instance owns its own dictionary; repeated texts
are segmented once (a per-instance cache).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from .datafiles import read_word_list
from .errors import TextmineError
from .resources import corpus_path

ENGINES = ("jieba", "rjieba")


def default_engine() -> str:
    """Return ``rjieba`` when it is installed, else ``jieba``."""
    import importlib.util

    return "rjieba" if importlib.util.find_spec("rjieba") is not None else "jieba"


class Segmenter:
    """Word segmenter owning its own tokenizer, user dictionary and stopwords.

    Parameters
    ----------
    userdict : path or None
        jieba user dictionary (``word [freq] [pos]`` per line); ``None`` uses
        ``corpora/userdict.txt``.
    stopwords : path, sequence of str, or None
        Words dropped by :meth:`tokens`; ``None`` uses ``corpora/stopwords.txt``.
    extra_words : sequence of str
        More words to keep whole (office names, theme terms).
    hmm : bool
        Let the engine guess unknown words with jieba's HMM.
    engine : {"auto", "jieba", "rjieba"}
        ``jieba`` is the reference implementation; ``rjieba`` (jieba-rs) gives the same
        tokens (≥ 99.9% token agreement, see ``benchmarks/scale.py``) much faster.
        ``auto`` picks ``rjieba`` when installed.
    cache_size : int
        Distinct texts whose tokens are remembered (opinion corpora repeat a lot);
        0 disables the cache.

    The tokenizer is built on first use, so constructing a Segmenter is cheap.
    Instances never share a dictionary: adding a word to one leaves others unchanged.
    """

    def __init__(self, *, userdict: str | Path | None = None,
                 stopwords: str | Path | Sequence[str] | None = None,
                 extra_words: Sequence[str] = (), hmm: bool = True, engine: str = "auto",
                 cache_size: int = 200_000):
        self.userdict = userdict
        self.stopwords = stopwords
        self.extra_words = tuple(extra_words)
        self.hmm = hmm
        self.engine = engine
        self.cache_size = cache_size
        self._tokenizer = None
        self._rust: bool | None = None
        self._stopwords: frozenset[str] | None = None
        self._keep: dict[str, bool] | None = None  # word → kept by tokens()
        self._cut_cache: dict[str, tuple[str, ...]] = {}
        self._token_cache: dict[str, tuple[str, ...]] = {}

    @property
    def engine_(self) -> str:
        """The engine actually used (``auto`` resolved)."""
        if self.engine == "auto":
            return default_engine()
        if self.engine not in ENGINES:
            raise TextmineError(f"unknown segmenter engine {self.engine!r}; choose one of auto, "
                                + ", ".join(ENGINES))
        return self.engine

    def _entries(self) -> list[tuple[str, int | None, str | None]]:
        """The user dictionary and extra words as ``(word, freq, tag)``, in the order added."""
        path = Path(self.userdict) if self.userdict is not None else corpus_path("userdict.txt")
        entries = []
        for entry in read_word_list(path, "user dictionary"):
            word, *rest = entry.split()
            freq = int(rest[0]) if rest and rest[0].isdigit() else None
            tag = rest[-1] if rest and not rest[-1].isdigit() else None
            entries.append((word, freq, tag))
        entries.extend((w, None, None) for w in self.extra_words if w and " " not in w)
        return entries

    @property
    def tokenizer(self):
        """The instance's own tokenizer (``jieba.Tokenizer`` or ``rjieba.Jieba``), built on first use."""
        if self._tokenizer is None:
            entries = self._entries()
            if self.engine_ == "rjieba":
                import rjieba

                tokenizer = rjieba.Jieba()
                for word, freq, tag in entries:
                    tokenizer.add_word(word, freq, tag)
            else:
                tokenizer = _jieba_tokenizer(entries)
            self._tokenizer = tokenizer
        return self._tokenizer

    @property
    def stopword_set(self) -> frozenset[str]:
        if self._stopwords is None:
            source = self.stopwords
            if source is None or isinstance(source, (str, Path)):
                path = Path(source) if source is not None else corpus_path("stopwords.txt")
                words = read_word_list(path, "stopword list")
            else:
                words = list(source)
            self._stopwords = frozenset(words)
        return self._stopwords

    def _raw_cut(self, text: str) -> tuple[str, ...]:
        cached = self._cut_cache.get(text)
        if cached is None:
            tokenizer = self._tokenizer or self.tokenizer
            if self._rust is None:
                self._rust = self.engine_ == "rjieba"
            if self._rust:
                pieces = tokenizer.cut(text, self.hmm)
                if _ASCII_PUNCT.search(text):
                    pieces = _jieba_ascii(pieces)
            else:
                pieces = tokenizer.cut(text, HMM=self.hmm)
            cached = tuple(t for t in pieces if not t.isspace()) if _SPACE.search(text) else tuple(pieces)
            if self.cache_size:
                if len(self._cut_cache) >= self.cache_size:
                    self._cut_cache.clear()  # bounded; a clear is cheaper than LRU bookkeeping
                self._cut_cache[text] = cached
        return cached

    def cut(self, text: str) -> list[str]:
        """Return every token of ``text`` in order (whitespace dropped), like ``jieba.lcut``."""
        return list(self._raw_cut(text))

    def tokens(self, text: str) -> list[str]:
        """Return the content words of ``text``: no stopwords, punctuation, symbols or bare numbers."""
        cached = self._token_cache.get(text)
        if cached is None:
            keep = self._keep
            if keep is None:
                self.stopword_set  # loaded before the first decision below
                keep = self._keep = {}
            words = []
            for t in self._raw_cut(text):
                kept = keep.get(t)
                if kept is None:  # words repeat far more than texts: decide once per word
                    kept = keep[t] = t not in self._stopwords and _is_content(t)
                if kept:
                    words.append(t)
            cached = tuple(words)
            if self.cache_size:
                if len(self._token_cache) >= self.cache_size:
                    self._token_cache.clear()
                self._token_cache[text] = cached
        return list(cached)

    __call__ = tokens  # usable as scikit-learn's ``tokenizer=``

    def tokens_many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.tokens(t) for t in texts]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_tokenizer"] = None  # rebuilt lazily in the receiving process
        state["_cut_cache"] = {}
        state["_token_cache"] = {}
        state["_keep"] = None
        return state

    def __setstate__(self, state):
        state.setdefault("engine", "jieba")  # pickled before engines existed
        state.setdefault("cache_size", 200_000)
        state.setdefault("_rust", None)
        state.setdefault("_keep", None)
        state.setdefault("_cut_cache", {})
        state.setdefault("_token_cache", {})
        self.__dict__.update(state)


def _jieba_tokenizer(entries: list[tuple[str, int | None, str | None]]):
    """Return a private ``jieba.Tokenizer`` with ``entries`` added.

    (Caching the finished prefix dictionary per configuration was measured: loading
    it costs as much as jieba's own cache plus ~1,000 ``add_word`` calls, so it is not done.)
    """
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, freq, tag in entries:
        tokenizer.add_word(word, freq, tag)
    return tokenizer


# jieba splits ASCII runs at anything but letters and digits (its HMM keeps 3.5 and 20%
# whole); jieba-rs keeps e.g. "qq.com" as one token. Splitting such tokens the jieba way
# brings rjieba's tokens in line with the reference.
_SPACE = re.compile(r"\s")
_ASCII_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
_ASCII_PIECES = re.compile(r"[a-zA-Z0-9]+(?:\.\d+)?%?|[^a-zA-Z0-9]")


def _jieba_ascii(tokens) -> list[str]:
    out = []
    for t in tokens:
        if t.isascii() and not t.isalnum() and len(t) > 1:
            out.extend(_ASCII_PIECES.findall(t))
        else:
            out.append(t)
    return out


def _is_content(token: str) -> bool:
    if token.isdigit():
        return False
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def token_agreement(reference: Sequence[Sequence[str]], other: Sequence[Sequence[str]]) -> float:
    """Return the share of ``reference`` tokens that ``other`` cuts at exactly the same place.

    Tokens are compared as character spans, text by text, so one differing cut costs one
    or two tokens rather than the rest of the text.
    """
    total = same = 0
    for ref, oth in zip(reference, other, strict=True):
        ref_spans, oth_spans = _spans(ref), _spans(oth)
        total += len(ref_spans)
        same += len(ref_spans & oth_spans)
    return same / total if total else 1.0


def _spans(tokens: Sequence[str]) -> set[tuple[int, int]]:
    spans, pos = set(), 0
    for t in tokens:
        spans.add((pos, pos + len(t)))
        pos += len(t)
    return spans
