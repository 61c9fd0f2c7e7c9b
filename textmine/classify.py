"""Assign conduct themes to opinions, with the evidence that triggered each theme.

Every theme classifier in textmine follows the scikit-learn estimator contract for
multi-label output and adds one method:

- ``classes_``: the theme codes, in column order;
- ``predict(X) -> ndarray (n_samples, n_themes)`` of 0/1;
- ``evidence(X) -> list[dict[code, list[phrase]]]``: why each theme was given.

:func:`theme_table` turns any such classifier's output into the ``themes``,
``theme_names`` and ``evidence`` columns written by the CLI, so a learned model can
replace :class:`LexiconThemeClassifier` without touching the pipeline.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .prefilter import required_literals
from .taxonomy import Negation, Taxonomy, Theme, load_taxonomy

THEME_SEP = ";"


class ThemeClassifier(Protocol):
    classes_: np.ndarray

    def predict(self, X: Iterable[str]) -> np.ndarray: ...

    def evidence(self, X: Iterable[str]) -> list[dict[str, list[str]]]: ...


@dataclass(frozen=True)
class _NegationMatcher:
    """Decide whether a lexicon match is cancelled by a nearby negation cue."""

    before: re.Pattern | None
    before_raw: re.Pattern | None
    after: re.Pattern | None
    ignore: re.Pattern | None
    breaks: frozenset[str]
    reach: int

    @classmethod
    def build(cls, negation: Negation) -> "_NegationMatcher":
        def alternation(words: Sequence[str]) -> str:
            return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))

        w = negation.window
        longest = max((len(c) for c in (*negation.before, *negation.after, *negation.ignore)), default=0)
        # a cue containing an ignored phrase (不知是不是 holds 是不是) is looked for before that phrase is removed
        raw = [c for c in negation.before if any(i in c for i in negation.ignore)]
        plain = [c for c in negation.before if c not in raw]
        return cls(
            before=re.compile(rf"(?:{alternation(plain)})(?=.{{0,{w}}}$)", re.S) if plain else None,
            before_raw=re.compile(rf"(?:{alternation(raw)})(?=.{{0,{w}}}$)", re.S) if raw else None,
            after=re.compile(rf"^.{{0,{w}}}(?:{alternation(negation.after)})", re.S)
            if negation.after else None,
            ignore=re.compile(alternation(negation.ignore)) if negation.ignore else None,
            breaks=frozenset(negation.clause_breaks),
            reach=w + longest,
        )

    def negated(self, text: str, start: int, end: int) -> bool:
        lo = start
        while lo > 0 and start - lo < self.reach and text[lo - 1] not in self.breaks:
            lo -= 1
        hi = end
        while hi < len(text) and hi - end < self.reach and text[hi] not in self.breaks:
            hi += 1
        prefix = text[lo:start]
        if self.before_raw is not None and self.before_raw.search(prefix):
            return True
        if self.ignore is not None:
            # keep positions: a cue hidden inside e.g. 不断 must not count
            prefix = self.ignore.sub(lambda m: "\0" * len(m.group(0)), prefix)
        if self.before is not None and self.before.search(prefix):
            return True
        return self.after is not None and bool(self.after.search(text[end:hi]))


class LexiconThemeClassifier(BaseEstimator):
    """Multi-label theme classifier driven by the taxonomy's terms and patterns.

    Parameters
    ----------
    taxonomy : Taxonomy, path or None
        The themes to assign; ``None`` uses the shipped default taxonomy.
    min_matches : int
        Distinct evidence phrases needed before a theme is assigned.
    """

    def __init__(self, *, taxonomy: Taxonomy | str | Path | None = None, min_matches: int = 1):
        self.taxonomy = taxonomy
        self.min_matches = min_matches

    def fit(self, X: Iterable[str] | None = None, y=None) -> "LexiconThemeClassifier":
        """Compile the lexicon; ``X`` and ``y`` are ignored (the lexicon is not learned)."""
        if not isinstance(self.min_matches, int) or self.min_matches < 1:
            raise ValueError(f"min_matches must be a positive integer, got {self.min_matches!r}")
        taxonomy = self.taxonomy
        if not isinstance(taxonomy, Taxonomy):
            taxonomy = load_taxonomy(taxonomy)
        self.taxonomy_ = taxonomy
        self.classes_ = np.array(taxonomy.codes, dtype=object)
        self.matchers_ = [_ThemeMatcher.build(t) for t in taxonomy.themes]
        self.negation_ = _NegationMatcher.build(taxonomy.negation)
        return self

    def evidence(self, X: Iterable[str]) -> list[dict[str, list[str]]]:
        """Return, per text, the non-negated phrases found for each theme code."""
        check_is_fitted(self, "matchers_")
        found = []
        seen: dict[str, dict[str, list[str]]] = {}  # opinion corpora repeat texts: match each once
        for text in X:
            text = "" if text is None else str(text)
            known = seen.get(text)
            if known is not None:
                found.append({code: list(phrases) for code, phrases in known.items()})
                continue
            per_theme: dict[str, list[str]] = {}
            for code, matcher in zip(self.classes_, self.matchers_):
                phrases = matcher.phrases(text, self.negation_)
                if len(phrases) >= self.min_matches:
                    per_theme[code] = phrases
            seen[text] = {code: list(phrases) for code, phrases in per_theme.items()}
            found.append(per_theme)
        return found

    def decision_function(self, X: Iterable[str]) -> np.ndarray:
        """Return the number of distinct evidence phrases per text and theme."""
        return _indicator(self.evidence(X), self.classes_, counts=True)

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """Return a 0/1 indicator matrix (n_samples, n_themes)."""
        return _indicator(self.evidence(X), self.classes_)


# characters that end a sentence: context and exclusion never reach across them
_SENTENCE_BREAKS = frozenset("。！？!?\n")


@dataclass(frozen=True)
class _ThemeMatcher:
    """One theme's cues, compiled for speed, with its context and exclusion rules.

    Each pattern and the terms' alternation are separate regexes: Python's ``re`` then
    skips quickly to the characters a cue can start with, which one big alternation
    with groups in front prevents (4x slower). Matches are merged as one alternation
    would: leftmost first, earlier cue first at the same start, no overlaps — except
    that a cue rejected (negated, excluded, weak without context) hides no other cue.
    """

    # (regex, weak, strings one of which any match contains or None), in priority order
    cues: tuple[tuple[re.Pattern, bool, tuple[str, ...] | None], ...]
    context: re.Pattern | None
    exclude: re.Pattern | None
    window: int

    @classmethod
    def build(cls, theme: Theme) -> "_ThemeMatcher":
        def literal(terms: Sequence[str]) -> list[re.Pattern]:
            terms = sorted(set(terms), key=len, reverse=True)
            return [re.compile("|".join(re.escape(t) for t in terms))] if terms else []

        def anyof(patterns: Sequence[str]) -> re.Pattern | None:
            return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

        # patterns first: they are the longer, more specific constructions
        strong = [re.compile(p) for p in theme.patterns] + literal(theme.terms)
        weak = [re.compile(p) for p in theme.weak_patterns] + literal(theme.weak_terms)
        cues = [(r, False) for r in strong] + [(r, True) for r in weak]
        return cls(cues=tuple((r, w, _as_tuple(required_literals(r.pattern))) for r, w in cues),
                   context=anyof(theme.context), exclude=anyof(theme.exclude), window=theme.window)

    def phrases(self, text: str, negation: _NegationMatcher) -> list[str]:
        """Return the distinct accepted cue phrases found in ``text``, in text order."""
        found = []
        for order, (regex, weak, required) in enumerate(self.cues):
            # most cues are absent from most texts: a substring test (for cues that do not
            # start with a literal) or one search says so, at a fraction of a finditer's cost
            if required is not None and (required[0] not in text if len(required) == 1
                                         else not any(s in text for s in required)):
                continue
            first = regex.search(text)
            if first is None:
                continue
            for m in regex.finditer(text, first.start()):
                if m.end() > m.start():
                    found.append((m.start(), order, m.end(), weak))
        if not found:
            return []
        found.sort()
        phrases: list[str] = []
        last_end = 0  # end of the last accepted cue: a rejected cue hides no other cue
        for start, _, end, weak in found:
            if start < last_end:
                continue
            phrase = text[start:end]
            if phrase not in phrases:
                if negation.negated(text, start, end):
                    continue
                if self.exclude is not None or weak:
                    lo, hi = self._sentence(text, start, end)
                    if self.exclude is not None and self.exclude.search(text, lo, start):
                        continue
                    if weak and (self.context is None or not self.context.search(text, lo, hi)):
                        continue
                phrases.append(phrase)
            last_end = end
        return phrases

    def _sentence(self, text: str, start: int, end: int) -> tuple[int, int]:
        """The ``window`` characters either side of a match, cut at sentence ends."""
        lo = start
        while lo > 0 and start - lo < self.window and text[lo - 1] not in _SENTENCE_BREAKS:
            lo -= 1
        hi = end
        while hi < len(text) and hi - end < self.window and text[hi] not in _SENTENCE_BREAKS:
            hi += 1
        return lo, hi


def _as_tuple(strings: frozenset[str] | None) -> tuple[str, ...] | None:
    return None if strings is None else tuple(sorted(strings))


def _indicator(evidence: list[dict[str, list[str]]], classes: np.ndarray, counts: bool = False) -> np.ndarray:
    matrix = np.zeros((len(evidence), len(classes)), dtype=int)
    column = {code: j for j, code in enumerate(classes)}
    for i, per_theme in enumerate(evidence):
        for code, phrases in per_theme.items():
            matrix[i, column[code]] = len(phrases) if counts else 1
    return matrix


def theme_table(classifier: ThemeClassifier, texts: Sequence[str], names: dict[str, str]) -> pd.DataFrame:
    """Classify ``texts`` and return columns ``themes``, ``theme_names``, ``evidence``.

    ``themes`` holds codes joined by ``;`` in taxonomy order (empty when none),
    ``theme_names`` the matching Chinese names, and ``evidence`` entries
    ``code:phrase`` joined by ``;``. Classifiers with an ``explain`` method (learned
    models) add ``confidence``: ``code:probability`` joined by ``;``.
    """
    if hasattr(classifier, "explain"):
        evidence, confidence = classifier.explain(texts)
    else:
        evidence, confidence = classifier.evidence(texts), None
    order = {code: j for j, code in enumerate(classifier.classes_)}
    themes, theme_names, evidence_col = [], [], []
    for per_theme in evidence:
        codes = sorted(per_theme, key=order.__getitem__)
        themes.append(THEME_SEP.join(codes))
        theme_names.append(THEME_SEP.join(names.get(c, c) for c in codes))
        evidence_col.append(THEME_SEP.join(f"{c}:{p}" for c in codes for p in per_theme[c]))
    table = pd.DataFrame({"themes": themes, "theme_names": theme_names, "evidence": evidence_col})
    if confidence is not None:
        table["confidence"] = [THEME_SEP.join(f"{c}:{conf[c]:.3f}" for c in sorted(conf, key=order.__getitem__))
                               for conf in confidence]
    return table


def split_codes(value: str) -> list[str]:
    """Split a ``;``-joined theme cell into codes (empty cell → empty list)."""
    return [c.strip() for c in str(value).split(THEME_SEP) if c.strip()]
