"""Save and load trained models: ``models/NAME/model.joblib`` plus ``metadata.json``.

One piece of code writes and checks the metadata of every saved model (theme and routing
models here, topic models in :mod:`textmine.topics`): the format, the task, the versions of
textmine, Python and the libraries whose objects are pickled, and when it was made.
A model made by another scikit-learn version (major.minor) or another model format is
refused with a message saying how to rebuild it: unpickling across versions can give
silently wrong answers, which is worse than an error.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .errors import TextmineError
from .export import atomic_path

FORMAT = 1
TASKS = ("themes", "route")
RETRAIN = "retrain it with textmine train"
# metadata written before it recorded a task: its "kind" says which task it is
_LEGACY_KINDS = {"textmine.topics.TopicModel": "topics"}


class ModelError(TextmineError):
    """A saved model is missing, damaged or incompatible with this installation."""


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def model_versions(*packages: str) -> dict[str, str]:
    """Versions recorded with a model: textmine, Python, scikit-learn and ``packages``."""
    from .resources import library_versions

    return {"textmine": __version__, **library_versions("scikit-learn", *packages)}


def text_digest(texts, labels=None) -> str:
    """SHA-256 over the training texts (and labels): identifies the training data."""
    digest = hashlib.sha256()
    for i, text in enumerate(texts):
        digest.update(str(text).encode("utf-8") + b"\x1f")
        if labels is not None:
            digest.update(str(labels[i]).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def write_model(model, directory: str | Path, metadata: dict, *, check: tuple[str, ...] = (),
                record: tuple[str, ...] = ()) -> Path:
    """Pickle ``model`` and write ``metadata`` (plus format, versions and time) into ``directory``.

    ``metadata`` must name its ``task``. ``check`` lists libraries besides scikit-learn whose
    objects the pickle holds: :func:`read_metadata` refuses another major.minor version of
    them; ``record`` lists libraries whose versions are only recorded.
    """
    import joblib

    if not metadata.get("task"):
        raise ValueError("model metadata must name its task")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    metadata = {"format": FORMAT, **metadata, "versions": model_versions(*check, *record),
                "checked_versions": ["scikit-learn", *check],
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with atomic_path(directory / "model.joblib") as tmp:
        joblib.dump(model, tmp, compress=3)
    with atomic_path(directory / "metadata.json") as tmp:
        tmp.write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return directory


def save_model(model, directory: str | Path, *, task: str, training: dict, metrics: dict | None = None) -> Path:
    """Write a theme or routing ``model`` and its metadata into ``directory`` (created if needed)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    params = {k: (v if isinstance(v, (int, float, str, bool, type(None), list, tuple)) else repr(v))
              for k, v in model.get_params(deep=False).items()}
    return write_model(model, directory, {
        "task": task,
        "estimator": type(model).__name__,
        "labels": [str(c) for c in model.classes_],
        "params": params,
        "training": training,
        "metrics": metrics or {},
    })


def read_metadata(directory: str | Path, *, tasks: tuple[str, ...] = TASKS, what: str = "textmine model",
                  remedy: str = RETRAIN) -> dict:
    """Read and check a model's metadata.json without loading the model.

    Refuses (:class:`ModelError`, naming the file and saying ``remedy``) a missing or unreadable
    file, another format, a task not in ``tasks``, and a model pickled with another major.minor
    version of scikit-learn (or of a library listed in its ``checked_versions``).
    """
    directory = Path(directory)
    path = directory / "metadata.json"
    if not path.exists():
        raise ModelError(f"{directory}: not a saved {what} (no metadata.json); {remedy}")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable model metadata ({exc})") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"{path}: unreadable model metadata (not a JSON object)")
    task = metadata.get("task") or _LEGACY_KINDS.get(metadata.get("kind"))
    if metadata.get("format") != FORMAT:
        raise ModelError(f"{path}: unsupported model format {metadata.get('format')!r} (textmine {__version__} "
                         f"reads format {FORMAT}); {remedy}")
    if task not in tasks:
        raise ModelError(f"{directory}: a {task!r} model, not a {what} (task {' or '.join(map(repr, tasks))})")
    saved = metadata.get("versions") or {}
    checked = metadata.get("checked_versions") or (["scikit-learn", "gensim"] if task == "topics" else ["scikit-learn"])
    current = model_versions(*checked)
    for package in checked:
        was, now = saved.get(package, "unknown"), current[package]
        # a library absent when saving (other than scikit-learn) cannot be in the pickle
        if (package == "scikit-learn" or was != "unknown") and _minor(was) != _minor(now):
            raise ModelError(f"{directory}: trained with {package} {was}, this is {now}; pickled models "
                             f"are not portable across versions — {remedy}")
    return {**metadata, "task": task}


def load_pickled(directory: str | Path):
    """Unpickle ``directory/model.joblib`` (check its metadata first with :func:`read_metadata`)."""
    import joblib

    path = Path(directory) / "model.joblib"
    if not path.exists():
        raise ModelError(f"{directory}: no model.joblib next to metadata.json; the model folder is incomplete")
    try:
        return joblib.load(path)
    except Exception as exc:  # a damaged or truncated file: say which, never a traceback
        raise ModelError(f"{path}: cannot load the model ({type(exc).__name__}: {exc})") from None


def load_model(directory: str | Path):
    """Return ``(model, metadata)`` of a theme or routing model; refuse models from incompatible versions."""
    directory = Path(directory)
    metadata = read_metadata(directory)
    model = load_pickled(directory)
    labels = [str(c) for c in getattr(model, "classes_", [])]
    if labels != metadata["labels"]:
        raise ModelError(f"{directory}: model.joblib does not match metadata.json (labels differ)")
    return model, metadata
