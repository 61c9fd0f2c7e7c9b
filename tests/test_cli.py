import json

import pandas as pd
import pytest
from click.testing import CliRunner

from textmine.cli import main

from .conftest import FIXTURES, write_csv


@pytest.fixture
def runner():
    return CliRunner()


def test_help_lists_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "demo", "classify"):
        assert command in result.output


def test_run_prints_the_reconciliation(runner, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(FIXTURES / "comments_gbk.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "input rows 4 = accepted 3 + rejected 1" in result.output
    assert "rejected empty: 1" in result.output
    assert (out / "rectification.xlsx").exists()


def test_quiet_prints_nothing(runner, tmp_path):
    result = runner.invoke(main, ["run", str(FIXTURES / "comments_gbk.csv"), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0 and result.output == ""


def test_missing_column_is_a_one_line_error_listing_columns(runner, tmp_path):
    result = runner.invoke(main, ["run", str(FIXTURES / "comments_gbk.csv"), "--text-col", "意见",
                                  "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "comments_gbk.csv" in result.output and "意见" in result.output
    for column in ("序号", "被评议单位", "评价", "意见建议"):
        assert column in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "comments.csv").exists()


def test_bad_taxonomy_is_reported_with_file_and_line(runner, tmp_path):
    bad = tmp_path / "tax.toml"
    bad.write_text("[[themes]]\ncode = \"x\"\n", encoding="utf-8")
    result = runner.invoke(main, ["run", str(FIXTURES / "comments_gbk.csv"), "--taxonomy", str(bad),
                                  "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "tax.toml:1:" in result.output


def test_forced_wrong_encoding_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(main, ["run", str(FIXTURES / "comments_gbk.csv"), "--encoding", "utf-8",
                                  "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "comments_gbk.csv" in result.output and "--encoding" in result.output


def test_classify_keeps_every_input_row(runner, tmp_path):
    src = write_csv(tmp_path / "in.csv", [
        {"id": "a", "留言详情": "窗口态度生硬，审批拖了两个月"},
        {"id": "b", "留言详情": ""},
        {"id": "c", "留言详情": "没有推诿"},
        {"id": "d", "留言详情": "=1+1 乱收费"},
    ])
    out = tmp_path / "tagged.csv"
    result = runner.invoke(main, ["classify", str(src), "--text-col", "留言详情", "--out", str(out)])
    assert result.exit_code == 0, result.output
    tagged = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert tagged.columns.tolist() == ["id", "留言详情", "themes", "theme_names", "evidence", "confidence"]
    assert tagged["id"].tolist() == ["a", "b", "c", "d"]
    assert tagged["themes"].tolist() == ["efficiency;attitude", "", "", "fees"]
    assert tagged.loc[3, "留言详情"] == "'=1+1 乱收费"   # no formula in the output
    assert "4 rows classified, 2 with a theme" in result.output


def test_classify_replaces_existing_theme_columns(runner, tmp_path):
    src = write_csv(tmp_path / "in.csv", [{"text": "态度差", "themes": "old"}])
    out = tmp_path / "tagged.csv"
    assert runner.invoke(main, ["classify", str(src), "--text-col", "text", "--out", str(out)]).exit_code == 0
    tagged = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert tagged.columns.tolist() == ["text", "themes", "theme_names", "evidence", "confidence"]
    assert tagged.loc[0, "themes"] == "attitude"


def test_run_json_records_versions_and_timings(runner, tmp_path):
    runner.invoke(main, ["run", str(FIXTURES / "comments_utf8_bom.csv"), "--out", str(tmp_path), "-q"])
    info = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert info["textmine_version"] and info["versions"]["jieba"]
    assert {"read", "clean_mask_classify", "offices", "deduplicate", "write_rows", "aggregate",
            "write"} <= set(info["timings_s"])
    assert len(info["input"]["sha256"]) == 64


def test_round_without_workspace_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["run", str(FIXTURES / "comments_gbk.csv"), "--round", "2025", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--round needs --workspace" in result.output
    assert not (tmp_path / "comments.csv").exists()


def test_jobs_option_runs_and_rejects_zero(runner, tmp_path):
    ok = runner.invoke(main, ["run", str(FIXTURES / "comments_gbk.csv"), "--jobs", "2", "--out", str(tmp_path), "-q"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "comments.csv").exists()
    bad = runner.invoke(main, ["run", str(FIXTURES / "comments_gbk.csv"), "--jobs", "0", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--jobs" in bad.output
