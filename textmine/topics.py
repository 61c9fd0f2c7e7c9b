"""Discover topics nobody anticipated, map them to the taxonomy, and keep their ids stable.

The default model is NMF on TF-IDF of jieba tokens (fast and coherent on short messages);
scikit-learn's LDA (``method="lda"``) and gensim's ``LdaModel`` (``method="gensim-lda"``)
are options. Every method follows the scikit-learn estimator contract and takes a
``random_state``: the same input and seed give the same topics with the same ids.

Topic ids are assigned after fitting, biggest topic first (ties: larger total weight, then
the top terms), so that they do not depend on the solver's internal order. A fitted model
saved with :func:`save_topic_model` and loaded with :func:`load_topic_model` assigns a new
batch to the same ids.

Coherence is gensim's ``CoherenceModel`` (``c_npmi`` by default, or ``c_v``) over the
top-N terms of each topic, with the analysed documents as the reference corpus.
``choose_k`` fits one model per candidate number of topics and returns the curve.

A topic is mapped to a taxonomy theme when its top terms overlap the theme's terms
(see :func:`map_topics_to_themes`); otherwise it is flagged ``new`` so that an analyst can
promote its terms into their own taxonomy file.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .datafiles import read_word_list
from .errors import InputError
from .modelstore import ModelError, load_pickled, read_metadata, write_model
from .resources import corpus_path, library_versions

METHODS = ("nmf", "lda", "gensim-lda")
COHERENCE_MEASURES = ("c_npmi", "c_v")
BREAKDOWNS = ("office", "month")
NEW_THEME = "new"
NO_TOPIC = -1
DEFAULT_K_RANGE = (5, 10, 15, 20, 25, 30)

TOPIC_COLUMNS = ["topic", "label", "terms", "size", "share", "coherence", "theme", "theme_name",
                 "theme_score", "theme_terms"]
CURVE_COLUMNS = ["k", "coherence", "diversity", "chosen"]


def _identity(tokens):
    """Analyzer for pre-tokenised documents (module level so that a model can be pickled)."""
    return tokens


def topic_stopwords(path: str | Path | None = None) -> frozenset[str]:
    """Read the topic stopword list (``corpora/topic_stopwords.txt`` when None)."""
    path = Path(path) if path is not None else corpus_path("topic_stopwords.txt")
    return frozenset(read_word_list(path, "topic stopword list"))


class TopicModel(BaseEstimator):
    """Topic model over Chinese texts: jieba tokens → document-term matrix → topics.

    Parameters
    ----------
    n_topics : int
        Number of topics (≥ 2).
    method : {"nmf", "lda", "gensim-lda"}
        ``nmf``: scikit-learn NMF (init ``nndsvda``, multiplicative updates) on sublinear TF-IDF;
        ``lda``: scikit-learn ``LatentDirichletAllocation`` (batch) on counts;
        ``gensim-lda``: gensim ``LdaModel`` on the same counts.
    random_state : int
        Seed for every random step.
    min_df, max_df : int or float
        Document-frequency filter of the vocabulary (as in scikit-learn's vectorizers):
        terms in fewer than ``min_df`` documents or in more than ``max_df`` (a share)
        are dropped.
    max_features : int or None
        Keep only the most frequent terms.
    n_terms : int
        Top terms kept per topic (``top_terms_``).
    max_iter : int or None
        Solver iterations (gensim: passes); None picks the method's default (400, 20, 5).
    segmenter : textmine.segment.Segmenter or None
        Tokeniser; a default ``Segmenter()`` when None.
    extra_stopwords : path, sequence of str or None
        Words dropped on top of the segmenter's stopwords; ``corpora/topic_stopwords.txt``
        when None.
    min_token_length : int
        Shorter tokens are dropped (single characters carry little topic meaning).

    Fitted attributes: ``vocabulary_`` (terms, array), ``components_`` (topics × terms,
    rows in topic-id order), ``top_terms_`` (list of term lists), ``topic_sizes_`` (training
    documents per topic), ``n_documents_``.
    """

    def __init__(self, *, n_topics: int = 10, method: str = "nmf", random_state: int = 0,
                 min_df: int | float = 2, max_df: int | float = 0.5, max_features: int | None = 20000,
                 n_terms: int = 10, max_iter: int | None = None, segmenter=None,
                 extra_stopwords: str | Path | Sequence[str] | None = None, min_token_length: int = 2):
        self.n_topics = n_topics
        self.method = method
        self.random_state = random_state
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.n_terms = n_terms
        self.max_iter = max_iter
        self.segmenter = segmenter
        self.extra_stopwords = extra_stopwords
        self.min_token_length = min_token_length

    # ------------------------------------------------------------------ tokens

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Return the content tokens of each text as the model sees them."""
        from .segment import Segmenter

        segmenter = self.segmenter if self.segmenter is not None else Segmenter()
        if self.extra_stopwords is None or isinstance(self.extra_stopwords, (str, Path)):
            extra = topic_stopwords(self.extra_stopwords)
        else:
            extra = frozenset(self.extra_stopwords)
        shortest = self.min_token_length
        return [[t for t in segmenter.tokens(str(text)) if len(t) >= shortest and t not in extra]
                for text in texts]

    # ------------------------------------------------------------------ fitting

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not isinstance(self.n_topics, (int, np.integer)) or isinstance(self.n_topics, bool) \
                or self.n_topics < 2:
            raise ValueError(f"n_topics must be an integer ≥ 2, got {self.n_topics!r}")
        if not isinstance(self.random_state, (int, np.integer)) or isinstance(self.random_state, bool):
            raise ValueError(f"random_state must be an integer, got {self.random_state!r}")
        if not isinstance(self.n_terms, int) or self.n_terms < 2:
            raise ValueError(f"n_terms must be an integer ≥ 2, got {self.n_terms!r}")
        if self.max_iter is not None and (not isinstance(self.max_iter, int) or self.max_iter < 1):
            raise ValueError(f"max_iter must be a positive integer or None, got {self.max_iter!r}")

    def fit(self, texts: Sequence[str], y=None) -> "TopicModel":
        """Tokenise ``texts`` and fit the topics."""
        self._check_params()
        return self.fit_tokens(self.tokenize(texts))

    def fit_tokens(self, tokens: Sequence[Sequence[str]]) -> "TopicModel":
        """Fit on documents that are already token lists (as returned by :meth:`tokenize`)."""
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        self._check_params()
        tokens = [list(doc) for doc in tokens]
        usable = sum(1 for doc in tokens if doc)
        if usable < self.n_topics:
            raise InputError(f"only {usable} documents with words to model; need at least "
                             f"{self.n_topics} for {self.n_topics} topics")
        kind = TfidfVectorizer if self.method == "nmf" else CountVectorizer
        options = {"sublinear_tf": True} if self.method == "nmf" else {}
        vectorizer = kind(analyzer=_identity, min_df=self.min_df, max_df=self.max_df,
                          max_features=self.max_features, **options)
        try:
            matrix = vectorizer.fit_transform(tokens)
        except ValueError as exc:  # e.g. min_df/max_df leave no term
            raise InputError(f"no vocabulary left after document-frequency filtering "
                             f"(min_df={self.min_df}, max_df={self.max_df}, {usable} documents): {exc}") from None
        if matrix.shape[1] < self.n_topics:
            raise InputError(f"only {matrix.shape[1]} terms survive document-frequency filtering "
                             f"(min_df={self.min_df}, max_df={self.max_df}); too few for "
                             f"{self.n_topics} topics — lower min_df or the number of topics")
        self.vectorizer_ = vectorizer
        self.vocabulary_ = np.asarray(vectorizer.get_feature_names_out(), dtype=object)
        raw_components, raw_weights = self._fit_solver(matrix)
        weights = self._normalised(raw_weights, matrix) if raw_weights is not None else self._raw_weights(matrix)
        dominant = _dominant(weights)
        sizes = np.bincount(dominant[dominant >= 0], minlength=self.n_topics)
        mass = weights.sum(axis=0)
        top_raw = [self._top(raw_components[t]) for t in range(self.n_topics)]
        # ids by size so that they do not depend on the solver's internal order
        self.topic_order_ = np.array(sorted(range(self.n_topics),
                                            key=lambda t: (-sizes[t], -round(float(mass[t]), 9), top_raw[t])))
        self.components_ = raw_components[self.topic_order_]
        self.top_terms_ = [top_raw[t] for t in self.topic_order_]
        self.topic_sizes_ = sizes[self.topic_order_]
        self.n_documents_ = len(tokens)
        return self

    def _fit_solver(self, matrix) -> tuple[np.ndarray, np.ndarray | None]:
        """Fit the solver; return topic-term weights and, when the solver gives them, document weights."""
        k, seed = int(self.n_topics), int(self.random_state)
        if self.method == "nmf":
            from sklearn.decomposition import NMF

            # multiplicative updates: on 17,512 real messages 2–4× faster than coordinate
            # descent at equal or better NPMI (benchmarks/topics.py)
            self.solver_ = NMF(n_components=k, init="nndsvda", solver="mu", random_state=seed,
                               max_iter=self.max_iter or 400)
            weights = self.solver_.fit_transform(matrix)
            return np.asarray(self.solver_.components_, dtype=float), np.asarray(weights, dtype=float)
        if self.method == "lda":
            from sklearn.decomposition import LatentDirichletAllocation

            self.solver_ = LatentDirichletAllocation(n_components=k, learning_method="batch",
                                                     max_iter=self.max_iter or 20, random_state=seed)
            weights = self.solver_.fit_transform(matrix)
            comp = np.asarray(self.solver_.components_, dtype=float)
            return comp / comp.sum(axis=1, keepdims=True), np.asarray(weights, dtype=float)
        from gensim.matutils import Sparse2Corpus
        from gensim.models import LdaModel

        corpus = Sparse2Corpus(matrix, documents_columns=False)
        id2word = {i: str(term) for i, term in enumerate(self.vocabulary_)}
        self.solver_ = LdaModel(corpus=corpus, id2word=id2word, num_topics=k, random_state=seed,
                                passes=self.max_iter or 5)
        return np.asarray(self.solver_.get_topics(), dtype=float), None

    def _raw_weights(self, matrix) -> np.ndarray:
        """Return document × topic weights in the solver's order, rows summing to 1 (or 0)."""
        if self.method == "gensim-lda":
            from gensim.matutils import Sparse2Corpus, corpus2dense

            corpus = Sparse2Corpus(matrix, documents_columns=False)
            dense = corpus2dense(self.solver_.get_document_topics(corpus, minimum_probability=0.0),
                                 num_terms=int(self.n_topics), num_docs=matrix.shape[0]).T
            weights = np.asarray(dense, dtype=float)
        else:
            weights = np.asarray(self.solver_.transform(matrix), dtype=float)
        return self._normalised(weights, matrix)

    @staticmethod
    def _normalised(weights: np.ndarray, matrix) -> np.ndarray:
        weights = weights.copy()
        empty = np.asarray(matrix.sum(axis=1)).ravel() == 0
        weights[empty] = 0.0  # LDA gives a document without words a uniform mix; it has no topic
        totals = weights.sum(axis=1, keepdims=True)
        return np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)

    def _top(self, row: np.ndarray) -> list[str]:
        order = sorted(range(len(row)), key=lambda i: (-round(float(row[i]), 12), self.vocabulary_[i]))
        return [str(self.vocabulary_[i]) for i in order[: self.n_terms] if row[i] > 0]

    # ------------------------------------------------------------------ applying

    def transform_tokens(self, tokens: Sequence[Sequence[str]]) -> np.ndarray:
        """Return document × topic weights (columns in topic-id order, rows sum to 1 or 0)."""
        check_is_fitted(self, "components_")
        matrix = self.vectorizer_.transform([list(doc) for doc in tokens])
        return self._raw_weights(matrix)[:, self.topic_order_]

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Return document × topic weights for ``texts``."""
        check_is_fitted(self, "components_")
        return self.transform_tokens(self.tokenize(texts))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Return each text's topic id, or -1 when none of its words is in the vocabulary."""
        return _dominant(self.transform(texts))

    def term_weights(self) -> list[list[float]]:
        """Return the weight of each top term, per topic (same order as ``top_terms_``)."""
        check_is_fitted(self, "components_")
        index = {term: i for i, term in enumerate(self.vocabulary_)}
        return [[float(self.components_[t, index[w]]) for w in terms]
                for t, terms in enumerate(self.top_terms_)]


