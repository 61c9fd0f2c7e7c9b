"""Bad input gives one-line errors; valid odd input runs and reconciles; runs never leave half-written outputs."""
import json
import os
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from textmine.cli import main
from textmine.pipeline import analyse, run
from textmine.read import read_table, resolve_columns

from .conftest import FIXTURES, write_csv

HEADER = "被评议单位,意见建议,评议人编号\n"


@pytest.fixture
def runner():
    return CliRunner()


def write_bytes(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def assert_one_line_error(result, path, *fragments):
    """Exit code 1, a single line `Error: …` naming the file, no traceback, no outputs."""
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ")
    assert result.output.count("\n") == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert path.name in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


def run_cli(runner, path, out, *extra):
    return runner.invoke(main, ["run", str(path), "--out", str(out), *extra])


def read_out(out, name):
    return pd.read_csv(out / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def assert_reconciles(out, input_rows):
    comments, rejects = read_out(out, "comments.csv"), read_out(out, "rejects.csv")
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert len(comments) + len(rejects) == input_rows == info["counts"]["input_rows"]
    assert info["counts"]["accepted"] == len(comments) and info["counts"]["rejected"] == len(rejects)
    assert pd.concat([comments["row_id"], rejects["row_id"]]).is_unique
    return comments, rejects


# --------------------------------------------------------------------- one-line errors


@pytest.mark.parametrize("content", [b"", b"   \n\n", "\ufeff".encode("utf-8")])
def test_empty_file(runner, tmp_path, content):
    path = write_bytes(tmp_path / "empty.csv", content)
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path, "is empty")
    assert not (tmp_path / "out").exists()


def test_header_only(runner, tmp_path):
    path = write_bytes(tmp_path / "header.csv", HEADER)
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path, "has a header row but no data rows")


def test_missing_text_column_lists_the_columns(runner, tmp_path):
    path = write_bytes(tmp_path / "nocol.csv", "单位,评分,日期\n市监局,很差劲的服务态度,2025-11-01\n")
    result = run_cli(runner, path, tmp_path / "out")
    assert_one_line_error(result, path, "no opinion-text column found; columns are 单位, 评分, 日期",
                          "pass --text-col", "(评分 has the longest values)")


def test_missing_explicit_column(runner, tmp_path):
    path = write_bytes(tmp_path / "in.csv", HEADER + "市监局,太慢,P1\n")
    result = run_cli(runner, path, tmp_path / "out", "--office-col", "单位名称")
    assert_one_line_error(result, path, "column 单位名称 not found", "--office-col 被评议单位")


def test_duplicated_column(runner, tmp_path):
    path = write_bytes(tmp_path / "dup.csv", "意见建议,被评议单位,意见建议\n太慢,市监局,x\n")
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path,
                          "column 意见建议 appears more than once in the header (columns A and C)")


def test_wrong_forced_encoding_names_the_line(runner, tmp_path):
    path = write_bytes(tmp_path / "gbk.csv", (HEADER + "市监局,态度差,P1\n市公安局,太慢,P2\n").encode("gbk"))
    result = run_cli(runner, path, tmp_path / "out", "--encoding", "utf-8")
    assert_one_line_error(result, path, "line 1 cannot be decoded as utf-8", "--encoding gb18030")


def test_undecodable_bytes(runner, tmp_path):
    path = write_bytes(tmp_path / "binary.csv", b"\x81\x30\x81" + bytes(range(0x80, 0x100)) * 4)
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path,
                          "the encoding is neither UTF-8", "nor GB18030/GBK", "--encoding")


