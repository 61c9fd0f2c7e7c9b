"""Run the pipeline with the per-opinion work spread over a Dask cluster.

``textmine run --engine dask [--scheduler tcp://HOST:PORT]`` calls :func:`run_dask`.

What runs where:

- **workers**, one task per partition: cleaning, masking (identity columns and the
  redaction rules), theme classification and segmentation of each opinion — the work
  that grows with the number of opinions and needs no other row;
- **the driver** (this process): reading, de-duplication and flood detection (they
  compare rows across partitions), the office/theme counts and rectification items,
  the outputs and the report.

The workers' results reach the job as lookups keyed by text (a masked text, its themes
and evidence, its tokens); the job itself is :func:`textmine.pipeline.run`, unchanged.
Any text a worker did not see is computed on the driver, so the outputs are the same,
row for row, as with the local engine.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .errors import InputError, TextmineError

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


def prepare_partition(frame: pd.DataFrame, columns: dict[str, str | None], toolkit) -> dict:
    """Clean, mask, classify and segment one partition (runs on a worker).

    Returns lookups keyed by text: ``masked`` (cleaned text with the row's own identity
    values replaced → masked text), ``evidence`` (masked text → theme evidence) and ``tokens`` (text prefix → tokens).
    """
    from .aggregate import TYPICAL_PREFIX_CHARS
    from .clean import clean_text
    from .redact import IDENTITY_PLACEHOLDERS, replace_known

    text_col = columns["text"]
    identity = {role: frame[columns[role]].fillna("").astype(str).str.strip().to_numpy()
                for role in IDENTITY_PLACEHOLDERS if columns.get(role)}
    masked: dict[str, str] = {}
    texts = []
    for i, raw in enumerate(frame[text_col].fillna("").astype(str).to_numpy()):
        known = {values[i]: IDENTITY_PLACEHOLDERS[role] for role, values in identity.items()}
        key = replace_known(clean_text(raw), known)
        if key not in masked:
            masked[key] = toolkit.masker.mask(key)
        texts.append(masked[key])
    distinct = list(dict.fromkeys(texts))
    evidence = dict(zip(distinct, toolkit.classifier.evidence(distinct))) if _has_evidence(toolkit.classifier) else {}
    prefixes = list(dict.fromkeys(t[:TYPICAL_PREFIX_CHARS] for t in distinct))
    tokens = {p: tuple(toolkit.segmenter.tokens(p)) for p in prefixes}
    return {"masked": masked, "evidence": evidence, "tokens": tokens}


def _has_evidence(classifier) -> bool:
    return hasattr(classifier, "evidence") and not hasattr(classifier, "explain")


class _PreparedMasker:
    """A masker answering from the workers' results, computing what they did not see."""

    def __init__(self, masker, masked: dict[str, str]):
        self.masker, self.masked, self.hits = masker, masked, 0

    def mask(self, text: str) -> str:
        found = self.masked.get(text)
        if found is None:
            return self.masker.mask(text)
        self.hits += 1
        return found

    def __getattr__(self, name):
        return getattr(self.masker, name)


class _PreparedClassifier:
    """A theme classifier answering :meth:`evidence` from the workers' results."""

    def __init__(self, classifier, evidence: dict[str, dict[str, list[str]]]):
        self.classifier, self.known, self.hits = classifier, evidence, 0
        self.classes_ = classifier.classes_

    def evidence(self, X: Iterable[str]) -> list[dict[str, list[str]]]:
        texts = ["" if t is None else str(t) for t in X]
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        computed = dict(zip(missing, self.classifier.evidence(missing))) if missing else {}
        out = []
        for t in texts:
            source = self.known.get(t)
            if source is None:
                source = computed[t]
            else:
                self.hits += 1
            out.append({code: list(phrases) for code, phrases in source.items()})
        return out

    def predict(self, X):
        from .classify import _indicator

        return _indicator(self.evidence(X), self.classes_)


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
    scheduler, workers, partitions and how many opinions the workers' results answered.
    """
    import tempfile

    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise TextmineError("--engine dask needs Dask: pip install 'textmine[dask]'") from None
    from .export import write_json
    from .pipeline import Toolkit, _theme_model, run
    from .read import read_table, resolve_columns

    if partition_rows < 1:
        raise TextmineError(f"partition_rows must be a positive integer, got {partition_rows!r}")
    files = partition_files(input_path)
    with tempfile.TemporaryDirectory(prefix="textmine-dask-") as tmp:
        job_input = Path(input_path) if len(files) == 1 and files[0].suffix.lower() != ".parquet" \
            else combine_partitions(files, Path(tmp) / "opinions.csv")
        table = read_table(job_input, encoding=run_options.get("encoding"), sheet=run_options.get("sheet"))
        columns = resolve_columns(table, **(run_options.get("columns") or {}))
        model_dir = run_options.pop("model_dir", None)
        toolkit = toolkit or Toolkit.load(taxonomy=run_options.pop("taxonomy", None),
                                          offices=run_options.pop("offices", None),
                                          classifier=_theme_model(model_dir) if model_dir else None)
        needed = [c for c in columns.values() if c]
        frame = table.frame[list(dict.fromkeys(needed))]
        cluster = None
        if scheduler is None:
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0")  # any free port: never clash with a running cluster
        try:
            with Client(scheduler or cluster) as client:
                shared = client.scatter(toolkit, broadcast=True)
                parts = [frame.iloc[i:i + partition_rows] for i in range(0, len(frame), partition_rows)]
                futures = [client.submit(prepare_partition, part, columns, shared, pure=False) for part in parts]
                workers = len(client.scheduler_info().get("workers", {}))
                masked, evidence, tokens = {}, {}, {}
                for result in client.gather(futures):
                    masked.update(result["masked"])
                    evidence.update(result["evidence"])
                    tokens.update(result["tokens"])
        finally:
            if cluster is not None:
                cluster.close()
        del frame, table
        masker = _PreparedMasker(toolkit.masker, masked)
        classifier = _PreparedClassifier(toolkit.classifier, evidence) if evidence else toolkit.classifier
        segmenter = _prefilled(toolkit.segmenter, tokens)
        prepared = Toolkit(taxonomy=toolkit.taxonomy, offices=toolkit.offices, masker=masker,
                           filler=toolkit.filler, segmenter=segmenter, classifier=classifier)
        analysis = run(job_input, out_dir, toolkit=prepared, jobs=1, **run_options)
    analysis.info["engine"] = {
        "name": "dask", "scheduler": scheduler or f"LocalCluster({n_workers} workers)", "workers": workers,
        "partitions": len(parts), "input_files": len(files),
        "masked_on_workers": masker.hits,
        "classified_on_workers": getattr(classifier, "hits", 0),
    }
    write_json(analysis.info, Path(out_dir) / "run.json")
    return analysis


def _prefilled(segmenter, tokens: dict[str, tuple[str, ...]]):
    import copy

    clone = copy.copy(segmenter)
    clone._token_cache = dict(tokens)
    clone._cut_cache = {}
    clone.cache_size = max(segmenter.cache_size, len(tokens) + 1) if segmenter.cache_size else 0
    return clone
