"""Tests for textmine.read: reading opinion files and mapping their columns to roles."""
from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from textmine.errors import ColumnError, DataFileError, InputError
from textmine.read import (
    ROLES,
    Table,
    load_column_aliases,
    read_table,
    resolve_columns,
)

FIXTURES = Path(__file__).parent / "fixtures"
GBK_CSV = FIXTURES / "comments_gbk.csv"
BOM_CSV = FIXTURES / "comments_utf8_bom.csv"
UTF16_TXT = FIXTURES / "comments_utf16.txt"
WORKBOOK = FIXTURES / "comments.xlsx"


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def assert_all_str(frame: pd.DataFrame) -> None:
    for column in frame.columns:
        assert pd.api.types.is_string_dtype(frame[column]), column
        assert all(isinstance(v, str) for v in frame[column]), column


# --------------------------------------------------------------------------- fixtures


def test_gbk_csv_with_embedded_newline_keeps_spreadsheet_row_numbers():
    table = read_table(GBK_CSV)
    frame = table.frame
    assert (table.encoding, table.delimiter, table.sheet, table.header_row) == ("gb18030", ",", None, 1)
    assert list(frame.columns) == ["序号", "被评议单位", "评价", "意见建议", "填报日期"]
    # The quoted cell of row 3 spans two physical lines; row 4 is still row 4.
    assert list(frame.index) == [2, 3, 4, 5]
    assert frame.index.name == "row"
    assert frame.loc[3, "意见建议"] == '审批时间太长，\r\n材料反复要求补交，说"下次再来"'
    assert frame.loc[4, "被评议单位"] == "市人社局"
    assert frame.loc[5, "意见建议"] == ""
    assert_all_str(frame)


def test_gbk_csv_forced_gbk_reads_the_same_cells():
    forced = read_table(GBK_CSV, encoding="GBK")
    assert forced.encoding == "gbk"
    pd.testing.assert_frame_equal(forced.frame, read_table(GBK_CSV).frame)


def test_utf8_bom_csv_drops_bom_and_trailing_empty_header_cell():
    table = read_table(BOM_CSV)
    assert table.encoding == "utf-8-sig"
    assert list(table.frame.columns) == ["单位", "满意度", "留言内容", "联系电话"]
    assert table.frame.loc[2, "联系电话"] == "13800000000"
    assert table.frame.loc[3, "联系电话"] == ""
    assert list(table.frame.index) == [2, 3]


def test_bom_is_stripped_from_header_even_when_utf8_is_forced():
    table = read_table(BOM_CSV, encoding="utf-8")
    assert table.frame.columns[0] == "单位"


def test_utf16_unicode_text_export_is_tab_separated():
    table = read_table(UTF16_TXT)
    assert (table.encoding, table.delimiter) == ("utf-16-le", "\t")
    assert list(table.frame.columns) == ["被评单位", "评议结果", "意见", "评议人类别"]
    assert table.frame.loc[3, "意见"] == "道路坑洼多年无人修"


def test_bomless_utf16_is_detected(tmp_path):
    path = write(tmp_path, "plain16.csv", "单位,意见\r\n县财政局,好\r\n", encoding="utf-16-le")
    table = read_table(path)
    assert table.encoding == "utf-16-le"
    assert table.frame.loc[2, "意见"] == "好"


def test_xlsx_first_sheet_renders_numbers_dates_and_booleans():
    table = read_table(WORKBOOK)
    frame = table.frame
    assert (table.sheet, table.encoding, table.delimiter, table.header_row) == ("汇总", None, None, 1)
    # Column J only carries formatting: openpyxl reports it, the table does not.
    assert list(frame.columns) == ["编号", "被评议单位", "满意度", "意见", "填报日期", "提交时间", "得分", "公开"]
    assert list(frame.index) == [2, 3, 4, 5]  # trailing formatted rows dropped
    assert frame.loc[2].tolist() == ["101", "市税务局", "满意", "服务热情", "2023-11-02",
                                     "2023-11-02 09:30:00", "95", "TRUE"]
    assert frame.loc[3].tolist() == ["102", "市医保局", "不满意", "报销流程繁琐", "2023-11-03",
                                     "2023-11-03 14:05:07", "62.5", "FALSE"]
    assert frame.loc[4].tolist() == [""] * 8  # a blank row between data rows is kept
    assert frame.loc[5, "得分"] == "0.1"
    assert frame.loc[5, "提交时间"] == ""
    assert_all_str(frame)


