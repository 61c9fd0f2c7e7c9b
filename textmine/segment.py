"""Segment Chinese text into words with jieba, without touching jieba's global state."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from .datafiles import read_word_list
from .resources import corpus_path


class Segmenter:
    """Word segmenter owning its own ``jieba.Tokenizer``, user dictionary and stopwords.

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
        Let jieba guess unknown words with its HMM.

    The tokenizer is built on first use, so constructing a Segmenter is cheap.
    Instances never share a dictionary: adding a word to one leaves others unchanged.
    """

    def __init__(self, *, userdict: str | Path | None = None,
                 stopwords: str | Path | Sequence[str] | None = None,
                 extra_words: Sequence[str] = (), hmm: bool = True):
        self.userdict = userdict
        self.stopwords = stopwords
        self.extra_words = tuple(extra_words)
        self.hmm = hmm
        self._tokenizer = None
        self._stopwords: frozenset[str] | None = None

    @property
    def tokenizer(self):
        """The instance's own jieba Tokenizer, built and loaded on first use."""
        if self._tokenizer is None:
            import jieba

            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            path = Path(self.userdict) if self.userdict is not None else corpus_path("userdict.txt")
            for entry in read_word_list(path, "user dictionary"):
                word, *rest = entry.split()
                freq = int(rest[0]) if rest and rest[0].isdigit() else None
                tag = rest[-1] if rest and not rest[-1].isdigit() else None
                tokenizer.add_word(word, freq, tag)
            for word in self.extra_words:
                if word and " " not in word:
                    tokenizer.add_word(word)
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

    def cut(self, text: str) -> list[str]:
        """Return every token of ``text`` in order (whitespace dropped), like ``jieba.lcut``."""
        return [t for t in self.tokenizer.cut(text, HMM=self.hmm) if not t.isspace()]

    def tokens(self, text: str) -> list[str]:
        """Return the content words of ``text``: no stopwords, punctuation, symbols or bare numbers."""
        stop = self.stopword_set
        return [t for t in self.cut(text) if t not in stop and _is_content(t)]

    __call__ = tokens  # usable as scikit-learn's ``tokenizer=``

    def tokens_many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.tokens(t) for t in texts]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_tokenizer"] = None  # rebuilt lazily in the receiving process
        return state


def _is_content(token: str) -> bool:
    if token.isdigit():
        return False
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)
