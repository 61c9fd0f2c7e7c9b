"""Speed of the evaluation-round steps (workspace, scoring, tracking) against the analysis itself.

Two synthetic rounds (textmine.synth, 2024 and 2025) are analysed (the baseline), then ingested
into a fresh workspace, ingested again (idempotent: nothing changes), scored, tracked and
exported to Parquet. The figures are reported in seconds and as a ratio of the analysis time of
the same rounds in the same run. A second part scores one round of 1,000,000 synthetic ratings.

    python -m benchmarks.rounds [--n 20000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.results import write_section


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="rows per synthetic round")
    parser.add_argument("--ratings", type=int, default=1_000_000, help="ratings in the scoring-only part")
    args = parser.parse_args(argv)

    from textmine.config import load_config
    from textmine.pipeline import Toolkit, analyse
    from textmine.scoring import score_round, score_workspace
    from textmine.synth import generate_round
    from textmine.tracking import track_workspace
    from textmine.workspace import Workspace

    toolkit = Toolkit.load()
    columns = {"text": "意见建议", "office": "被评议单位", "evaluator": "评议人编号", "name": "评议人姓名",
               "phone": "联系电话", "group": "评议人类别", "satisfaction": "满意度", "date": "填报日期"}
    analyses, analysis_s = {}, 0.0
    for year in (2024, 2025):
        frame = generate_round(n=args.n, year=year, seed=year).astype(str)
        frame.index = range(2, len(frame) + 2)
        start = time.perf_counter()
        analyses[year] = analyse(frame, columns, toolkit)
        analysis_s += time.perf_counter() - start

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        start = time.perf_counter()
        for year, analysis in analyses.items():
            assert ws.ingest(analysis, year).status == "added"
        timings["ingest both rounds"] = time.perf_counter() - start
        start = time.perf_counter()
        assert ws.ingest(analyses[2025], 2025).status == "unchanged"
        timings["ingest 2025 again (unchanged)"] = time.perf_counter() - start
        start = time.perf_counter()
        scores = score_workspace(ws.path, Path(tmp) / "out")
        timings["score both rounds"] = time.perf_counter() - start
        start = time.perf_counter()
        tracking = track_workspace(ws.path, 2025, 2024, Path(tmp) / "out")
        timings["track 2025 vs 2024 (incl. workbook)"] = time.perf_counter() - start
        start = time.perf_counter()
        ws.export_parquet(Path(tmp) / "parquet")
        timings["Parquet export of every table"] = time.perf_counter() - start
        db_mb = ws.db_path.stat().st_size / 2**20

    rng = np.random.default_rng(0)
    config = load_config()
    n = args.ratings
    ratings = pd.DataFrame({
        "row_id": np.arange(2, n + 2), "office": rng.choice([f"单位{i:02d}" for i in range(50)], n), "category": "k",
        "group": rng.choice(list(config.weights), n),
        "rating": rng.choice(["满意", "基本满意", "不满意"], n, p=[0.4, 0.4, 0.2]),
        "evaluator": pd.array(rng.integers(1, n // 5, n), dtype="Int64")})
    start = time.perf_counter()
    ratings.groupby(["office", "group", "rating"]).size()
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    score_round(ratings, config, round_id=2025)
    scoring = time.perf_counter() - start

    lines = [f"Two synthetic rounds of {args.n:,} rows each (seeds 2024, 2025); analysis of both rounds "
             f"(the baseline): {analysis_s:.2f} s. Workspace database: {db_mb:.1f} MiB; "
             f"{len(scores):,} office scores, {len(tracking):,} tracking rows.", "",
             "| step | seconds | × analysis time |", "|---|---:|---:|"]
    for step, seconds in timings.items():
        lines.append(f"| {step} | {seconds:.2f} | {seconds / analysis_s:.3f} |")
    lines += ["", f"`score_round` on {n:,} ratings (50 offices, 8 groups, one rating per evaluator): "
              f"{scoring:.2f} s ({n / scoring:,.0f} ratings/s); a bare pandas count of the same ratings by "
              f"office, group and level takes {baseline:.2f} s (ratio {scoring / baseline:.1f}).", "",
              f"Command: `python -m benchmarks.rounds --n {args.n}`"]
    body = "\n".join(lines)
    print(body)
    write_section("Evaluation rounds: workspace, scoring, tracking", body)


if __name__ == "__main__":
    main()
