"""Score offices per evaluation round: satisfaction counts and rates, the weighted composite, ranks.

The maths (also in README.md, "Evaluation rounds and scoring"):

- Each rating is read on the round's scale (``WorkspaceConfig.scale``) into a level — 满意,
  基本满意 or 不满意 — and points on 0–100 (three-level: ``[scales.points]``, 100/60/0 by
  default; numeric scales: linear, ``min`` → 0, ``max`` → 100). A rating that cannot be read is
  counted as ``unrated``. With ``one_rating_per_evaluator`` only an evaluator's last form on an
  office counts (earlier ones are ``superseded``).
- ``forms`` = counted forms; ``satisfaction_rate`` = 满意 / forms (基本满意 is *not* satisfied
  here), ``basic_rate`` = 基本满意 / forms, ``dissatisfaction_rate`` = 不满意 / forms, each with a
  Wilson interval (``_low``/``_high``) at ``confidence``.
- ``composite`` = Σ_g w_g · mean points of group g / Σ_g w_g over the evaluator groups g that rated
  the office (an empty group is left out and the other weights renormalise); so 基本满意 counts
  with its points (60 of 100 by default). ``weighted_satisfaction_rate`` is the same weighted mean
  of each group's 满意 share. Both are rounded to 2 and 4 decimals.
- Offices with at least ``min_forms`` forms and a composite are ``ranked``: ``rank`` overall and
  ``category_rank`` within the category by the rounded composite, highest first; equal composites
  share the best rank and the next rank is skipped (1, 2, 2, 4). Others have no rank.
- Against the previous round of the same office: ``prev_*`` and ``*_change`` (current − previous);
  ``rank_change`` = previous rank − rank (positive: moved up).
- Flags: ``bottom_of_category`` (the lowest category rank when it is above 1, i.e. not every
  ranked office of the category ties; offices tied at the bottom are all flagged), ``fell`` (moved down ``fall_places`` or more), ``prominent_themes`` (see
  :func:`prominent_themes`), and ``key_help`` (重点帮助单位) when any holds.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .config import LEVELS, WorkspaceConfig

RATING_COLUMNS = ["row_id", "office", "category", "group", "rating", "evaluator"]
FORM_COLUMNS = [*RATING_COLUMNS, "level", "points", "weight", "counted"]
SCORE_COLUMNS = [
    "round", "office", "category", "forms", "n_satisfied", "n_basic", "n_dissatisfied", "unrated",
    "superseded", "satisfaction_rate", "satisfaction_low", "satisfaction_high", "basic_rate",
    "dissatisfaction_rate", "dissatisfaction_low", "dissatisfaction_high", "weighted_satisfaction_rate",
    "composite", "groups", "ranked", "rank", "category_rank", "category_size",
    "prev_round", "prev_satisfaction_rate", "satisfaction_change", "prev_dissatisfaction_rate",
    "dissatisfaction_change", "prev_composite", "composite_change", "prev_rank", "rank_change",
    "bottom_of_category", "fell", "prominent_themes", "key_help", "key_help_reasons",
]
NO_GROUP = "未填写"


def rating_frame(work: pd.DataFrame, frame: pd.DataFrame, columns: dict[str, str | None], *,
                 evaluators: np.ndarray | None = None) -> pd.DataFrame:
    """Return every input row that carries a rating, whatever happened to its text.

    ``work`` is the pipeline's per-row frame (``row_id``, ``office``, cleaned ``group`` and
    ``satisfaction``), ``frame`` the input table. Returns :data:`RATING_COLUMNS`; ``evaluator``
    is an anonymous number per evaluator id of this file (the id itself is never kept), or <NA>.
    ``evaluators`` gives those numbers (0 = no id) when ``frame`` is one chunk of the file
    and the numbering must run over the whole file.
    """
    if not columns.get("satisfaction") or "satisfaction" not in work:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c in ("row_id", "evaluator") else object)
                             for c in RATING_COLUMNS})
    out = pd.DataFrame({
        "row_id": work["row_id"].to_numpy(),
        "office": work["office"].to_numpy(),
        "category": "",
        "group": work["group"].to_numpy() if "group" in work else "",
        "rating": work["satisfaction"].to_numpy(),
    })
    if columns.get("evaluator"):
        if evaluators is None:
            ids = frame[columns["evaluator"]].fillna("").astype(str).str.strip().to_numpy()
            codes, _ = pd.factorize(ids)
            evaluators = np.where(ids == "", 0, codes + 1)
        out["evaluator"] = pd.array(evaluators, dtype="Int64")
        out.loc[out["evaluator"] == 0, "evaluator"] = pd.NA
    else:
        out["evaluator"] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out[out["rating"].astype(str).str.strip() != ""].reset_index(drop=True)[RATING_COLUMNS]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion; (nan, nan) when ``n`` is 0."""
    return _wilson(successes, n, _z(confidence))