def _dominant(weights: np.ndarray) -> np.ndarray:
    """Return each row's arg-max column, or -1 for an all-zero row."""
    if weights.size == 0:
        return np.full(weights.shape[0], NO_TOPIC, dtype=int)
    best = weights.argmax(axis=1)
    return np.where(weights.max(axis=1) > 0, best, NO_TOPIC).astype(int)


# ---------------------------------------------------------------------- quality measures


def topic_coherence(topics: Sequence[Sequence[str]], tokens: Sequence[Sequence[str]], *,
                    measure: str = "c_npmi") -> list[float]:
    """Return gensim ``CoherenceModel`` coherence of each topic's terms on ``tokens``.

    Terms absent from ``tokens`` are ignored; a topic with fewer than two known terms gets
    NaN. All topics are scored with one probability estimate, so scoring many candidate
    models at once costs about as much as scoring one.
    """
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    if measure not in COHERENCE_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(COHERENCE_MEASURES)}, got {measure!r}")
    texts = [list(doc) for doc in tokens if doc]
    dictionary = Dictionary(texts)
    known = [[t for t in topic if t in dictionary.token2id] for topic in topics]
    scored = [i for i, topic in enumerate(known) if len(topic) >= 2]
    result = [math.nan] * len(topics)
    if not scored:
        return result
    topn = max(len(known[i]) for i in scored)
    model = CoherenceModel(topics=[known[i] for i in scored], texts=texts, dictionary=dictionary,
                           coherence=measure, topn=topn, processes=1)
    for i, value in zip(scored, model.get_coherence_per_topic()):
        result[i] = float(value)
    return result


