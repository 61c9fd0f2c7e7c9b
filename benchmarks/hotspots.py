"""Hot issues on real messages: the 2020 泰迪杯 附件3 (4,326 messages with likes).

Runs ``textmine hotspots`` exactly as a user would (columns detected from the headers), then
prints the 10 hottest issues with their title and the titles of their member messages, so
that a person can check that each one is a single real issue. The titles are real citizens'
text: they are printed only, never written into the repository; RESULTS.md gets the figures.

    python benchmarks/hotspots.py [--top 10] [--members 8]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "teddycup2020" / "附件3.csv"
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402


def segmentation_baseline() -> float:
    """Time a process that reads the file and segments every title and text start (the floor)."""
    code = (
        "import time, jieba, logging; jieba.setLogLevel(logging.WARNING); t = time.perf_counter()\n"
        "from textmine.read import read_table\nfrom textmine.segment import Segmenter\n"
        f"f = read_table({str(DATA)!r}).frame; s = Segmenter()\n"
        "[s.tokens(a) + s.tokens(b[:300]) for a, b in zip(f['留言主题'], f['留言详情'])]\n")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--members", type=int, default=8, help="member titles printed per issue")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "textmine.cli", "hotspots", str(DATA), "--out", tmp],
                       check=True, cwd=ROOT, capture_output=True)
        seconds = time.perf_counter() - start
        hot = pd.read_csv(Path(tmp) / "hotspots.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        members = pd.read_csv(Path(tmp) / "hotspot_messages.csv", dtype=str, keep_default_na=False,
                              encoding="utf-8-sig")
    n_messages = len(pd.read_csv(DATA, dtype=str))
    baseline = segmentation_baseline()
    in_issues = len(members)
    for row in hot.head(args.top).itertuples():
        print(f"\n#{row.issue} heat {row.heat} — {row.title}")
        print(f"   place {row.place or '（无）'} ({row.place_kind or '-'}), {row.first} … {row.last}, "
              f"{row.count} messages, {row.writers} writers, {row.likes} likes")
        own = members[members["issue"] == row.issue]
        for title in own["title"].head(args.members):
            print(f"     · {title}")
        if len(own) > args.members:
            print(f"     · … {len(own) - args.members} more")
    sizes = hot["count"].astype(int)
    lines = [
        f"Data: `teddycup2020/附件3.csv` ({n_messages:,} real messages with 点赞数); command: "
        "`textmine hotspots 附件3.csv` (columns detected: 留言详情, 留言主题, 留言编号, 留言用户, 留言时间, 点赞数).",
        "",
        f"- wall time of the command (incl. start-up): {seconds:.1f} s; same-run baseline — a fresh "
        f"process that only reads the file and cuts titles and texts with jieba: {baseline:.1f} s "
        f"(ratio {seconds / baseline:.1f})",
        f"- {len(hot):,} issues of ≥ 2 messages, holding {in_issues:,} messages; largest {sizes.max()}, "
        f"median {int(sizes.median())}",
        "",
        "Top issues (titles are printed by the script, not stored here; the check of each issue is in "
        "the closing note of issue 7):",
        "",
        "| # | place kind | first | last | messages | writers | likes | heat |",
        "|---:|---|---|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.issue} | {r.place_kind or '(none)'} | {r.first} | {r.last} | {r.count} | {r.writers} | "
              f"{r.likes} | {r.heat} |" for r in hot.head(args.top).itertuples()]
    text = "\n".join(lines)
    print("\n" + text)
    write_section("Hot issues on teddycup2020 附件3", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
