"""Scoring maths against hand-computed examples: rates, Wilson intervals, composite, ranks, flags."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from textmine.config import WorkspaceConfig, load_config
from textmine.errors import DataFileError
from textmine.scoring import (
    RATING_COLUMNS,
    SCORE_COLUMNS,
    detect_scale,
    prominent_themes,
    rate_forms,
    rating_frame,
    score_round,
    wilson_interval,
)


def ratings(rows: list[tuple]) -> pd.DataFrame:
    """rows of (office, category, group, rating[, evaluator]) → a ratings frame."""
    records = []
    for i, row in enumerate(rows, 2):
        office, category, group, rating, *rest = row
        records.append({"row_id": i, "office": office, "category": category, "group": group, "rating": rating,
                        "evaluator": rest[0] if rest else pd.NA})
    frame = pd.DataFrame.from_records(records, columns=RATING_COLUMNS)
    frame["evaluator"] = frame["evaluator"].astype("Int64")
    return frame


CONFIG = WorkspaceConfig(weights={"A": 3, "B": 1, "C": 2, "Z": 0}, min_forms=2, fall_places=2,
                         one_rating_per_evaluator=False)

# hand-computed (points 满意 100, 基本满意 60, 不满意 0; weights A 3, B 1, C 2):
#   X: A {100, 60} mean 80, B {0}; C empty → left out: (3·80 + 1·0) / 4 = 60.00
#   Y: C {60, 60}: 60.00 — ties with X
#   Z: A {100, 100}: 100.00
#   V: A {0, 60} mean 30: 30.00
#   W: one form only (min_forms = 2) → not ranked
#   Q: only group Z, weight 0 → no composite → not ranked although it has 2 forms
ROWS = [
    ("X", "k1", "A", "满意"), ("X", "k1", "A", "基本满意"), ("X", "k1", "B", "不满意"),
    ("Y", "k1", "C", "基本满意"), ("Y", "k1", "C", "基本满意"),
    ("Z", "k2", "A", "满意"), ("Z", "k2", "A", "满意"),
    ("V", "k1", "A", "不满意"), ("V", "k1", "A", "基本满意"),
    ("W", "k1", "B", "满意"),
    ("Q", "k2", "Z", "满意"), ("Q", "k2", "Z", "不满意"),
]


@pytest.fixture
def scored():
    return score_round(ratings(ROWS), CONFIG, round_id=2025).set_index("office")


def test_wilson_interval_matches_hand_computation():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.49016, abs=1e-4)
    assert high == pytest.approx(0.94331, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_counts_rates_and_composite(scored):
    x = scored.loc["X"]
    assert (x["forms"], x["n_satisfied"], x["n_basic"], x["n_dissatisfied"]) == (3, 1, 1, 1)
    assert x["satisfaction_rate"] == pytest.approx(0.3333)
    assert x["dissatisfaction_rate"] == pytest.approx(0.3333)
    assert x["composite"] == 60.0
    assert x["weighted_satisfaction_rate"] == pytest.approx((3 * 0.5 + 1 * 0) / 4)
    assert x["groups"] == 2                     # the empty group C does not count
    low, high = wilson_interval(1, 3)
    assert (x["satisfaction_low"], x["satisfaction_high"]) == (round(low, 4), round(high, 4))
    assert scored.loc["Y", "composite"] == 60.0
    assert scored.loc["Z", "composite"] == 100.0
    assert scored.loc["V", "composite"] == 30.0
    assert math.isnan(scored.loc["Q", "composite"])
    assert list(score_round(ratings(ROWS), CONFIG).columns) == SCORE_COLUMNS


def test_ties_share_the_best_rank_and_small_offices_are_not_ranked(scored):
    assert scored.loc[["Z", "X", "Y", "V"], "rank"].tolist() == [1, 2, 2, 4]
    assert scored.loc[["X", "Y", "V"], "category_rank"].tolist() == [1, 1, 3]
    assert scored.loc["Z", "category_rank"] == 1
    assert not scored.loc["W", "ranked"] and pd.isna(scored.loc["W", "rank"])
    assert not scored.loc["Q", "ranked"] and pd.isna(scored.loc["Q", "rank"])
    assert scored.loc["X", "category_size"] == 3
    # ranked offices come first, in rank order
    assert list(scored.index[:4]) == ["Z", "X", "Y", "V"]


def test_bottom_of_category(scored):
    assert scored["bottom_of_category"].to_dict() == {
        "Z": False, "X": False, "Y": False, "V": True, "Q": False, "W": False}
    assert scored.loc["V", "key_help"]
    assert scored.loc["V", "key_help_reasons"] == "分组末位（k1）"


def test_offices_tied_at_the_bottom_are_all_flagged_and_a_tied_category_is_not():
    rows = [("P", "k", "A", "满意"), ("P", "k", "A", "满意"),
            ("R", "k", "A", "不满意"), ("R", "k", "A", "不满意"),
            ("S", "k", "A", "不满意"), ("S", "k", "A", "不满意"),
            ("T", "j", "A", "满意"), ("T", "j", "A", "满意"),
            ("U", "j", "A", "满意"), ("U", "j", "A", "满意"),
            ("M", "", "A", "满意"), ("M", "", "A", "满意"),           # offices without a category are
            ("N", "", "A", "不满意"), ("N", "", "A", "不满意")]        # never "bottom of category"
    scores = score_round(ratings(rows), CONFIG).set_index("office")
    assert scores.loc[["P", "R", "S"], "category_rank"].tolist() == [1, 2, 2]
    assert scores["bottom_of_category"].to_dict() == {"P": False, "R": True, "S": True, "T": False, "U": False,
                                                      "M": False, "N": False}
    assert scores.loc["N", "category_rank"] == 2


def test_change_against_the_previous_round_and_fall_flag():
    previous = pd.DataFrame({"round": [2024, 2024, 2024], "office": ["X", "V", "Z"],
                             "satisfaction_rate": [0.5, 0.2, 1.0], "dissatisfaction_rate": [0.25, 0.5, 0.0],
                             "composite": [70.0, 30.0, 100.0], "rank": [2, 1, 3]})
    scores = score_round(ratings(ROWS), CONFIG, round_id=2025, previous=previous).set_index("office")
    x = scores.loc["X"]
    assert x["prev_round"] == 2024 and x["prev_rank"] == 2
    assert x["satisfaction_change"] == pytest.approx(0.3333 - 0.5, abs=1e-4)
    assert x["dissatisfaction_change"] == pytest.approx(0.3333 - 0.25, abs=1e-4)
    assert x["composite_change"] == -10.0
    assert x["rank_change"] == 0 and not x["fell"]
    v = scores.loc["V"]
    assert v["rank_change"] == -3 and v["fell"]               # 1 → 4 with fall_places = 2
    assert v["key_help_reasons"] == "分组末位（k1）；较上轮后移3位"
    assert scores.loc["Z", "rank_change"] == 2                 # 3 → 1: moved up
    assert pd.isna(scores.loc["Y", "prev_rank"]) and pd.isna(scores.loc["Y", "rank_change"])


def test_prominent_themes_need_share_count_and_ratio():
    config = WorkspaceConfig(weights={}, prominent_share=0.3, prominent_min_count=3, prominent_ratio=1.5)
    summary = pd.DataFrame({
        "office": ["X", "X", "Y", "Y"], "theme": ["fees", "attitude", "fees", "attitude"],
        "theme_name": ["收费情况", "服务态度", "收费情况", "服务态度"],
        "count": [5, 4, 1, 4], "opinions": [10, 10, 10, 10], "share": [0.5, 0.4, 0.1, 0.4]})
    # overall (20 opinions): fees 6/20 = 0.3, attitude 8/20 = 0.4; X fees 0.5 ≥ 1.5 × 0.3, X and Y
    # attitude 0.4 < 1.5 × 0.4, Y fees has too few opinions (1 < 3)
    found = prominent_themes(summary, config)
    assert found[["office", "theme"]].values.tolist() == [["X", "fees"]]
    assert found["overall_share"].tolist() == [0.3]
    # offices without any theme enlarge the denominator: attitude overall 8/40 = 0.2 → 0.4 ≥ 1.5 × 0.2
    opinions = pd.Series({"X": 10, "Y": 10, "Z": 20})
    found = prominent_themes(summary, config, opinions)
    assert sorted(map(tuple, found[["office", "theme"]].values.tolist())) == [
        ("X", "attitude"), ("X", "fees"), ("Y", "attitude")]
    scores = score_round(ratings(ROWS), WorkspaceConfig(weights={"A": 1}, min_forms=2, prominent_share=0.3,
                                                        prominent_min_count=3, prominent_ratio=1.5),
                         summary=summary).set_index("office")
    assert scores.loc["X", "prominent_themes"] == "收费情况(50%)"
    assert scores.loc["X", "key_help"] and scores.loc["X", "key_help_reasons"] == "问题突出：收费情况(50%)"


def test_numeric_scales_levels_and_points():
    five_point = WorkspaceConfig(weights={}, scale="five_point")
    five = rate_forms(ratings([("X", "", "A", v) for v in ["5", "4", "3", "2", "1", "6", "好"]]), five_point)
    assert five["level"].tolist()[:5] == ["满意", "满意", "基本满意", "不满意", "不满意"]
    assert five["points"].tolist()[:5] == [100.0, 75.0, 50.0, 25.0, 0.0]
    assert five["level"].iloc[5:].isna().all() and not five["counted"].iloc[5:].any()
    hundred = rate_forms(ratings([("X", "", "A", v) for v in ["95", "90", "75", "59.5", "0"]]), CONFIG)
    assert hundred["level"].tolist() == ["满意", "满意", "基本满意", "不满意", "不满意"]
    assert hundred["points"].tolist() == [95.0, 90.0, 75.0, 59.5, 0.0]
    assert detect_scale(["5", "4", "1"], CONFIG) == "five_point"
    assert detect_scale(["95", "4"], CONFIG) == "hundred_point"
    assert detect_scale(["满意", "4", "不满意"], CONFIG) == "three_level"
    words = rate_forms(ratings([("X", "", "A", v) for v in ["非常满意", "一般", "不满意", "说不清"]]), load_config())
    assert words["level"].tolist()[:3] == ["满意", "基本满意", "不满意"] and pd.isna(words["level"].iloc[3])
    scores = score_round(ratings([("X", "", "A", v) for v in ["5", "3", "未评"]]),
                         WorkspaceConfig(weights={}, min_forms=1, scale="five_point")).iloc[0]
    assert (scores["forms"], scores["unrated"], scores["composite"]) == (2, 1, 75.0)


def test_one_rating_per_evaluator_keeps_the_last_form():
    rows = [("X", "", "A", "不满意", 1), ("X", "", "A", "满意", 1), ("X", "", "A", "满意", 2),
            ("Y", "", "A", "不满意", 1), ("X", "", "A", "基本满意")]
    forms = rate_forms(ratings(rows), load_config())
    assert forms["counted"].tolist() == [False, True, True, True, True]
    scores = score_round(ratings(rows), load_config()).set_index("office")
    assert (scores.loc["X", "forms"], scores.loc["X", "superseded"]) == (3, 1)


def test_unlisted_and_missing_groups_take_the_unlisted_weight():
    config = WorkspaceConfig(weights={"A": 1}, unlisted_group_weight=3, min_forms=1)
    # A: 100 (weight 1); no group: 0 (weight 3) → 25
    scores = score_round(ratings([("X", "", "A", "满意"), ("X", "", "", "不满意")]), config)
    assert scores["composite"].tolist() == [25.0]


def test_no_ratings_gives_an_empty_table():
    empty = ratings([])
    scores = score_round(empty, CONFIG, round_id=2025)
    assert scores.empty and list(scores.columns) == SCORE_COLUMNS


def test_rating_frame_keeps_rejected_rows_and_hides_evaluator_ids(toolkit):
    from textmine.pipeline import analyse

    frame = pd.DataFrame({
        "被评议单位": ["市税务局", "市税务局", "市税务局", "市民政局"],
        "评议人编号": ["P-001", "P-001", "P-777", ""],
        "评议人类别": ["服务对象", "服务对象", "市领导", "基层群众"],
        "满意度": ["不满意", "满意", "", "基本满意"],
        "意见建议": ["窗口态度恶劣", "", "无", "办事拖拉，跑了三趟"],
    }, index=[2, 3, 4, 5])
    columns = {"text": "意见建议", "office": "被评议单位", "evaluator": "评议人编号", "group": "评议人类别",
               "satisfaction": "满意度"}
    analysis = analyse(frame, columns, toolkit)
    assert len(analysis.comments) == 2                            # the empty and 无 rows are rejected …
    r = analysis.ratings
    assert r["row_id"].tolist() == [2, 3, 5]                      # … but their ratings count (row 4 has none)
    assert r["evaluator"].tolist()[:2] == [1, 1] and pd.isna(r["evaluator"].iloc[2])
    assert not r.astype(str).isin(["P-001", "P-777"]).any().any()
    assert r["category"].tolist() == ["执法监管部门", "执法监管部门", "窗口服务单位"]
    assert rating_frame(analysis.comments, frame, {"text": "意见建议"}).empty


# ---- the config file ----------------------------------------------------------------------------


def test_default_config_agrees_with_the_office_table(toolkit):
    config = load_config()
    assert config.weights["服务对象"] == 25 and config.weights["市领导"] == 5
    assert config.categories == toolkit.offices.categories
    assert config.points == {"满意": 100.0, "基本满意": 60.0, "不满意": 0.0}


@pytest.mark.parametrize("body, message", [
    ('[weights]\n"服务对象" = -1\n', r"cfg\.toml:2: weights\.服务对象 must be a number ≥ 0"),
    ('[weights]\n"a" = 0\n"b" = 0\n', r"cfg\.toml:1: weights: at least one evaluator group"),
    ('[categories]\n"k1" = ["市税务局"]\n"k2" = ["市税务局"]\n', r"cfg\.toml:3: office '市税务局' is listed in categories"),
    ('[scoring]\nscale = "ten_point"\n', r"cfg\.toml:2: scoring\.scale must be one of"),
    ('[scoring]\nmin_forms = 0\n', r"cfg\.toml:2: scoring\.min_forms must be a whole number ≥ 1"),
    ('[scales.three_level]\n"很好" = ["好"]\n', r"cfg\.toml:2: scales\.three_level: unknown level '很好'"),
    ('[scales.points]\n"满意" = 50\n"基本满意" = 60\n', r"cfg\.toml:1: scales\.points: points must not rise"),
    ('[scales.five_point]\nmin = 1\nmax = 5\nsatisfied_from = 6\n', r"cfg\.toml:4: scales\.five_point\.satisfied_from"),
    ('[weight]\n"a" = 1\n', r"cfg\.toml:1: unknown section or key 'weight'"),
    ('[weights\n', r"cfg\.toml:1: invalid TOML"),
])
def test_invalid_config_names_file_and_line(tmp_path, body, message):
    path = tmp_path / "cfg.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        load_config(path)


# ---- invariants on random rounds ----------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

rating_rows = st.lists(st.tuples(st.sampled_from("ABCDE"), st.sampled_from(["k1", "k2", ""]),
                                 st.sampled_from(["A", "B", "C", "Z", ""]),
                                 st.sampled_from(["满意", "基本满意", "不满意", "一般", "?", ""]),
                                 st.one_of(st.none(), st.integers(1, 6))), max_size=60)


@settings(max_examples=25, deadline=None)
@given(rating_rows, st.booleans())
def test_scores_invariants(rows, per_evaluator):
    rows = [(office, category if office < "C" else "k2", group, rating, evaluator if evaluator is not None else pd.NA)
            for office, category, group, rating, evaluator in rows]
    config = WorkspaceConfig(weights={"A": 3, "B": 1, "C": 2, "Z": 0}, min_forms=3,
                             one_rating_per_evaluator=per_evaluator)
    frame = ratings(rows)
    scores = score_round(frame, config)
    assert int((scores["forms"] + scores["unrated"] + scores["superseded"]).sum()) == len(frame)
    assert ((scores["n_satisfied"] + scores["n_basic"] + scores["n_dissatisfied"]) == scores["forms"]).all()
    rated = scores[scores["forms"] > 0]
    assert ((rated["satisfaction_low"] <= rated["satisfaction_rate"])
            & (rated["satisfaction_rate"] <= rated["satisfaction_high"])).all()
    assert scores["composite"].dropna().between(0, 100).all()
    ranked = scores[scores["ranked"]]
    assert (ranked["forms"] >= 3).all() and scores.loc[~scores["ranked"], "rank"].isna().all()
    for row in ranked.itertuples():
        assert row.rank == 1 + (ranked["composite"] > row.composite).sum()      # ties share the best rank
        same = ranked[ranked["category"] == row.category]
        assert row.category_rank == 1 + (same["composite"] > row.composite).sum()
    assert (scores["key_help"] == (scores["key_help_reasons"] != "")).all()
