import json
import re

import pandas as pd
import pytest

from textmine.pipeline import analyse, run
from textmine.read import read_table, resolve_columns

from .conftest import FIXTURES, read, write_csv

OUTPUTS = {"comments.csv", "rejects.csv", "office_summary.csv", "rectification.xlsx", "rectification.md",
           "rectification_items.csv", "run.json", "report.html", "charts"}


def read_out(out, name):
    return read(out / name)


def assert_reconciles(out, input_rows):
    comments, rejects = read_out(out, "comments.csv"), read_out(out, "rejects.csv")
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert len(comments) + len(rejects) == input_rows
    assert info["counts"]["input_rows"] == input_rows
    assert info["counts"]["accepted"] == len(comments)
    assert info["counts"]["rejected"] == len(rejects)
    assert sum(info["counts"]["rejected_by_reason"].values()) == len(rejects)
    ids = pd.concat([comments["row_id"], rejects["row_id"]]).astype(int)
    assert ids.is_unique
    return comments, rejects, info


MIXED = [
    {"被评议单位": "市监局", "意见建议": "窗口态度生硬，办营业执照拖了两个月", "评议人编号": "P1", "联系电话": "13911112222"},
    {"被评议单位": "市公安局", "意见建议": "无意见", "评议人编号": "P2", "联系电话": ""},
    {"被评议单位": "市监局", "意见建议": "窗口态度生硬，办营业执照拖了两个月", "评议人编号": "P1", "联系电话": "13911112222"},
    {"被评议单位": "市监局", "意见建议": "窗口态度生硬 办营业执照拖了两个月!", "评议人编号": "P1", "联系电话": "13911112222"},
    {"被评议单位": "市监局", "意见建议": "窗口态度生硬，办营业执照拖了两个月", "评议人编号": "P9", "联系电话": ""},
    {"被评议单位": "开发区管委会", "意见建议": "没有推诿，但是跑了三趟，我电话13800001111", "评议人编号": "P3", "联系电话": ""},
    {"被评议单位": "", "意见建议": "", "评议人编号": "P4", "联系电话": ""},
    {"被评议单位": "市人社局", "意见建议": "。。。", "评议人编号": "P5", "联系电话": ""},
    {"被评议单位": "市人社局", "意见建议": "工作人员态度很好", "评议人编号": "P5", "联系电话": ""},
]


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory, toolkit):
    tmp = tmp_path_factory.mktemp("mixed")
    src = write_csv(tmp / "in.csv", MIXED)
    out = tmp / "out"
    analysis = run(src, out, toolkit=toolkit)
    return analysis, out


def test_every_row_is_accounted_for_with_its_reason(mixed_run):
    analysis, out = mixed_run
    assert {p.name for p in out.iterdir()} == OUTPUTS
    comments, rejects, info = assert_reconciles(out, len(MIXED))
    reasons = dict(zip(rejects["row_id"].astype(int), rejects["reason_code"]))
    assert reasons == {3: "non_substantive", 4: "duplicate", 5: "near_duplicate", 8: "empty", 9: "no_content"}
    dup = rejects[rejects["reason_code"] == "duplicate"].iloc[0]
    assert dup["duplicate_of"] == "2" and dup["reason"] == "exact duplicate of row 2"
    # the same text from another evaluator is a second opinion, not a duplicate
    assert 6 in comments["row_id"].astype(int).tolist()
    assert info["counts"]["rejected_by_reason"] == {"duplicate": 1, "empty": 1, "near_duplicate": 1,
                                                    "no_content": 1, "non_substantive": 1}


def test_offices_are_normalised_and_unknown_ones_listed(mixed_run):
    analysis, out = mixed_run
    comments = read_out(out, "comments.csv")
    assert set(comments["office"]) == {"市市场监督管理局", "开发区管委会", "市人力资源和社会保障局"}
    row = comments[comments["row_id"] == "2"].iloc[0]
    assert row["office_as_written"] == "市监局" and row["category"] == "执法监管部门"
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["offices"]["unknown"] == {"开发区管委会": 1}
    assert read_out(out, "rejects.csv").set_index("row_id").loc["8", "office"] == "未指明"


def test_themes_evidence_and_negation(mixed_run):
    _, out = mixed_run
    comments = read_out(out, "comments.csv").set_index("row_id")
    assert comments.loc["2", "themes"] == "efficiency;attitude"
    assert comments.loc["2", "evidence"] == "efficiency:拖了两个月;attitude:态度生硬"
    assert comments.loc["7", "themes"] == "efficiency"         # 没有推诿 is negated
    assert comments.loc["10", "themes"] == ""                  # praise