def _z(confidence: float) -> float:
    from statistics import NormalDist  # the standard library's is exact enough and imports fast

    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    low = 0.0 if successes == 0 else max(0.0, (centre - spread) / denominator)
    high = 1.0 if successes == n else min(1.0, (centre + spread) / denominator)
    return (low, high)


def _number(value: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


def detect_scale(values, config: WorkspaceConfig) -> str:
    """Return the scale of a round's ratings: the configured one, or guessed when ``auto``.

    ``auto``: words (fewer than half of the ratings are numbers) → three-level; whole numbers
    within the five-point range → five-point; other numbers → hundred-point.
    """
    if config.scale != "auto":
        return config.scale
    counts = pd.Series(values, dtype=object).value_counts()
    numbers = {v: _number(v) for v in counts.index}
    readable = [x for x in numbers.values() if not math.isnan(x)]
    n_readable = sum(n for v, n in counts.items() if not math.isnan(numbers[v]))
    if not readable or n_readable < 0.5 * counts.sum():
        return "three_level"
    low, high = config.five_point.low, config.five_point.high
    if all(low <= x <= high and float(x).is_integer() for x in readable):
        return "five_point"
    return "hundred_point"


def rate_forms(ratings: pd.DataFrame, config: WorkspaceConfig) -> pd.DataFrame:
    """Read each rating into a level, points and its group's weight.

    Returns :data:`FORM_COLUMNS`: ``level`` is None for a rating that cannot be read;
    ``counted`` is False for such rows and for forms superseded by the same evaluator's
    later form on the same office (with ``one_rating_per_evaluator``).
    """
    forms = ratings.reset_index(drop=True).copy()
    for column in RATING_COLUMNS:
        if column not in forms:
            forms[column] = pd.NA if column in ("row_id", "evaluator") else ""
    forms["group"] = forms["group"].fillna("").astype(str).str.strip().replace("", NO_GROUP)
    written = forms["category"].fillna("").astype(str).astype(object)
    configured = forms["office"].map(config.categories).astype(object)
    forms["category"] = configured.where(configured.notna(), written)
    values = forms["rating"].fillna("").astype(str).str.strip()
    distinct = values.unique()  # ratings take few distinct values: read each once
    scale = detect_scale(values, config) if len(values) else "three_level"
    if scale == "three_level":
        level_of = {v: config.labels.get(v) for v in distinct}
        points_of = {v: config.points[lv] if lv else math.nan for v, lv in level_of.items()}
    else:
        numeric = config.five_point if scale == "five_point" else config.hundred_point
        level_of = {v: numeric.level(_number(v)) for v in distinct}
        points_of = {v: numeric.points(_number(v)) if lv else math.nan for v, lv in level_of.items()}
    forms["level"] = values.map(level_of).astype(object)
    forms["points"] = values.map(points_of).astype(float)
    weight_of = {g: config.weight(g) for g in forms["group"].unique()}
    forms["weight"] = forms["group"].map(weight_of).astype(float)
    counted = forms["level"].notna()
    if config.one_rating_per_evaluator:
        known = counted & forms["evaluator"].notna()
        order = forms[known].sort_values("row_id", kind="stable")
        latest = order.drop_duplicates(["office", "evaluator"], keep="last").index
        counted &= ~known | forms.index.isin(latest)
    forms["counted"] = counted.to_numpy()
    return forms[FORM_COLUMNS]


def office_scores(forms: pd.DataFrame, config: WorkspaceConfig) -> pd.DataFrame:
    """Count, rate and weight the forms of each office (the columns up to ``groups``)."""
    columns = SCORE_COLUMNS[1:SCORE_COLUMNS.index("groups") + 1]
    offices = sorted(forms["office"].unique())
    if not offices:
        return pd.DataFrame(columns=columns)
    used = forms[forms["counted"]]
    counts = (used.groupby(["office", "level"]).size().unstack("level")
              .reindex(index=offices, columns=list(LEVELS)).fillna(0).astype(int))
    by_group = used.assign(satisfied=(used["level"] == LEVELS[0]).astype(float)).groupby(
        ["office", "group"]).agg(points=("points", "mean"), satisfied=("satisfied", "mean"),
                                 weight=("weight", "first"))
    by_group["weighted_points"] = by_group["points"] * by_group["weight"]
    by_group["weighted_satisfied"] = by_group["satisfied"] * by_group["weight"]
    per_office = by_group.groupby("office").agg(points=("weighted_points", "sum"), satisfied=("weighted_satisfied", "sum"),
                                                weight=("weight", "sum"), groups=("weight", "size")).reindex(offices)
    has_weight = per_office["weight"] > 0
    readable = forms["level"].notna()
    named = forms[forms["category"] != ""].drop_duplicates("office").set_index("office")["category"]
    scores = pd.DataFrame({"office": offices})
    scores["category"] = [named.get(o, "") for o in offices]
    scores["forms"] = counts.sum(axis=1).to_numpy()
    scores["n_satisfied"], scores["n_basic"], scores["n_dissatisfied"] = (counts[lv].to_numpy() for lv in LEVELS)
    scores["unrated"] = (~readable).groupby(forms["office"]).sum().reindex(offices).to_numpy().astype(int)
    scores["superseded"] = (readable & ~forms["counted"]).groupby(forms["office"]).sum().reindex(offices).to_numpy().astype(int)
    n = scores["forms"].where(scores["forms"] > 0)
    z = _z(config.confidence)
    for name, column in (("satisfaction", "n_satisfied"), ("dissatisfaction", "n_dissatisfied")):
        bounds = [_wilson(k, m, z) for k, m in zip(scores[column], scores["forms"])]
        scores[f"{name}_rate"] = scores[column] / n
        scores[f"{name}_low"] = [b[0] for b in bounds]
        scores[f"{name}_high"] = [b[1] for b in bounds]
    scores["basic_rate"] = scores["n_basic"] / n
    scores["weighted_satisfaction_rate"] = (per_office["satisfied"] / per_office["weight"]).where(has_weight).to_numpy()
    scores["composite"] = (per_office["points"] / per_office["weight"]).where(has_weight).round(2).to_numpy()
    scores["groups"] = per_office["groups"].fillna(0).astype(int).to_numpy()
    scores = scores[columns]
    rates = [c for c in scores.columns if c.endswith(("_rate", "_low", "_high"))]
    scores[rates] = scores[rates].astype(float).round(4)
    return scores


def rank_offices(scores: pd.DataFrame, config: WorkspaceConfig) -> pd.DataFrame:
    """Add ``ranked``, ``rank``, ``category_rank`` and ``category_size`` (ties share the best rank)."""
    scores = scores.copy()
    scores["ranked"] = (scores["forms"] >= config.min_forms) & scores["composite"].notna()
    key = scores["composite"].where(scores["ranked"])
    scores["rank"] = key.rank(method="min", ascending=False).astype("Int64")
    scores["category_rank"] = key.groupby(scores["category"]).rank(method="min", ascending=False).astype("Int64")
    size = scores["ranked"].groupby(scores["category"]).transform("sum")
    scores["category_size"] = pd.array(size.where(scores["ranked"]), dtype="Int64")
    return scores


def compare_with_previous(scores: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Add the previous round's rates, composite and rank of each office, and the changes."""
    scores = scores.copy()
    prev_cols = {"round": "prev_round", "satisfaction_rate": "prev_satisfaction_rate",
                 "dissatisfaction_rate": "prev_dissatisfaction_rate", "composite": "prev_composite",
                 "rank": "prev_rank"}
    if previous is None or previous.empty:
        for column in prev_cols.values():
            scores[column] = pd.array([pd.NA] * len(scores), dtype="Int64") if column in (
                "prev_round", "prev_rank") else math.nan
    else:
        before = previous[["office", *prev_cols]].rename(columns=prev_cols)
        scores = scores.merge(before, on="office", how="left")
        scores["prev_round"] = scores["prev_round"].astype("Int64")
        scores["prev_rank"] = scores["prev_rank"].astype("Int64")
    scores["satisfaction_change"] = (scores["satisfaction_rate"] - scores["prev_satisfaction_rate"]).round(4)
    scores["dissatisfaction_change"] = (scores["dissatisfaction_rate"] - scores["prev_dissatisfaction_rate"]).round(4)
    scores["composite_change"] = (scores["composite"] - scores["prev_composite"]).round(2)
    scores["rank_change"] = (scores["prev_rank"] - scores["rank"]).astype("Int64")
    return scores


def prominent_themes(summary: pd.DataFrame, config: WorkspaceConfig,
                     opinions: pd.Series | None = None) -> pd.DataFrame:
    """Return the prominent problem themes of a round (rows of ``summary`` that qualify).

    A theme is prominent in an office when ``count ≥ prominent_min_count``,
    ``share ≥ prominent_share`` and ``share ≥ prominent_ratio ×`` its share over all offices
    (all opinions of the round). ``summary`` has ``office, theme, theme_name, count, opinions,
    share``; ``opinions`` (office → accepted opinions) covers offices without any theme.
    """
    if summary is None or summary.empty:
        return pd.DataFrame(columns=["office", "theme", "theme_name", "count", "share", "overall_share"])
    if opinions is None:
        opinions = summary.drop_duplicates("office").set_index("office")["opinions"]
    total = float(opinions.sum())
    overall = summary.groupby("theme")["count"].sum() / total if total else summary.groupby("theme")["count"].sum() * 0
    found = summary.assign(overall_share=summary["theme"].map(overall).round(4))
    found = found[(found["count"] >= config.prominent_min_count) & (found["share"] >= config.prominent_share)
                  & (found["share"] >= config.prominent_ratio * found["overall_share"])]
    return found[["office", "theme", "theme_name", "count", "share", "overall_share"]].reset_index(drop=True)


def flag_offices(scores: pd.DataFrame, config: WorkspaceConfig, prominent: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``bottom_of_category``, ``fell``, ``prominent_themes``, ``key_help`` and its reasons."""
    scores = scores.copy()
    worst = scores["category_rank"].groupby(scores["category"]).transform("max")
    # worst > 1: when every ranked office of a category ties, none of them is at the bottom
    scores["bottom_of_category"] = (scores["ranked"] & (worst > 1) & (scores["category"] != "")
                                    & (scores["category_rank"] == worst)).fillna(False).astype(bool)
    scores["fell"] = (scores["rank_change"] <= -config.fall_places).fillna(False).astype(bool)
    named: dict[str, str] = {}
    if prominent is not None and not prominent.empty:
        for office, rows in prominent.sort_values(["office", "share"], ascending=[True, False]).groupby("office"):
            named[office] = "、".join(f"{r.theme_name}({r.share:.0%})" for r in rows.itertuples())
    scores["prominent_themes"] = [named.get(o, "") for o in scores["office"]]
    reasons = []
    for row in scores.itertuples(index=False):
        why = []
        if row.bottom_of_category:
            why.append(f"分组末位（{row.category}）")
        if row.fell:
            why.append(f"较上轮后移{-int(row.rank_change)}位")
        if row.prominent_themes:
            why.append(f"问题突出：{row.prominent_themes}")
        reasons.append("；".join(why))
    scores["key_help_reasons"] = reasons
    scores["key_help"] = scores["key_help_reasons"] != ""
    return scores


def score_round(ratings: pd.DataFrame, config: WorkspaceConfig, *, round_id: int | None = None,
                summary: pd.DataFrame | None = None, opinions: pd.Series | None = None,
                previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score every office of one round; returns :data:`SCORE_COLUMNS`, ranked offices first.

    ``ratings`` has :data:`RATING_COLUMNS` (see :func:`rating_frame`), ``summary`` the round's
    office × theme summary (for prominent themes), ``previous`` the previous round's scores.
    """
    forms = rate_forms(ratings, config)
    scores = office_scores(forms, config)
    scores = rank_offices(scores, config)
    scores = compare_with_previous(scores, previous)
    scores = flag_offices(scores, config, prominent_themes(summary, config, opinions))
    scores.insert(0, "round", pd.array([round_id] * len(scores), dtype="Int64"))
    scores = scores.sort_values(["ranked", "rank", "office"], ascending=[False, True, True], kind="stable")
    return scores[SCORE_COLUMNS].reset_index(drop=True)


def score_rounds(ratings: pd.DataFrame, config: WorkspaceConfig, *, summaries: pd.DataFrame | None = None,
                 offices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score every round of ``ratings`` (with a ``round`` column), each against the round before.

    ``summaries`` (``round`` + the office × theme summary) and ``offices`` (``round, office,
    opinions``) are optional and give the prominent themes.
    """
    frames = []
    previous = None
    for round_id in sorted(ratings["round"].dropna().unique()):
        summary = opinions = None
        if summaries is not None:
            summary = summaries[summaries["round"] == round_id]
        if offices is not None:
            opinions = offices[offices["round"] == round_id].set_index("office")["opinions"]
        current = score_round(ratings[ratings["round"] == round_id], config, round_id=int(round_id),
                              summary=summary, opinions=opinions, previous=previous)
        frames.append(current)
        previous = current
    if not frames:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def score_workspace(workspace: str | Path, out_dir: str | Path | None = None, *, round_id: int | None = None,
                    config: str | Path | None = None) -> pd.DataFrame:
    """Score every round of a workspace, store the scores in it and write ``scores.csv``.

    Returns the scores of ``round_id`` (every round when None); ``scores.csv`` holds the same rows.
    """
    from .export import write_csv
    from .workspace import Workspace

    ws = Workspace.open(workspace)
    cfg = ws.config(config)
    scores = score_rounds(ws.table("ratings"), cfg, summaries=ws.table("office_themes"),
                          offices=ws.table("offices"))
    ws.save_scores(scores)
    if round_id is not None:
        if round_id not in set(ws.rounds()["round"]):
            from .errors import TextmineError

            raise TextmineError(f"{ws.path}: no round {round_id}; rounds are "
                                f"{', '.join(map(str, ws.rounds()['round'])) or 'none yet'}")
        scores = scores[scores["round"] == round_id].reset_index(drop=True)
    if out_dir is not None:
        write_csv(scores, Path(out_dir) / "scores.csv")
    return scores