def topic_diversity(topics: Sequence[Sequence[str]]) -> float:
    """Return the share of unique terms among all topics' top terms (1 = no term repeats)."""
    terms = [t for topic in topics for t in topic]
    return len(set(terms)) / len(terms) if terms else math.nan


def choose_k(tokens: Sequence[Sequence[str]], k_values: Sequence[int] = DEFAULT_K_RANGE, *,
             measure: str = "c_npmi", **params) -> tuple[pd.DataFrame, dict[int, TopicModel]]:
    """Fit one model per number of topics and score each by mean coherence.

    Returns the curve (columns ``k, coherence, diversity, chosen``; ``chosen`` marks the
    best mean coherence, the smaller k on a tie) and the fitted models by k.
    ``params`` go to :class:`TopicModel`.
    """
    values = sorted({int(k) for k in k_values})
    if not values or values[0] < 2:
        raise ValueError(f"k_values must be integers ≥ 2, got {list(k_values)!r}")
    models: dict[int, TopicModel] = {}
    for k in values:
        usable = sum(1 for doc in tokens if doc)
        if k > usable:
            break
        models[k] = TopicModel(n_topics=k, **params).fit_tokens(tokens)
    if not models:
        raise InputError(f"too few documents for any of k = {', '.join(map(str, values))}")
    fitted = list(models)
    flat = [terms for k in fitted for terms in models[k].top_terms_]
    scores = topic_coherence(flat, tokens, measure=measure)
    rows, start = [], 0
    for k in fitted:
        own = scores[start:start + k]
        start += k
        rows.append({"k": k, "coherence": round(float(np.nanmean(own)), 4) if not all(map(math.isnan, own)) else math.nan,
                     "diversity": round(topic_diversity(models[k].top_terms_), 4)})
    curve = pd.DataFrame(rows)
    best = curve["coherence"].fillna(-np.inf).to_numpy()
    curve["chosen"] = False
    curve.loc[int(np.argmax(best)), "chosen"] = True  # argmax takes the first (smallest k) on a tie
    return curve[CURVE_COLUMNS], models


