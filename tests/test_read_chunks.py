"""Tests for textmine.read.read_chunks: the same table as read_table, a chunk of rows at a time."""
from __future__ import annotations

import csv
import gc
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import textmine.read as read_module
from textmine.errors import ColumnError, InputError
from textmine.read import ChunkedTable, Table, read_chunks, read_table, resolve_columns

from .conftest import expected_frame, write_rows

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_FILES = ["comments_gbk.csv", "comments_utf8_bom.csv", "comments_utf16.txt", "comments.xlsx"]
CHUNK_SIZES = [1, 2, 7]


def small_blocks(block_bytes=7, piece_chars=5):
    """Tiny decoding blocks and pieces, so that every boundary falls inside the data."""
    return mock.patch.multiple(read_module, _PIECE_CHARS=piece_chars, _BLOCK_BYTES=block_bytes,
                               _FIRST_BYTES=64, _HEAD_CHARS=24)


def chunks_of(path: Path, chunk_rows: int, **kwargs) -> tuple[ChunkedTable, list[pd.DataFrame]]:
    with read_chunks(path, chunk_rows=chunk_rows, **kwargs) as table:
        return table, list(table)


def outcome(read):
    """The frame ``read()`` gives, or the message of the InputError it raises."""
    try:
        return read()
    except InputError as exc:
        return str(exc)


def assert_same_outcome(path: Path, chunk_rows: int, **kwargs) -> None:
    whole = outcome(lambda: read_table(path, **kwargs).frame)
    chunked = outcome(lambda: pd.concat(chunks_of(path, chunk_rows, **kwargs)[1]))
    if isinstance(whole, str) or isinstance(chunked, str):
        assert chunked == whole
    else:
        pd.testing.assert_frame_equal(chunked, whole)


HEADER = ["单位", "意见", "日期"]
BODY = [
    ["市税务局", "办事快", "2025-11-01"],
    ["市医保局", "报销慢，\r\n材料多\n跑了三趟", "2025-11-02"],
    ["", "", ""],
    ["人社局", '说"下次再来"😡', ""],
    ["", "第二行\n\n第四行", "2025-11-03"],
    ["公安局", "好", "2025-11-04"],
    ["民政局", "窗口少\r\n", "2025-11-05"],
    ["", "", ""],
    ["交通局", "=1+1", "2025-11-06"],
]


# --------------------------------------------------------------------------- the API


@pytest.mark.parametrize("name", FIXTURE_FILES)
@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
def test_chunks_join_to_the_table_of_every_fixture(name, chunk_rows):
    path = FIXTURES / name
    whole = read_table(path)
    table, chunks = chunks_of(path, chunk_rows)
    assert [len(c) for c in chunks] == [min(chunk_rows, len(whole.frame) - i)
                                        for i in range(0, len(whole.frame), chunk_rows)]
    for chunk in chunks:
        assert list(chunk.columns) == table.columns == whole.columns
        assert chunk.index.name == "row"
        assert list(chunk.dtypes) == list(whole.frame.dtypes)
    pd.testing.assert_frame_equal(pd.concat(chunks), whole.frame)
    assert (table.path, table.encoding, table.sheet, table.delimiter, table.header_row, table.source) == \
        (whole.path, whole.encoding, whole.sheet, whole.delimiter, whole.header_row, whole.source)


@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_chunks_hold_at_most_chunk_rows_and_keep_spreadsheet_rows(tmp_path, chunk_rows, newline):
    rows = [["2025年群众评议意见汇总", "", ""], HEADER, *BODY, ["", "", ""], ["", "", ""]]
    path = write_rows(tmp_path / "rows.csv", rows, newline=newline)
    with small_blocks():
        table, chunks = chunks_of(path, chunk_rows)
    assert table.header_row == 2 and table.columns == HEADER
    assert [len(c) for c in chunks] == [min(chunk_rows, 9 - i) for i in range(0, 9, chunk_rows)]
    joined = pd.concat(chunks)
    assert list(joined.index) == list(range(3, 12))  # title row 1, header row 2; trailing blanks dropped
    pd.testing.assert_frame_equal(joined, expected_frame(HEADER, BODY, 3))


