"""The shipped default theme classifier: the taxonomy's lexicon, and where it finds nothing a
model learned from the shipped training messages.

``corpora/theme_training/written_*.csv`` holds messages the textmine team wrote for this
purpose (no real citizen text: see its README), labelled by ``THEMES.md``. A
:class:`~textmine.learn.LearnedThemeClassifier` learns char + word n-grams from them; the
default classifier gives a text the themes whose phrases the lexicon finds in it; a text in
which the lexicon finds none gets the themes the model is confident about. The lexicon catches
the fixed expressions precisely (and every theme it gives has a phrase an office can be shown),
the model generalises to wordings no phrase list foresaw (measured on real messages in
``benchmarks/RESULTS.md``), and it runs only on the texts the lexicon leaves untagged.

Fitting takes seconds, so the fitted model is kept in a cache directory
(``$TEXTMINE_CACHE``, else ``$XDG_CACHE_HOME/textmine``, else ``~/.cache/textmine``) under
a name derived from the training files, the model's settings and the versions of textmine,
Python and scikit-learn: editing the messages or upgrading a library refits it; nothing is
ever downloaded. Where no cache can be written the model is fitted in memory each time.

The model knows the default taxonomy's codes only: with a taxonomy of other themes the
default classifier is the lexicon alone.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from functools import lru_cache
from pathlib import Path

from .classify import LexiconThemeClassifier, ThemeClassifier
from .resources import corpus_path
from .taxonomy import Taxonomy, load_taxonomy

TRAINING_DIR = "theme_training"
# settings of the shipped model (chosen on the team's development labels, see benchmarks/quality.py)
MODEL_PARAMS = {"C": 4.0, "char_ngrams": (1, 3), "word_ngrams": None, "min_df": 2, "max_features": 50_000,
                "min_threshold": 0.5}
_FORMAT = 1

log = logging.getLogger(__name__)


def default_theme_classifier(taxonomy: Taxonomy | str | Path | None = None, *,
                             cache_dir: str | Path | None = None) -> ThemeClassifier:
    """The lexicon of ``taxonomy``, falling back on the model of the shipped training messages.

    With a taxonomy whose codes differ from the default ones (the model cannot know them),
    or when the training folder is missing, the lexicon alone.
    """
    tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    lexicon = LexiconThemeClassifier(taxonomy=tax).fit()
    files = training_files()
    if not files or list(tax.codes) != list(load_taxonomy().codes):
        return lexicon
    model = _written_model(str(Path(cache_dir) if cache_dir else cache_directory()), _digest(files))
    return model.with_lexicon(lexicon, "fallback")


def training_files() -> list[Path]:
    """The shipped training messages, in a stable order."""
    return sorted(corpus_path(TRAINING_DIR).glob("written_*.csv"))


def cache_directory() -> Path:
    """Where fitted models are kept (``$TEXTMINE_CACHE`` overrides the platform default)."""
    if os.environ.get("TEXTMINE_CACHE"):
        return Path(os.environ["TEXTMINE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "textmine"


def training_messages(files: list[Path] | None = None):
    """The training messages as one table (columns ``text``, ``labels``, ``channel``, ``file``)."""
    import pandas as pd

    from .errors import DataFileError

    frames = []
    for path in files if files is not None else training_files():
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = {"text", "labels"} - set(frame.columns)
        if missing:
            raise DataFileError(f"{path}: columns {', '.join(sorted(missing))} are missing")
        frames.append(frame.assign(file=path.name))
    return pd.concat(frames, ignore_index=True)


def _digest(files: list[Path]) -> str:
    import sklearn

    from . import __version__

    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    settings = {"format": _FORMAT, "params": MODEL_PARAMS, "textmine": __version__,
                "python": f"{sys.version_info.major}.{sys.version_info.minor}", "sklearn": sklearn.__version__}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:20]


@lru_cache(maxsize=2)  # one fitted model per process, shared by every Toolkit (it is never modified)
def _written_model(cache_dir: str, digest: str):
    import joblib

    from .export import atomic_path
    from .learn import LearnedThemeClassifier

    path = Path(cache_dir) / f"themes-{digest}.joblib"
    if path.exists():
        try:
            return joblib.load(path)
        except Exception as exc:  # damaged or unreadable: fit again below
            log.warning("refitting the default theme model: %s could not be read (%s)", path, exc)
    data = training_messages()
    model = LearnedThemeClassifier(lexicon="none", **MODEL_PARAMS).fit(data["text"].tolist(), data["labels"].tolist())
    model.training_digest_ = digest
    try:
        with atomic_path(path) as tmp:
            joblib.dump(model, tmp)
    except OSError as exc:
        log.warning("the default theme model could not be cached in %s (%s); it is fitted each time", cache_dir, exc)
    return model


def describe_classifier(classifier) -> dict:
    """What classified the themes, for run records: the kind, and for the shipped default the
    key of its training messages and settings."""
    from .learn import LearnedThemeClassifier

    if isinstance(classifier, LexiconThemeClassifier):
        return {"kind": "lexicon"}
    if isinstance(classifier, LearnedThemeClassifier):
        digest = getattr(classifier, "training_digest_", None)
        if digest is not None:
            return {"kind": "lexicon, else the model of the shipped training messages", "training_key": digest,
                    "params": {k: list(v) if isinstance(v, tuple) else v for k, v in MODEL_PARAMS.items()}}
        return {"kind": f"model (lexicon: {classifier.lexicon})"}
    return {"kind": type(classifier).__name__}
