"""Measure theme predictions against labels: per-theme precision, recall, F1, micro/macro F1."""
from __future__ import annotations

from collections.abc import Sequence

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
