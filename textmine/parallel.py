"""Spread the per-text steps of the job over the cores of one machine.

The job's heavy steps — cleaning, masking, classifying and segmenting — are pure
functions of one text, and opinion corpora repeat texts. :func:`per_distinct` computes
a *task* once per distinct value and, given a :class:`ProcessMapper`, splits the distinct
values into chunks computed by worker processes.

A task is a module-level function ``task(toolkit, items) -> list`` (one result per item,
in order), so that it can be named in a message to a worker. Workers are forked from
the process that holds the :class:`~textmine.pipeline.Toolkit`, so they inherit it
without pickling; they are started at the first call large enough to need them, so a
small input never starts a process. Where ``fork`` is not available (Windows) or not safe (macOS) the work stays in
one process: the results are the same either way.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

Task = Callable[[Any, list], list]

# the toolkit of a worker process, set once by _init_worker in that process only
_worker_toolkit: list = []


class SerialMapper:
    """Run every task in this process."""

    jobs = 1

    def __init__(self, toolkit):
        self.toolkit = toolkit

    def map(self, task: Task, items: Sequence) -> list:
        return self.submit(task, items)()

    def submit(self, task: Task, items: Sequence, *, min_items: int | None = None) -> Callable[[], list]:
        """Start ``task`` over ``items``; the returned function waits for and returns the results.
        ``min_items`` overrides the mapper's threshold for sending work away (1 for a few
        large items, such as chunks of rows).

        Here the work is done when the results are asked for."""
        items = list(items)
        return lambda: list(task(self.toolkit, items))

    def start(self) -> None:
        pass

    def close(self, abort: bool = False) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(abort=exc_type is not None)


class ProcessMapper(SerialMapper):
    """Run tasks on ``jobs`` forked worker processes, in chunks.

    Parameters
    ----------
    toolkit : Toolkit
        Inherited by the workers at fork time (never pickled).
    jobs : int
        Worker processes (≥ 2; use :class:`SerialMapper` for one).
    min_items : int
        Calls with fewer items run in this process: below a few thousand short texts,
        sending them to a worker costs more than it saves.
    """

    def __init__(self, toolkit, jobs: int, *, min_items: int = 4000):
        super().__init__(toolkit)
        if jobs < 2:
            raise ValueError(f"ProcessMapper needs jobs >= 2, got {jobs}")
        self.jobs = jobs
        self.min_items = min_items
        self._pool = None

    def submit(self, task: Task, items: Sequence, *, min_items: int | None = None) -> Callable[[], list]:
        """Start ``task`` over ``items`` on the workers and return at once; the returned
        function waits for and returns the results (this process is free meanwhile)."""
        items = list(items)
        if len(items) < (self.min_items if min_items is None else min_items):
            return super().submit(task, items)
        # a few chunks per worker: an even share each, with slack for uneven texts
        size = -(-len(items) // (self.jobs * 4))
        chunks = [(task, items[i:i + size]) for i in range(0, len(items), size)]
        self.start()
        pending = self._pool.map_async(_run_task, chunks)
        return lambda: [result for part in pending.get() for result in part]

    def start(self) -> None:
        """Fork the workers now (else at the first call that needs them). Forking before a
        large input is read keeps the workers small."""
        if self._pool is not None:
            return
        with frozen_gc():
            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(self.jobs, initializer=_init_worker, initargs=(self.toolkit,))

    def close(self, abort: bool = False) -> None:
        """Stop the workers: after their work, or at once when ``abort`` (an error, Ctrl-C)."""
        if self._pool is not None:
            if abort:
                self._pool.terminate()
            else:
                self._pool.close()
            self._pool.join()
            self._pool = None


def _init_worker(toolkit) -> None:
    _worker_toolkit[:] = [toolkit]


def _run_task(message: tuple[Task, list]) -> list:
    task, items = message
    return list(task(_worker_toolkit[0], items))


@contextmanager
def frozen_gc():
    """Fork inside this block: objects alive now are never collected in the child, so its
    garbage collector does not touch (and copy) the pages it shares with this process."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def fork_available() -> bool:
    """True where worker processes can be forked safely (Linux and other non-macOS POSIX)."""
    return "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"


DEFAULT_MAX_JOBS = 8  # each worker holds its own caches (~350 MB at 1,000,000 opinions)


def default_jobs() -> int:
    """The cores this process may use, at most :data:`DEFAULT_MAX_JOBS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, DEFAULT_MAX_JOBS))


def make_mapper(toolkit, jobs: int | None = None, *, min_items: int = 4000) -> SerialMapper:
    """A :class:`ProcessMapper` with ``jobs`` workers (default: every core, at most 8), or a
    :class:`SerialMapper` when ``jobs`` is 1 or forking is not available."""
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if jobs == 1 or not fork_available():
        return SerialMapper(toolkit)
    return ProcessMapper(toolkit, jobs, min_items=min_items)


def per_distinct(task: Task, values: Sequence, mapper: SerialMapper) -> list:
    """``task`` over ``values``, computed once per distinct value (through ``mapper``)."""
    return submit_distinct(task, values, mapper)()


def submit_distinct(task: Task, values: Sequence, mapper: SerialMapper) -> Callable[[], list]:
    """Start :func:`per_distinct`; the returned function waits for and returns its results."""
    values = list(values)
    distinct = list(dict.fromkeys(values))
    if len(distinct) == len(values):
        return mapper.submit(task, values)
    pending = mapper.submit(task, distinct)

    def results() -> list:
        lookup = dict(zip(distinct, pending()))
        return [lookup[v] for v in values]
    return results