# ---------------------------------------------------------------------- taxonomy mapping


def map_topics_to_themes(top_terms: Sequence[Sequence[str]], term_weights: Sequence[Sequence[float]],
                         taxonomy, tokenizer: Callable[[str], list[str]], *,
                         min_score: float = 0.2) -> pd.DataFrame:
    """Map each topic to the taxonomy theme its top terms overlap most, or to ``new``.

    A theme's vocabulary is its terms (whole) plus the tokens of its terms and name.
    A top term found in a theme's vocabulary adds its share of the topic's top-term
    weight, divided by the number of themes whose vocabulary holds it (a word shared by
    many themes says little). The best theme is taken when its score reaches
    ``min_score``; otherwise the topic is ``new``.

    Returns columns ``topic, theme, theme_name, theme_score, theme_terms`` (matched terms
    joined by a space).
    """
    vocab: dict[str, set[str]] = {}
    for theme in taxonomy.themes:
        words = set(theme.terms)
        for phrase in (*theme.terms, theme.name):
            words.update(t for t in tokenizer(phrase) if len(t) >= 2)
        vocab[theme.code] = words
    spread: dict[str, int] = {}
    for words in vocab.values():
        for w in words:
            spread[w] = spread.get(w, 0) + 1
    names = taxonomy.names()
    rows = []
    for topic, (terms, weights) in enumerate(zip(top_terms, term_weights)):
        total = float(sum(weights)) or 1.0
        best_code, best_score, best_terms = NEW_THEME, 0.0, []
        for code in taxonomy.codes:
            matched = [(t, w) for t, w in zip(terms, weights) if t in vocab[code]]
            score = sum(w / total / spread[t] for t, w in matched)
            if score > best_score + 1e-12:
                best_code, best_score, best_terms = code, score, [t for t, _ in matched]
        if best_score < min_score:
            best_code, best_terms = NEW_THEME, []
        rows.append({"topic": topic, "theme": best_code,
                     "theme_name": names.get(best_code, "新主题" if best_code == NEW_THEME else best_code),
                     "theme_score": round(best_score, 4), "theme_terms": " ".join(best_terms)})
    return pd.DataFrame(rows, columns=["topic", "theme", "theme_name", "theme_score", "theme_terms"])