def test_big5_file_is_detected_not_read_as_gbk(runner, tmp_path):
    text = "被評議單位,意見建議\n市監局,窗口態度惡劣，辦事效率低下\n公安局,戶籍窗口工作人員上班時間玩手機\n"
    path = write_bytes(tmp_path / "big5.csv", text.encode("big5"))
    table = read_table(path)
    assert table.encoding == "big5"
    assert table.frame["意見建議"].tolist() == ["窗口態度惡劣，辦事效率低下", "戶籍窗口工作人員上班時間玩手機"]
    # traditional header names match the simplified names of columns.toml
    assert resolve_columns(table)["text"] == "意見建議" and resolve_columns(table)["office"] == "被評議單位"
    result = run_cli(runner, path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    comments, _ = assert_reconciles(tmp_path / "out", 2)
    assert comments["text"].tolist() == ["窗口态度恶劣，办事效率低下", "户籍窗口工作人员上班时间玩手机"]
    assert comments["themes"].tolist() == ["efficiency;attitude", "discipline"]


def test_corrupt_xlsx(runner, tmp_path):
    path = write_bytes(tmp_path / "broken.xlsx", b"PK\x03\x04" + b"garbage" * 40)
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path, "is not a valid .xlsx file")


def test_truncated_xlsx(runner, tmp_path):
    data = (FIXTURES / "comments.xlsx").read_bytes()
    path = write_bytes(tmp_path / "cut.xlsx", data[: len(data) // 2])
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path, "is not a valid .xlsx file")


def test_password_protected_xlsx(runner, tmp_path):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le")
    path = write_bytes(tmp_path / "secret.xlsx", ole2)
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path,
                          "is password-protected (encrypted); save an unprotected copy")


def test_row_longer_than_header(runner, tmp_path):
    path = write_bytes(tmp_path / "ragged.csv", HEADER + "市监局,太慢,P1\n市公安局,态度差,P2,多余,更多\n")
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path,
                          "row 3 has 5 fields but the header has 3", "check the delimiter or quoting")


def test_unclosed_quote(runner, tmp_path):
    path = write_bytes(tmp_path / "quote.csv", HEADER + '市监局,"太慢,P1\n市公安局,态度差,P2\n')
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path,
                          'a double quote (") on line 2 opens a field that is never closed')


def test_text_column_of_numbers_is_refused(runner, tmp_path):
    path = write_bytes(tmp_path / "scores.csv", "被评议单位,意见建议,备注\n市监局,5,无\n市公安局,3.5,办事很慢\n")
    assert_one_line_error(run_cli(runner, path, tmp_path / "out"), path,
                          "column 意见建议 holds only numbers (rows 2, 3), not opinion text", "pass --text-col")


def test_office_column_with_5000_unknown_spellings_is_refused(runner, tmp_path):
    rows = [{"被评议单位": f"第{i}号单位", "意见建议": "办事太慢"} for i in range(5000)]
    path = write_csv(tmp_path / "offices.csv", rows)
    result = run_cli(runner, path, tmp_path / "out")
    assert_one_line_error(result, path, "column 被评议单位 names 5,000 different offices",
                          "5,000 not in the alias table, e.g. '第0号单位' in row 2", "more than --max-offices 1,000")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------- valid odd input runs


def test_short_rows_embedded_newlines_and_quotes(tmp_path, toolkit):
    content = (HEADER + '市监局,"第一行\n第二行，""引号""里的话",P1\n'
               '市公安局,"态度差, 很慢",P2\n市人社局\n市监局,"跑了三趟\r\n还没办好",P3\n')
    path = write_bytes(tmp_path / "odd.csv", content)
    run(path, tmp_path / "out", toolkit=toolkit)
    comments, rejects = assert_reconciles(tmp_path / "out", 4)
    texts = dict(zip(comments["row_id"], comments["text"]))
    # rows are records as a spreadsheet shows them, whatever lines they span
    assert texts == {"2": '第一行 第二行，"引号"里的话', "3": "态度差, 很慢", "5": "跑了三趟 还没办好"}
    assert rejects[["row_id", "reason_code"]].values.tolist() == [["4", "empty"]]   # the short row