@pytest.mark.parametrize("sheet", ["明细", 2, "2", " 明细 "])
def test_xlsx_sheet_by_name_or_number_skips_title_row(sheet):
    table = read_table(WORKBOOK, sheet=sheet)
    assert table.sheet == "明细"
    assert table.header_row == 3  # row 1 is a merged title, row 2 is blank
    assert list(table.frame.columns) == ["单位名称", "意见内容", "评议人姓名"]
    assert list(table.frame.index) == [4]
    assert table.frame.loc[4, "意见内容"] == "占道经营管理不到位"


def test_xlsx_unknown_sheet_lists_sheet_names():
    with pytest.raises(InputError, match=r"comments\.xlsx: no sheet named '意见'; sheets are 汇总, 明细"):
        read_table(WORKBOOK, sheet="意见")


@pytest.mark.parametrize("sheet", [0, 3, "5"])
def test_xlsx_sheet_number_out_of_range(sheet):
    with pytest.raises(InputError, match=rf"comments\.xlsx: there is no sheet number {sheet}; .*2 sheet"):
        read_table(WORKBOOK, sheet=sheet)


def test_table_is_frozen():
    table = read_table(BOM_CSV)
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.path = Path("other.csv")


# --------------------------------------------------------------------------- file type


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nothere\.csv: no such file"):
        read_table(tmp_path / "nothere.csv")


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(InputError, match=r"data\.csv is a directory"):
        read_table(folder)


def test_xls_is_refused_with_advice(tmp_path):
    path = write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(InputError, match=r"old\.xls: .*not supported.*save it as \.xlsx"):
        read_table(path)


@pytest.mark.parametrize("name", ["comments.json", "comments"])
def test_other_extensions_list_supported_formats(tmp_path, name):
    path = write(tmp_path, name, "{}")
    with pytest.raises(InputError, match=rf"{name}: unsupported file type.*\.csv, \.tsv, \.txt, \.xlsx"):
        read_table(path)


def test_corrupt_xlsx(tmp_path):
    path = write(tmp_path, "broken.xlsx", "单位,意见\n税务局,好\n")
    with pytest.raises(InputError, match=r"broken\.xlsx is not a valid \.xlsx file"):
        read_table(path)


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(InputError, match=r"archive\.xlsx is not a valid \.xlsx file"):
        read_table(path)


def test_encrypted_xlsx(tmp_path):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le")
    path = write(tmp_path, "secret.xlsx", ole2)
    with pytest.raises(InputError, match=r"secret\.xlsx is password-protected \(encrypted\); "
                                         r"save an unprotected copy$"):
        read_table(path)