# ---------------------------------------------------------------------- saving models


def model_dir(name_or_path: str | Path, root: str | Path = "models") -> Path:
    """Return the folder of a saved model: a bare name lives under ``models/``."""
    text = str(name_or_path)
    if not text.strip():
        raise InputError("the model name is empty")
    path = Path(text)
    return path if (len(path.parts) > 1 or path.is_absolute()) else Path(root) / path


def save_topic_model(model: TopicModel, directory: str | Path, *, training_sha256: str = "",
                     extra: dict | None = None) -> Path:
    """Save a fitted model as ``model.joblib`` plus ``metadata.json`` in ``directory``.

    The metadata (written by :func:`textmine.modelstore.write_model`) records the textmine and
    library versions, the parameters, the topics' top terms and a hash of the training texts.
    Load only models you saved yourself: a joblib file can run code when loaded.
    """
    check_is_fitted(model, "components_")
    params = {k: v for k, v in model.get_params().items() if k != "segmenter"}
    params["extra_stopwords"] = None if params["extra_stopwords"] is None else str(params["extra_stopwords"])
    metadata = {
        "task": "topics",
        "kind": "textmine.topics.TopicModel",
        "params": params,
        "n_topics": int(model.n_topics),
        "vocabulary_size": int(len(model.vocabulary_)),
        "training": {"documents": int(model.n_documents_), "sha256": training_sha256},
        "topics": [{"topic": i, "terms": terms, "size": int(size)}
                   for i, (terms, size) in enumerate(zip(model.top_terms_, model.topic_sizes_))],
        **(extra or {}),
    }
    return write_model(model, directory, metadata, check=("gensim",) if model.method == "gensim-lda" else (),
                       record=("jieba", "numpy", "pandas"))


def load_topic_model(directory: str | Path, *, segmenter=None) -> TopicModel:
    """Load a model saved by :func:`save_topic_model`; ``segmenter`` replaces the saved one.

    :func:`textmine.modelstore.read_metadata` refuses other formats and other scikit-learn
    (or, for ``gensim-lda``, gensim) versions with a :class:`ModelError` naming the folder.
    """
    directory = Path(directory)
    read_metadata(directory, tasks=("topics",), what="topic model",
                  remedy="refit it with textmine topics --model (or install the versions it was made with)")
    model = load_pickled(directory)
    if not isinstance(model, TopicModel):
        raise ModelError(f"{directory / 'model.joblib'}: holds a {type(model).__name__}, not a TopicModel")
    if segmenter is not None:
        model.segmenter = segmenter
    return model


def _versions() -> dict[str, str]:
    return library_versions("scikit-learn", "gensim", "jieba", "numpy", "pandas")