def test_columns_and_metadata_are_known_on_opening(tmp_path):
    path = write_rows(tmp_path / "open.csv", [HEADER, *BODY])
    with read_chunks(path, chunk_rows=2) as table:
        assert table.columns == HEADER
        assert (table.encoding, table.delimiter, table.sheet, table.header_row) == ("utf-8", ",", None, 1)
        assert table.source == str(path)
        assert repr(table) == f"ChunkedTable({str(path)!r}, columns={HEADER!r})"
        first = next(iter(table))
        assert first.index.tolist() == [2, 3]


def test_opening_reads_only_the_start_of_a_large_file(tmp_path):
    body = [[f"单位{i % 9}", f"第{i}条意见，窗口办事慢", "2025-11-01"] for i in range(20_000)]
    path = write_rows(tmp_path / "large.csv", [HEADER, *body])
    size = path.stat().st_size
    # the first read holds the header and the text the delimiter is sniffed from (_HEAD_CHARS)
    with mock.patch.multiple(read_module, _FIRST_BYTES=4096, _BLOCK_BYTES=4096, _HEAD_CHARS=1000):
        with read_chunks(path, chunk_rows=100) as table:
            assert table.columns == HEADER
            assert table._handle.tell() == 4096 < size
            chunks = iter(table)
            assert next(chunks).index.tolist() == list(range(2, 102))
            assert table._handle.tell() < size // 10  # one chunk parsed: only its blocks read
            rest = list(chunks)
        assert sum(map(len, rest)) == 20_000 - 100


def test_the_error_comes_when_its_row_is_reached(tmp_path):
    rows = [["单位", "意见"]] + [[f"单位{i}", f"意见{i}"] for i in range(10)] + [["a", "b", "多余"], ["c", "d"]]
    path = write_rows(tmp_path / "late.csv", rows)
    message = r"late\.csv: row 12 has 3 fields but the header has 2; check the delimiter or quoting$"
    with read_chunks(path, chunk_rows=3) as table:
        chunks = iter(table)
        assert [len(next(chunks)) for _ in range(3)] == [3, 3, 3]  # rows 2-10 came before the problem
        with pytest.raises(InputError, match=message):
            next(chunks)
    with pytest.raises(InputError, match=message):
        read_table(path)


def test_problems_on_opening(tmp_path):
    with pytest.raises(InputError, match=r"header\.csv has a header row but no data rows"):
        read_chunks(write_rows(tmp_path / "header.csv", [["单位", "意见"]]))
    with pytest.raises(InputError, match=r"missing\.csv: no such file"):
        read_chunks(tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"empty\.csv is empty"):
        read_chunks(write_rows(tmp_path / "empty.csv", []))
    # a header with a duplicate name is refused as soon as the header is read
    rows = [["意见", "单位", "意见"]] + [["a", "b", "c"]] * 20
    with pytest.raises(InputError, match=r"dup\.csv: column 意见 appears more than once in the header \(columns A and C\)"):
        read_chunks(write_rows(tmp_path / "dup.csv", rows), chunk_rows=1)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_chunk_rows_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match=r"chunk_rows must be a positive integer"):
        read_chunks(FIXTURES / "comments_gbk.csv", chunk_rows=bad)


def test_a_chunked_table_is_read_once_and_closes_its_file(tmp_path):
    path = write_rows(tmp_path / "once.csv", [HEADER, *BODY])
    table = read_chunks(path, chunk_rows=4)
    assert len(list(table)) == 3
    assert table._handle.closed  # closed by the last chunk
    with pytest.raises(RuntimeError, match=r"once\.csv: the chunks of this table were already read"):
        iter(table)
    with read_chunks(path, chunk_rows=4) as early:
        next(iter(early))
    assert early._handle.closed  # closed by the with block after one chunk


def test_leaving_early_closes_the_file(tmp_path):
    path = write_rows(tmp_path / "early.csv", [HEADER, *BODY])
    with read_chunks(path, chunk_rows=1) as table:
        for _ in table:
            break
    assert table._handle.closed
    table.close()  # harmless a second time


def test_garbage_collector_and_csv_limit_are_restored_between_chunks(tmp_path):
    path = write_rows(tmp_path / "state.csv", [HEADER, *BODY])
    limit = csv.field_size_limit()
    assert gc.isenabled()
    with read_chunks(path, chunk_rows=2) as table:
        for _ in table:
            assert gc.isenabled() and csv.field_size_limit() == limit
    assert gc.isenabled() and csv.field_size_limit() == limit


