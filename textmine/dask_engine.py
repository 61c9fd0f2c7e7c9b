"""Run the pipeline with the per-opinion work spread over a Dask cluster.

``textmine run --engine dask [--scheduler tcp://HOST:PORT]`` calls :func:`run_dask`.

What runs where:

- **workers**, in tasks of ``partition_rows`` distinct texts: cleaning (with the keys
  for duplicates and floods and the non-substantive check), masking, theme tagging, and
  segmentation of the texts compared when typical opinions are picked — the work that
  grows with the number of opinions and needs no other row;
- **the driver** (this process): reading, de-duplication and flood detection (they
  compare rows across partitions), the office/theme counts and rectification items,
  the outputs and the report.

The job is :func:`textmine.pipeline.run` itself, given a :class:`DaskMapper` instead of
the local process pool (:mod:`textmine.parallel`): the same tasks, so the outputs are the
same, row for row, as with the local engine.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from .errors import InputError, TextmineError
from .parallel import SerialMapper, Task

PARTITION_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".xlsm")


def partition_files(path: str | Path) -> list[Path]:
    """Return the partition files of ``path``: the file itself, or a directory's CSV/Parquet/XLSX files in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in PARTITION_SUFFIXES and not p.name.startswith("."))
        if not files:
            raise InputError(f"{path}: no partition files (.csv, .parquet, .xlsx) in this folder")
        return files
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    return [path]


def combine_partitions(files: Sequence[Path], target: Path) -> Path:
    """Write the partitions one after another as one UTF-8 CSV (the job's input) and return it.

    Parquet partitions are read with pandas; text partitions with :func:`textmine.read.read_table`
    (encoding and delimiter detected per file). All partitions must have the same columns.
    """
    from .read import read_table

    columns = None
    with open(target, "w", encoding="utf-8-sig", newline="") as out:
        for file in files:
            if file.suffix.lower() == ".parquet":
                frame = pd.read_parquet(file).astype("string").fillna("")
            else:
                frame = read_table(file).frame
            if columns is None:
                columns = list(frame.columns)
            elif list(frame.columns) != columns:
                raise InputError(f"{file}: columns {', '.join(map(str, frame.columns))} differ from the first "
                                 f"partition's ({', '.join(map(str, columns))})")
            frame.to_csv(out, index=False, header=out.tell() == 0)
    return target


class DaskMapper(SerialMapper):
    """A mapper (see :mod:`textmine.parallel`) whose tasks run on a Dask cluster.

    The toolkit is scattered to every worker once; each call is cut into tasks of at
    most ``partition_rows`` texts, submitted at once and gathered when the results are
    asked for. Counts what the workers did, for ``run.json``.
    """

    def __init__(self, client, toolkit, partition_rows: int = 50_000):
        super().__init__(toolkit)
        self.client = client
        self.partition_rows = partition_rows
        self.shared = client.scatter(toolkit, broadcast=True)
        self.jobs = max(1, len(client.scheduler_info().get("workers", {})))
        self.tasks = 0
        self.texts = 0

    def submit(self, task: Task, items: Sequence, *, min_items: int | None = None) -> Callable[[], list]:
        items = list(items)
        n = self.partition_rows
        futures = [self.client.submit(_run_on_worker, task, items[i:i + n], self.shared, pure=False)
                   for i in range(0, len(items), n)]
        self.tasks += len(futures)
        self.texts += len(items)
        return lambda: [result for part in self.client.gather(futures) for result in part]


def _run_on_worker(task: Task, items: list, toolkit) -> list:
    return list(task(toolkit, items))


def run_dask(input_path: str | Path, out_dir: str | Path, *, scheduler: str | None = None, n_workers: int = 2,
             partition_rows: int = 50_000, toolkit=None, **run_options):
    """Run :func:`textmine.pipeline.run` with per-opinion work on a Dask cluster.

    Parameters
    ----------
    input_path : path
        An opinion file, or a folder of partition files (CSV/TSV/TXT, Parquet, XLSX)
        with the same columns, read in name order.
    scheduler : str or None
        Address of a running Dask scheduler (``tcp://HOST:8786``); ``None`` starts a
        local ``distributed.LocalCluster`` with ``n_workers`` single-threaded worker processes.
    partition_rows : int
        Rows per task sent to the workers.
    run_options
        Passed to :func:`textmine.pipeline.run` (columns, taxonomy, offices, …).

    Returns the :class:`~textmine.pipeline.Analysis`; ``info["engine"]`` records the
    scheduler, workers, tasks and how many texts the workers processed.
    """
    import tempfile

    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise TextmineError("--engine dask needs Dask: pip install 'textmine[dask]'") from None
    from .export import write_json
    from .pipeline import Toolkit, _theme_model, run

    if partition_rows < 1:
        raise TextmineError(f"partition_rows must be a positive integer, got {partition_rows!r}")
    files = partition_files(input_path)
    with tempfile.TemporaryDirectory(prefix="textmine-dask-") as tmp:
        job_input = Path(input_path) if len(files) == 1 and files[0].suffix.lower() != ".parquet" \
            else combine_partitions(files, Path(tmp) / "opinions.csv")
        model_dir = run_options.pop("model_dir", None)
        toolkit = toolkit or Toolkit.load(taxonomy=run_options.pop("taxonomy", None),
                                          offices=run_options.pop("offices", None),
                                          classifier=_theme_model(model_dir) if model_dir else None)
        cluster = None
        if scheduler is None:
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0")  # any free port: never clash with a running cluster
        try:
            with Client(scheduler or cluster) as client:
                mapper = DaskMapper(client, toolkit, partition_rows)
                analysis = run(job_input, out_dir, toolkit=toolkit, mapper=mapper, **run_options)
        finally:
            if cluster is not None:
                cluster.close()
    analysis.info["engine"] = {
        "name": "dask", "scheduler": scheduler or f"LocalCluster({n_workers} workers)", "workers": mapper.jobs,
        "tasks": mapper.tasks, "texts_on_workers": mapper.texts, "input_files": len(files),
    }
    write_json(analysis.info, Path(out_dir) / "run.json")
    return analysis
