"""Learned classifiers on char + word n-grams: multi-label themes and single-label routing.

- :class:`NgramVectorizer` — TF-IDF of character n-grams of the text concatenated with
  TF-IDF of word n-grams from a :class:`~textmine.segment.Segmenter`; optionally after
  :class:`OfficeAliasNormaliser` has rewritten office aliases to their canonical names.
- :class:`LearnedThemeClassifier` — one logistic regression per theme, thresholds tuned
  by internal cross-validation, optionally united with the lexicon; keeps evidence
  (lexicon phrases and the n-grams that weighed most) and a confidence per theme.
- :class:`RouteClassifier` — a linear SVM choosing the responsible domain or office, with
  a confidence from a softmax whose temperature is fitted on held-out decisions.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .classify import LexiconThemeClassifier, split_codes
from .taxonomy import Taxonomy, load_taxonomy


def _check_ngrams(name: str, value) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min_n, max_n), got {value!r}") from None
    if not 1 <= low <= high <= 6:
        raise ValueError(f"{name} must satisfy 1 <= min_n <= max_n <= 6, got {value!r}")
    return low, high


class OfficeAliasNormaliser:
    """Rewrite every office alias mentioned in a text to its canonical office name.

    ``城管``, ``城管局`` and ``市城管执法局`` all become ``市城市管理局`` (aliases from the office
    table, ``corpora/offices.csv``), so that n-gram features of every spelling are shared.
    The longest alias wins where several start at the same place; aliases of one character
    are ignored, and purely ASCII aliases (``12345``) must not touch other letters or digits.

    Parameters
    ----------
    offices : OfficeDirectory, path or None
        The office table; ``None`` uses the shipped ``corpora/offices.csv``.
    """

    def __init__(self, offices=None):
        from .offices import OfficeDirectory

        directory = offices if isinstance(offices, OfficeDirectory) else OfficeDirectory.from_file(offices)
        self.canonical = {alias: office for alias, office in directory.aliases.items() if len(alias) > 1}
        self.offices = directory.offices
        names = sorted(self.canonical, key=lambda a: (-len(a), a))
        self.pattern = re.compile("|".join(
            rf"(?<![0-9A-Za-z]){re.escape(a)}(?![0-9A-Za-z])" if a.isascii() else re.escape(a) for a in names)
        ) if names else None

    def __call__(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.canonical[m.group(0)], text)

    def mentions(self, text: str) -> list[str]:
        """Canonical offices mentioned in ``text``, in order of appearance (repeats kept)."""
        return [self.canonical[m.group(0)] for m in self.pattern.finditer(text)] if self.pattern else []


class NgramVectorizer(BaseEstimator, TransformerMixin):
    """TF-IDF of character n-grams plus TF-IDF of segmented word n-grams.

    Parameters
    ----------
    char_ngrams, word_ngrams : (min_n, max_n) or None
        N-gram ranges; ``None`` leaves that block out.
    min_df : int
        Minimum document frequency of an n-gram.
    max_features : int or None
        Keep only the most frequent n-grams of each block (bounds model size).
    segmenter : Segmenter or None
        Word segmenter; ``None`` builds the project default when fitting (with the office
        names as extra words when ``offices`` is set, so a canonical name stays one word).
    offices : bool, path or None
        Rewrite office aliases to canonical office names (:class:`OfficeAliasNormaliser`)
        before both blocks: ``True`` with the shipped office table, a path with that table;
        ``None``/``False`` leaves the text as it is.
    """

    def __init__(self, *, char_ngrams=(1, 2), word_ngrams=(1, 2), min_df: int = 2,
                 max_features: int | None = 200_000, segmenter=None, offices=None):
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.segmenter = segmenter
        self.offices = offices

    def fit(self, X: Sequence[str], y=None) -> "NgramVectorizer":
        self._fit_transform(list(X), fit=True)
        return self

    def fit_transform(self, X: Sequence[str], y=None):
        return self._fit_transform(list(X), fit=True)

    def transform(self, X: Iterable[str]):
        check_is_fitted(self, "blocks_")
        return self._fit_transform(list(X), fit=False)

    def _fit_transform(self, texts: list[str], fit: bool):
        from sklearn.feature_extraction.text import TfidfVectorizer

        if fit:
            if self.char_ngrams is None and self.word_ngrams is None:
                raise ValueError("char_ngrams and word_ngrams cannot both be None")
            if not isinstance(self.min_df, int) or self.min_df < 1:
                raise ValueError(f"min_df must be a positive integer, got {self.min_df!r}")
            self.normaliser_ = None
            if self.offices is not None and self.offices is not False:
                self.normaliser_ = OfficeAliasNormaliser(None if self.offices is True else Path(self.offices))
            self.blocks_ = []
            if self.char_ngrams is not None:
                self.blocks_.append(("char", TfidfVectorizer(
                    analyzer="char", ngram_range=_check_ngrams("char_ngrams", self.char_ngrams),
                    min_df=self.min_df, max_features=self.max_features, sublinear_tf=True, lowercase=True)))
            if self.word_ngrams is not None:
                if self.segmenter is None:
                    from .segment import Segmenter

                    self.segmenter_ = Segmenter(extra_words=self.normaliser_.offices if self.normaliser_ else ())
                else:
                    self.segmenter_ = self.segmenter
                self.blocks_.append(("word", TfidfVectorizer(
                    tokenizer=str.split, token_pattern=None, lowercase=False,
                    ngram_range=_check_ngrams("word_ngrams", self.word_ngrams),
                    min_df=self.min_df, max_features=self.max_features, sublinear_tf=True)))
        if getattr(self, "normaliser_", None) is not None:
            texts = [self.normaliser_(t) for t in texts]
        matrices = []
        for kind, vectorizer in self.blocks_:
            source = texts if kind == "char" else [" ".join(self.segmenter_.tokens(t)) for t in texts]
            matrices.append(vectorizer.fit_transform(source) if fit else vectorizer.transform(source))
        return sparse.hstack(matrices, format="csr")

    def feature_names(self) -> np.ndarray:
        """Feature names in column order, prefixed with their block (``char:`` / ``word:``)."""
        check_is_fitted(self, "blocks_")
        return np.concatenate([np.array([f"{kind}:{n}" for n in v.get_feature_names_out()], dtype=object)
                               for kind, v in self.blocks_])


def _codes(labels) -> list[str]:
    """Theme codes of one label row: a ``;``-joined cell or a list of codes."""
    return split_codes(labels) if isinstance(labels, str) else list(labels)


def _labels_to_matrix(y, classes: Sequence[str]) -> np.ndarray:
    column = {c: j for j, c in enumerate(classes)}
    matrix = np.zeros((len(y), len(classes)), dtype=int)
    for i, labels in enumerate(y):
        for code in _codes(labels):
            matrix[i, column[code]] = 1
    return matrix


def _best_threshold(scores: np.ndarray, truth: np.ndarray, low: float, high: float) -> float:
    """Threshold in [low, high] maximising F1 of ``scores >= t`` against ``truth``."""
    best_t, best_f1 = 0.5, -1.0
    for t in np.linspace(low, high, 13):
        pred = scores >= t
        tp = int((pred & (truth == 1)).sum())
        fp = int((pred & (truth == 0)).sum())
        fn = int((~pred & (truth == 1)).sum())
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best_f1 + 1e-12:
            best_t, best_f1 = float(t), f1
    return best_t


class LearnedThemeClassifier(BaseEstimator):
    """Multi-label theme classifier learned from labelled (or lexicon-labelled) texts.

    Parameters
    ----------
    taxonomy : Taxonomy, path or None
        Theme codes, names and the lexicon; ``None`` uses the shipped default.
    C : float
        Inverse regularisation of each theme's logistic regression.
    lexicon : {"union", "none"}
        ``"union"`` also assigns every theme the lexicon finds (high precision phrases);
        ``"none"`` uses the learned model alone.
    tune_thresholds : bool
        Choose each theme's probability threshold by internal 3-fold cross-validation
        (maximising that theme's F1, within [0.2, 0.8]); otherwise 0.5.
    char_ngrams, word_ngrams, min_df, max_features : see :class:`NgramVectorizer`.
    random_state : int
        Seed of the internal folds.
    """

    def __init__(self, *, taxonomy: Taxonomy | str | None = None, C: float = 4.0, lexicon: str = "union",
                 tune_thresholds: bool = True, char_ngrams=(1, 3), word_ngrams=(1, 2), min_df: int = 2,
                 max_features: int | None = 200_000, random_state: int = 0):
        self.taxonomy = taxonomy
        self.C = C
        self.lexicon = lexicon
        self.tune_thresholds = tune_thresholds
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.random_state = random_state

    def fit(self, X: Sequence[str], y: Sequence) -> "LearnedThemeClassifier":
        """Learn from texts ``X`` and labels ``y`` (``;``-joined codes or lists of codes)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import KFold

        if self.lexicon not in ("union", "none"):
            raise ValueError(f"lexicon must be 'union' or 'none', got {self.lexicon!r}")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        X = [str(t) for t in X]
        if len(X) != len(y):
            raise ValueError(f"{len(X)} texts but {len(y)} label rows")
        taxonomy = self.taxonomy if isinstance(self.taxonomy, Taxonomy) else load_taxonomy(self.taxonomy)
        seen = {c for labels in y for c in _codes(labels)}
        unknown = sorted(seen - set(taxonomy.codes))
        if unknown:
            raise ValueError(f"labels not in the taxonomy: {', '.join(unknown)}")
        self.taxonomy_ = taxonomy
        self.classes_ = np.array(taxonomy.codes, dtype=object)
        Y = _labels_to_matrix(y, self.classes_)
        self.lexicon_ = LexiconThemeClassifier(taxonomy=taxonomy).fit() if self.lexicon == "union" else None
        self.vectorizer_ = NgramVectorizer(char_ngrams=self.char_ngrams, word_ngrams=self.word_ngrams,
                                           min_df=self.min_df, max_features=self.max_features)
        V = self.vectorizer_.fit_transform(X)

        def model() -> LogisticRegression:
            return LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear")

        self.estimators_: list = []
        self.thresholds_ = np.full(len(self.classes_), 0.5)
        folds = KFold(3, shuffle=True, random_state=self.random_state)
        for j in range(len(self.classes_)):
            target = Y[:, j]
            if target.sum() == 0 or target.sum() == len(target):
                self.estimators_.append(int(target[0]) if len(target) else 0)  # constant: no signal
                continue
            self.estimators_.append(model().fit(V, target))
            if self.tune_thresholds and target.sum() >= 3:
                held_out = np.zeros(len(target))
                for train, test in folds.split(V):
                    if 0 < target[train].sum() < len(train):
                        held_out[test] = model().fit(V[train], target[train]).predict_proba(V[test])[:, 1]
                self.thresholds_[j] = _best_threshold(held_out, target, 0.2, 0.8)
        return self

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Return the learned probability of each theme, shape (n_samples, n_themes)."""
        check_is_fitted(self, "estimators_")
        return self._proba(self.vectorizer_.transform([str(t) for t in X]))

    def _proba(self, V) -> np.ndarray:
        proba = np.zeros((V.shape[0], len(self.classes_)))
        for j, est in enumerate(self.estimators_):
            proba[:, j] = est.predict_proba(V)[:, 1] if not isinstance(est, int) else est
        return proba

    def _decide(self, X: list[str]):
        """Vectorise once; return the features, probabilities, decisions and lexicon evidence."""
        check_is_fitted(self, "estimators_")
        V = self.vectorizer_.transform(X)
        proba = self._proba(V)
        predicted = proba >= self.thresholds_
        lexical = self.lexicon_.evidence(X) if self.lexicon_ is not None else [{} for _ in X]
        for i, found in enumerate(lexical):
            for code in found:
                predicted[i, list(self.classes_).index(code)] = True
        return V, proba, predicted, lexical

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """Return a 0/1 indicator matrix (n_samples, n_themes)."""
        return self._decide([str(t) for t in X])[2].astype(int)

    def evidence(self, X: Iterable[str]) -> list[dict[str, list[str]]]:
        """Per text and assigned theme: lexicon phrases, else the n-grams that weighed most."""
        return self.explain(X)[0]

    def explain(self, X: Iterable[str], top: int = 3) -> tuple[list[dict[str, list[str]]], list[dict[str, float]]]:
        """Return evidence and confidence (learned probability) per text and assigned theme, in one pass."""
        texts = [str(t) for t in X]
        V, proba, predicted, lexical = self._decide(texts)
        names = self.vectorizer_.feature_names()
        evidence, confidence = [], []
        for i in range(len(texts)):
            per_theme: dict[str, list[str]] = {}
            row = V.getrow(i)
            for j in np.flatnonzero(predicted[i]):
                code = self.classes_[j]
                phrases = list(lexical[i].get(code, []))
                est = self.estimators_[j]
                if not phrases and not isinstance(est, int) and row.nnz:
                    weights = row.data * est.coef_[0, row.indices]
                    order = np.argsort(-weights)[:top]
                    phrases = [names[row.indices[k]].split(":", 1)[1] for k in order if weights[k] > 0]
                per_theme[code] = phrases
            evidence.append(per_theme)
            confidence.append({code: round(float(proba[i, list(self.classes_).index(code)]), 3) for code in per_theme})
        return evidence, confidence


class RouteClassifier(BaseEstimator, ClassifierMixin):
    """Single-label classifier routing a message to its responsible domain or office.

    A linear SVM on :class:`NgramVectorizer` features with balanced class weights; office
    aliases mentioned in the text are rewritten to canonical office names first (``offices``,
    see :class:`OfficeAliasNormaliser`). ``predict_proba`` is a softmax of the SVM decision
    values whose temperature is fitted (minimum log-loss) on the decisions for a stratified
    30 % hold-out, so confidences are calibrated.

    Parameters
    ----------
    C : float
        Inverse regularisation of the SVM.
    char_ngrams, word_ngrams, min_df, max_features, offices : see :class:`NgramVectorizer`.
    random_state : int
        Seed of the temperature's hold-out split.
    """

    def __init__(self, *, C: float = 1.0, char_ngrams=(1, 2), word_ngrams=(1, 2), min_df: int = 2,
                 max_features: int | None = 200_000, offices=True, random_state: int = 0):
        self.C = C
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.offices = offices
        self.random_state = random_state

    def fit(self, X: Sequence[str], y: Sequence[str]) -> "RouteClassifier":
        from sklearn.model_selection import train_test_split
        from sklearn.svm import LinearSVC

        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        y = np.asarray([str(v) for v in y], dtype=object)
        if len(set(y)) < 2:
            raise ValueError("routing needs at least two different labels")
        self.vectorizer_ = NgramVectorizer(char_ngrams=self.char_ngrams, word_ngrams=self.word_ngrams,
                                           min_df=self.min_df, max_features=self.max_features,
                                           offices=self.offices)
        V = self.vectorizer_.fit_transform([str(t) for t in X])
        self.svm_ = LinearSVC(C=self.C, class_weight="balanced").fit(V, y)
        self.classes_ = self.svm_.classes_
        # the temperature is fitted on one stratified 30 % hold-out: one extra fit, not K
        counts = np.unique(y, return_counts=True)[1]
        self.temperature_ = 1.0
        if counts.min() >= 4:
            train, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y,
                                           random_state=self.random_state)
            held_out = LinearSVC(C=self.C, class_weight="balanced").fit(V[train], y[train]).decision_function(V[test])
            if held_out.ndim == 1:
                held_out = np.column_stack([-held_out, held_out])
            self.temperature_ = _fit_temperature(held_out, np.searchsorted(self.classes_, y[test]))
        return self

    def decision_function(self, X: Iterable[str]) -> np.ndarray:
        check_is_fitted(self, "svm_")
        decisions = self.svm_.decision_function(self.vectorizer_.transform([str(t) for t in X]))
        return decisions if decisions.ndim == 2 else np.column_stack([-decisions, decisions])

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        return _softmax(self.decision_function(X) * self.temperature_)

    def predict(self, X: Iterable[str]) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]

    def route(self, X: Iterable[str], min_confidence: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (route, confidence); route is ``unsure`` below ``min_confidence`` when given."""
        proba = self.predict_proba(X)
        best = proba.argmax(axis=1)
        routes = self.classes_[best].astype(object)
        confidence = proba[np.arange(len(best)), best]
        if min_confidence is not None:
            routes[confidence < min_confidence] = "unsure"
        return routes, confidence


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(decisions: np.ndarray, truth: np.ndarray) -> float:
    """Scale of the decision values minimising the log-loss of their softmax."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        p = _softmax(decisions * np.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(truth)), truth], 1e-12, None)).mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-3, 4), method="bounded").x))