def test_unnamed_column_filled_only_after_the_first_rows_is_refused(tmp_path):
    # The columns are fixed when the file is opened: a cell under a blank header cell is a
    # column (列3) when the first rows fill it, a problem to fix when only a later row does.
    early = [["单位", "意见", ""], ["a", "b", "备注"]] + [["a", "b", ""]] * 10
    table = read_table(write_rows(tmp_path / "early.csv", early))
    assert table.columns == ["单位", "意见", "列3"] and table.frame.loc[2, "列3"] == "备注"
    late = [["单位", "意见", ""]] + [["a", "b", ""]] * 10 + [["a", "b", "备注"]]
    with pytest.raises(InputError, match=r"late\.csv: row 12 has a value in column C, which has no name in "
                                         r"the header \(row 1\) and is empty in the rows above; give column C a "
                                         r"name in the header or delete the value"):
        read_table(write_rows(tmp_path / "late.csv", late))


def test_xlsx_is_served_in_chunks_of_the_sheet(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "意见"
    workbook.active.append(["单位", "意见"])
    for i in range(5):
        workbook.active.append([f"单位{i}", f"意见{i}"])
    path = tmp_path / "five.xlsx"
    workbook.save(path)
    table, chunks = chunks_of(path, 2)
    assert (table.sheet, table.encoding, table.delimiter, table.source) == ("意见", None, None, f"{path} (sheet 意见)")
    assert [c.index.tolist() for c in chunks] == [[2, 3], [4, 5], [6]]
    assert chunks[2].loc[6].tolist() == ["单位4", "意见4"]


# --------------------------------------------------------------------------- resolve_columns


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_resolve_columns_takes_a_chunked_table(name):
    path = FIXTURES / name
    with read_chunks(path) as table:
        assert resolve_columns(table) == resolve_columns(read_table(path))


def test_resolve_columns_on_a_chunked_table_names_the_source(tmp_path):
    path = write_rows(tmp_path / "cols.csv", [["单位", "留言"], ["a", "b"]])
    with read_chunks(path) as table, pytest.raises(
            ColumnError, match=r"cols\.csv: column 意见 not found; columns are 单位, 留言 — pass --text-col with one"):
        resolve_columns(table, text="意见")


def test_table_columns_property():
    table = read_table(FIXTURES / "comments_gbk.csv")
    assert isinstance(table, Table)
    assert table.columns == ["序号", "被评议单位", "评价", "意见建议", "填报日期"]


# --------------------------------------------------------------------------- GB18030 and friends stream too


def gbk_body(n: int) -> list[list[str]]:
    return [[f"市人社局{i % 5}", f"窗口态度差，第{i}次跑腿，\r\n材料反复补交", "2025-11-01"] for i in range(n)]


@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
def test_gb18030_file_streams_in_chunks(tmp_path, chunk_rows):
    body = gbk_body(40)
    path = write_rows(tmp_path / "gbk.csv", [HEADER, *body], encoding="gb18030")
    with small_blocks(block_bytes=5):
        table, chunks = chunks_of(path, chunk_rows)
        assert table.encoding == "gb18030"
        assert max(map(len, chunks)) == chunk_rows
        pd.testing.assert_frame_equal(pd.concat(chunks), expected_frame(HEADER, body, 2))
        forced, forced_chunks = chunks_of(path, chunk_rows, encoding="gbk")
        assert forced.encoding == "gbk"
        pd.testing.assert_frame_equal(pd.concat(forced_chunks), expected_frame(HEADER, body, 2))


def test_gbk_file_is_read_block_by_block_not_whole(tmp_path):
    path = write_rows(tmp_path / "gbk.csv", [HEADER, *gbk_body(5000)], encoding="gb18030")
    with mock.patch.multiple(read_module, _FIRST_BYTES=4096, _BLOCK_BYTES=4096, _HEAD_CHARS=1000):
        with read_chunks(path, chunk_rows=10) as table:
            chunks = iter(table)
            next(chunks)
            assert table.encoding == "gb18030"
            assert table._handle.tell() < path.stat().st_size // 10


def test_ascii_start_then_gbk_switches_encoding_during_iteration(tmp_path):
    body = [[f"A{i}", "fine", "2025-11-01"] for i in range(30)] + [["市人社局", "窗口态度差", "2025-11-02"]]
    path = write_rows(tmp_path / "late.csv", [["office", "text", "date"], *body], encoding="gbk")
    with small_blocks(block_bytes=16), read_chunks(path, chunk_rows=4) as table:
        assert table.encoding == "utf-8"  # nothing but ASCII read so far
        chunks = list(table)
        assert table.encoding == "gb18030"
    frame = pd.concat(chunks)
    assert frame.loc[32].tolist() == ["市人社局", "窗口态度差", "2025-11-02"]
    pd.testing.assert_frame_equal(frame, read_table(path).frame)


@pytest.mark.parametrize("block_bytes", [1, 3, 7, 1 << 20])
def test_gbk_whose_first_characters_look_like_utf8(tmp_path, block_bytes):
    # 学 and 校 in GBK (d1 a7 d0 a3) are valid UTF-8 (ѧУ): the bytes after them decide
    path = write_rows(tmp_path / "school.csv", [["学校", "意见"], ["一中", "食堂差"]], encoding="gbk")
    with small_blocks(block_bytes=block_bytes):
        table = read_table(path)
    assert table.encoding == "gb18030"
    assert table.columns == ["学校", "意见"]
    assert table.frame.loc[2].tolist() == ["一中", "食堂差"]


def test_utf8_text_followed_by_gbk_bytes_names_line_and_byte_offset(tmp_path):
    # once the stream has shown plenty of UTF-8, a byte that is not UTF-8 means mixed encodings
    head = "单位,意见\r\n" + "".join(f"市人社局,窗口态度差，办事效率低{i}\r\n" for i in range(10))
    data = head.encode("utf-8") + "市医保局,报销慢\r\n".encode("gbk")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    offset = len(head.encode("utf-8"))
    message = (rf"mixed\.csv: line 12 \(byte offset {offset}\) is not valid UTF-8 \(bytes ca\) although "
               r"the text before it is UTF-8 with non-ASCII characters: the file mixes encodings")
    for blocks in (small_blocks(block_bytes=5), small_blocks(block_bytes=1 << 20)):
        with blocks:
            with read_chunks(path, chunk_rows=2) as table:
                chunks = iter(table)
                assert len(next(chunks)) == 2
                with pytest.raises(InputError, match=message):
                    list(chunks)
            with pytest.raises(InputError, match=message):
                read_table(path)


def test_big5_streams_with_small_blocks(tmp_path):
    text = "被評議單位,意見建議\n市監局,窗口態度惡劣，辦事效率低下\n公安局,戶籍窗口工作人員上班時間玩手機\n"
    path = tmp_path / "big5.csv"
    path.write_bytes(text.encode("big5"))
    with small_blocks(block_bytes=3):
        table, chunks = chunks_of(path, 1)
    assert table.encoding == "big5"
    assert pd.concat(chunks)["意見建議"].tolist() == ["窗口態度惡劣，辦事效率低下", "戶籍窗口工作人員上班時間玩手機"]


def test_bytes_that_are_neither_utf8_nor_gb18030_after_chunks(tmp_path):
    content = ("office,text\n" + "a,b\n" * 40).encode("utf-8") + b"\xff\xff\n" + b"c,d\n"
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with small_blocks(block_bytes=16), read_chunks(path, chunk_rows=5) as table:
        chunks = iter(table)
        assert len(next(chunks)) == 5
        with pytest.raises(InputError, match=r"bad\.csv: the encoding is neither UTF-8 \(line 42: bytes ff\) "
                                             r"nor GB18030/GBK \(line 42: bytes ff\)"):
            list(chunks)


# --------------------------------------------------------------------------- the same outcome, whatever the sizes


cell = st.text(alphabet=st.sampled_from(list('ab,"\n\r\t 态度差审批慢;|，&\u3000')), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell, min_size=1, max_size=4), min_size=1, max_size=12),
       st.sampled_from(CHUNK_SIZES), st.sampled_from(["utf-8", "gb18030", "utf-8-sig", "utf-16"]),
       st.sampled_from([1, 3, 64]))
