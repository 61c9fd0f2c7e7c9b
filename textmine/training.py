"""File-level jobs around the classifiers: train a model, evaluate one, classify a file.

These are what ``textmine train``, ``textmine evaluate`` and ``textmine classify`` call.
Texts are prepared exactly as in the main job (cleaned, personal data masked), so a
model sees at prediction time what it saw in training.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .classify import LexiconThemeClassifier, split_codes, theme_table
from .clean import clean_text
from .default_classifier import default_theme_classifier
from .errors import ColumnError, TextmineError
from .evaluate import (cross_validated_predictions, multilabel_scores, predict_label_cells, report_dict,
                       single_label_scores, theme_set_confusion)
from .export import write_csv
from .modelstore import load_model, save_model, text_digest
from .read import Table, read_table, resolve_columns
from .redact import Masker
from .taxonomy import load_taxonomy

TASKS = ("themes", "route")


@dataclass
class Labelled:
    """Texts (prepared) and labels read from a file, with what was skipped and why."""

    texts: list[str]
    labels: list[str]
    table: Table
    skipped: dict[str, int]


def prepare_texts(table: Table, text_col: str, title_col: str | None = None, masker: Masker | None = None) -> list[str]:
    """Clean and mask the text column (prefixed with the title column when given)."""
    masker = masker or Masker.from_file()
    frame = table.frame
    texts = frame[text_col].fillna("").astype(str)
    if title_col:
        titles = frame[title_col].fillna("").astype(str)
        texts = [f"{t}。{x}" if t.strip() else x for t, x in zip(titles, texts)]
    return [masker.mask(clean_text(t)) for t in texts]


def _require(table: Table, column: str | None, option: str) -> str:
    if not column:
        raise ColumnError(f"{table.path}: {option} is required; columns are {', '.join(table.frame.columns)}")
    if column not in table.frame.columns:
        raise ColumnError(f"{table.path}: column {column} not found; columns are "
                          f"{', '.join(table.frame.columns)} — pass {option}")
    return column


def load_labelled(input_path, *, text_col=None, label_col=None, title_col=None, task="themes",
                  encoding=None, sheet=None, taxonomy=None) -> Labelled:
    """Read a labelled file; rows with empty text (or, for routing, no label) are skipped and counted."""
    if task not in TASKS:
        raise TextmineError(f"--task must be one of {', '.join(TASKS)}, got {task!r}")
    table = read_table(input_path, encoding=encoding, sheet=sheet)
    text_col = resolve_columns(table, text=text_col)["text"]
    label_col = _require(table, label_col, "--label-col")
    if title_col:
        _require(table, title_col, "--title-col")
    texts = prepare_texts(table, text_col, title_col)
    labels = [str(v).strip() for v in table.frame[label_col].fillna("")]
    if task == "themes":
        codes = set(load_taxonomy(taxonomy).codes)
        for row, value in zip(table.frame.index, labels):
            unknown = [c for c in split_codes(value) if c not in codes]
            if unknown:
                raise ColumnError(f"{table.path}: row {row}, column {label_col}: unknown theme code "
                                  f"{unknown[0]!r}; codes are {', '.join(sorted(codes))}")
    keep, skipped = [], {"empty_text": 0, "no_label": 0}
    for i, (text, label) in enumerate(zip(texts, labels)):
        if not text:
            skipped["empty_text"] += 1
        elif task == "route" and not label:
            skipped["no_label"] += 1
        else:
            keep.append(i)
    return Labelled([texts[i] for i in keep], [labels[i] for i in keep], table, skipped)


def make_model(task: str, taxonomy=None, **params):
    """A fresh, unfitted model for ``task`` with the project's default parameters."""
    from .learn import LearnedThemeClassifier, RouteClassifier

    if task == "route":
        return RouteClassifier(**params)
    return LearnedThemeClassifier(taxonomy=taxonomy, **params)