def test_ole2_without_encryption_marker_mentions_renamed_xls(tmp_path):
    path = write(tmp_path, "renamed.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(InputError, match=r"renamed\.xlsx is password-protected.*old \.xls workbook"):
        read_table(path)


def test_empty_xlsx_sheet(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "空表"
    path = tmp_path / "blank.xlsx"
    workbook.save(path)
    with pytest.raises(InputError, match=r"blank\.xlsx \(sheet 空表\) is empty"):
        read_table(path)


def test_xlsx_header_only(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["单位", "意见"])
    path = tmp_path / "header.xlsx"
    workbook.save(path)
    with pytest.raises(InputError, match=r"header\.xlsx \(sheet Sheet\) has a header row but no data rows"):
        read_table(path)


def test_xlsx_unnamed_column_with_data_is_kept(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["单位", None, "意见"])
    workbook.active.append(["税务局", "x", "好", "备注"])
    path = tmp_path / "gaps.xlsx"
    workbook.save(path)
    table = read_table(path)
    assert list(table.frame.columns) == ["单位", "列2", "意见", "列4"]
    assert table.frame.loc[2].tolist() == ["税务局", "x", "好", "备注"]


# --------------------------------------------------------------------------- encodings


def test_forced_utf8_on_gbk_file_names_line_and_suggests_encoding():
    with pytest.raises(InputError, match=r"comments_gbk\.csv: line 1 cannot be decoded as utf-8 "
                                         r"\(bytes [0-9a-f ]+\); .*--encoding gb18030"):
        read_table(GBK_CSV, encoding="utf-8")


def test_forced_encoding_error_counts_lines(tmp_path):
    content = "office,text\r\nA,fine\r\nB,窗口态度差\r\n".encode("gbk")
    path = write(tmp_path, "later.csv", content)
    with pytest.raises(InputError, match=r"later\.csv: line 3 cannot be decoded as utf-8"):
        read_table(path, encoding="utf-8")


@pytest.mark.parametrize("name", ["no-such-codec", "base64"])
def test_unknown_encoding(name):
    with pytest.raises(InputError, match=rf"comments_gbk\.csv: unknown encoding '{name}'"):
        read_table(GBK_CSV, encoding=name)


def test_undetectable_encoding_names_lines(tmp_path):
    path = write(tmp_path, "binary.csv", b"a,b\n1,2\n3,\x80\xff\n")
    with pytest.raises(InputError, match=r"binary\.csv: the encoding is neither UTF-8 \(line 3.*"
                                         r"nor GB18030/GBK \(line 3.*--encoding"):
        read_table(path)


def test_bom_followed_by_invalid_utf8(tmp_path):
    path = write(tmp_path, "badbom.csv", b"\xef\xbb\xbfa,b\n1,\xff\n")
    with pytest.raises(InputError, match=r"badbom\.csv: line 2 is not valid UTF-8 although the file starts "
                                         r"with a UTF-8 byte-order mark \(bytes ff\)"):
        read_table(path)


# --------------------------------------------------------------------------- text shape


@pytest.mark.parametrize("content", [b"", b"  \r\n\n\t ", b"\xef\xbb\xbf\n", b"\xff\xfe" + " \n".encode("utf-16-le")])
def test_empty_file(tmp_path, content):
    path = write(tmp_path, "empty.csv", content)
    with pytest.raises(InputError, match=r"empty\.csv is empty"):
        read_table(path)


def test_only_delimiters_is_empty(tmp_path):
    path = write(tmp_path, "commas.csv", ",,,\n,,,\n")
    with pytest.raises(InputError, match=r"commas\.csv is empty"):
        read_table(path)


@pytest.mark.parametrize("content", ["单位,意见\n", "单位,意见\r\n\r\n\r\n", "单位,意见\n,\n"])
def test_header_only(tmp_path, content):
    path = write(tmp_path, "header.csv", content)
    with pytest.raises(InputError, match=r"header\.csv has a header row but no data rows"):
        read_table(path)


def test_duplicate_header_names_both_columns(tmp_path):
    path = write(tmp_path, "dup.csv", "序号,单位,意见,评价,日期,意见\n1,a,b,c,d,e\n")
    with pytest.raises(InputError, match=r"dup\.csv: column 意见 appears more than once in the header "
                                         r"\(columns C and F\)"):
        read_table(path)


def test_duplicate_after_stripping_whitespace(tmp_path):
    path = write(tmp_path, "dup2.csv", "意见, 意见 \n1,2\n")
    with pytest.raises(InputError, match=r"dup2\.csv: column 意见 .*columns A and B"):
        read_table(path)


def test_blank_header_names_are_numbered(tmp_path):
    path = write(tmp_path, "blank.csv", "单位,,意见\n税务局,x,好\n")
    assert list(read_table(path).frame.columns) == ["单位", "列2", "意见"]


def test_header_names_are_stripped_values_are_not(tmp_path):
    path = write(tmp_path, "spaces.csv", " 单位 ,\u3000意见\t\n 税务局 ,  办事慢  \n")
    frame = read_table(path).frame
    assert list(frame.columns) == ["单位", "意见"]
    assert frame.loc[2].tolist() == [" 税务局 ", "  办事慢  "]


def test_short_rows_are_padded_and_extra_empty_fields_ignored(tmp_path):
    path = write(tmp_path, "ragged.csv", "单位,评价,意见\n税务局\n医保局,满意,好,,\n")
    frame = read_table(path).frame
    assert frame.loc[2].tolist() == ["税务局", "", ""]
    assert frame.loc[3].tolist() == ["医保局", "满意", "好"]


def test_row_longer_than_header_counts_records_not_lines(tmp_path):
    content = '单位,意见\n税务局,"第一行\n第二行"\n医保局,慢,多余\n'
    path = write(tmp_path, "long.csv", content)
    with pytest.raises(InputError, match=r"long\.csv: row 3 has 3 fields but the header has 2; "
                                         r"check the delimiter or quoting"):
        read_table(path)


def test_row_too_long_reports_lines_it_spans(tmp_path):
    # An unmatched quote merges lines 3-4 into one record of row 3.
    content = '单位,意见\n税务局,好\n"医保局,慢\n人社局",快,多\n'
    path = write(tmp_path, "quote.csv", content)
    with pytest.raises(InputError, match=r"quote\.csv: row 3 \(lines 3–4 of the file\) has 3 fields"):
        read_table(path)


def test_unclosed_quote_at_end_of_file(tmp_path):
    path = write(tmp_path, "open.csv", '单位,意见\n税务局,"没有结束\n医保局,慢\n')
    with pytest.raises(InputError, match=r"open\.csv: row 2: a double quote \(\"\) on line 2 opens a "
                                         r"field that is never closed"):
        read_table(path)


def test_runaway_quote_beyond_field_limit(tmp_path):
    path = write(tmp_path, "runaway.csv", '意见,单位\n"' + "很长" * 70000 + "\n好,x\n")
    # a cell may be longer than the csv module's default limit (131,072 characters), so the
    # runaway quote is found where it really shows: at the end of the file, still open
    with pytest.raises(InputError, match=r"runaway\.csv: row 2: a double quote \(\"\) on line 2 opens a field "
                                         r"that is never closed, so lines 2–3 were read as one cell"):
        read_table(path)


def test_blank_rows_inside_are_kept_trailing_dropped(tmp_path):
    path = write(tmp_path, "gaps.csv", "单位,意见\n税务局,好\n\n,\n医保局,慢\n\n\n")
    frame = read_table(path).frame
    assert list(frame.index) == [2, 3, 4, 5]
    assert frame.loc[3].tolist() == ["", ""]
    assert frame.loc[4].tolist() == ["", ""]
    assert frame.loc[5, "单位"] == "医保局"


def test_title_row_above_header_is_skipped(tmp_path):
    path = write(tmp_path, "title.csv", "2023年度群众评议意见汇总,,\n单位,评价,意见\n税务局,满意,好\n")
    table = read_table(path)
    assert table.header_row == 2
    assert list(table.frame.columns) == ["单位", "评价", "意见"]
    assert list(table.frame.index) == [3]


def test_single_column_file_keeps_its_header(tmp_path):
    path = write(tmp_path, "one.txt", "意见\n办事慢\n态度好\n")
    table = read_table(path)
    assert table.header_row == 1
    assert list(table.frame.columns) == ["意见"]
    assert table.frame["意见"].tolist() == ["办事慢", "态度好"]


def test_one_column_txt_keeps_commas_inside_opinions(tmp_path):
    path = write(tmp_path, "list.txt", "意见\n材料多,跑腿多\n\"窗口\"态度差\n")
    table = read_table(path)
    assert table.delimiter == "\t"
    assert table.frame["意见"].tolist() == ["材料多,跑腿多", "窗口态度差"]


def test_one_column_csv_with_unquoted_comma_is_an_error_not_a_title(tmp_path):
    path = write(tmp_path, "list.csv", "意见\n材料多,跑腿多\n")
    with pytest.raises(InputError, match=r"list\.csv: row 2 has 2 fields but the header has 1"):
        read_table(path)


@pytest.mark.parametrize(("name", "content", "delimiter"), [
    ("semi.csv", "单位;意见\n税务局;好,很好\n", ";"),
    ("pipe.txt", "单位|意见\n税务局|好,很好\n", "|"),
    ("tabs.csv", "单位\t意见\n税务局\t好,很好\n", "\t"),
    ("quoted.csv", '"单位,名称";意见\n税务局;好\n', ";"),
    ("plain.tsv", "单位\t意见\n税务局\t好,很好\n", "\t"),
    ("one.tsv", "意见\n好,很好\n", "\t"),
])
def test_delimiter_is_sniffed_from_header(tmp_path, name, content, delimiter):
    table = read_table(write(tmp_path, name, content))
    assert table.delimiter == delimiter
    assert table.frame.iloc[0, -1] in {"好,很好", "好"}


def test_excel_sep_line_declares_delimiter(tmp_path):
    path = write(tmp_path, "sep.csv", "sep=;\r\n单位;意见\r\n税务局;好,很好\r\n")
    table = read_table(path)
    assert table.delimiter == ";"
    assert table.frame.loc[2].tolist() == ["税务局", "好,很好"]


# --------------------------------------------------------------------------- column roles


def test_roles_constant():
    assert ROLES == ("text", "office", "satisfaction", "group", "evaluator", "name", "phone", "date",
                     "title", "likes", "id")


def test_detects_common_headers_in_fixtures():
    assert resolve_columns(read_table(GBK_CSV)) == {
        "text": "意见建议", "office": "被评议单位", "satisfaction": "评价", "group": None,
        "evaluator": None, "name": None, "phone": None, "date": "填报日期",
        "title": None, "likes": None, "id": None,
    }
    assert resolve_columns(read_table(UTF16_TXT)) == {
        "text": "意见", "office": "被评单位", "satisfaction": "评议结果", "group": "评议人类别",
        "evaluator": None, "name": None, "phone": None, "date": None,
        "title": None, "likes": None, "id": None,
    }
    detail = resolve_columns(read_table(WORKBOOK, sheet="明细"))
    assert (detail["text"], detail["office"], detail["name"]) == ("意见内容", "单位名称", "评议人姓名")


def table_with(tmp_path: Path, header: list[str], row: list[str] | None = None) -> Table:
    row = row or [f"v{i}" for i in range(len(header))]
    return read_table(write(tmp_path, "t.csv", ",".join(header) + "\n" + ",".join(row) + "\n"))


def test_containment_for_text_and_office(tmp_path):
    table = table_with(tmp_path, ["序号", "被评议单位名称", "意见建议（必填）", "评议人编号"])
    roles = resolve_columns(table)
    assert roles["text"] == "意见建议（必填）"
    assert roles["office"] == "被评议单位名称"
    assert roles["evaluator"] == "评议人编号"


def test_row_number_column_is_not_an_evaluator(tmp_path):
    roles = resolve_columns(table_with(tmp_path, ["序号", "编号", "意见"]))
    assert roles["evaluator"] is None


def test_containment_veto_keeps_evaluator_workplace_out_of_office(tmp_path):
    roles = resolve_columns(table_with(tmp_path, ["评议人工作单位", "意见类型", "留言内容"]))
    assert roles["office"] is None
    assert roles["text"] == "留言内容"


def test_exact_match_wins_over_containment(tmp_path):
    roles = resolve_columns(table_with(tmp_path, ["意见建议（必填）", "内容"]))
    assert roles["text"] == "内容"


def test_ascii_headers_are_case_insensitive_and_whole_words(tmp_path):
    roles = resolve_columns(table_with(tmp_path, ["Community", "Office", " COMMENT ", "Phone"]))
    assert roles["text"] == "COMMENT"
    assert roles["office"] == "Office"
    assert roles["phone"] == "Phone"


def test_office_may_be_absent(tmp_path):
    roles = resolve_columns(table_with(tmp_path, ["内容"]))
    assert roles == {role: None for role in ROLES} | {"text": "内容"}


def test_explicit_column_overrides_detection():
    table = read_table(GBK_CSV)
    roles = resolve_columns(table, text="评价", office=None)
    assert roles["text"] == "评价"
    assert roles["office"] == "被评议单位"  # None means: detect
    assert roles["satisfaction"] is None  # 评价 is taken; a column serves one role


def test_explicit_column_is_not_also_detected_for_an_earlier_role():
    roles = resolve_columns(read_table(GBK_CSV), date="意见建议", text="序号")
    assert roles["text"] == "序号"
    assert roles["date"] == "意见建议"
    assert "意见建议" not in [roles[r] for r in ROLES if r != "date"]


def test_explicit_empty_string_means_no_column():
    roles = resolve_columns(read_table(GBK_CSV), office="")
    assert roles["office"] is None
    assert roles["text"] == "意见建议"


def test_explicit_match_ignores_case_and_width(tmp_path):
    roles = resolve_columns(table_with(tmp_path, ["Remarks", "单位"]), text="remarks")
    assert roles["text"] == "Remarks"


def test_explicit_missing_column_suggests_detected(tmp_path):
    table = table_with(tmp_path, ["单位", "评价", "内容"])
    with pytest.raises(ColumnError, match=r"^.*t\.csv: column 意见 not found; columns are 单位, 评价, 内容 "
                                          r"— pass --text-col 内容$"):
        resolve_columns(table, text="意见")


def test_explicit_missing_column_suggests_close_spelling():
    with pytest.raises(ColumnError, match=r"comments_gbk\.csv: column 被评议 not found; columns are "
                                          r"序号, 被评议单位, 评价, 意见建议, 填报日期 — pass --office-col 被评议单位"):
        resolve_columns(read_table(GBK_CSV), office="被评议")


def test_explicit_missing_column_names_sheet():
    with pytest.raises(ColumnError, match=r"comments\.xlsx \(sheet 汇总\): column 电话 not found; "
                                          r"columns are 编号, .* — pass --phone-col"):
        resolve_columns(read_table(WORKBOOK), phone="电话")


def test_same_explicit_column_for_two_roles(tmp_path):
    table = table_with(tmp_path, ["单位", "内容"])
    with pytest.raises(ColumnError, match=r"column 内容 is given for both --text-col and --group-col"):
        resolve_columns(table, text="内容", group="内容")


def test_no_text_column(tmp_path):
    table = table_with(tmp_path, ["单位", "评价", "备注"], ["税务局", "满意", "窗口人员很耐心"])
    with pytest.raises(ColumnError, match=r"t\.csv: no opinion-text column found; columns are 单位, 评价, 备注 "
                                          r"— pass --text-col .*\(备注 has the longest values\)"):
        resolve_columns(table)


def test_empty_text_column_is_refused(tmp_path):
    with pytest.raises(ColumnError, match=r"--text-col cannot be empty"):
        resolve_columns(table_with(tmp_path, ["单位", "内容"]), text=" ")


def test_unknown_role_is_a_programming_error():
    with pytest.raises(TypeError, match="unknown role"):
        resolve_columns(read_table(GBK_CSV), txt="意见建议")


# --------------------------------------------------------------------------- columns.toml


def test_shipped_column_names():
    aliases = load_column_aliases()
    assert set(aliases.names) == set(ROLES)
    assert all(aliases.names[role] for role in ROLES)
    assert aliases.names["text"][:2] == ("意见建议", "意见")
    assert "序号" not in aliases.names["evaluator"] and "编号" not in aliases.names["evaluator"]


def write_aliases(tmp_path: Path, body: str) -> Path:
    return write(tmp_path, "columns.toml", body)


def test_aliases_unknown_role_names_line(tmp_path):
    path = write_aliases(tmp_path, 'text = ["意见"]\n\n# comment\ntxet = ["内容"]\n')
    with pytest.raises(DataFileError, match=r"columns\.toml:4: unknown role 'txet'"):
        load_column_aliases(path)


def test_aliases_non_list_names_line(tmp_path):
    path = write_aliases(tmp_path, 'text = ["意见"]\noffice = "单位"\n')
    with pytest.raises(DataFileError, match=r"columns\.toml:2: office must be a list of non-empty strings"):
        load_column_aliases(path)


def test_aliases_name_in_two_roles(tmp_path):
    path = write_aliases(tmp_path, 'text = ["意见", "评价"]\nsatisfaction = [\n  "满意度",\n  "评价",\n]\n')
    with pytest.raises(DataFileError, match=r"columns\.toml:4: '评价' is listed for both text \(line 1\) "
                                            r"and satisfaction"):
        load_column_aliases(path)


def test_aliases_veto_for_exact_only_role(tmp_path):
    path = write_aliases(tmp_path, 'text = ["意见"]\n\n[containment_veto]\ntext = ["类型"]\ndate = ["x"]\n')
    with pytest.raises(DataFileError, match=r"columns\.toml:5: \[containment_veto\] 'date'"):
        load_column_aliases(path)


def test_aliases_invalid_toml(tmp_path):
    path = write_aliases(tmp_path, 'text = ["意见"]\noffice = [\n')
    with pytest.raises(DataFileError, match=r"columns\.toml:\d+: invalid TOML"):
        load_column_aliases(path)


def test_aliases_without_text(tmp_path):
    path = write_aliases(tmp_path, 'office = ["单位"]\n')
    with pytest.raises(DataFileError, match=r"columns\.toml:1: no names for role 'text'"):
        load_column_aliases(path)


def test_custom_aliases_drive_detection(tmp_path):
    aliases = load_column_aliases(write_aliases(tmp_path, 'text = ["问卷回答"]\n'))
    table = table_with(tmp_path, ["意见", "问卷回答"])
    assert resolve_columns(table, aliases=aliases)["text"] == "问卷回答"



# --------------------------------------------------------------------------- streaming and chunks
# Text files are decoded a block of bytes at a time, split into lines a piece at a time and
# turned into columns a chunk of rows at a time; tiny sizes put every boundary inside the data.

import csv  # noqa: E402
from unittest import mock  # noqa: E402

import textmine.read as read_module  # noqa: E402

from . import conftest  # noqa: E402
from .conftest import expected_frame  # noqa: E402


def tiny(chunk_rows=3, piece_chars=5, block_bytes=7):
    """Small chunk, piece and block sizes (the UTF-16 guess needs no more than 64 bytes here)."""
    return mock.patch.multiple(read_module, _CHUNK_ROWS=chunk_rows, _PIECE_CHARS=piece_chars,
                               _BLOCK_BYTES=block_bytes, _FIRST_BYTES=64, _HEAD_CHARS=24)


def write_rows(path: Path, rows: list[list[str]], *, newline: str = "\r\n", encoding: str = "utf-8-sig") -> Path:
    return conftest.write_rows(path, rows, newline=newline, encoding=encoding)


HEADER = ["单位", "意见", "日期"]
BODY = [
    ["市税务局", "办事快", "2025-11-01"],
    ["市医保局", "报销慢，\r\n材料多\n跑了三趟", "2025-11-02"],  # a quoted cell over three lines
    ["", "", ""],                                              # a blank row inside the table is kept
    ["人社局", '说"下次再来"😡', ""],
    ["", "第二行\n\n第四行", "2025-11-03"],
    ["公安局", "好", "2025-11-04"],
    ["民政局", "窗口少\r\n", "2025-11-05"],                     # 7 = 2 x 3 + 1 rows
]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize(("chunk_rows", "piece_chars", "block_bytes"),
                         [(1, 1, 1), (2, 3, 2), (3, 5, 7), (3, 2, 1 << 20), (50_000, 1 << 20, 1 << 20)])
def test_chunks_pieces_and_blocks_do_not_change_the_table(tmp_path, newline, chunk_rows, piece_chars, block_bytes):
    trailing_blanks = [[""] * 3] * 4 + [[]] * 3  # more blank rows at the end than a chunk holds: dropped
    rows = [["2025年群众评议意见汇总", "", ""], HEADER, *BODY, *trailing_blanks]
    path = write_rows(tmp_path / "rows.csv", rows, newline=newline)
    with tiny(chunk_rows, piece_chars, block_bytes):
        table = read_table(path)
    assert (table.encoding, table.delimiter, table.header_row) == ("utf-8-sig", ",", 2)
    pd.testing.assert_frame_equal(table.frame, expected_frame(HEADER, BODY, 3))
    assert list(table.frame.index) == list(range(3, 10))  # spreadsheet rows: title 1, header 2
    chunks = table.frame["意见"].array.__arrow_array__().num_chunks
    assert (chunks > 1) == (chunk_rows < 5)  # the first rows wait in one chunk until the header is settled


def test_one_chunk_and_many_chunks_read_the_same_large_file(tmp_path):
    body = [[f"单位{i % 7}", f"意见{i}" + ("，\n续" if i % 5 == 0 else ""), "" if i % 3 else "2025"]
            for i in range(2 * 400 + 1)]
    path = write_rows(tmp_path / "many.csv", [HEADER, *body])
    with tiny(chunk_rows=400, piece_chars=997, block_bytes=4093):
        chunked = read_table(path)
    assert chunked.frame["意见"].array.__arrow_array__().num_chunks == 3
    pd.testing.assert_frame_equal(chunked.frame, expected_frame(HEADER, body, 2))
    pd.testing.assert_frame_equal(chunked.frame, read_table(path).frame)


@pytest.mark.parametrize("broken", [3, 4, 7])  # the last row of the first chunk, the first of the second, the last row
def test_row_wider_than_header_at_a_chunk_boundary(tmp_path, broken):
    body = [[f"单位{i}", f"意见{i}"] for i in range(7)]
    body[broken - 1] = ["单位", "意见", "多余"]
    path = write_rows(tmp_path / "wide.csv", [["单位", "意见"], *body])
    message = rf"wide\.csv: row {broken + 1} has 3 fields but the header has 2; check the delimiter or quoting$"
    with tiny(chunk_rows=3), pytest.raises(InputError, match=message):
        read_table(path)
    with pytest.raises(InputError, match=message):
        read_table(path)


def test_wide_row_from_an_open_quote_names_its_lines_across_chunks(tmp_path):
    lines = ["单位,意见"] + [f"单位{i},意见{i}" for i in range(5)] + ['"医保局,慢', '人社局",快,多', "民政局,好"]
    path = write(tmp_path, "quote.csv", "\n".join(lines) + "\n")
    with tiny(chunk_rows=2, piece_chars=3), pytest.raises(
            InputError, match=r"quote\.csv: row 7 \(lines 7–8 of the file\) has 3 fields but the header has 2"):
        read_table(path)


def test_only_the_first_wide_row_is_named(tmp_path):
    rows = [["单位", "意见"], ["a", "b"], ["a", "b", "c"], ["a", "b"], ["a", "b", "c", "d"]]
    with tiny(chunk_rows=1), pytest.raises(InputError, match=r"row 3 has 3 fields"):
        read_table(write_rows(tmp_path / "two.csv", rows))


@pytest.mark.parametrize("chunk_rows", [1, 2, 3])
def test_quote_left_open_at_the_end_spans_pieces_and_chunks(tmp_path, chunk_rows):
    lines = ["单位,意见"] + [f"单位{i},意见{i}" for i in range(7)] + ['民政局,"没有结束', "第二行", "第三行", "第四行"]
    path = write(tmp_path, "open.csv", "\r\n".join(lines) + "\r\n")
    message = (r"open\.csv: row 9: a double quote \(\"\) on line 9 opens a field that is never closed, "
               r"so lines 9–12 were read as one cell; fix the quoting$")
    with tiny(chunk_rows=chunk_rows, piece_chars=4, block_bytes=3), pytest.raises(InputError, match=message):
        read_table(path)
    with pytest.raises(InputError, match=message):
        read_table(path)


def test_closed_multiline_cell_at_the_end_is_no_error(tmp_path):
    lines = ["单位,意见"] + [f"单位{i},意见{i}" for i in range(7)] + ['民政局,"第一行', "第二行", '第三行"']
    path = write(tmp_path, "closed.csv", "\n".join(lines))  # no line break after the last line
    with tiny(chunk_rows=3, piece_chars=4):
        frame = read_table(path).frame
    assert frame.loc[9, "意见"] == "第一行\n第二行\n第三行"
    assert len(frame) == 8


def test_unparseable_record_wins_over_an_earlier_wide_row(tmp_path):
    # as when the whole file is parsed before the rows are checked: the parse error comes first
    path = write(tmp_path, "both.csv", '单位,意见\na,b\na,b,c\na,b\na,"' + "长" * 20 + '"\na,b\n')
    previous = csv.field_size_limit(8)
    try:
        with tiny(chunk_rows=1), mock.patch.object(read_module, "_MAX_CELL", 10), pytest.raises(
                InputError, match=r"both\.csv: row 5 \(from line 5\) has a cell longer than 8 characters"):
            read_table(path)
        assert csv.field_size_limit() == 8  # put back after the parse
        # ... and a byte further on that does not decode comes before both
        late = write(tmp_path, "late.csv", path.read_bytes() + b"a,b\n" * 20 + b"\xff\n")
        with tiny(chunk_rows=1, block_bytes=16), mock.patch.object(read_module, "_MAX_CELL", 10), pytest.raises(
                InputError, match=r"late\.csv: the encoding is neither UTF-8 \(line 27: bytes ff\)"):
            read_table(late)
    finally:
        csv.field_size_limit(previous)


def test_gbk_bytes_after_the_first_block_switch_to_gb18030(tmp_path):
    content = "office,text\r\n" + "".join(f"A{i},fine\r\n" for i in range(30)) + "市人社局,窗口态度差\r\n"
    path = write(tmp_path, "late.csv", content, encoding="gbk")  # plain ASCII for the first 300 bytes
    with tiny(chunk_rows=4, block_bytes=16):
        table = read_table(path)
    assert table.encoding == "gb18030"
    assert table.frame.loc[32].tolist() == ["市人社局", "窗口态度差"]
    assert len(table.frame) == 31


def test_undecodable_byte_after_the_first_block_names_its_line(tmp_path):
    content = ("office,text\n" + "a,b\n" * 40).encode("utf-8") + b"\xff\xff\n" + b"c,d\n"
    path = write(tmp_path, "bad.csv", content)
    with tiny(block_bytes=16):
        with pytest.raises(InputError, match=r"bad\.csv: the encoding is neither UTF-8 \(line 42: bytes ff\) "
                                             r"nor GB18030/GBK \(line 42: bytes ff\)"):
            read_table(path)
        with pytest.raises(InputError, match=r"bad\.csv: line 42 cannot be decoded as utf-8 \(bytes ff\)"):
            read_table(path, encoding="utf-8")


def test_forced_utf16_without_bom_reads_little_endian(tmp_path):
    # Python's incremental UTF-16 decoder wants a BOM where decoding the whole file does not
    path = write(tmp_path, "bare16.txt", "单位\t意见\r\n县财政局\t好\r\n" * 3, encoding="utf-16-le")
    with tiny():
        table = read_table(path, encoding="utf-16")
    assert table.encoding == "utf-16"
    assert table.frame.loc[2].tolist() == ["县财政局", "好"]


def test_blank_start_longer_than_the_first_block(tmp_path):
    path = write(tmp_path, "late_header.csv", "\r\n" * 80 + "单位,意见\r\n税务局,好\r\n")
    with tiny(chunk_rows=1):
        table = read_table(path)
        assert table.header_row == 81
        assert table.frame.loc[82].tolist() == ["税务局", "好"]
        with pytest.raises(InputError, match=r"blank\.csv is empty"):
            read_table(write(tmp_path, "blank.csv", " \r\n" * 100))


def test_blank_and_title_rows_before_the_header(tmp_path):
    rows = [[], ["", "", ""], ["2025年群众评议意见汇总", "", ""], [], [" ", "", ""], HEADER, *BODY[:2]]
    with tiny(chunk_rows=1, piece_chars=2):
        table = read_table(write_rows(tmp_path / "titles.csv", rows))
    assert table.header_row == 6
    pd.testing.assert_frame_equal(table.frame, expected_frame(HEADER, BODY[:2], 7))


def test_excel_sep_line_with_streaming(tmp_path):
    path = write(tmp_path, "sep.csv", "sep=;\r\n单位;意见\r\n" + "税务局;好,很好\r\n" * 5)
    with tiny(chunk_rows=2, piece_chars=3):
        table = read_table(path)
    assert table.delimiter == ";"
    assert list(table.frame.index) == [2, 3, 4, 5, 6]
    assert table.frame["意见"].tolist() == ["好,很好"] * 5
