"""The DuckDB workspace: init, idempotent ingest, atomic replace, Parquet export, CLI, demo rounds."""
from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from textmine.cli import main
from textmine.errors import DataFileError, TextmineError
from textmine.pipeline import analyse
from textmine.workspace import CONFIG_NAME, ROUND_TABLES, SCHEMA, Workspace

COLUMNS = {"text": "意见建议", "office": "被评议单位", "evaluator": "评议人编号", "group": "评议人类别",
           "satisfaction": "满意度", "name": "评议人姓名"}


def opinions(extra: list[tuple] = ()) -> pd.DataFrame:
    rows = [
        ("市税务局", "P-1", "张三", "服务对象", "不满意", "窗口态度恶劣，还乱收费"),
        ("市税务局", "P-2", "", "市领导", "满意", ""),
        ("市民政局", "P-1", "张三", "服务对象", "基本满意", "办事拖拉，跑了三趟"),
        ("市民政局", "P-3", "", "基层群众", "满意", "无"),
        *extra,
    ]
    frame = pd.DataFrame(rows, columns=["被评议单位", "评议人编号", "评议人姓名", "评议人类别", "满意度", "意见建议"])
    frame.index = range(2, len(frame) + 2)
    return frame


@pytest.fixture
def workspace(tmp_path):
    return Workspace.init(tmp_path / "ws")


def counts(ws: Workspace) -> dict[str, int]:
    return {table: len(ws.table(table)) for table in (*ROUND_TABLES, "rounds")}


