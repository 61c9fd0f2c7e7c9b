"""Learned classifiers on char + word n-grams: multi-label themes and single-label routing.

- :class:`NgramVectorizer` — TF-IDF of character n-grams of the text concatenated with
  TF-IDF of word n-grams from a :class:`~textmine.segment.Segmenter`; optionally after
  :class:`OfficeAliasNormaliser` has rewritten office aliases to their canonical names.
- :class:`LearnedThemeClassifier` — one logistic regression per theme, thresholds tuned
  by internal cross-validation, optionally combined with the lexicon (united, or asked only
  where the lexicon finds nothing); keeps evidence (lexicon phrases and the n-grams that
  weighed most) and a confidence per theme.
- :class:`RouteClassifier` — a linear SVM choosing the responsible domain or office, its
  softmax probabilities (temperature fitted on held-out decisions) blended with the votes of
  the most similar training messages (weight and number chosen on the same hold-out).
"""
from __future__ import annotations

import copy
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
            self.__dict__.pop("_feature_names", None)
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
        if not fit and not texts:   # sklearn's transformers refuse an empty batch
            return sparse.csr_matrix((0, sum(len(v.vocabulary_) for _, v in self.blocks_)))
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
        names = self.__dict__.get("_feature_names")
        if names is None:   # built once per fitted vectoriser: explaining each batch needs them
            names = np.concatenate([np.array([f"{kind}:{n}" for n in v.get_feature_names_out()], dtype=object)
                                    for kind, v in self.blocks_])
            self._feature_names = names
        return names


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
    lexicon : {"union", "fallback", "none"}
        ``"union"`` also assigns every theme the lexicon finds (high precision phrases);
        ``"fallback"`` assigns the lexicon's themes where it finds any and asks the model
        only about texts where it finds none (the model is not even run on the others);
        ``"none"`` uses the learned model alone.
    tune_thresholds : bool
        Choose each theme's probability threshold by internal 3-fold cross-validation
        (maximising that theme's F1, within [min_threshold, 0.8]); otherwise 0.5.
    min_threshold : float
        Lowest threshold tuning may choose (class balancing pushes the best held-out F1
        towards low thresholds, which costs precision on text unlike the training set).
    char_ngrams, word_ngrams, min_df, max_features : see :class:`NgramVectorizer`.
    random_state : int
        Seed of the internal folds.
    """

    def __init__(self, *, taxonomy: Taxonomy | str | None = None, C: float = 4.0, lexicon: str = "union",
                 tune_thresholds: bool = True, char_ngrams=(1, 3), word_ngrams=(1, 2), min_df: int = 2,
                 max_features: int | None = 200_000, random_state: int = 0, min_threshold: float = 0.2):
        self.taxonomy = taxonomy
        self.C = C
        self.lexicon = lexicon
        self.tune_thresholds = tune_thresholds
        self.min_threshold = min_threshold
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.random_state = random_state

    def fit(self, X: Sequence[str], y: Sequence) -> "LearnedThemeClassifier":
        """Learn from texts ``X`` and labels ``y`` (``;``-joined codes or lists of codes)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import KFold

        if self.lexicon not in _LEXICON_MODES:
            raise ValueError(f"lexicon must be one of {', '.join(_LEXICON_MODES)}, got {self.lexicon!r}")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if not (isinstance(self.min_threshold, (int, float)) and 0 < self.min_threshold <= 0.8):
            raise ValueError(f"min_threshold must be in (0, 0.8], got {self.min_threshold!r}")
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
        self.lexicon_ = LexiconThemeClassifier(taxonomy=taxonomy).fit() if self.lexicon != "none" else None
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
                self.thresholds_[j] = _best_threshold(held_out, target, self.min_threshold, 0.8)
        return self

    def __setstate__(self, state):
        state.setdefault("min_threshold", 0.2)   # pickled before the parameter existed: its old fixed value
        super().__setstate__(state)

    def with_lexicon(self, lexicon: LexiconThemeClassifier, mode: str = "union") -> "LearnedThemeClassifier":
        """A copy of this fitted model combined with ``lexicon`` (``mode`` "union" or
        "fallback", see the ``lexicon`` parameter), without refitting; ``lexicon`` must have
        the same theme codes."""
        check_is_fitted(self, "estimators_")
        if mode not in ("union", "fallback"):
            raise ValueError(f"mode must be 'union' or 'fallback', got {mode!r}")
        if list(lexicon.classes_) != list(self.classes_):
            raise ValueError(f"the lexicon's themes {list(lexicon.classes_)} differ from the model's {list(self.classes_)}")
        united = copy.copy(self)
        united.lexicon, united.lexicon_ = mode, lexicon
        united.taxonomy_ = lexicon.taxonomy_
        return united

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Return the learned probability of each theme, shape (n_samples, n_themes)."""
        check_is_fitted(self, "estimators_")
        return self._proba(self.vectorizer_.transform([str(t) for t in X]))

    def _proba(self, V) -> np.ndarray:
        proba = np.zeros((V.shape[0], len(self.classes_)))
        if V.shape[0] == 0:   # LogisticRegression refuses an empty batch
            return proba
        for j, est in enumerate(self.estimators_):
            proba[:, j] = est.predict_proba(V)[:, 1] if not isinstance(est, int) else est
        return proba

    def _decide(self, X: list[str]):
        """Vectorise once; return the features of the texts the model judged (row ``k`` of
        them is text ``asked[k]``), the probabilities (0 where the model was not asked), the
        decisions and the lexicon evidence."""
        check_is_fitted(self, "estimators_")
        lexical = self.lexicon_.evidence(X) if self.lexicon_ is not None else [{} for _ in X]
        if self.lexicon == "fallback":
            asked = np.array([i for i, found in enumerate(lexical) if not found], dtype=int)
        else:
            asked = np.arange(len(X))
        V = self.vectorizer_.transform([X[i] for i in asked])
        proba = np.zeros((len(X), len(self.classes_)))
        proba[asked] = self._proba(V)
        predicted = proba >= self.thresholds_
        column = {code: j for j, code in enumerate(self.classes_)}
        for i, found in enumerate(lexical):
            for code in found:
                predicted[i, column[code]] = True
        return (V, asked), proba, predicted, lexical

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """Return a 0/1 indicator matrix (n_samples, n_themes)."""
        return self._decide([str(t) for t in X])[2].astype(int)

    def evidence(self, X: Iterable[str]) -> list[dict[str, list[str]]]:
        """Per text and assigned theme: lexicon phrases, else the n-grams that weighed most."""
        return self.explain(X)[0]

    def explain(self, X: Iterable[str], top: int = 3) -> tuple[list[dict[str, list[str]]], list[dict[str, float]]]:
        """Return evidence and confidence (learned probability) per text and assigned theme, in one pass."""
        texts = [str(t) for t in X]
        (V, asked), proba, predicted, lexical = self._decide(texts)
        V = sparse.csr_matrix(V)
        feature_row = {int(i): k for k, i in enumerate(asked)}
        names = None   # built only when a theme comes from the model alone (most texts have none)
        evidence, confidence = [], []
        for i, assigned in enumerate(predicted.any(axis=1)):
            if not assigned:
                evidence.append({})
                confidence.append({})
                continue
            per_theme: dict[str, list[str]] = {}
            conf: dict[str, float] = {}
            for j in np.flatnonzero(predicted[i]):
                code = self.classes_[j]
                phrases = list(lexical[i].get(code, []))
                est = self.estimators_[j]
                if not phrases and not isinstance(est, int):
                    names = self.vectorizer_.feature_names() if names is None else names
                    row = V[feature_row[i]]
                    phrases = _top_ngrams(row, est.coef_[0], names, top) if row.nnz else []
                per_theme[code] = phrases
                if i in feature_row:   # the model was asked: its probability (also for lexicon themes)
                    conf[code] = round(float(proba[i, j]), 3)
            evidence.append(per_theme)
            confidence.append(conf)
        return evidence, confidence


def _top_ngrams(row, coef: np.ndarray, names: np.ndarray, top: int) -> list[str]:
    """The ``top`` n-grams of one text that weighed most for a theme, as they read in the
    text (word n-grams without their separating spaces), each wording once; n-grams with
    fewer than two letters or digits are left out (一个字 or 室， says nothing to a reader)."""
    weights = row.data * coef[row.indices]
    phrases: list[str] = []
    for k in np.argsort(-weights):
        if weights[k] <= 0 or len(phrases) == top:
            break
        phrase = names[row.indices[k]].split(":", 1)[1].replace(" ", "")
        if len(re.sub(r"\W", "", phrase)) >= 2 and phrase not in phrases:
            phrases.append(phrase)
    return phrases


_LEXICON_MODES = ("union", "fallback", "none")
NEIGHBOUR_COUNTS = (5, 10, 20, 40)
NEIGHBOUR_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(9))   # 0.0 … 0.8


class RouteClassifier(BaseEstimator, ClassifierMixin):
    """Single-label classifier routing a message to its responsible domain or office.

    A linear SVM on :class:`NgramVectorizer` features with balanced class weights; office
    aliases mentioned in the text are rewritten to canonical office names first (``offices``,
    see :class:`OfficeAliasNormaliser`). ``predict_proba`` blends two views of a message:

    - a softmax of the SVM decision values, whose temperature is fitted (minimum log-loss) on
      the decisions for a stratified 30 % hold-out, so confidences are calibrated;
    - the votes of its ``n_neighbours`` most similar training messages (cosine of the same
      features, each vote weighted by the squared similarity), which recover messages whose
      wording is close to a few earlier ones but not to the class as a whole.

    ``proba = (1 - w) * svm + w * neighbours`` with ``w = neighbour_weight``; ``predict`` and
    :meth:`route` take the most probable label. With ``"auto"`` both settings are chosen on the
    first hold-out and ``holdouts - 1`` more (maximum mean macro-F1 over :data:`NEIGHBOUR_COUNTS` ×
    :data:`NEIGHBOUR_WEIGHTS`, ties to the smaller weight), so ``w = 0`` (the SVM alone) is chosen when
    votes do not help.
    The fitted model keeps the training feature matrix (``train_features_``) for the votes, unless w = 0.

    Parameters
    ----------
    C : float
        Inverse regularisation of the SVM.
    char_ngrams, word_ngrams, min_df, max_features, offices : see :class:`NgramVectorizer`.
    n_neighbours : int or "auto"
        Number of similar training messages voting.
    neighbour_weight : float in [0, 1] or "auto"
        Weight of their votes in the probabilities; 0 uses the SVM alone.
    holdouts : int
        Number of stratified 30 % hold-outs (seeds ``random_state``, ``random_state + 1`` …) on which
        ``"auto"`` settings are chosen by mean macro-F1: one is noisy (each costs an SVM fit on 70 %).
    random_state : int
        Seed of the (first) hold-out split and of liblinear.
    """

    def __init__(self, *, C: float = 1.0, char_ngrams=(1, 2), word_ngrams=(1, 2), min_df: int = 2,
                 max_features: int | None = 200_000, offices=True, n_neighbours="auto",
                 neighbour_weight="auto", holdouts: int = 3, random_state: int = 0):
        self.C = C
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.offices = offices
        self.n_neighbours = n_neighbours
        self.neighbour_weight = neighbour_weight
        self.holdouts = holdouts
        self.random_state = random_state

    def __setstate__(self, state):
        # a model pickled before the neighbour votes existed: it keeps answering as it did (SVM alone)
        if "neighbour_weight" not in state:
            state = {**state, "n_neighbours": NEIGHBOUR_COUNTS[1], "neighbour_weight": 0.0}
            if "svm_" in state:
                state.update(n_neighbours_=NEIGHBOUR_COUNTS[1], neighbour_weight_=0.0, train_features_=None,
                             train_codes_=None)
        state = {"holdouts": 1, **state}   # the settings were chosen on one hold-out before ``holdouts``
        super().__setstate__(state)

    def _check_params(self) -> None:
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if self.n_neighbours != "auto" and not (isinstance(self.n_neighbours, (int, np.integer))
                                                and not isinstance(self.n_neighbours, bool) and self.n_neighbours >= 1):
            raise ValueError(f"n_neighbours must be a positive integer or 'auto', got {self.n_neighbours!r}")
        if self.neighbour_weight != "auto" and not (isinstance(self.neighbour_weight, (int, float))
                                                    and not isinstance(self.neighbour_weight, bool)
                                                    and 0 <= self.neighbour_weight <= 1):
            raise ValueError(f"neighbour_weight must be a number in [0, 1] or 'auto', got {self.neighbour_weight!r}")
        if not (isinstance(self.holdouts, (int, np.integer)) and not isinstance(self.holdouts, bool)
                and self.holdouts >= 1):
            raise ValueError(f"holdouts must be a positive integer, got {self.holdouts!r}")

    def fit(self, X: Sequence[str], y: Sequence[str]) -> "RouteClassifier":
        from sklearn.model_selection import train_test_split
        from sklearn.svm import LinearSVC

        self._check_params()
        y = np.asarray([str(v) for v in y], dtype=object)
        if len(set(y)) < 2:
            raise ValueError("routing needs at least two different labels")
        self.vectorizer_ = NgramVectorizer(char_ngrams=self.char_ngrams, word_ngrams=self.word_ngrams,
                                           min_df=self.min_df, max_features=self.max_features,
                                           offices=self.offices)
        V = self.vectorizer_.fit_transform([str(t) for t in X])

        def svm() -> LinearSVC:   # liblinear shuffles: seeded, so a refit gives the same model
            return LinearSVC(C=self.C, class_weight="balanced", random_state=self.random_state)

        self.svm_ = svm().fit(V, y)
        self.classes_ = self.svm_.classes_
        codes = np.searchsorted(self.classes_, y)
        self.train_features_ = _unit_rows(V)
        self.train_codes_ = codes
        # the temperature is fitted on a stratified 30 % hold-out, the neighbour settings on `holdouts` of them
        counts = np.unique(y, return_counts=True)[1]
        self.temperature_ = 1.0
        fixed_k = None if self.n_neighbours == "auto" else int(self.n_neighbours)
        fixed_w = None if self.neighbour_weight == "auto" else float(self.neighbour_weight)
        self.n_neighbours_ = fixed_k or NEIGHBOUR_COUNTS[1]
        self.neighbour_weight_ = 0.0 if fixed_w is None else fixed_w
        if counts.min() >= 4:
            choosing = fixed_k is None or fixed_w is None
            splits = []
            for i in range(self.holdouts if choosing else 1):
                train, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y,
                                               random_state=self.random_state + i)
                held_out = svm().fit(V[train], y[train]).decision_function(V[test])
                if held_out.ndim == 1:
                    held_out = np.column_stack([-held_out, held_out])
                if i == 0:
                    self.temperature_ = _fit_temperature(held_out, codes[test])
                splits.append((_softmax(held_out * self.temperature_), self.train_features_[test],
                               self.train_features_[train], codes[train], codes[test]))
            if choosing:
                self.n_neighbours_, self.neighbour_weight_ = _choose_neighbours(
                    splits, [fixed_k] if fixed_k else NEIGHBOUR_COUNTS,
                    [fixed_w] if fixed_w is not None else NEIGHBOUR_WEIGHTS)
        if self.neighbour_weight_ == 0:   # the votes are not used: do not keep (and save) the training matrix
            self.train_features_ = self.train_codes_ = None
        return self

    def decision_function(self, X: Iterable[str]) -> np.ndarray:
        """SVM decision values (n_samples, n_classes); the neighbour votes are not part of them."""
        check_is_fitted(self, "svm_")
        return self._decisions(self.vectorizer_.transform([str(t) for t in X]))

    def _decisions(self, V) -> np.ndarray:
        decisions = self.svm_.decision_function(V)
        return decisions if decisions.ndim == 2 else np.column_stack([-decisions, decisions])

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Blend of the SVM's calibrated softmax and the neighbours' votes; rows sum to 1."""
        check_is_fitted(self, "svm_")
        V = self.vectorizer_.transform([str(t) for t in X])
        proba = _softmax(self._decisions(V) * self.temperature_)
        if self.neighbour_weight_ > 0:
            votes = _neighbour_votes(_unit_rows(V), self.train_features_, self.train_codes_, len(self.classes_),
                                     (self.n_neighbours_,))[self.n_neighbours_]
            votes = np.where(votes.sum(axis=1, keepdims=True) > 0, votes, proba)   # no similar message: SVM alone
            proba = (1 - self.neighbour_weight_) * proba + self.neighbour_weight_ * votes
        return proba

    def predict(self, X: Iterable[str]) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def route(self, X: Iterable[str], min_confidence: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (route, confidence); route is ``unsure`` below ``min_confidence`` when given."""
        proba = self.predict_proba(X)
        best = proba.argmax(axis=1)
        routes = self.classes_[best].astype(object)
        confidence = proba[np.arange(len(best)), best]
        if min_confidence is not None:
            routes[confidence < min_confidence] = "unsure"
        return routes, confidence


def _unit_rows(V) -> sparse.csr_matrix:
    """Rows scaled to unit length (float32): their dot products are cosines."""
    V = sparse.csr_matrix(V, dtype=np.float32)
    norms = np.sqrt(np.asarray(V.multiply(V).sum(axis=1)).ravel())
    return (sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)).astype(np.float32) @ V).tocsr()


def _neighbour_votes(queries, train, train_codes: np.ndarray, n_classes: int, counts: Sequence[int],
                     batch: int | None = None) -> dict[int, np.ndarray]:
    """Per neighbour count k: each query's class shares among its k most similar training rows.

    Votes are weighted by the squared cosine similarity; a row whose neighbours are all
    dissimilar (similarity 0) gets zero votes. Queries are compared in batches (by default of at
    most 1,000 rows and 10 million similarities) to bound memory whatever the training set's size.
    """
    top = min(max(counts), train.shape[0])
    votes = {k: np.zeros((queries.shape[0], n_classes)) for k in counts}
    transposed = train.T.tocsc()
    batch = batch or max(1, min(1000, 10_000_000 // max(train.shape[0], 1)))
    for start in range(0, queries.shape[0], batch):
        sims = (queries[start:start + batch] @ transposed).toarray()
        nearest = np.argpartition(-sims, top - 1, axis=1)[:, :top] if top < sims.shape[1] else \
            np.tile(np.arange(sims.shape[1]), (sims.shape[0], 1))
        near_sims = np.take_along_axis(sims, nearest, axis=1)
        order = np.argsort(-near_sims, axis=1, kind="stable")
        nearest, near_sims = np.take_along_axis(nearest, order, 1), np.take_along_axis(near_sims, order, 1)
        weights = np.clip(near_sims, 0, None).astype(np.float64) ** 2
        rows = np.repeat(np.arange(len(sims)), top).reshape(len(sims), top)
        for k in counts:
            share = np.zeros((len(sims), n_classes))
            kk = min(k, top)
            np.add.at(share, (rows[:, :kk], train_codes[nearest[:, :kk]]), weights[:, :kk])
            total = share.sum(axis=1, keepdims=True)
            votes[k][start:start + len(sims)] = np.divide(share, total, out=np.zeros_like(share), where=total > 0)
    return votes


def _choose_neighbours(splits: Sequence[tuple], counts: Sequence[int], weights: Sequence[float]) -> tuple[int, float]:
    """(k, w) maximising the blend's macro-F1 averaged over hold-outs; ties go to the smaller weight, then smaller k.

    ``splits`` holds one ``(svm_proba, queries, train, train_codes, truth)`` per hold-out: the SVM's
    probabilities for its held-out rows, their features, the features and class codes of the rows
    it was trained on, and the held-out rows' true class codes.
    """
    from sklearn.metrics import f1_score

    f1 = {(k, w): [] for k in counts for w in weights}
    for svm_proba, queries, train, train_codes, truth in splits:
        votes = _neighbour_votes(queries, train, train_codes, svm_proba.shape[1], counts)
        for k in counts:
            share = np.where(votes[k].sum(axis=1, keepdims=True) > 0, votes[k], svm_proba)
            for w in weights:
                predicted = ((1 - w) * svm_proba + w * share).argmax(axis=1)
                f1[k, w].append(f1_score(truth, predicted, average="macro"))
    k, w = max(f1, key=lambda kw: (round(float(np.mean(f1[kw])), 10), -kw[1], -kw[0]))
    return int(k), float(w)


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

