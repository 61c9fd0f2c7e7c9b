"""The per-text steps give the same results on worker processes as in one process."""
from __future__ import annotations

import os

import pandas as pd
import pytest

from textmine.parallel import ProcessMapper, SerialMapper, fork_available, make_mapper, per_distinct
from textmine.pipeline import analyse, run, sample_path
from textmine.read import read_table, resolve_columns

needs_fork = pytest.mark.skipif(not fork_available(), reason="worker processes are forked")


def _pids(toolkit, items):
    return [os.getpid() for _ in items]


def _upper(toolkit, items):
    return [s.upper() for s in items]


def test_per_distinct_keeps_order_and_computes_each_value_once():
    calls = []

    def task(toolkit, items):
        calls.append(list(items))
        return [f"{toolkit}:{s}" for s in items]

    out = per_distinct(task, ["b", "a", "b", "c", "a"], SerialMapper("tk"))
    assert out == ["tk:b", "tk:a", "tk:b", "tk:c", "tk:a"]
    assert calls == [["b", "a", "c"]]


def test_make_mapper_one_job_is_serial_and_zero_is_refused():
    assert isinstance(make_mapper(None, 1), SerialMapper) and make_mapper(None, 1).jobs == 1
    with pytest.raises(ValueError):
        make_mapper(None, 0)


@needs_fork
def test_process_mapper_runs_on_workers_in_order_and_small_calls_stay_here():
    with ProcessMapper(None, 2, min_items=10) as mapper:
        items = [f"x{i}" for i in range(200)]
        assert mapper.map(_upper, items) == [s.upper() for s in items]
        pids = set(mapper.map(_pids, range(200)))
        assert os.getpid() not in pids and 1 <= len(pids) <= 2
        assert mapper.map(_pids, range(5)) == [os.getpid()] * 5  # below min_items: no worker
    assert mapper._pool is None  # closed on exit


@needs_fork
def test_analysis_on_two_workers_equals_one_process(toolkit):
    table = read_table(sample_path())
    columns = resolve_columns(table)
    serial = analyse(table.frame, columns, toolkit)
    with ProcessMapper(toolkit, 2, min_items=1) as mapper:
        parallel = analyse(table.frame, columns, toolkit, mapper=mapper)
        assert mapper._pool is not None  # the work really went to the workers
    for name in ("comments", "rejects", "summary", "items", "overview"):
        pd.testing.assert_frame_equal(getattr(parallel, name), getattr(serial, name), obj=name)
    serial.info.pop("timings_s"), parallel.info.pop("timings_s")
    assert parallel.info == serial.info


@needs_fork
def test_run_with_jobs_writes_the_same_files(tmp_path, toolkit):
    outputs = ("comments.csv", "rejects.csv", "office_summary.csv", "rectification_items.csv", "rectification.md")
    run(sample_path(), tmp_path / "one", toolkit=toolkit, jobs=1, report=False)
    run(sample_path(), tmp_path / "two", toolkit=toolkit, jobs=2, report=False)
    for name in outputs:
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def test_serial_submit_runs_when_the_results_are_asked_for():
    calls = []

    def task(toolkit, items):
        calls.append(len(items))
        return [x * 2 for x in items]

    pending = SerialMapper(None).submit(task, [1, 2, 3])
    assert calls == []
    assert pending() == [2, 4, 6] and calls == [3]


@needs_fork
def test_process_submit_returns_the_same_results_as_map():
    from textmine.parallel import submit_distinct

    with ProcessMapper(None, 2, min_items=10) as mapper:
        values = [f"v{i % 50}" for i in range(300)]
        pending = submit_distinct(_upper, values, mapper)
        assert pending() == [v.upper() for v in values] == mapper.map(_upper, values)


@needs_fork
def test_run_on_workers_started_before_reading_writes_the_same_files(tmp_path, toolkit, monkeypatch):
    import textmine.pipeline as pipeline

    monkeypatch.setattr(pipeline, "EAGER_WORKERS_BYTES", 0)  # start the workers before reading
    outputs = ("comments.csv", "rejects.csv", "office_summary.csv", "rectification_items.csv", "rectification.md")
    run(sample_path(), tmp_path / "one", toolkit=toolkit, jobs=1, report=False)
    with ProcessMapper(toolkit, 2, min_items=1) as mapper:
        run(sample_path(), tmp_path / "two", toolkit=toolkit, mapper=mapper, report=False)
        workers = mapper._pool._pool
        assert len(workers) == 2 and all(w.is_alive() for w in workers)
    for name in outputs:
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def _fail(toolkit, items):
    raise ValueError("boom")


@needs_fork
def test_an_error_in_a_task_reaches_the_caller_and_stops_the_workers():
    mapper = ProcessMapper(None, 2, min_items=1)
    with pytest.raises(ValueError, match="boom"):
        with mapper:
            mapper.map(_fail, list(range(10)))
    assert mapper._pool is None


def test_default_jobs_is_every_core_up_to_the_cap(monkeypatch):
    import textmine.parallel as parallel

    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert parallel.default_jobs() == parallel.DEFAULT_MAX_JOBS == 8
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert parallel.default_jobs() == 2
