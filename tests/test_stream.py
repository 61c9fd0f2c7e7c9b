"""The job analyses its input chunk by chunk: the same result for any chunk size."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import textmine.pipeline
from textmine.errors import InputError
from textmine.pipeline import analyse, run, sample_path
from textmine.read import read_table, resolve_columns
from textmine.stream import Interner, Spill, text_hash

TABLES = ("comments", "rejects", "summary", "items", "overview", "ratings")


@pytest.fixture(scope="module")
def sample():
    table = read_table(sample_path())
    return table.frame, resolve_columns(table)


@pytest.fixture(scope="module")
def whole(sample, toolkit):
    frame, columns = sample
    return analyse(frame, columns, toolkit)


def assert_same_analysis(got, expected):
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), obj=name)
    strip = {k: v for k, v in got.info.items() if k != "timings_s"}
    assert strip == {k: v for k, v in expected.info.items() if k != "timings_s"}


def test_interner_numbers_values_as_factorize_does_over_all_chunks():
    values = ["b", "a", "", "b", "c", "a", "", "d"]
    interner = Interner()
    codes = np.concatenate([interner.codes(values[:3]), interner.codes(values[3:5]), interner.codes(values[5:])])
    expected, _ = pd.factorize(pd.Series(values, dtype=object))
    assert codes.tolist() == expected.tolist()
    assert interner.values(codes).tolist() == values
    assert len(interner) == 5
    assert interner.codes([]).tolist() == []


def test_text_hash_is_the_same_in_another_process_and_tells_texts_apart():
    texts = ["窗口态度生硬", "窗口态度生硬。", "", "\ud800 lone surrogate"]
    hashes = [text_hash(t) for t in texts]
    assert len(set(hashes)) == len(texts)
    assert all(-(2 ** 63) <= h < 2 ** 63 for h in hashes)
    code = "from textmine.stream import text_hash; print(text_hash('窗口态度生硬'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": ""}).stdout.strip()
    assert int(other) == hashes[0]


def test_spill_gives_back_each_frame_with_its_dtypes(tmp_path):
    frames = [pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": ["x", None]}),
              pd.DataFrame({"a": pd.array([], dtype="Int64"), "b": pd.Series([], dtype=object)})]
    with Spill(tmp_path / "s.pickle") as spill:
        for frame in frames:
            spill.write(frame)
        back = list(spill)
        assert list(spill)[0].equals(frames[0])  # can be read twice
    assert not (tmp_path / "s.pickle").exists()
    for got, expected in zip(back, frames):
        pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("chunk_rows", [1, 97, 1000])
def test_any_chunk_size_gives_the_same_analysis(sample, whole, toolkit, chunk_rows):
    frame, columns = sample
    if chunk_rows == 1:
        frame = frame.iloc[:300]  # one row at a time is slow: a part of the sample
        whole = analyse(frame, columns, toolkit)
    assert_same_analysis(analyse(frame, columns, toolkit, chunk_rows=chunk_rows), whole)


def test_duplicates_are_found_across_chunks(sample, whole, toolkit):
    frame, columns = sample
    chunked = analyse(frame, columns, toolkit, chunk_rows=97)
    rejects = chunked.rejects
    repeats = rejects[rejects["reason_code"].isin(["duplicate", "near_duplicate"])]
    position = pd.Series(np.arange(len(frame)), index=frame.index)
    chunk_of = lambda rows: (position[rows].to_numpy() // 97)  # noqa: E731
    crossing = chunk_of(repeats["row_id"]) != chunk_of(repeats["duplicate_of"].astype(int))
    assert set(repeats.loc[crossing, "reason_code"]) == {"duplicate", "near_duplicate"}


def test_a_flood_spread_over_chunks_is_weighted_once(toolkit):
    flood = "窗口工作人员态度很差，办事拖拉，来回跑了三趟"
    rows = []
    for i in range(12):
        if i % 2 == 0:  # six copies from one phone, every other row
            rows.append({"单位": "市教育局", "意见": f"{flood}{i}", "电话": "13800001111"})
        else:
            rows.append({"单位": "市教育局", "意见": f"第{i}条：审批材料要求说明不清楚，希望一次告知", "电话": f"1390000{i:04d}"})
    frame = pd.DataFrame(rows, index=pd.RangeIndex(2, 14, name="row"))
    columns = {"text": "意见", "office": "单位", "phone": "电话"}
    chunked = analyse(frame, columns, toolkit, chunk_rows=2)
    assert_same_analysis(chunked, analyse(frame, columns, toolkit))
    flooded = chunked.rejects[chunked.rejects["reason_code"] == "flood"]
    assert flooded["row_id"].tolist() == [4, 6, 8, 10, 12]
    assert set(flooded["duplicate_of"]) == {2}
    assert chunked.info["floods"]["detected"] == 1


def test_chunks_from_an_iterable_equal_one_frame(sample, whole, toolkit):
    frame, columns = sample
    pieces = [frame.iloc[i:i + 500] for i in range(0, len(frame), 500)]
    assert_same_analysis(analyse(iter(pieces), columns, toolkit, chunk_rows=300), whole)


def test_an_empty_input_gives_empty_tables(sample, toolkit):
    frame, columns = sample
    for empty in (frame.iloc[:0], iter([])):
        analysis = analyse(empty, columns, toolkit)
        assert analysis.comments.empty and analysis.rejects.empty and analysis.items.empty
        assert list(analysis.comments.columns[:4]) == ["row_id", "office", "category", "office_as_written"]
        assert analysis.info["counts"]["input_rows"] == 0


def test_rows_left_on_disk_are_read_back_from_the_files(sample, whole, toolkit, tmp_path):
    frame, columns = sample
    analysis = analyse(frame, columns, toolkit, out_dir=tmp_path, keep_rows=False, chunk_rows=500)
    assert analysis._comments is None and analysis._rejects is None
    for name in ("comments", "rejects"):
        got, expected = getattr(analysis, name), getattr(whole, name)
        assert got["row_id"].tolist() == expected["row_id"].tolist()
        assert got["text"].tolist() == [t if not t.startswith(("=", "+", "-", "@")) else "'" + t
                                        for t in expected["text"]]
    assert analysis.rejects["duplicate_of"].dtype == "Int64"
    assert analysis.rejects["duplicate_of"].tolist() == whole.rejects["duplicate_of"].tolist()
    for name in ("summary", "items", "overview"):
        pd.testing.assert_frame_equal(getattr(analysis, name), getattr(whole, name), obj=name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comments.csv", "rejects.csv"]  # the spill is gone


def test_run_of_a_large_input_writes_the_same_files_without_keeping_rows(tmp_path, toolkit, monkeypatch):
    outputs = ("comments.csv", "rejects.csv", "office_summary.csv", "rectification_items.csv", "rectification.md")
    kept = run(sample_path(), tmp_path / "kept", toolkit=toolkit, jobs=1, report=False)
    monkeypatch.setattr(textmine.pipeline, "KEEP_ROWS_BYTES", 0)
    monkeypatch.setattr(textmine.pipeline, "CHUNK_ROWS", 400)
    streamed = run(sample_path(), tmp_path / "streamed", toolkit=toolkit, jobs=1, report=False)
    assert streamed._comments is None
    for name in outputs:
        assert (tmp_path / "streamed" / name).read_bytes() == (tmp_path / "kept" / name).read_bytes(), name
    assert streamed.comments["row_id"].tolist() == kept.comments["row_id"].tolist()  # read back from out_dir


def test_too_many_offices_stop_the_stream_naming_the_row(toolkit):
    frame = pd.DataFrame({"单位": [f"第{i}号单位" for i in range(50)], "意见": ["态度不好"] * 50},
                         index=pd.RangeIndex(2, 52, name="row"))
    with pytest.raises(InputError) as error:
        analyse(frame, {"text": "意见", "office": "单位"}, toolkit, chunk_rows=10, max_offices=15, source="in.csv")
    message = str(error.value)
    assert message.startswith("in.csv: column 单位 names 20 different offices by row 21 ")
    assert "e.g. '第0号单位' in row 2" in message and "more than --max-offices 15" in message


def test_typical_candidates_are_picked_from_ranks_as_from_whole_groups():
    from textmine.aggregate import TYPICAL_CANDIDATES, spread_ranks, typical_candidates

    limit = TYPICAL_CANDIDATES
    for size in [1, 299, 300, 301, 302, 450, 599, 600, 601, 997, 12_345, 100_003]:
        ranks = np.arange(size)
        expected = list(range(size)) if size <= limit else [(i * size) // limit for i in range(limit)]
        assert ranks[spread_ranks(ranks, size)].tolist() == expected, size
        # the same when the group's rows arrive in several chunks
        parts = np.array_split(ranks, 7)
        assert [r for part in parts for r in part[spread_ranks(part, size)].tolist()] == expected
        # and the whole-group form picks those places of the group's sorted positions
        positions = [10 * r + 3 for r in range(size)][::-1]
        assert typical_candidates({"g": positions})["g"] == [10 * r + 3 for r in expected]


def test_tallies_of_chunks_merge_to_the_tally_of_all(whole, toolkit):
    from textmine.aggregate import ThemeTally

    comments = whole.comments
    writers = [f"w{i % 37}" if i % 5 else "" for i in range(len(comments))]
    one = ThemeTally().add(comments, writers)
    merged = ThemeTally()
    for start in range(0, len(comments), 700):
        merged.merge(ThemeTally().add(comments.iloc[start:start + 700], writers[start:start + 700]))
    for name in ("opinions", "with_theme", "counts", "anonymous", "phrases", "writers"):
        assert getattr(merged, name) == getattr(one, name), name
    pd.testing.assert_frame_equal(merged.summary(toolkit.taxonomy), whole.summary)


@pytest.mark.skipif(not __import__("textmine.parallel").parallel.fork_available(), reason="needs fork")
def test_chunks_finished_on_worker_processes_give_the_same_analysis(sample, whole, toolkit, tmp_path):
    from textmine.parallel import ProcessMapper

    frame, columns = sample
    with ProcessMapper(toolkit, 2, min_items=1) as mapper:  # 7 chunks: rows are finished on the workers
        parallel = analyse(frame, columns, toolkit, mapper=mapper, chunk_rows=500, out_dir=tmp_path / "p")
    serial = analyse(frame, columns, toolkit, chunk_rows=500, out_dir=tmp_path / "s")
    assert_same_analysis(parallel, serial)
    assert_same_analysis(parallel, whole)
    for name in ("comments.csv", "rejects.csv"):
        assert (tmp_path / "p" / name).read_bytes() == (tmp_path / "s" / name).read_bytes()