def test_a_1mb_cell_is_read_and_quoted_shortened(tmp_path, toolkit):
    long_text = "窗口态度生硬，审批拖了两个月。" * 25000   # 375,000 characters, 1.1 MB in UTF-8
    assert len(long_text.encode("utf-8")) > 1_000_000
    rows = [{"被评议单位": "市监局", "意见建议": long_text, "评议人编号": f"P{i}"} for i in range(3)]
    rows[1]["意见建议"] = "审批拖了两个月，态度生硬"
    rows[2]["意见建议"] = "审批拖了两个月，窗口态度生硬"
    path = write_csv(tmp_path / "big.csv", rows)
    analysis = run(path, tmp_path / "out", toolkit=toolkit)
    comments, _ = assert_reconciles(tmp_path / "out", 3)
    assert len(comments.set_index("row_id").loc["2", "text"]) == len(long_text)
    assert set(comments["themes"]) == {"efficiency;attitude"}
    examples = [e for item in analysis.items.itertuples() for e in item.examples]
    assert examples and max(map(len, examples)) == 1000 and any(e.endswith("…") for e in examples)


def test_emoji_and_punctuation_only_texts_are_rejected_with_a_reason(tmp_path, toolkit):
    rows = [{"被评议单位": "市监局", "意见建议": t, "评议人编号": f"P{i}"}
            for i, t in enumerate(["😡😡😡", "！！！。。。", "👍", "…… ？", "😡 态度差"])]
    path = write_csv(tmp_path / "emoji.csv", rows)
    run(path, tmp_path / "out", toolkit=toolkit)
    comments, rejects = assert_reconciles(tmp_path / "out", 5)
    assert rejects["reason_code"].tolist() == ["no_content"] * 4
    assert comments["text"].tolist() == ["😡 态度差"] and comments["themes"].tolist() == ["attitude"]


def test_mixed_traditional_and_simplified_text(tmp_path, toolkit):
    rows = [{"被评议单位": "市監局", "意见建议": "窗口態度惡劣，效率低下", "评议人编号": "P1"},
            {"被评议单位": "市监局", "意见建议": "審批太慢，跑了好幾趟，沒人管", "评议人编号": "P2"},
            {"被评议单位": "市监局", "意见建议": "审批太慢，跑了好几趟，没人管", "评议人编号": "P2"},
            {"被评议单位": "市监局", "意见建议": "無意見", "评议人编号": "P3"},
            {"被评议单位": "市监局", "意见建议": "态度坏，乾隆年间的老规矩", "评议人编号": "P4"}]
    path = write_csv(tmp_path / "mixed.csv", rows)
    run(path, tmp_path / "out", toolkit=toolkit)
    comments, rejects = assert_reconciles(tmp_path / "out", 5)
    by_row = comments.set_index("row_id")
    assert by_row.loc["2", "text"] == "窗口态度恶劣，效率低下" and by_row.loc["2", "themes"] == "efficiency;attitude"
    assert by_row.loc["3", "text"] == "审批太慢，跑了好几趟，没人管"
    assert by_row.loc["6", "text"] == "态度坏，乾隆年间的老规矩"   # simplified text is never touched
    assert set(comments["office"]) == {"市市场监督管理局"}
    assert rejects[["row_id", "reason_code", "duplicate_of"]].values.tolist() == [
        ["4", "near_duplicate", "3"], ["5", "non_substantive", ""]]


def test_numbers_in_a_named_text_column_are_rejected_rows(tmp_path, toolkit):
    rows = [{"被评议单位": "市监局", "意见建议": v} for v in ["5", "3.5", "12,000", "态度差", "第3次来了还办不好"]]
    path = write_csv(tmp_path / "nums.csv", rows)
    run(path, tmp_path / "out", columns={"text": "意见建议"}, toolkit=toolkit)
    comments, rejects = assert_reconciles(tmp_path / "out", 5)
    assert rejects["reason_code"].tolist() == ["numeric"] * 3
    assert rejects["reason"].iloc[0] == "only a number, not an opinion"


def test_numbers_where_text_is_expected_in_xlsx(tmp_path, toolkit):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["被评议单位", "意见建议", "满意度"])
    sheet.append([110, "窗口态度差", 3])
    sheet.append(["市监局", 12345, 4.5])
    sheet.append(["市监局", "审批慢", None])
    path = tmp_path / "numbers.xlsx"
    workbook.save(path)
    run(path, tmp_path / "out", toolkit=toolkit)
    comments, rejects = assert_reconciles(tmp_path / "out", 3)
    assert set(comments["office"]) == {"110", "市市场监督管理局"}
    assert rejects[["row_id", "reason_code"]].values.tolist() == [["3", "numeric"]]