# ---------------------------------------------------------------------- the analysis


@dataclass
class TopicAnalysis:
    """Result tables of :func:`analyse_topics` plus a record of how they were made.

    topics : ``topic, label, terms, size, share, coherence, theme, theme_name, theme_score,
        theme_terms`` — one row per topic; ``size`` counts documents whose dominant topic it
        is, ``share`` is size / documents with a topic.
    doc_topics : ``row_id, topic, weight`` for every input row (-1 and 0.0 when no word of
        the text is in the vocabulary or the text is empty/non-substantive).
    per_office : ``office, topic, count, share`` (share of the office's documents with a
        topic) — empty when not asked for or no office column.
    over_time : ``period, topic, count, share`` with ``period`` = ``YYYY-MM``.
    representatives : ``topic, rank, row_id, weight, text`` — the most typical documents of
        each topic (highest weight, repeats skipped), text cleaned and masked.
    k_curve : coherence curve of ``k="auto"`` (empty otherwise).
    """

    topics: pd.DataFrame
    doc_topics: pd.DataFrame
    per_office: pd.DataFrame
    over_time: pd.DataFrame
    representatives: pd.DataFrame
    k_curve: pd.DataFrame
    model: TopicModel
    info: dict = field(default_factory=dict)


def analyse_topics(frame: pd.DataFrame, columns: dict[str, str | None], *, k: int | str = 10,
                   method: str = "nmf", seed: int = 0, by: Sequence[str] | None = None,
                   model: TopicModel | None = None, toolkit=None, measure: str = "c_npmi",
                   k_values: Sequence[int] = DEFAULT_K_RANGE, n_examples: int = 5,
                   min_theme_score: float = 0.2, theme_segmenter=None, **params) -> TopicAnalysis:
    """Discover topics in a table of messages (no files written).

    frame, columns : the input rows (index = row id) and role → column, as for
        :func:`textmine.pipeline.analyse`; ``text`` is required, ``office`` and ``date``
        are used for the breakdowns.
    k : number of topics, or ``"auto"`` to choose among ``k_values`` by coherence.
    model : a fitted model to apply instead of fitting one (ids stay those of the model).
    by : breakdowns to compute, among ``office`` and ``month``; None = every one whose
        column exists. Asking for one whose column is missing raises ColumnError.
    theme_segmenter : cuts the taxonomy's terms for the theme mapping; a plain ``Segmenter()``
        (one that does not know the theme terms as words) when None.
    params : more :class:`TopicModel` parameters (min_df, max_df, n_terms …).
    """
    from .clean import NonSubstantiveFilter, clean_text
    from .errors import ColumnError
    from .pipeline import Toolkit
    from .segment import Segmenter

    text_col = columns.get("text")
    if not text_col:
        raise ColumnError("no text column given")
    if measure not in COHERENCE_MEASURES:
        raise InputError(f"coherence must be one of {', '.join(COHERENCE_MEASURES)}, got {measure!r}")
    wanted = _breakdowns(by, columns)
    toolkit = toolkit or Toolkit.load()
    cleaned = [clean_text(t) for t in frame[text_col].fillna("").astype(str)]
    filler = toolkit.filler if toolkit.filler is not None else NonSubstantiveFilter()
    substantive = np.array([filler.reason(t) is None for t in cleaned])

    curve = pd.DataFrame(columns=CURVE_COLUMNS)
    if model is not None:
        check_is_fitted(model, "components_")
        if model.segmenter is None:
            model.segmenter = toolkit.segmenter
        tokens = model.tokenize(cleaned)
    else:
        template = TopicModel(method=method, random_state=seed, segmenter=toolkit.segmenter, **params)
        tokens = template.tokenize(cleaned)
    tokens = [doc if keep else [] for doc, keep in zip(tokens, substantive)]
    if model is None:
        try:
            if k == "auto":
                curve, models = choose_k(tokens, k_values, measure=measure, method=method, random_state=seed,
                                         segmenter=toolkit.segmenter, **params)
                model = models[int(curve.loc[curve["chosen"], "k"].iloc[0])]
            else:
                model = TopicModel(n_topics=k, method=method, random_state=seed,
                                   segmenter=toolkit.segmenter, **params).fit_tokens(tokens)
        except ValueError as exc:  # a parameter the user passed
            raise InputError(str(exc)) from None
    weights = model.transform_tokens(tokens)
    dominant = _dominant(weights)
    top_weight = np.where(dominant >= 0, weights.max(axis=1) if weights.size else 0.0, 0.0)

    row_ids = frame.index.to_numpy()
    doc_topics = pd.DataFrame({"row_id": row_ids, "topic": dominant, "weight": np.round(top_weight, 4)})
    n_topics = int(model.n_topics)
    sizes = np.bincount(dominant[dominant >= 0], minlength=n_topics)
    assigned = int(sizes.sum())
    coherence = topic_coherence(model.top_terms_, tokens, measure=measure)
    # theme terms cut by a segmenter that does not know them as words: 态度恶劣 → 态度, 恶劣
    mapping = map_topics_to_themes(model.top_terms_, model.term_weights(), toolkit.taxonomy,
                                   (theme_segmenter or Segmenter()).tokens, min_score=min_theme_score)
    topics = pd.DataFrame({
        "topic": range(n_topics),
        "label": ["_".join(terms[:3]) for terms in model.top_terms_],
        "terms": [" ".join(terms) for terms in model.top_terms_],
        "size": sizes.astype(int),
        "share": np.round(sizes / assigned, 4) if assigned else 0.0,
        "coherence": [round(c, 4) if not math.isnan(c) else math.nan for c in coherence],
    })
    topics = topics.merge(mapping, on="topic", how="left")[TOPIC_COLUMNS]

    per_office = pd.DataFrame(columns=["office", "topic", "count", "share"])
    if "office" in wanted:
        written = frame[columns["office"]].fillna("").astype(str).tolist()
        offices = toolkit.offices.resolve_many(written)["office"].to_numpy()
        per_office = _crosstab(offices, dominant, "office")
    over_time = pd.DataFrame(columns=["period", "topic", "count", "share"])
    if "month" in wanted:
        periods = _months(frame[columns["date"]])
        over_time = _crosstab(periods, dominant, "period")

    masked = [toolkit.masker.mask(t) for t in cleaned]
    representatives = _representatives(dominant, top_weight, masked, row_ids, n_examples)
    info = {
        "documents": int(len(frame)), "with_topic": assigned,
        "without_topic": int(len(frame) - assigned),
        "non_substantive": int((~substantive).sum()),
        "method": model.method, "n_topics": n_topics, "seed": int(model.random_state),
        "coherence_measure": measure, "mean_coherence": _nanmean(coherence),
        "diversity": round(topic_diversity(model.top_terms_), 4),
        "vocabulary_size": int(len(model.vocabulary_)),
        "new_topics": int((topics["theme"] == NEW_THEME).sum()),
        "breakdowns": sorted(wanted),
        "columns": {role: col for role, col in columns.items() if col},
        "texts_sha256": _texts_hash(cleaned),
    }
    return TopicAnalysis(topics, doc_topics, per_office, over_time, representatives, curve, model, info)