def test_chunks_join_to_read_table_on_csv_like_text(tmp_path_factory, rows, chunk_rows, encoding, block_bytes):
    path = tmp_path_factory.mktemp("csv") / "input.csv"
    path.write_bytes("\n".join(",".join(r) for r in rows).encode(encoding))
    with small_blocks(block_bytes=block_bytes, piece_chars=3):
        assert_same_outcome(path, chunk_rows)
    assert_same_outcome(path, chunk_rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400), st.sampled_from(CHUNK_SIZES), st.sampled_from([".csv", ".txt"]))
def test_chunks_join_to_read_table_on_arbitrary_bytes(tmp_path_factory, data, chunk_rows, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"input{suffix}"
    path.write_bytes(data)
    with small_blocks(block_bytes=5):
        assert_same_outcome(path, chunk_rows)


@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
def test_errors_are_the_same_in_chunks(tmp_path, chunk_rows):
    cases = {
        "wide.csv": '单位,意见\na,b\na,b\na,b,c\na,b\n',
        "open.csv": '单位,意见\na,b\na,b\n税务局,"没有结束\n医保局,慢\n',
        "wide_then_open.csv": '单位,意见\na,b,c\na,b\na,"没有结束\n',
        "unnamed.csv": '单位,意见,\n' + "a,b,\n" * 8 + "a,b,c\n",
        "forced.csv": "office,text\r\nA,fine\r\nB,窗口态度差\r\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content.encode("gbk" if name == "forced.csv" else "utf-8"))
        kwargs = {"encoding": "utf-8"} if name == "forced.csv" else {}
        with small_blocks(block_bytes=4):
            with pytest.raises(InputError) as whole:
                read_table(path, **kwargs)
            with pytest.raises(InputError) as chunked:
                with read_chunks(path, chunk_rows=chunk_rows, **kwargs) as table:
                    list(table)
        assert str(chunked.value) == str(whole.value)
        assert str(whole.value).startswith(f"{path}: ")


body_cell = st.text(alphabet=st.sampled_from(list('ab ,;"\n\r\t态度差审批慢，😡\u3000')), max_size=10)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(body_cell, min_size=3, max_size=3), min_size=1, max_size=15),
       st.sampled_from(CHUNK_SIZES), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]),
       st.sampled_from([1, 2, 5, 64]), st.sampled_from(["\r\n", "\n"]))