def test_5000_spellings_of_known_offices_are_attached(toolkit):
    offices = list(toolkit.offices.offices)
    variants = ["{}", " {} ", "{}\u3000", "“{}”", "《{}》", "{} "]
    spellings = []
    for i in range(5000):
        office = offices[i % len(offices)]
        spaced = " ".join(office) if i % 7 == 0 else office
        spellings.append(variants[i % len(variants)].format(spaced) if i % 7 else spaced)
    frame = pd.DataFrame({"被评议单位": spellings, "意见建议": [f"审批太慢{'！' * (i % 4)}" for i in range(5000)]},
                         index=pd.RangeIndex(2, 5002, name="row"))
    assert frame["被评议单位"].nunique() >= 5 * len(offices)
    analysis = analyse(frame, {"text": "意见建议", "office": "被评议单位"}, toolkit, keep_duplicates=True)
    assert len(analysis.comments) == 5000
    assert set(analysis.comments["office"]) == set(offices)
    assert analysis.info["offices"]["unknown"] == {}


# ------------------------------------------------------------- atomic, repeatable runs

MIXED = [
    {"被评议单位": "市监局", "意见建议": "窗口态度生硬，办营业执照拖了两个月", "评议人编号": "P1"},
    {"被评议单位": "市公安局", "意见建议": "无意见", "评议人编号": "P2"},
    {"被评议单位": "市监局", "意见建议": "收费不公示，乱收费", "评议人编号": "P3"},
    {"被评议单位": "市人社局", "意见建议": "社保转移跑了三趟", "评议人编号": "P4"},
]


def snapshot(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failure_mid_run_leaves_previous_outputs_intact(tmp_path, toolkit, monkeypatch, error):
    import textmine.pipeline

    out = tmp_path / "out"
    first = write_csv(tmp_path / "first.csv", MIXED[:2])
    run(first, out, toolkit=toolkit)
    before = snapshot(out)
    assert "comments.csv" in before

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(textmine.pipeline, "write_rectification_xlsx", broken)
    second = write_csv(tmp_path / "second.csv", MIXED)
    with pytest.raises(type(error)):
        run(second, out, toolkit=toolkit)
    assert snapshot(out) == before                      # every file as it was, nothing added
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []   # no staging left behind


def test_cli_failure_leaves_no_output_folder_content(runner, tmp_path, monkeypatch):
    import textmine.pipeline

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(textmine.pipeline, "write_json", broken)
    path = write_csv(tmp_path / "in.csv", MIXED)
    result = run_cli(runner, path, tmp_path / "out")
    assert result.exit_code != 0
    assert not (tmp_path / "out").exists()  # the run made the folder, and removed it


def _xlsx_parts(path):
    with zipfile.ZipFile(path) as archive:  # docProps/core.xml holds the creation time
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


def test_rerun_gives_identical_files_but_run_json_times(tmp_path, toolkit):
    path = write_csv(tmp_path / "in.csv", MIXED)
    run(path, tmp_path / "a", toolkit=toolkit)
    run(path, tmp_path / "b", toolkit=toolkit)
    names = sorted(p.name for p in (tmp_path / "a").iterdir() if p.is_file())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir() if p.is_file())
    for name in ("comments.csv", "rejects.csv", "office_summary.csv", "rectification_items.csv", "rectification.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert _xlsx_parts(tmp_path / "a" / "rectification.xlsx") == _xlsx_parts(tmp_path / "b" / "rectification.xlsx")
    infos = [json.loads((tmp_path / d / "run.json").read_text(encoding="utf-8")) for d in "ab"]
    for info in infos:
        for key in ("started_at", "finished_at", "timings_s"):
            info.pop(key)
    assert infos[0] == infos[1]
    assert os.listdir(tmp_path / "a") == os.listdir(tmp_path / "a")
