"""The research notebooks run top to bottom, on the sample and on data shaped like pool.csv.

Each notebook is executed with nbclient in a fresh kernel whose working directory is a temp
folder, so it cannot depend on where it is stored; the kernel imports this checkout's
``textmine`` (PYTHONPATH), not whatever copy is installed. Any error in any cell fails the test.
The runs are started together (two at a time) when the module's first test asks for one, since
each spends most of its time in its own kernel process.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = ["01_explore_corpus.ipynb", "02_topics.ipynb", "03_office_profiles.ipynb"]
DATA_LINE = "DATA = None"
TIMEOUT_S = 300  # per cell
# executes one notebook in its own process: argv = notebook in, notebook out, working directory
RUNNER = """
import sys, nbformat, nbclient
nb = nbformat.read(sys.argv[1], as_version=4)
try:
    nbclient.NotebookClient(nb, timeout=%d, kernel_name="python3",
                            resources={"metadata": {"path": sys.argv[3]}}).execute()
finally:
    nbformat.write(nb, sys.argv[2])
""" % TIMEOUT_S


def pool_like_csv(path: Path) -> Path:
    """Write a small CSV with pool.csv's columns (id, source, title, text, time, domain): no office, no ratings."""
    from textmine.pipeline import sample_path

    sample = pd.read_csv(sample_path(), dtype=str).fillna("")
    rows = sample[sample["意见建议"].str.len() > 12].head(360).reset_index(drop=True)
    domains = ["城乡建设", "劳动和社会保障", "卫生计生"]
    pd.DataFrame({
        "id": [f"t2-{i:06d}" for i in range(len(rows))],
        "source": "synthetic",
        "title": "",
        "text": rows["意见建议"],
        "time": [f"{2019 + i % 2}-0{1 + i % 6}-1{i % 10} 10:00:00" for i in range(len(rows))],
        "domain": [domains[i % 3] if i % 7 else "" for i in range(len(rows))],
    }).to_csv(path, index=False)
    return path


def _run(name: str, workdir: Path, data: Path | None):
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    if data is not None:
        cell = next(c for c in nb.cells if c.cell_type == "code" and DATA_LINE in c.source)
        cell.source = cell.source.replace(DATA_LINE, f"DATA = {str(data)!r}", 1)
    workdir.mkdir(parents=True, exist_ok=True)
    source, executed = workdir / f"in_{name}", workdir / f"out_{name}"
    nbformat.write(nb, source)
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(source), str(executed), str(workdir)],
                          capture_output=True, text=True, env=env, timeout=20 * TIMEOUT_S)
    return proc, (nbformat.read(executed, as_version=4) if executed.exists() else None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every notebook run (sample and pool-shaped data); map (name, kind) → future."""
    base = tmp_path_factory.mktemp("notebooks")
    pool = pool_like_csv(base / "pool.csv")
    pool_executor = ThreadPoolExecutor(max_workers=2)
    futures = {(name, kind): pool_executor.submit(_run, name, base / kind / name.split("_")[0],
                                                  pool if kind == "pool" else None)
               for kind in ("sample", "pool") for name in NOTEBOOKS}
    yield futures
    pool_executor.shutdown(wait=True, cancel_futures=True)


def executed(runs, name: str, kind: str):
    proc, nb = runs[(name, kind)].result()
    assert proc.returncode == 0, f"{name} on the {kind} data failed:\n{proc.stderr[-6000:]}"
    return nb


def outputs_text(nb) -> str:
    """Every cell's printed text; consecutive chunks of a stream are joined as printed (a line
    may arrive split over two chunks when the machine is busy)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            else:
                parts.append("\n" + out.get("data", {}).get("text/plain", "") + "\n")
        parts.append("\n")
    return "".join(parts)


def images(nb) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_without_outputs_and_data_defaults_to_the_sample(name):
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    # the first code cell is the switch between the sample and real data
    assert DATA_LINE in code[0].source.splitlines()
    assert "../shared/data/pool.csv" in code[0].source


def test_explore_corpus_on_the_sample(runs):
    nb = executed(runs, "01_explore_corpus.ipynb", "sample")
    text = outputs_text(nb)
    # the sample's row accounting, as the golden demo summary (tests/golden) has it
    counts = json.loads((ROOT / "tests" / "golden" / "demo_summary.json").read_text(encoding="utf-8"))["counts"]
    assert (f"opinions_2025.csv: {counts['input_rows']} rows = {counts['accepted']} accepted + "
            f"{counts['rejected']} rejected") in text
    for reason, rows in counts["rejected_by_reason"].items():  # the rejects table, reason by reason
        assert re.search(rf"\b{reason}\s+{rows}\s", text), reason
    assert "font: none" not in text  # a CJK font was registered for the charts
    assert images(nb) == 5  # lengths, themes, heat map, keywords, word cloud (or bars)


def test_topics_on_the_sample(runs):
    nb = executed(runs, "02_topics.ipynb", "sample")
    text = outputs_text(nb)
    assert "6400 rows" in text  # both sample rounds pooled
    assert "[[themes]]" in text and "opinions tagged" in text  # the promoted theme classified opinions
    assert images(nb) == 3  # k curve, per office, over time


def test_office_profile_on_the_sample(runs):
    nb = executed(runs, "03_office_profiles.ipynb", "sample")
    text = outputs_text(nb)
    assert "round 2025 vs 2024" in text
    assert "satisfaction_low" in text  # the Wilson interval of the office's satisfaction
    assert images(nb) == 3  # themes vs peers, satisfaction, tracking


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_run_on_data_shaped_like_pool(name, runs):
    nb = executed(runs, name, "pool")
    text = outputs_text(nb)
    if name.startswith("01"):
        assert "pool.csv: 360 rows" in text
        assert "城乡建设" in text  # domain stands in for the missing office column
    if name.startswith("02"):
        assert "360 rows" in text and "no office column" not in text  # topics per domain
    if name.startswith("03"):
        assert "round 2020 vs 2019" in text  # rounds are the years of the time column
        assert "no satisfaction ratings in this data" in text
