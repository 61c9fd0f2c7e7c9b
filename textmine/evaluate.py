"""Measure theme predictions against labels: per-theme precision, recall, F1, micro/macro F1."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .classify import split_codes


def multilabel_scores(truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> dict:
    """Score ``;``-joined label cells against predictions.

    Returns ``{"per_theme": DataFrame(theme, support, tp, fp, fn, precision, recall, f1),
    "micro": {precision, recall, f1}, "macro_f1": float, "exact_match": float, "n": int}``.
    Macro F1 averages over themes with at least one true or predicted occurrence.
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} label rows but {len(predicted)} predictions")
    true_sets = [set(split_codes(t)) for t in truth]
    pred_sets = [set(split_codes(p)) for p in predicted]
    rows = []
    for code in classes:
        tp = sum(code in t and code in p for t, p in zip(true_sets, pred_sets))
        fp = sum(code not in t and code in p for t, p in zip(true_sets, pred_sets))
        fn = sum(code in t and code not in p for t, p in zip(true_sets, pred_sets))
        rows.append({"theme": code, "support": tp + fn, "tp": tp, "fp": fp, "fn": fn, **_prf(tp, fp, fn)})
    per_theme = pd.DataFrame(rows)
    tp, fp, fn = (int(per_theme[c].sum()) for c in ("tp", "fp", "fn"))
    active = per_theme[(per_theme["support"] > 0) | (per_theme["fp"] > 0)]
    return {
        "per_theme": per_theme,
        "micro": _prf(tp, fp, fn),
        "macro_f1": round(float(active["f1"].mean()), 4) if len(active) else 0.0,
        "exact_match": round(sum(t == p for t, p in zip(true_sets, pred_sets)) / max(len(true_sets), 1), 4),
        "n": len(true_sets),
    }


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def theme_set_confusion(truth: Sequence[str], predicted: Sequence[str], top: int = 30) -> list[dict]:
    """Most frequent (true theme set, predicted theme set) pairs where the two differ."""
    pairs = Counter((";".join(sorted(split_codes(t))), ";".join(sorted(split_codes(p))))
                    for t, p in zip(truth, predicted))
    wrong = [(k, n) for k, n in pairs.items() if k[0] != k[1]]
    wrong.sort(key=lambda kv: (-kv[1], kv[0]))
    return [{"true": t, "predicted": p, "count": n} for (t, p), n in wrong[:top]]


def single_label_scores(truth: Sequence[str], predicted: Sequence[str]) -> dict:
    """Accuracy, per-label precision/recall/F1, macro-F1 and the confusion matrix of a single-label task."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} label rows but {len(predicted)} predictions")
    labels = sorted(set(truth) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(truth, predicted):
        matrix[index[t], index[p]] += 1
    rows = []
    for label, i in index.items():
        tp = int(matrix[i, i])
        fp = int(matrix[:, i].sum() - tp)
        fn = int(matrix[i, :].sum() - tp)
        rows.append({"label": label, "support": tp + fn, "tp": tp, "fp": fp, "fn": fn, **_prf(tp, fp, fn)})
    per_label = pd.DataFrame(rows)
    supported = per_label[per_label["support"] > 0]
    return {
        "per_label": per_label,
        "accuracy": round(float(np.trace(matrix)) / max(len(truth), 1), 4),
        "macro_f1": round(float(supported["f1"].mean()), 4) if len(supported) else 0.0,
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
        "n": len(truth),
    }


def cross_validated_predictions(make_model: Callable, texts: Sequence[str], labels: Sequence[str], *,
                                task: str, folds: int, random_state: int = 0,
                                predict: Callable | None = None) -> list[str]:
    """Predict every text with a model trained on the other folds (K-fold; stratified for routing)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    texts = list(texts)
    labels = list(labels)
    splitter = (StratifiedKFold(folds, shuffle=True, random_state=random_state) if task == "route"
                else KFold(folds, shuffle=True, random_state=random_state))
    predictions: list[str] = [""] * len(texts)
    for train, test in splitter.split(texts, labels if task == "route" else None):
        model = make_model().fit([texts[i] for i in train], [labels[i] for i in train])
        for i, value in zip(test, (predict or predict_label_cells)(model, [texts[i] for i in test])):
            predictions[i] = value
    return predictions


def predict_label_cells(model, texts: list[str]) -> list[str]:
    """Predict ``texts`` as label cells: ``;``-joined theme codes (multi-label) or one label each."""
    output = model.predict(texts)
    if getattr(output, "ndim", 1) == 2:  # multi-label indicator matrix
        return [";".join(model.classes_[np.flatnonzero(row)]) for row in output]
    return [str(v) for v in output]


def report_dict(scores: dict, *, task: str) -> dict:
    """Make a score dict JSON-ready (frames become lists of records)."""
    key = "per_theme" if task == "themes" else "per_label"
    out = {k: v for k, v in scores.items() if k != key}
    out["per_label"] = scores[key].rename(columns={"theme": "label"}).to_dict(orient="records")
    return out
