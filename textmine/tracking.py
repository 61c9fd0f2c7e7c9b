"""Rectification tracking (整改跟踪): did an office's problem themes go down between two rounds?

For each office evaluated in both round ``since`` (S) and round ``round`` (R), and each theme
named in either, the theme's share of the office's accepted opinions is compared with a
two-proportion test (:func:`two_proportion_test`). Status:

- ``new`` — not named in S, named in R;
- ``improved`` — share in R lower than in S and the difference significant (p < alpha);
- ``absent`` — named in S, not in R, but too few opinions to call the drop significant;
- ``persisting`` — named in both and not significantly lower (``direction`` tells whether
  it went up, down or stayed; ``significant`` whether an increase is significant);
- ``rebounded`` (反弹) — overrides ``persisting``/``new``; needs a third round. With rounds
  A < B < C = R, where B is the latest round strictly between S and R (A = S), or, when S and R
  are adjacent, B = S and A = the latest round before S: the theme was named in A, then in B it
  was not named or significantly lower than in A, and in C it is significantly higher than in B.
  With only two rounds there is no middle round: a theme absent in S and present in R is ``new``
  (it may be a rebound of an older problem nobody recorded), and no row is ``rebounded``.

Offices evaluated in only one of S and R are left out (nothing to compare).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .errors import TextmineError

TRACK_COLUMNS = [
    "office", "category", "theme", "theme_name", "since_round", "since_count", "since_opinions", "since_share",
    "round", "count", "opinions", "share", "share_change", "direction", "statistic", "p_value", "test",
    "significant", "middle_round", "middle_count", "middle_share", "earlier_round", "status",
]
STATUS_NAMES = {"improved": "明显改善", "persisting": "问题仍在", "new": "新出现", "rebounded": "反弹",
                "absent": "未再反映"}


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, str]:
    """Test whether two proportions k1/n1 and k2/n2 differ (two-sided).

    Returns ``(statistic, p_value, test)``: ``statistic`` is always the pooled z =
    (p2 − p1) / √(p̂(1 − p̂)(1/n1 + 1/n2)), p̂ = (k1 + k2)/(n1 + n2); the p-value is the
    z-test's (``test="z"``), or Fisher's exact test's (``test="fisher"``) when an expected
    count is below 5. Degenerate data (p̂ of 0 or 1) give z = 0 and p = 1.
    """
    if n1 <= 0 or n2 <= 0:
        raise TextmineError(f"two_proportion_test needs opinions in both rounds, got n1={n1}, n2={n2}")
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise TextmineError(f"two_proportion_test: counts must lie within 0..n, got {k1}/{n1} and {k2}/{n2}")
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return (0.0, 1.0, "z")
    z = (k2 / n2 - k1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    expected = [n * pooled for n in (n1, n2)] + [n * (1 - pooled) for n in (n1, n2)]
    if min(expected) < 5:
        from scipy.stats import fisher_exact

        return (float(z), float(fisher_exact([[k2, n2 - k2], [k1, n1 - k1]])[1]), "fisher")
    from scipy.stats import norm

    return (float(z), float(2 * norm.sf(abs(z))), "z")


def _round_counts(office_themes: pd.DataFrame, offices: pd.DataFrame, round_id: int) -> tuple[dict, dict]:
    """Return ({(office, theme): count}, {office: opinions}) of one round."""
    themes = office_themes[office_themes["round"] == round_id]
    counts = {(o, t): int(c) for o, t, c in zip(themes["office"], themes["theme"], themes["count"])}
    here = offices[offices["round"] == round_id]
    opinions = {o: int(n) for o, n in zip(here["office"], here["opinions"]) if int(n) > 0}
    return counts, opinions


def _lower(k1: int, n1: int, k2: int, n2: int, alpha: float) -> bool:
    """Share 2 significantly below share 1."""
    return k2 / n2 < k1 / n1 and two_proportion_test(k1, n1, k2, n2)[1] < alpha


def track_themes(office_themes: pd.DataFrame, offices: pd.DataFrame, round_id: int, since: int, *,
                 alpha: float = 0.05, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Compare each office's theme shares between round ``since`` and round ``round_id``.

    ``office_themes`` has ``round, office, theme, count`` (count > 0 rows), ``offices`` has
    ``round, office, category, opinions`` (accepted opinions per office, also offices without a
    theme). Returns :data:`TRACK_COLUMNS`, one row per office and theme named in either round,
    ordered by office, then status (rebounded, new, persisting, absent, improved), then share.
    """
    if not since < round_id:
        raise TextmineError(f"--since must be an earlier round than --round, got since={since}, round={round_id}")
    rounds = sorted(set(offices["round"].dropna().astype(int)))
    for needed in (round_id, since):
        if needed not in rounds:
            raise TextmineError(f"no round {needed} in the workspace; rounds are "
                                f"{', '.join(map(str, rounds)) or 'none yet'}")
    between = [r for r in rounds if since < r < round_id]
    before = [r for r in rounds if r < since]
    if between:
        earlier, middle = since, between[-1]
    elif before:
        earlier, middle = before[-1], since
    else:
        earlier = middle = None
    names = names or {}
    if "theme_name" in office_themes:
        names = {**dict(zip(office_themes["theme"], office_themes["theme_name"])), **names}
    category = {o: c if isinstance(c, str) else "" for o, c in zip(offices["office"], offices["category"])}

    c_since, n_since = _round_counts(office_themes, offices, since)
    c_now, n_now = _round_counts(office_themes, offices, round_id)
    if middle is not None:
        c_mid, n_mid = _round_counts(office_themes, offices, middle)
        c_early, n_early = _round_counts(office_themes, offices, earlier)
    records = []
    for office in sorted(set(n_since) & set(n_now)):
        themes = sorted({t for (o, t) in c_since if o == office} | {t for (o, t) in c_now if o == office})
        for theme in themes:
            k1, n1 = c_since.get((office, theme), 0), n_since[office]
            k2, n2 = c_now.get((office, theme), 0), n_now[office]
            statistic, p_value, test = two_proportion_test(k1, n1, k2, n2)
            significant = p_value < alpha
            change = k2 / n2 - k1 / n1
            if k1 == 0:
                status = "new"
            elif change < 0 and significant:
                status = "improved"
            elif k2 == 0:
                status = "absent"
            else:
                status = "persisting"
            k_mid = share_mid = None
            if middle is not None and office in n_mid:
                k_mid = c_mid.get((office, theme), 0)
                share_mid = round(k_mid / n_mid[office], 4)
                k_a = c_early.get((office, theme), 0)
                if (status in ("new", "persisting") and office in n_early and k_a > 0
                        and (k_mid == 0 or _lower(k_a, n_early[office], k_mid, n_mid[office], alpha))
                        and _lower(k2, n2, k_mid, n_mid[office], alpha)):
                    status = "rebounded"
            records.append({
                "office": office, "category": category.get(office, ""), "theme": theme,
                "theme_name": names.get(theme, theme),
                "since_round": since, "since_count": k1, "since_opinions": n1, "since_share": round(k1 / n1, 4),
                "round": round_id, "count": k2, "opinions": n2, "share": round(k2 / n2, 4),
                "share_change": round(change, 4),
                "direction": "up" if change > 0 else "down" if change < 0 else "same",
                "statistic": round(statistic, 4), "p_value": round(p_value, 4), "test": test,
                "significant": significant, "middle_round": middle, "middle_count": k_mid,
                "middle_share": share_mid, "earlier_round": earlier, "status": status,
            })
    result = pd.DataFrame.from_records(records, columns=TRACK_COLUMNS)
    for column in ("middle_round", "middle_count", "earlier_round"):
        result[column] = result[column].astype("Int64")
    result["middle_share"] = result["middle_share"].astype(float)
    order = {"rebounded": 0, "new": 1, "persisting": 2, "absent": 3, "improved": 4}
    result = result.assign(_o=result["status"].map(order)).sort_values(
        ["office", "_o", "share", "theme"], ascending=[True, True, False, True], kind="stable")
    return result.drop(columns="_o").reset_index(drop=True)


