"""Rectification tracking: the two-proportion test and the statuses, by hand."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from textmine.errors import TextmineError
from textmine.tracking import TRACK_COLUMNS, track_themes, tracking_markdown, tracking_overview, two_proportion_test


def test_two_proportion_z_test_by_hand():
    # 30/100 → 15/100: p̂ = 0.225, se = √(0.225 · 0.775 · 0.02) = 0.059055, z = −0.15 / se
    z, p, test = two_proportion_test(30, 100, 15, 100)
    assert test == "z"
    assert z == pytest.approx(-2.54000, abs=1e-4)
    assert p == pytest.approx(math.erfc(2.54000 / math.sqrt(2)), abs=1e-4)
    assert p == pytest.approx(0.01108, abs=1e-4)
    assert two_proportion_test(15, 100, 30, 100)[0] == pytest.approx(2.54000, abs=1e-4)


def test_small_counts_use_fishers_exact_test():
    # expected 2.5 < 5: Fisher; 5/10 vs 0/10 → p = 2 · C(10,5)·C(10,0)/C(20,5) = 2 · 252/15504
    z, p, test = two_proportion_test(5, 10, 0, 10)
    assert test == "fisher"
    assert p == pytest.approx(2 * 252 / 15504, abs=1e-6)
    assert z < 0
    assert two_proportion_test(0, 10, 0, 12) == (0.0, 1.0, "z")
    with pytest.raises(TextmineError, match="needs opinions in both rounds"):
        two_proportion_test(0, 0, 1, 10)
    with pytest.raises(TextmineError, match="within 0..n"):
        two_proportion_test(11, 10, 1, 10)


def frames(rounds: dict[int, dict[str, tuple[int, dict[str, int]]]]):
    """{round: {office: (opinions, {theme: count})}} → (office_themes, offices)."""
    themes, offices = [], []
    for round_id, by_office in rounds.items():
        for office, (opinions, counts) in by_office.items():
            offices.append({"round": round_id, "office": office, "category": "k", "opinions": opinions})
            themes += [{"round": round_id, "office": office, "theme": t, "theme_name": t.upper(), "count": c}
                       for t, c in counts.items() if c]
    return pd.DataFrame(themes), pd.DataFrame(offices)


def status_of(result: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(r.office, r.theme): r.status for r in result.itertuples()}


def test_statuses_between_two_rounds():
    office_themes, offices = frames({
        2024: {"O": (100, {"a": 30, "b": 10, "d": 2}), "gone": (50, {"a": 5})},
        2025: {"O": (100, {"a": 15, "b": 12, "c": 5}), "only_new": (40, {"a": 9})},
    })
    result = track_themes(office_themes, offices, 2025, 2024)
    assert list(result.columns) == TRACK_COLUMNS
    assert status_of(result) == {("O", "a"): "improved", ("O", "b"): "persisting", ("O", "c"): "new",
                                 ("O", "d"): "absent"}           # offices in one round only are left out
    a = result.set_index("theme").loc["a"]
    assert (a["since_share"], a["share"], a["share_change"], a["direction"]) == (0.3, 0.15, -0.15, "down")
    assert a["significant"] and a["test"] == "z" and a["p_value"] == pytest.approx(0.0111, abs=1e-4)
    assert a["theme_name"] == "A"
    # with two rounds there is no middle round and nothing can be "rebounded"
    assert result["middle_round"].isna().all() and "rebounded" not in set(result["status"])
    # rows ordered by status within the office: new, persisting, absent, improved
    assert result["theme"].tolist() == ["c", "b", "d", "a"]
    overview = tracking_overview(result)
    assert overview.set_index("office").loc["O", ["improved", "persisting", "new", "rebounded", "absent"]].tolist() == [
        1, 1, 1, 0, 1]


THREE_ROUNDS = {
    2023: {"O": (100, {"e": 30, "g": 20, "h": 25})},
    2024: {"O": (100, {"e": 5, "g": 18, "h": 0})},
    2025: {"O": (100, {"e": 30, "f": 10, "g": 30, "h": 2})},
}


def test_rebounded_with_the_round_before_since():
    office_themes, offices = frames(THREE_ROUNDS)
    result = track_themes(office_themes, offices, 2025, 2024)
    # A = 2023, B = 2024 (since), C = 2025:
    #   e: 30 → 5 (significantly lower) → 30 (significantly higher than 5): rebounded
    #   f: never named before: new
    #   g: 20 → 18 (not lower) → 30: persisting (it never improved)
    #   h: 25 → 0 → 2 (2/100 vs 0/100 is not significant): new in 2025 vs 2024, not a rebound
    assert status_of(result) == {("O", "e"): "rebounded", ("O", "f"): "new", ("O", "g"): "persisting",
                                 ("O", "h"): "new"}
    e = result.set_index("theme").loc["e"]
    assert (e["earlier_round"], e["middle_round"], e["middle_count"], e["middle_share"]) == (2023, 2024, 5, 0.05)


def test_rebounded_with_a_round_between_since_and_round():
    office_themes, offices = frames(THREE_ROUNDS)
    result = track_themes(office_themes, offices, 2025, 2023)
    # A = 2023 (since), B = 2024 (between), C = 2025; e: 30 → 30 is "persisting" against 2023,
    # but it went down in between and came back: rebounded. h: 25 → 2 significantly lower: improved.
    assert status_of(result) == {("O", "e"): "rebounded", ("O", "f"): "new", ("O", "g"): "persisting",
                                 ("O", "h"): "improved"}
    assert set(result["middle_round"]) == {2024} and set(result["earlier_round"]) == {2023}


def test_bad_rounds_are_refused():
    office_themes, offices = frames(THREE_ROUNDS)
    with pytest.raises(TextmineError, match="--since must be an earlier round"):
        track_themes(office_themes, offices, 2024, 2025)
    with pytest.raises(TextmineError, match="no round 2026 in the workspace; rounds are 2023, 2024, 2025"):
        track_themes(office_themes, offices, 2026, 2025)


def test_markdown_escapes_office_names():
    office_themes, offices = frames({2024: {"O|<b>": (10, {"a": 5})}, 2025: {"O|<b>": (10, {"a": 1})}})
    text = tracking_markdown(track_themes(office_themes, offices, 2025, 2024))
    assert "## O\\|&lt;b&gt;" in text and "<b>" not in text
    assert "# 整改跟踪：2025 年与 2024 年比较" in text