def train_file(input_path, out_dir, *, text_col=None, label_col=None, title_col=None, task="themes",
               weak: bool = False, taxonomy=None, folds: int = 0, encoding=None, sheet=None) -> dict:
    """Train a model on a labelled file (or, with ``weak``, on lexicon labels) and save it in ``out_dir``.

    With ``folds`` ≥ 2 the metadata also records cross-validated scores. Returns the metadata.
    """
    if weak:
        if task != "themes":
            raise TextmineError("--weak labels come from the theme lexicon; it applies to --task themes only")
        table = read_table(input_path, encoding=encoding, sheet=sheet)
        text_col = resolve_columns(table, text=text_col)["text"]
        texts = [t for t in prepare_texts(table, text_col, title_col) if t]
        lexicon = LexiconThemeClassifier(taxonomy=taxonomy).fit()
        labels = [";".join(sorted(found)) for found in lexicon.evidence(texts)]
        data = Labelled(texts, labels, table, {"empty_text": len(table.frame) - len(texts), "no_label": 0})
    else:
        data = load_labelled(input_path, text_col=text_col, label_col=label_col, title_col=title_col,
                             task=task, encoding=encoding, sheet=sheet, taxonomy=taxonomy)
    if len(data.texts) < 10:
        raise TextmineError(f"{input_path}: only {len(data.texts)} usable rows; training needs at least 10")
    metrics = {}
    if folds:
        metrics = {"cross_validation": evaluate_predictions(
            data.labels, cross_validated_predictions(lambda: make_model(task, taxonomy), data.texts, data.labels,
                                                     task=task, folds=folds), task=task, folds=folds)}
    model = make_model(task, taxonomy).fit(data.texts, data.labels)
    training = {"source": str(input_path), "rows_used": len(data.texts), "rows_skipped": data.skipped,
                "sha256": text_digest(data.texts, data.labels), "weak_labels": weak,
                "text_col": text_col, "label_col": label_col, "title_col": title_col}
    save_model(model, out_dir, task=task, training=training, metrics=metrics)
    from .modelstore import read_metadata

    return read_metadata(out_dir)


def evaluate_predictions(truth: list[str], predicted: list[str], *, task: str, **extra) -> dict:
    """Score predictions and return a JSON-ready dict."""
    if task == "route":
        return {"task": task, **extra, **report_dict(single_label_scores(truth, predicted), task=task)}
    scores = multilabel_scores(truth, predicted, load_taxonomy().codes)
    return {"task": task, **extra, **report_dict(scores, task=task),
            "confusion": theme_set_confusion(truth, predicted)}


def evaluate_file(input_path, *, text_col=None, label_col=None, title_col=None, task="themes",
                  model_dir=None, folds: int = 0, taxonomy=None, encoding=None, sheet=None) -> dict:
    """Evaluate the shipped default, a saved model (``model_dir``) or K-fold cross-validation."""
    if model_dir and folds:
        raise TextmineError("give either --model or --folds, not both")
    data = load_labelled(input_path, text_col=text_col, label_col=label_col, title_col=title_col,
                         task=task, encoding=encoding, sheet=sheet, taxonomy=taxonomy)
    if folds:
        predicted = cross_validated_predictions(lambda: make_model(task, taxonomy), data.texts, data.labels,
                                                task=task, folds=folds)
        how = f"{folds}-fold cross-validation of a model trained on the file"
    elif model_dir:
        model, metadata = load_model(model_dir)
        if metadata["task"] != task:
            raise TextmineError(f"{model_dir} is a {metadata['task']} model; pass --task {metadata['task']}")
        predicted = predict_label_cells(model, data.texts)
        how = f"model {model_dir}"
    else:
        if task == "route":
            raise TextmineError("routing has no shipped default: pass --model DIR or --folds K")
        predicted = predict_label_cells(default_theme_classifier(taxonomy), data.texts)
        how = "shipped default classifier"
    return evaluate_predictions(data.labels, predicted, task=task, source=str(input_path), classifier=how,
                                rows_skipped=data.skipped)


def classify_file(input_path, output_path, *, text_col=None, title_col=None, model_dir=None,
                  min_confidence: float | None = None, encoding=None, sheet=None, taxonomy=None) -> pd.DataFrame:
    """Add themes (or, with a routing model, ``route`` and ``route_confidence``) to every row and write CSV."""
    table = read_table(input_path, encoding=encoding, sheet=sheet)
    text_col = resolve_columns(table, text=text_col)["text"]
    if title_col:
        _require(table, title_col, "--title-col")
    texts = prepare_texts(table, text_col, title_col)
    task, model = "themes", None
    if model_dir:
        model, metadata = load_model(model_dir)
        task = metadata["task"]
    if min_confidence is not None and not 0 <= min_confidence <= 1:
        raise TextmineError(f"--min-confidence must be between 0 and 1, got {min_confidence}")
    if task == "route":
        routes, confidence = model.route(texts, min_confidence=min_confidence)
        added = pd.DataFrame({"route": routes, "route_confidence": np.round(confidence, 4)})
    else:
        tax = load_taxonomy(taxonomy) if model is None else model.taxonomy_
        added = theme_table(model if model is not None else default_theme_classifier(tax), texts, tax.names())
    base = table.frame.drop(columns=[c for c in added.columns if c in table.frame]).reset_index(drop=True)
    result = pd.concat([base, added], axis=1)
    write_csv(result, output_path)
    return result