def tracking_overview(tracking: pd.DataFrame) -> pd.DataFrame:
    """One row per office: number of themes per status (columns of STATUS_NAMES)."""
    if tracking.empty:
        return pd.DataFrame(columns=["office", "category", *STATUS_NAMES])
    table = pd.crosstab([tracking["office"], tracking["category"]], tracking["status"])
    for status in STATUS_NAMES:
        if status not in table:
            table[status] = 0
    return table[list(STATUS_NAMES)].reset_index()


def tracking_markdown(tracking: pd.DataFrame, scores: pd.DataFrame | None = None) -> str:
    """Return the tracking report as Markdown: key-help units, then each office's themes."""
    from .export import md_escape

    if tracking.empty:
        return "# 整改跟踪\n\n没有可比较的单位。\n"
    since, now = int(tracking["since_round"].iloc[0]), int(tracking["round"].iloc[0])
    lines = [f"# 整改跟踪：{now} 年与 {since} 年比较", "",
             "状态：明显改善（占比显著下降）、未再反映（本轮未提及，但样本太少不能断定改善）、"
             "问题仍在、新出现、反弹（曾改善后又显著上升）。显著性：两比例检验，p < α。", ""]
    if scores is not None and not scores.empty:
        help_units = scores[scores["key_help"]]
        lines += ["## 重点帮助单位", "", "| 单位 | 分组 | 综合得分 | 排名 | 名次变化 | 原因 |", "|---|---|---:|---:|---:|---|"]
        for row in help_units.itertuples(index=False):
            rank = "" if pd.isna(row.rank) else str(row.rank)
            change = "" if pd.isna(row.rank_change) else f"{int(row.rank_change):+d}"
            lines.append(f"| {md_escape(row.office)} | {md_escape(row.category)} | {row.composite:.2f} | {rank} | "
                         f"{change} | {md_escape(row.key_help_reasons)} |")
        lines.append("")
    for office, rows in tracking.groupby("office", sort=True):
        lines += [f"## {md_escape(office)}", "",
                  f"| 问题类型 | {since} 年 | {now} 年 | 变化 | p 值 | 状态 |", "|---|---:|---:|---:|---:|---|"]
        for row in rows.itertuples(index=False):
            lines.append(f"| {md_escape(row.theme_name)} | {row.since_count}（{row.since_share:.1%}） | "
                         f"{row.count}（{row.share:.1%}） | {row.share_change:+.1%} | {row.p_value:.3f} | "
                         f"{STATUS_NAMES[row.status]} |")
        lines.append("")
    return "\n".join(lines)