def _breakdowns(by: Sequence[str] | None, columns: dict[str, str | None]) -> set[str]:
    from .errors import ColumnError

    needs = {"office": "office", "month": "date"}
    if by is None:
        return {b for b in BREAKDOWNS if columns.get(needs[b])}
    wanted = set()
    for b in by:
        if b not in BREAKDOWNS:
            raise InputError(f"--by must be one of {', '.join(BREAKDOWNS)}, got {b!r}")
        if not columns.get(needs[b]):
            raise ColumnError(f"--by {b} needs a {needs[b]} column; none was detected — "
                              f"pass --{needs[b]}-col")
        wanted.add(b)
    return wanted


def _crosstab(keys: np.ndarray, dominant: np.ndarray, name: str) -> pd.DataFrame:
    data = pd.DataFrame({name: keys, "topic": dominant})
    data = data[(data["topic"] >= 0) & (data[name] != "")]
    if data.empty:
        return pd.DataFrame(columns=[name, "topic", "count", "share"])
    counts = data.groupby([name, "topic"]).size().rename("count").reset_index()
    totals = counts.groupby(name)["count"].transform("sum")
    counts["share"] = (counts["count"] / totals).round(4)
    return counts.sort_values([name, "count", "topic"], ascending=[True, False, True]).reset_index(drop=True)


