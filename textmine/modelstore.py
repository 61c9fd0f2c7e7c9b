"""Save and load trained models: ``models/NAME/model.joblib`` plus ``metadata.json``.

A model made by another scikit-learn version (major.minor) or another model format is
refused with a message saying how to retrain it: unpickling across versions can give
silently wrong answers, which is worse than an error.
"""
from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .errors import TextmineError
from .export import atomic_path

FORMAT = 1
TASKS = ("themes", "route")


class ModelError(TextmineError):
    """A saved model is missing, damaged or incompatible with this installation."""


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def text_digest(texts, labels=None) -> str:
    """SHA-256 over the training texts (and labels): identifies the training data."""
    digest = hashlib.sha256()
    for i, text in enumerate(texts):
        digest.update(str(text).encode("utf-8") + b"\x1f")
        if labels is not None:
            digest.update(str(labels[i]).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def save_model(model, directory: str | Path, *, task: str, training: dict, metrics: dict | None = None) -> Path:
    """Write ``model`` and its metadata into ``directory`` (created if needed)."""
    import joblib

    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    params = {k: (v if isinstance(v, (int, float, str, bool, type(None), list, tuple)) else repr(v))
              for k, v in model.get_params(deep=False).items()}
    metadata = {
        "format": FORMAT,
        "task": task,
        "estimator": type(model).__name__,
        "labels": [str(c) for c in model.classes_],
        "params": params,
        "training": training,
        "metrics": metrics or {},
        "versions": {"textmine": __version__, "scikit-learn": _sklearn_version(),
                     "python": platform.python_version()},
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    with atomic_path(directory / "model.joblib") as tmp:
        joblib.dump(model, tmp, compress=3)
    with atomic_path(directory / "metadata.json") as tmp:
        tmp.write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return directory


def read_metadata(directory: str | Path) -> dict:
    """Read and check a model's metadata.json without loading the model."""
    directory = Path(directory)
    path = directory / "metadata.json"
    if not path.exists():
        raise ModelError(f"{directory}: not a textmine model (no metadata.json); train one with textmine train")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable model metadata ({exc})") from None
    if metadata.get("format") != FORMAT or metadata.get("task") not in TASKS:
        raise ModelError(f"{path}: model format {metadata.get('format')!r} / task {metadata.get('task')!r} "
                         f"is not supported by textmine {__version__}; retrain it with textmine train")
    trained_with = metadata.get("versions", {}).get("scikit-learn", "unknown")
    if _minor(trained_with) != _minor(_sklearn_version()):
        raise ModelError(f"{directory}: trained with scikit-learn {trained_with}, this is {_sklearn_version()}; "
                         "pickled models are not portable across versions — retrain it with textmine train")
    return metadata


def load_model(directory: str | Path):
    """Return ``(model, metadata)``; refuse models from incompatible versions."""
    import joblib

    directory = Path(directory)
    metadata = read_metadata(directory)
    try:
        model = joblib.load(directory / "model.joblib")
    except Exception as exc:  # a damaged or truncated file: say which, never a traceback
        raise ModelError(f"{directory / 'model.joblib'}: cannot load the model ({type(exc).__name__}: {exc})") from None
    labels = [str(c) for c in getattr(model, "classes_", [])]
    if labels != metadata["labels"]:
        raise ModelError(f"{directory}: model.joblib does not match metadata.json (labels differ)")
    return model, metadata
