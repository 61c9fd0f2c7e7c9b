"""Reading large opinion files: ``read_table`` and ``read_chunks`` against the pandas C parser.

    python3 benchmarks/read.py [--n 200000,1000000] [--seed 7] [--repeat 1] [--before REV]
                               [--gb18030] [--csv FILE ...] [--chunk-rows 50000]

For each size it generates a synthetic round with :func:`textmine.synth.generate_round`
(``seed`` 7), writes it as a UTF-8-with-BOM CSV to a temporary folder (as the sample is
written) and reads it, each measurement **in a fresh child process** so that the peak RSS
(``benchmarks.results.peak_rss_mb``: ``VmHWM``, else ``ru_maxrss``) is that read's alone:

- baseline: ``pandas.read_csv(path, dtype=str, keep_default_na=False)`` — pandas' C parser
  with no checks (no encoding detection, no header detection, no row numbers, no width or
  quoting checks), the whole file as one frame;
- ``pandas.read_csv(..., chunksize=N)`` iterated: the pandas way to stream, chunks dropped;
- ``textmine.read.read_table(path)`` of the working tree (the whole table);
- ``textmine.read.read_chunks(path, chunk_rows=N)`` iterated, each chunk dropped once hashed
  (what a job that analyses chunk by chunk pays for reading): its peak RSS should not grow
  with the file;
- with ``--before REV``, the ``read_table`` of git revision REV (its ``textmine/read.py``
  imported in place of the working tree's), so before/after are compared in one run under
  the same load.

Readers are alternated within each repeat; the median over ``--repeat`` runs is shown.
Figures: wall and CPU seconds, peak RSS, the RSS already taken by the imports, and ratios to
the baseline. Each child also hashes the cells it read (outside the timing), to show that
all readers return the same strings. ``--gb18030`` also reads a GB18030 copy of each file
(no BOM, as Excel saves CSV on a Chinese Windows). ``--csv`` measures existing files instead
of generating them. The machine's load average is printed next to the figures (other jobs
share the cores). Writes the section "Reading large files" of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402

TITLE = "Reading large files"

# One measurement in a fresh interpreter:
# argv = reader, path, repository, encoding for pandas, [module file of the old reader].
CHILD = r"""
import json, resource, sys, time
reader, path, encoding, chunk_rows = sys.argv[1], sys.argv[2], sys.argv[4], int(sys.argv[5])
sys.path.insert(0, sys.argv[3])
import pandas as pd
import pyarrow  # noqa: F401 - every reader below uses it (pandas' str dtype); not part of the read
from benchmarks.results import peak_rss_mb

def digest_of(frame):
    return int(pd.util.hash_pandas_object(frame, index=False).sum())

if reader == "pandas":
    def read():
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
elif reader == "pandas_chunks":
    def read():
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, chunksize=chunk_rows)
elif reader == "before":
    import importlib.util
    import textmine
    spec = importlib.util.spec_from_file_location("textmine._read_before", sys.argv[6])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    def read():
        return module.read_table(path).frame
elif reader == "read_chunks":
    from textmine.read import read_chunks
    def read():
        return read_chunks(path, chunk_rows=chunk_rows)
else:
    from textmine.read import read_table
    def read():
        return read_table(path).frame

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

imports_rss = peak_rss_mb()
wall, used = time.perf_counter(), cpu()
result = read()
hashing_wall = hashing_cpu = 0.0
if isinstance(result, pd.DataFrame):
    wall, used = time.perf_counter() - wall, cpu() - used
    peak = peak_rss_mb()
    rows, columns, digest = len(result), result.shape[1], digest_of(result)
    dtypes = {str(t) for t in result.dtypes}
else:  # chunks: each is hashed (timed apart, then taken off) and dropped
    rows = digest = chunks = 0
    dtypes = set()
    for chunk in result:
        started, started_cpu = time.perf_counter(), cpu()
        rows += len(chunk)
        columns = chunk.shape[1]
        digest = (digest + digest_of(chunk)) % (1 << 64)
        dtypes |= {str(t) for t in chunk.dtypes}
        chunks += 1
        del chunk
        hashing_wall += time.perf_counter() - started
        hashing_cpu += cpu() - started_cpu
    wall, used = time.perf_counter() - wall - hashing_wall, cpu() - used - hashing_cpu
    peak = peak_rss_mb()