def test_personal_data_never_reaches_the_outputs(mixed_run):
    _, out = mixed_run
    for path in out.iterdir():
        if path.is_dir():  # charts/: pictures of counts, no text to leak
            continue
        if path.suffix in {".csv", ".md", ".json", ".html"}:
            text = path.read_text(encoding="utf-8-sig")
            # inlined images and font are base64, where "P1" can occur by chance
            text = re.sub(r"data:[a-z/]+;base64,[A-Za-z0-9+/=]+", "", text)
        else:
            import zipfile
            with zipfile.ZipFile(path) as z:
                text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        for secret in ("13911112222", "13800001111", "P1", "P9"):
            assert secret not in text, (path.name, secret)
        if path.name != "run.json":  # run.json records the column mapping, names only
            assert "联系电话" not in text and "评议人编号" not in text, path.name
    assert "【电话】" in (out / "comments.csv").read_text(encoding="utf-8-sig")


def test_summary_and_rectification(mixed_run, toolkit):
    analysis, out = mixed_run
    summary = read_out(out, "office_summary.csv")
    smr = summary[summary["office"] == "市市场监督管理局"]
    assert smr[["theme", "count", "opinions", "share", "rank"]].values.tolist() == [
        ["efficiency", "2", "2", "1.0", "1"], ["attitude", "2", "2", "1.0", "1"]]
    items = analysis.items[analysis.items["office"] == "市市场监督管理局"]
    assert items["theme"].tolist() == ["efficiency", "attitude"]
    # two evaluators only: counts but no verbatim quote (--min-evaluators defaults to 3)
    assert items.iloc[0]["examples"] == [] and items.iloc[0]["evaluators"] == 2
    # with the rule relaxed, two identical opinions from different evaluators are shown once
    table = read_table(out.parent / "in.csv")
    relaxed = analyse(table.frame, resolve_columns(table), toolkit, min_evaluators=1).items
    assert relaxed[relaxed["office"] == "市市场监督管理局"].iloc[0]["examples"] == ["窗口态度生硬，办营业执照拖了两个月"]
    md = (out / "rectification.md").read_text(encoding="utf-8")
    assert "## 市市场监督管理局" in md and "限时办结制" in md


def test_keep_duplicates(tmp_path, toolkit):
    src = write_csv(tmp_path / "in.csv", MIXED)
    analysis = run(src, tmp_path / "out", toolkit=toolkit, keep_duplicates=True)
    assert "duplicate" not in set(analysis.rejects["reason_code"])
    assert len(analysis.comments) + len(analysis.rejects) == len(MIXED)


def test_gbk_fixture_end_to_end(tmp_path, toolkit):
    analysis = run(FIXTURES / "comments_gbk.csv", tmp_path, toolkit=toolkit)
    comments, rejects, info = assert_reconciles(tmp_path, 4)
    assert info["input"]["encoding"] == "gb18030"
    assert info["columns"]["satisfaction"] == "评价"
    assert rejects["reason_code"].tolist() == ["empty"]
    slow = comments.set_index("row_id").loc["3"]
    assert "\n" not in slow["text"] and "\r" not in slow["text"]
    assert slow["themes"] == "efficiency;process"


def test_xlsx_fixture_end_to_end(tmp_path, toolkit):
    run(FIXTURES / "comments.xlsx", tmp_path, toolkit=toolkit)
    comments, rejects, info = assert_reconciles(tmp_path, 4)
    assert rejects.set_index("row_id").loc["4", "reason_code"] == "empty"   # the blank row
    assert comments.set_index("row_id").loc["3", "themes"] == "process"


def test_without_office_column_everything_goes_to_unspecified(tmp_path, toolkit):
    src = write_csv(tmp_path / "in.csv", [{"内容": "审批太慢"}, {"内容": "态度差"}])
    analysis = run(src, tmp_path / "out", toolkit=toolkit)
    assert set(analysis.comments["office"]) == {"未指明"}
    assert analysis.summary["opinions"].tolist() == [2, 2]


def test_analyse_in_memory_matches_run(mixed_run, toolkit, tmp_path):
    analysis, _ = mixed_run
    table = read_table(write_csv(tmp_path / "in.csv", MIXED))
    again = analyse(table.frame, resolve_columns(table), toolkit)
    pd.testing.assert_frame_equal(again.comments, analysis.comments)
    pd.testing.assert_frame_equal(again.summary, analysis.summary)


def test_rerun_gives_identical_files(mixed_run, tmp_path, toolkit):
    _, out = mixed_run
    src = write_csv(tmp_path / "in.csv", MIXED)
    run(src, tmp_path / "again", toolkit=toolkit)
    for name in OUTPUTS - {"run.json", "rectification.xlsx", "report.html", "charts"}:  # these record the run's time
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name