def test_init_creates_config_and_tables_and_keeps_an_edited_config(tmp_path, workspace):
    assert (workspace.path / CONFIG_NAME).is_file() and workspace.db_path.is_file()
    assert all(workspace.table(t).empty for t in SCHEMA)
    workspace.config_path.write_text('[weights]\n"服务对象" = 7\n', encoding="utf-8")
    Workspace.init(workspace.path)                       # again: nothing is overwritten
    assert workspace.config().weights == {"服务对象": 7.0}
    bad = tmp_path / "bad.toml"
    bad.write_text("[weights]\n'a' = -2\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"bad\.toml:2"):
        Workspace.init(tmp_path / "other", config=bad)
    assert not (tmp_path / "other").exists()
    with pytest.raises(TextmineError, match="not a textmine workspace .* textmine init"):
        Workspace.open(tmp_path / "nowhere")


def test_ingest_is_idempotent_and_a_corrected_file_replaces_the_round(workspace, toolkit):
    first = analyse(opinions(), COLUMNS, toolkit)
    assert workspace.ingest(first, 2025).status == "added"
    before = counts(workspace)
    assert before["ratings"] == 4 and before["comments"] == 2 and before["rejects"] == 2
    assert workspace.ingest(analyse(opinions(), COLUMNS, toolkit), 2025).status == "unchanged"
    assert counts(workspace) == before
    fingerprint = workspace.rounds()["fingerprint"].tolist()

    corrected = analyse(opinions([("市公安局", "P-4", "", "服务对象", "不满意", "民警态度生硬")]), COLUMNS, toolkit)
    assert workspace.ingest(corrected, 2025).status == "replaced"
    after = counts(workspace)
    assert after["ratings"] == 5 and after["comments"] == 3 and after["rounds"] == 1
    assert workspace.rounds()["fingerprint"].tolist() != fingerprint
    assert workspace.ingest(first, 2024).status == "added"
    assert workspace.rounds()["round"].tolist() == [2024, 2025]
    assert len(workspace.table("ratings", 2025)) == 5 and len(workspace.table("ratings", 2024)) == 4


def test_a_failed_replace_leaves_the_old_round_intact(workspace, toolkit, monkeypatch):
    workspace.ingest(analyse(opinions(), COLUMNS, toolkit), 2025)
    before = {t: workspace.table(t) for t in ROUND_TABLES}
    original = Workspace._insert

    def failing(con, table, frame, round_id):
        if table == "items":                             # after comments, rejects … were replaced
            raise RuntimeError("disk full")
        original(con, table, frame, round_id)

    monkeypatch.setattr(Workspace, "_insert", staticmethod(failing))
    corrected = analyse(opinions([("市公安局", "P-4", "", "服务对象", "不满意", "民警态度生硬")]), COLUMNS, toolkit)
    with pytest.raises(RuntimeError, match="disk full"):
        workspace.ingest(corrected, 2025)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(workspace.table(table), frame)


def test_stored_rows_carry_no_evaluator_identity(workspace, toolkit):
    workspace.ingest(analyse(opinions(), COLUMNS, toolkit), 2025)
    for table in SCHEMA:
        frame = workspace.table(table).astype(str)
        for secret in ("P-1", "P-2", "张三"):
            assert not frame.apply(lambda col: col.str.contains(secret, regex=False)).any().any(), (table, secret)
    assert workspace.table("ratings")["evaluator"].tolist() == [1, 2, 1, 3]


def test_parquet_export_of_every_table(workspace, toolkit, tmp_path):
    workspace.ingest(analyse(opinions(), COLUMNS, toolkit), 2025)
    paths = workspace.export_parquet(tmp_path / "parquet")
    assert sorted(p.stem for p in paths) == sorted(SCHEMA)
    for path in paths:
        frame = pd.read_parquet(path)
        assert list(frame.columns) == [c for c, _ in SCHEMA[path.stem]]
        assert len(frame) == len(workspace.table(path.stem))
    assert pd.read_parquet(tmp_path / "parquet" / "ratings.parquet")["rating"].tolist() == [
        "不满意", "满意", "基本满意", "满意"]


def test_cli_init_run_score_track_export(tmp_path, toolkit):
    runner = CliRunner()
    ws = tmp_path / "ws"
    result = runner.invoke(main, ["init", str(ws)])
    assert result.exit_code == 0, result.output
    assert "ready" in result.output
    previous = opinions([("市公安局", "P-9", "", "服务对象", "不满意", "民警态度生硬")])
    Workspace.open(ws).ingest(analyse(previous, COLUMNS, toolkit), 2024)   # the library path, to save time
    path = tmp_path / "op2025.csv"
    opinions().to_csv(path, index=False, encoding="utf-8-sig")
    result = runner.invoke(main, ["run", str(path), "--workspace", str(ws), "--round", "2025",
                                  "--out", str(tmp_path / "out2025")])
    assert result.exit_code == 0, result.output
    assert "round 2025 added in workspace" in result.output
    assert Workspace.open(ws).ingest(analyse(opinions(), COLUMNS, toolkit), 2025).status == "unchanged"

    result = runner.invoke(main, ["score", "--workspace", str(ws), "--round", "2025", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(tmp_path / "s" / "scores.csv", encoding="utf-8-sig")
    assert sorted(scores["office"]) == ["市民政局", "市税务局"] and set(scores["round"]) == {2025}
    assert not scores["ranked"].any()                      # 2 forms each, min_forms is 30

    result = runner.invoke(main, ["track", "--workspace", str(ws), "--round", "2025", "--since", "2024",
                                  "--out", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t" / "tracking.csv").is_file() and (tmp_path / "t" / "tracking.md").is_file()
    wb = load_workbook(tmp_path / "t" / "rectification.xlsx", read_only=True)
    assert wb.sheetnames[:3] == ["总览", "评议得分", "整改跟踪"]
    wb.close()

    result = runner.invoke(main, ["export", "--workspace", str(ws), "--out", str(tmp_path / "pq")])
    assert result.exit_code == 0 and f"{len(SCHEMA)} tables" in result.output

    result = runner.invoke(main, ["run", str(tmp_path / "op2025.csv"), "--workspace", str(ws),
                                  "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "Error: --workspace needs --round" in result.output
    result = runner.invoke(main, ["track", "--workspace", str(ws), "--round", "2026", "--since", "2025"])
    assert result.exit_code == 1 and "Error: no round 2026 in the workspace; rounds are 2024, 2025" in result.output
    result = runner.invoke(main, ["score", "--workspace", str(tmp_path / "none")])
    assert result.exit_code == 1 and "not a textmine workspace" in result.output


# ---- the demo's second round --------------------------------------------------------------------


def test_demo_compares_the_two_sample_rounds(demo_run):
    analysis, out = demo_run
    rounds = out / "rounds"
    ws = Workspace.open(rounds / "workspace")
    assert ws.rounds()["round"].tolist() == [2024, 2025]
    # scoring uses every row with a rating, also rows whose text was rejected
    stored = ws.table("scores")
    for year in (2024, 2025):
        used = stored[stored["round"] == year][["forms", "superseded", "unrated"]].to_numpy().sum()
        assert used == 3200
    scores = pd.read_csv(rounds / "scores.csv", encoding="utf-8-sig")
    assert set(scores["round"]) == {2025}
    ranked = scores[scores["ranked"]]
    assert len(ranked) == 35 and ranked["rank"].min() == 1 and ranked["prev_rank"].notna().all()
    assert (scores["rank_change"] <= -10).sum() == scores["fell"].sum() > 0
    assert scores.groupby("category")["bottom_of_category"].sum().to_dict() == {
        "公共服务企事业单位": 1, "执法监管部门": 1, "窗口服务单位": 1, "综合管理部门": 1}
    tracking = pd.read_csv(rounds / "tracking.csv", encoding="utf-8-sig")
    assert {"improved", "persisting", "new", "absent"} <= set(tracking["status"])
    assert set(tracking["since_round"]) == {2024} and set(tracking["round"]) == {2025}
    wb = load_workbook(rounds / "rectification.xlsx", read_only=True)
    assert wb.sheetnames[:3] == ["总览", "评议得分", "整改跟踪"]
    wb.close()
    for name in ("scores.csv", "tracking.csv", "tracking.md"):
        text = (rounds / name).read_text(encoding="utf-8-sig")
        assert "P2025-" not in text and "P2024-" not in text
