"""Theme-classification quality on the real gold set (skips when ../shared/data is absent).

Runs `textmine classify` exactly as a user would on conduct-gold/dev.csv (text column only),
scores its `themes` against the adjudicated `labels`, prints the figures and writes them to
benchmarks/RESULTS.md.

    python benchmarks/quality.py
"""
from __future__ import annotations

import datetime as dt
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT.parent / "shared" / "data" / "conduct-gold" / "dev.csv"
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402
from textmine.evaluate import multilabel_scores  # noqa: E402
from textmine.taxonomy import load_taxonomy  # noqa: E402


def main() -> int:
    if not GOLD.exists():
        print(f"skipped: {GOLD} not found")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tagged.csv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "textmine.cli", "classify", str(GOLD), "--text-col", "text",
                        "--out", str(out)], check=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        tagged = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    scores = multilabel_scores(tagged["labels"], tagged["themes"], load_taxonomy().codes)
    per = scores["per_theme"]
    lines = [
        f"Gold set: `conduct-gold/dev.csv` ({scores['n']} real messages), command: "
        "`textmine classify dev.csv --text-col text` (shipped lexicon classifier, no training).",
        "",
        f"- micro precision {scores['micro']['precision']:.3f}, recall {scores['micro']['recall']:.3f}, "
        f"**micro-F1 {scores['micro']['f1']:.3f}**; macro-F1 {scores['macro_f1']:.3f}; "
        f"exact label-set match {scores['exact_match']:.3f}",
        f"- wall time of the command (incl. start-up): {seconds:.1f} s",
        "",
        "| theme | support | precision | recall | F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.theme} | {r.support} | {r.precision:.2f} | {r.recall:.2f} | {r.f1:.2f} |"
              for r in per.itertuples()]
    text = "\n".join(lines)
    print(text)
    write_section("Theme classification quality (lexicon baseline)", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