def test_chunks_rebuild_the_rows_that_were_written(tmp_path_factory, body, chunk_rows, encoding, block_bytes,
                                                   newline):
    # an oracle independent of the reader: the rows csv.writer wrote, blank rows at the end dropped
    path = write_rows(tmp_path_factory.mktemp("rows") / "rows.csv", [HEADER, *body],
                      encoding=encoding, newline=newline)
    kept = list(body)
    while kept and all(not cell.strip() for cell in kept[-1]):
        kept.pop()
    forced = {"encoding": "gb18030"} if encoding == "gb18030" else {}  # a short GB18030 text can be valid UTF-8
    with small_blocks(block_bytes=block_bytes, piece_chars=3):
        if not kept:
            with pytest.raises(InputError, match=r"has a header row but no data rows"):
                read_chunks(path, chunk_rows=chunk_rows, **forced)
            return
        table, chunks = chunks_of(path, chunk_rows, **forced)
    assert table.columns == HEADER
    assert [len(c) for c in chunks] == [min(chunk_rows, len(kept) - i) for i in range(0, len(kept), chunk_rows)]
    pd.testing.assert_frame_equal(pd.concat(chunks), expected_frame(HEADER, kept, 2))


@pytest.mark.parametrize(("data", "message"), [
    (b"\x00\x01\x00", r"has a header row but no data rows"),  # an odd number of bytes
    ("a,b\n1,".encode("utf-16-le") + b"\x00\xdc\n\x00", r"the encoding is neither UTF-8 \(line 2: bytes dc\)"),
])
def test_nul_bytes_that_are_not_utf16_are_detected_as_usual(tmp_path, data, message):
    # NUL bytes suggest UTF-16 without a byte-order mark; a start that does not decode as
    # UTF-16 is read as UTF-8/GB18030, as when the whole file was decoded at once
    path = tmp_path / "nul.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        read_table(path)
