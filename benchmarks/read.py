"""Reading large opinion files: ``read_table`` against the plain pandas C parser.

    python3 benchmarks/read.py [--n 200000,1000000] [--seed 7] [--repeat 1] [--before REV]
                               [--gb18030] [--csv FILE ...]

For each size it generates a synthetic round with :func:`textmine.synth.generate_round`
(``seed`` 7), writes it as a UTF-8-with-BOM CSV to a temporary folder (as the sample is
written) and reads it, each measurement **in a fresh child process** so that the peak RSS
(``VmHWM`` of /proc/self/status, else ``ru_maxrss``) is that read's alone:

- baseline: ``pandas.read_csv(path, dtype=str, keep_default_na=False)`` — pandas' C parser
  with no checks (no encoding detection, no header detection, no row numbers, no width or
  quoting checks);
- ``textmine.read.read_table(path)`` of the working tree;
- with ``--before REV``, the ``read_table`` of git revision REV (its ``textmine/read.py``
  imported in place of the working tree's), so before/after are compared in one run under
  the same load.

Readers are alternated within each repeat; the median over ``--repeat`` runs is shown.
Figures: wall and CPU seconds, peak RSS, the RSS already taken by the imports, and ratios to
the baseline. Each child also hashes the cells it read, to show that all readers return the
same strings. ``--gb18030`` also reads a GB18030 copy of each file (no BOM, as Excel saves
CSV on a Chinese Windows): ``read_table`` meets a byte that is not UTF-8 and reads the file
whole, as before. ``--csv`` measures existing files instead of generating them. The machine's
load average is printed next to the figures (other jobs share the cores). Writes the section
"Reading large files" of benchmarks/RESULTS.md.
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
reader, path, encoding = sys.argv[1], sys.argv[2], sys.argv[4]
sys.path.insert(0, sys.argv[3])
import pandas as pd
import pyarrow  # noqa: F401 - every reader below uses it (pandas' str dtype); not part of the read
if reader == "pandas":
    def read():
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
elif reader == "before":
    import importlib.util
    import textmine
    spec = importlib.util.spec_from_file_location("textmine._read_before", sys.argv[5])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    def read():
        return module.read_table(path).frame
else:
    from textmine.read import read_table
    def read():
        return read_table(path).frame

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

def peak_kb():
    # VmHWM: this process image's own high-water mark (ru_maxrss can carry the parent's over exec)
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

imports_rss = peak_kb()
wall, used = time.perf_counter(), cpu()
frame = read()
wall, used = time.perf_counter() - wall, cpu() - used
peak = peak_kb()
digest = int(pd.util.hash_pandas_object(frame, index=False).sum()) & 0xFFFFFFFFFFFF
print(json.dumps({"wall": wall, "cpu": used, "peak_mb": peak / 1024, "imports_mb": imports_rss / 1024,
                  "rows": len(frame), "columns": frame.shape[1], "digest": digest,
                  "dtypes": sorted({str(t) for t in frame.dtypes})}))
"""

READERS = ("pandas", "read_table", "before")
LABELS = {
    "pandas": "pandas.read_csv(dtype=str, encoding given) — baseline",
    "read_table": "read_table (this tree)",
    "before": "read_table before ({rev})",
}


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def measure(reader: str, path: Path, encoding: str, before_file: Path | None) -> dict:
    argv = [sys.executable, "-c", CHILD, reader, str(path), str(ROOT), encoding]
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
                        help="also read a GB18030 copy of each file (the reader's whole-file path)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="textmine-read-bench-") as tmp:
        folder = Path(tmp)
        before_file = None
        readers = ["pandas", "read_table"]
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
        for n, path, encoding in files:
            results: dict[str, list[dict]] = {r: [] for r in readers}
            loads = [load()]
            for _ in range(args.repeat):
                for reader in readers:
                    result = measure(reader, path, encoding, before_file)
                    results[reader].append(result)
                    print(f"{path.name}: {reader}: {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU, "
                          f"peak {result['peak_mb']:.0f} MB (load {load()})", flush=True)
                loads.append(load())
            lines.append(table(n, path, encoding, readers, results, args.before, loads))

    body = "\n\n".join(lines) + "\n\n" + NOTES + "\n\nCommand: `python3 benchmarks/read.py " + " ".join(
        argv if argv is not None else sys.argv[1:]) + "`"
    print(body)
    write_section(TITLE, body)


def table(n: int | None, path: Path, encoding: str, readers: list[str], results: dict[str, list[dict]],
          rev: str | None, loads: list[str]) -> str:
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
        label = LABELS[reader].format(rev=rev)
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
the header or a quote left open, naming the row and lines. It streams the file: a megabyte of
bytes is decoded at a time, split into lines and parsed with the `csv` module, and every
50,000 records become Arrow-backed string columns, so only one chunk of rows exists as Python
objects; when the stream meets bytes that do not decode it reads the file again whole, as the
reader before did (GB18030 files, and the error messages)."""


if __name__ == "__main__":
    main()