print(json.dumps({"wall": wall, "cpu": used, "peak_mb": peak, "imports_mb": imports_rss,
                  "rows": rows, "columns": columns, "digest": digest & 0xFFFFFFFFFFFF,
                  "dtypes": sorted(dtypes)}))
"""

READERS = ("pandas", "pandas_chunks", "read_table", "read_chunks", "before")
LABELS = {
    "pandas": "pandas.read_csv(dtype=str, encoding given) — baseline",
    "pandas_chunks": "pandas.read_csv(..., chunksize={chunk_rows:,}) iterated",
    "read_table": "read_table (this tree)",
    "read_chunks": "read_chunks(chunk_rows={chunk_rows:,}) iterated (this tree)",
    "before": "read_table before ({rev})",
}


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def measure(reader: str, path: Path, encoding: str, before_file: Path | None, chunk_rows: int) -> dict:
    argv = [sys.executable, "-c", CHILD, reader, str(path), str(ROOT), encoding, str(chunk_rows)]
    if before_file is not None:
        argv.append(str(before_file))
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{reader} on {path} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate(n: int, seed: int, folder: Path) -> Path:
    """Write the synthetic round in a child process, so that this one stays small."""
    path = folder / f"opinions_{n}.csv"
    code = ("import sys\nfrom textmine.synth import generate_round\n"
            "generate_round(n=int(sys.argv[1]), seed=int(sys.argv[2]))"
            ".to_csv(sys.argv[3], index=False, encoding='utf-8-sig')")
    subprocess.run([sys.executable, "-c", code, str(n), str(seed), str(path)], cwd=ROOT, check=True)
    return path


def gb18030_copy(path: Path, folder: Path) -> Path:
    """Re-encode a UTF-8 CSV as GB18030 (no BOM), as Excel on a Chinese Windows saves it."""
    target = folder / f"{path.stem}_gb18030.csv"
    with open(path, encoding="utf-8-sig", newline="") as source, \
            open(target, "w", encoding="gb18030", newline="") as sink:
        while block := source.read(1 << 20):
            sink.write(block)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", default="200000,1000000", help="comma-separated numbers of opinions")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--before", metavar="REV", help="also time textmine/read.py of this git revision")
    parser.add_argument("--csv", nargs="*", type=Path, default=None,
                        help="measure these existing files (UTF-8) instead of generated ones")
    parser.add_argument("--gb18030", action="store_true",
                        help="also read a GB18030 copy of each file (no BOM)")
    parser.add_argument("--chunk-rows", type=int, default=50_000, help="rows per chunk of the chunked readers")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="textmine-read-bench-") as tmp:
        folder = Path(tmp)
        before_file = None
        readers = ["pandas", "pandas_chunks", "read_table", "read_chunks"]
        if args.before:
            source = subprocess.run(["git", "show", f"{args.before}:textmine/read.py"], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout
            before_file = folder / "read_before.py"
            before_file.write_text(source, encoding="utf-8")
            readers.append("before")
        if args.csv:
            files = [(None, path, "utf-8") for path in args.csv]
        else:
            files = []
            for n in (int(x) for x in args.n.split(",")):
                started = time.perf_counter()
                files.append((n, generate(n, args.seed, folder), "utf-8"))
                print(f"generated {n:,} opinions in {time.perf_counter() - started:.0f} s", flush=True)
        if args.gb18030:
            files += [(n, gb18030_copy(path, folder), "gb18030") for n, path, _ in files]

        lines = []
        peaks: dict[tuple[str, int | None], dict[str, float]] = {}
        for n, path, encoding in files:
            results: dict[str, list[dict]] = {r: [] for r in readers}
            loads = [load()]
            for _ in range(args.repeat):
                for reader in readers:
                    result = measure(reader, path, encoding, before_file, args.chunk_rows)
                    results[reader].append(result)
                    print(f"{path.name}: {reader}: {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU, "
                          f"peak {result['peak_mb']:.0f} MB (load {load()})", flush=True)
                loads.append(load())
            lines.append(table(n, path, encoding, readers, results, args.before, loads, args.chunk_rows))
            peaks[(encoding, n)] = {r: statistics.median(x["peak_mb"] for x in results[r]) for r in readers}

    body = "\n\n".join(lines) + "\n\n" + growth(peaks) + NOTES + "\n\nCommand: `python3 benchmarks/read.py " + " ".join(
        argv if argv is not None else sys.argv[1:]) + "`"
    print(body)
    write_section(TITLE, body)


def growth(peaks: dict[tuple[str, int | None], dict[str, float]]) -> str:
    """Peak RSS of the largest size over the smallest, per encoding and reader."""
    lines = []
    for encoding in dict.fromkeys(e for e, _ in peaks):
        sizes = sorted(n for e, n in peaks if e == encoding and n is not None)
        if len(sizes) < 2:
            continue
        small, large = peaks[(encoding, sizes[0])], peaks[(encoding, sizes[-1])]
        ratios = ", ".join(f"{reader} {large[reader] / small[reader]:.2f}" for reader in small)
        lines.append(f"- {encoding.upper()}, {sizes[-1]:,} / {sizes[0]:,} opinions ({sizes[-1] / sizes[0]:.0f}× "
                     f"the rows): peak RSS × {ratios}")
    if not lines:
        return ""
    return "**Peak RSS growth with the file size** (median peaks):\n\n" + "\n".join(lines) + "\n\n"


def table(n: int | None, path: Path, encoding: str, readers: list[str], results: dict[str, list[dict]],
          rev: str | None, loads: list[str], chunk_rows: int) -> str:
    def median(reader: str, key: str) -> float:
        return statistics.median(r[key] for r in results[reader])

    size = path.stat().st_size / 1e6
    first = results["pandas"][0]
    what = f"{n:,} synthetic opinions" if n is not None else path.name
    head = (f"**{what}, {encoding.upper()}** ({first['rows']:,} rows × {first['columns']} columns, {size:.0f} MB CSV; "
            f"load average {' → '.join(loads)}; median of {len(results['pandas'])})\n\n"
            "| reader | wall s | CPU s | peak RSS MB | RSS of imports MB | wall / baseline | "
            "CPU / baseline | peak / baseline | same cells as baseline |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---|")
    rows = [head]
    base = {key: median("pandas", key) for key in ("wall", "cpu", "peak_mb")}
    for reader in readers:
        label = LABELS[reader].format(rev=rev, chunk_rows=chunk_rows)
        same = "yes" if all(r["digest"] == first["digest"] for r in results[reader]) else "NO"
        rows.append(f"| {label} | {median(reader, 'wall'):.1f} | {median(reader, 'cpu'):.1f} | "
                    f"{median(reader, 'peak_mb'):.0f} | {median(reader, 'imports_mb'):.0f} | "
                    f"{median(reader, 'wall') / base['wall']:.2f} | {median(reader, 'cpu') / base['cpu']:.2f} | "
                    f"{median(reader, 'peak_mb') / base['peak_mb']:.2f} | {same} |")
    return "\n".join(rows)


NOTES = """\
`read_table` does more than the baseline: it detects the encoding (BOM, UTF-16, UTF-8, else
GB18030/Big5) and the delimiter, skips title rows above the header, indexes rows by their
spreadsheet row number, keeps quoted multi-line cells as one row and refuses a row wider than
the header or a quote left open, naming the row and lines. `read_table` is `read_chunks`
joined: a megabyte of bytes is decoded at a time (in every encoding: GB18030 files no longer
take a whole-file path), split into lines and parsed with the `csv` module, and every
`chunk_rows` records become a frame of Arrow-backed string columns. Iterating `read_chunks`
holds one chunk at a time, so its peak RSS stays that of the imports plus about one chunk,
whatever the file's size; `read_table` (like `pandas.read_csv`) holds the whole table."""

if __name__ == "__main__":
    main()