def _months(values: pd.Series) -> np.ndarray:
    """Return ``YYYY-MM`` for each date-like value, "" when it cannot be read as a date."""
    text = values.fillna("").astype(str).str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return np.where(parsed.notna(), parsed.dt.strftime("%Y-%m"), "")


def _representatives(dominant: np.ndarray, weight: np.ndarray, texts: list[str], row_ids: np.ndarray,
                     n: int) -> pd.DataFrame:
    from .clean import comparison_key

    rows = []
    for topic in sorted(set(int(t) for t in dominant if t >= 0)):
        members = np.flatnonzero(dominant == topic)
        order = sorted(members, key=lambda i: (-round(float(weight[i]), 9), i))
        seen: set[str] = set()
        for i in order:
            key = comparison_key(texts[i])
            if not key or key in seen:
                continue
            seen.add(key)
            rows.append({"topic": topic, "rank": len(seen), "row_id": row_ids[i],
                         "weight": round(float(weight[i]), 4), "text": texts[i]})
            if len(seen) == n:
                break
    return pd.DataFrame(rows, columns=["topic", "rank", "row_id", "weight", "text"])


def _nanmean(values: Sequence[float]) -> float | None:
    finite = [v for v in values if not math.isnan(v)]
    return round(float(np.mean(finite)), 4) if finite else None


def _texts_hash(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------------- the command


def run_topics(input_path: str | Path, out_dir: str | Path, *, columns: dict[str, str | None] | None = None,
               encoding: str | None = None, sheet: str | int | None = None, k: int | str = 10,
               method: str = "nmf", seed: int = 0, by: Sequence[str] | None = None,
               model: str | Path | None = None, taxonomy: str | Path | None = None,
               measure: str = "c_npmi", k_values: Sequence[int] = DEFAULT_K_RANGE,
               models_root: str | Path = "models", toolkit=None, **params) -> TopicAnalysis:
    """Read ``input_path``, discover topics and write them into ``out_dir``.

    model : a saved model's name (under ``models_root``) or folder. When it exists it is
        applied to this batch (ids stay stable); otherwise the fitted model is saved there.
    toolkit : a loaded :class:`textmine.pipeline.Toolkit` to reuse (``taxonomy`` is then ignored).

    Writes ``topics.csv``, ``doc_topics.csv``, ``representatives.csv``,
    ``topics_per_office.csv`` / ``topics_over_time.csv`` (when computed), ``k_curve.csv``
    (``k="auto"``) and ``topics.json`` (counts, options, versions).
    """
    from .export import write_csv, write_json
    from .pipeline import Toolkit
    from .read import read_table, resolve_columns

    table = read_table(input_path, encoding=encoding, sheet=sheet)
    mapping = resolve_columns(table, **(columns or {}))
    toolkit = toolkit or Toolkit.load(taxonomy=taxonomy)
    saved_at = model_dir(model, models_root) if model is not None else None
    fitted = None
    if saved_at is not None and saved_at.exists():
        fitted = load_topic_model(saved_at, segmenter=toolkit.segmenter)
    result = analyse_topics(table.frame, mapping, k=k, method=method, seed=seed, by=by, model=fitted,
                            toolkit=toolkit, measure=measure, k_values=k_values, **params)
    result.info["model"] = {"path": str(saved_at) if saved_at else None,
                            "reused": fitted is not None}
    if saved_at is not None and fitted is None:
        save_topic_model(result.model, saved_at, training_sha256=result.info["texts_sha256"],
                         extra={"taxonomy_sha256": toolkit.taxonomy.sha256})
    out = Path(out_dir)
    write_csv(result.topics, out / "topics.csv")
    write_csv(result.doc_topics, out / "doc_topics.csv")
    write_csv(result.representatives, out / "representatives.csv")
    if "office" in result.info["breakdowns"]:
        write_csv(result.per_office, out / "topics_per_office.csv")
    if "month" in result.info["breakdowns"]:
        write_csv(result.over_time, out / "topics_over_time.csv")
    if not result.k_curve.empty:
        write_csv(result.k_curve, out / "k_curve.csv")
    result.info["input"] = {"path": str(input_path), "encoding": table.encoding, "sheet": table.sheet}
    result.info["versions"] = _versions()
    write_json(result.info, out / "topics.json")
    return result
