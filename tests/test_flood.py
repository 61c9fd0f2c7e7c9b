"""Ballot stuffing: floods of near-identical opinions are detected, reported and weighted once."""
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from textmine.cli import main
from textmine.errors import TextmineError
from textmine.flood import find_floods, flood_key, parse_times

from .conftest import write_csv


def frame(rows):
    f = pd.DataFrame(rows)
    f["key"] = f["text"].map(flood_key)
    return f


def floods_of(rows, **kwargs):
    f = frame(rows)
    sources = {c: c for c in ("evaluator", "phone") if c in f}
    return find_floods(f, office="office", key="key", row_id="row", sources=sources,
                       time="date" if "date" in f else None, **kwargs)


def test_flood_key_ignores_punctuation_digits_and_latin_letters():
    assert flood_key("窗口态度恶劣！！3 abc") == flood_key("窗口态度恶劣。") == "窗口态度恶劣"
    assert flood_key("12345 !!") == ""


def test_parse_times_reads_common_spellings():
    times, clock = parse_times(["2025-11-01", "2025/11/2 09:30", "2025年11月3日", "", "不详"])
    assert [str(t.date()) if not pd.isna(t) else None for t in times] == \
        ["2025-11-01", "2025-11-02", "2025-11-03", None, None]
    assert clock is True
    assert parse_times(["2025-11-01", "2025年11月3日"])[1] is False


def test_one_phone_behind_many_evaluator_ids_is_a_source_flood():
    rows = [{"row": i + 2, "office": "A", "text": f"窗口态度恶劣，必须整改{'！' * i}", "evaluator": f"P{i}",
             "phone": "13900000000"} for i in range(5)]
    rows.append({"row": 9, "office": "A", "text": "窗口态度恶劣，必须整改", "evaluator": "P9", "phone": ""})
    marks, floods = floods_of(rows)
    assert floods[["office", "kind", "source", "rows", "kept_row", "row_ids"]].values.tolist() == [
        ["A", "source", "phone", 5, 2, [2, 3, 4, 5, 6]]]
    assert marks["flood_of"].isna().tolist() == [True, False, False, False, False, True]
    assert marks["flood_of"].dropna().tolist() == [2, 2, 2, 2]


def test_burst_within_the_window_but_not_spread_out():
    burst = [{"row": i, "office": "A", "text": "审批太慢了", "date": f"2025-11-01 09:{i:02d}"} for i in range(6)]
    spread = [{"row": 10 + i, "office": "B", "text": "审批太慢了", "date": f"2025-11-01 {9 + i}:00"} for i in range(6)]
    marks, floods = floods_of(burst + spread)
    assert floods[["office", "kind", "rows", "first", "last"]].values.tolist() == [
        ["A", "burst", 6, "2025-11-01 09:00:00", "2025-11-01 09:05:00"]]
    assert marks["flood"].notna().tolist() == [True] * 6 + [False] * 6
    # a wider window makes the spread-out group a burst too
    assert len(floods_of(burst + spread, window="6h")[1]) == 2


def test_dates_without_time_make_a_day_the_window():
    same_day = [{"row": i, "office": "A", "text": "乱收费", "date": "2025-11-01"} for i in range(5)]
    other_days = [{"row": 10 + i, "office": "B", "text": "乱收费", "date": f"2025-11-0{i + 1}"} for i in range(5)]
    _, floods = floods_of(same_day + other_days)
    assert floods["office"].tolist() == ["A"]


def test_below_min_copies_or_without_source_and_date_nothing_is_flagged():
    rows = [{"row": i, "office": "A", "text": "乱收费", "evaluator": "P1"} for i in range(4)]
    assert floods_of(rows)[1].empty
    assert len(floods_of(rows, min_copies=4)[1]) == 1
    anonymous = [{"row": i, "office": "A", "text": "乱收费"} for i in range(20)]
    assert floods_of(anonymous)[1].empty


@pytest.mark.parametrize("kwargs, message", [
    ({"min_copies": 1}, "min_copies must be an integer ≥ 2, got 1"),
    ({"window": "soon"}, "window must be a duration"),
    ({"window": "-1h"}, "window must be positive"),
])
def test_invalid_parameters_are_named(kwargs, message):
    with pytest.raises(TextmineError, match=message):
        floods_of([{"row": 1, "office": "A", "text": "x"}], **kwargs)


FLOODED = (
    [{"被评议单位": "市监局", "意见建议": f"市监局窗口态度恶劣，吃拿卡要{'!' * (i % 3)}{i}", "评议人编号": f"X{i:03d}",
      "填报日期": "2025-11-03"} for i in range(12)]
    + [{"被评议单位": "市监局", "意见建议": "审批拖了两个月", "评议人编号": "P1", "填报日期": "2025-11-01"},
       {"被评议单位": "市公安局", "意见建议": "办证很快，态度好", "评议人编号": "P2", "填报日期": "2025-11-03"}]
)


def test_pipeline_weighs_a_flood_once_and_reports_it(tmp_path):
    src = write_csv(tmp_path / "in.csv", FLOODED)
    result = CliRunner().invoke(main, ["run", str(src), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "input rows 14 = accepted 3 + rejected 11" in result.output
    assert "rejected flood: 11" in result.output
    assert "floods 1: 12 near-identical opinions, counted once each (--keep-floods to analyse them all)" in result.output
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rejects["reason_code"].tolist() == ["flood"] * 11
    assert set(rejects["duplicate_of"]) == {"2"} and rejects["row_id"].tolist() == [str(i) for i in range(3, 14)]
    assert rejects["reason"].iloc[0].startswith("flood of near-identical opinions")
    info = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert info["floods"]["detected"] == 1 and info["floods"]["weighted_once"] is True
    group = info["floods"]["groups"][0]
    assert group["kind"] == "burst" and group["kept_row"] == 2 and group["row_ids"] == list(range(2, 14))
    assert "X001" not in json.dumps(info["floods"])  # identities are never reported
    assert info["options"]["flood_min"] == 5 and info["options"]["keep_floods"] is False


def test_keep_floods_analyses_them_but_still_reports(tmp_path):
    src = write_csv(tmp_path / "in.csv", FLOODED)
    result = CliRunner().invoke(main, ["run", str(src), "--out", str(tmp_path / "out"), "--keep-floods"])
    assert result.exit_code == 0, result.output
    assert "input rows 14 = accepted 14 + rejected 0" in result.output
    assert "floods 1: 12 near-identical opinions, all analysed (--keep-floods)" in result.output


def test_flood_min_raises_the_threshold(tmp_path):
    src = write_csv(tmp_path / "in.csv", FLOODED)
    result = CliRunner().invoke(main, ["run", str(src), "--out", str(tmp_path / "out"), "--flood-min", "13"])
    assert result.exit_code == 0, result.output
    assert "input rows 14 = accepted 14 + rejected 0" in result.output and "floods" not in result.output
    bad = CliRunner().invoke(main, ["run", str(src), "--out", str(tmp_path / "out"), "--flood-min", "1"])
    assert bad.exit_code == 2 and "--flood-min" in bad.output


def test_the_sample_corpus_has_no_flood(demo_run):
    analysis, _ = demo_run
    assert analysis.info["floods"] == {"detected": 0, "rows": 0, "weighted_once": True, "groups": []}