def _chinese_scores(scores: pd.DataFrame) -> pd.DataFrame:
    columns = {"office": "单位", "category": "分组", "forms": "有效评议表", "n_satisfied": "满意",
               "n_basic": "基本满意", "n_dissatisfied": "不满意", "satisfaction_rate": "满意率",
               "dissatisfaction_rate": "不满意率", "composite": "综合得分", "rank": "总排名",
               "category_rank": "组内排名", "prev_rank": "上轮排名", "rank_change": "名次变化",
               "satisfaction_change": "满意率变化", "dissatisfaction_change": "不满意率变化",
               "key_help_reasons": "重点帮助原因"}
    out = scores[list(columns)].rename(columns=columns)
    out["排名"] = ["" if r else "评议表不足，不排名" for r in scores["ranked"]]
    return out


def _chinese_tracking(tracking: pd.DataFrame) -> pd.DataFrame:
    columns = {"office": "单位", "theme_name": "问题类型", "since_count": "上轮意见数", "since_share": "上轮占比",
               "count": "本轮意见数", "share": "本轮占比", "share_change": "占比变化", "p_value": "p值"}
    out = tracking[list(columns)].rename(columns=columns)
    out["状态"] = tracking["status"].map(STATUS_NAMES)
    return out


def track_workspace(workspace: str | Path, round_id: int, since: int, out_dir: str | Path, *,
                    config: str | Path | None = None) -> pd.DataFrame:
    """Track round ``round_id`` against ``since`` and write the tracking outputs into ``out_dir``.

    Writes ``tracking.csv`` (:data:`TRACK_COLUMNS`), ``scores.csv`` (the round's scores, after
    scoring every round again), ``tracking.md``, and ``rectification.xlsx``: the round's
    rectification workbook with the sheets 评议得分 and 整改跟踪.
    """
    from .export import write_csv, write_rectification_xlsx, write_text
    from .scoring import score_workspace
    from .workspace import Workspace

    ws = Workspace.open(workspace)
    cfg = ws.config(config)
    tracking = track_themes(ws.table("office_themes"), ws.table("offices"), round_id, since, alpha=cfg.alpha)
    scores = score_workspace(workspace, None, round_id=round_id, config=config)
    out = Path(out_dir)
    write_csv(tracking, out / "tracking.csv")
    write_csv(scores, out / "scores.csv")
    write_text(tracking_markdown(tracking, scores), out / "tracking.md")
    items = ws.table("items", round_id)
    items["examples"] = items["examples"].map(lambda s: [t for t in (s or "").split("\n") if t])
    items["measures"] = items["measures"].map(lambda s: [t for t in (s or "").split("；") if t])
    overview = ws.table("offices", round_id)
    write_rectification_xlsx(items, overview, out / "rectification.xlsx", title=f"{round_id} 年整改清单",
                             extra_sheets={"评议得分": _chinese_scores(scores),
                                           "整改跟踪": _chinese_tracking(tracking)})
    return tracking
