"""Cost of the reports people read (report.html with charts, Word notices) against the analysis.

For each corpus the whole job runs once (``textmine run``: the baseline is its analysis and
writing, everything but the report), then the report is rebuilt from the output folder in
fresh processes, each paying the first import of matplotlib and Jinja2 as the report stage
of a run does, with its parts timed: imports, reading the files, drawing and saving the
charts (PNG+SVG), rendering the page, subsetting the CJK font, and the whole
``build_report`` (with one process, and with the heat map drawn by a second one). With
``--before REV`` the same is timed for the report code of git revision REV, alternating
with the working tree's, so before/after are compared in one run on the same load. Last,
a notice is written for every office. Figures are seconds (wall; CPU where said, counting
child processes) and ratios to the analysis time of the same corpus in the same run; the
machine's load average is printed next to them (other jobs share the cores).

    python -m benchmarks.report [--before be28c77] [--synthetic 52000] [--pool] [--repeat 3]

Corpora: the embedded sample (3,200 synthetic opinions, 43 offices); ``--synthetic N``
opinions made by the sample generator (the size of issue 8's 52,000 target); the Fuzhou
12345 river complaints from ../shared/data (offices = districts) when present; with
``--pool`` also pool.csv (17,512 real messages, no office column), which takes minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from benchmarks.results import write_section

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PARTS = ("imports", "read files", "charts", "render page", "font subset")

# runs in a fresh interpreter with the textmine package of CODE first on sys.path
CHILD = r"""
import json, resource, sys, time, pathlib
code, out, new = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3] == "1"
sys.path.insert(0, code)
import textmine.pipeline  # noqa: F401 - loaded in a real run before its report stage
from textmine import fonts, report
assert report.__file__.startswith(code), report.__file__

def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

parts, cpus = {}, {}
def timed(name, fn):
    w, c = time.perf_counter(), cpu()
    value = fn()
    parts[name], cpus[name] = time.perf_counter() - w, cpu() - c
    return value

def imports():  # first imports, as the report stage of a run pays them
    import matplotlib.figure, matplotlib.backends.backend_agg, jinja2  # noqa: F401
    if new:
        import uharfbuzz  # noqa: F401
    else:
        import fontTools.subset  # noqa: F401

timed("imports", imports)
jobs = {"jobs": int(sys.argv[4])} if new else {}
path = timed("first build", lambda: report.build_report(out, **jobs))
parts["whole"], cpus["whole"] = parts["imports"] + parts["first build"], cpus["imports"] + cpus["first build"]
results = timed("read files", lambda: report.load_results(out))
font = fonts.cjk_font()
charts = timed("charts", lambda: report.draw_charts(results, font=font, **({"jobs": 1} if new else {})))
html = timed("render page", lambda: report.render_report(results, charts))
report._subset_face.cache_clear()
face = timed("font subset", lambda: report._font_face(font.path, html))
print(json.dumps({"wall": parts, "cpu": cpus, "html_kb": path.stat().st_size / 1024, "font_kb": len(face) / 1024}))
"""


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def checkout(rev: str, into: Path) -> Path:
    """The textmine package of git revision ``rev``, unpacked under ``into``."""
    archive = into / "before.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), rev, "textmine"], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "before", filter="data")
    return into / "before"


def rebuild(code: Path, out: Path, *, new: bool, jobs: int = 1) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(code), str(out), "1" if new else "0", str(jobs)],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def median(runs: list[dict], kind: str, part: str) -> float:
    return statistics.median(r[kind][part] for r in runs)


def measure(name: str, source: Path, columns: dict, toolkit, before: Path | None, repeat: int) -> dict:
    from textmine.notice import write_notices
    from textmine.pipeline import run

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        started = load()
        analysis_run = run(source, out, columns=columns, toolkit=toolkit)
        timings = analysis_run.info["timings_s"]
        analysis = sum(v for k, v in timings.items() if k not in {"report", "load"})
        runs: dict[str, list[dict]] = {"before": [], "after, 1 process": [], "after, 2 processes": []}
        for _ in range(repeat):  # alternated, so each variant sees the same load
            if before is not None:
                runs["before"].append(rebuild(before, out, new=False))
            runs["after, 1 process"].append(rebuild(ROOT, out, new=True, jobs=1))
            runs["after, 2 processes"].append(rebuild(ROOT, out, new=True, jobs=2))
        start = time.perf_counter()
        notices = write_notices(out)
        notices_s = time.perf_counter() - start
        return {"name": name, "rows": int(analysis_run.info["counts"]["input_rows"]),
                "offices": len(notices), "analysis": analysis, "report_in_run": timings["report"],
                "runs": {k: v for k, v in runs.items() if v}, "notices": notices_s,
                "load": f"{started} → {load()}"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also time the report code of this git revision")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="also N generated opinions")
    parser.add_argument("--pool", action="store_true", help="also measure pool.csv (17,512 rows, minutes)")
    parser.add_argument("--repeat", type=int, default=3, help="rebuilds per variant (median reported)")
    parser.add_argument("--no-write", action="store_true", help="print only, do not update RESULTS.md")
    args = parser.parse_args(argv)

    from textmine.pipeline import Toolkit, sample_path

    toolkit = Toolkit.load()
    with tempfile.TemporaryDirectory() as tmp:
        before = checkout(args.before, Path(tmp)) if args.before else None
        corpora = [("sample (synthetic)", sample_path(), {})]
        if args.synthetic:
            from textmine.synth import generate_round

            path = Path(tmp) / f"synthetic_{args.synthetic}.csv"
            generate_round(n=args.synthetic, seed=7).to_csv(path, index=False, encoding="utf-8-sig")
            corpora.append((f"synthetic {args.synthetic:,}", path, {}))
        fuzhou = DATA / "fuzhou12345" / "fuzhou12345_rivers_by_district.csv"
        if fuzhou.exists():
            corpora.append(("Fuzhou 12345 rivers", fuzhou, {"office": "区域", "text": "投诉件内容"}))
        if args.pool and (DATA / "pool.csv").exists():
            corpora.append(("pool.csv", DATA / "pool.csv", {}))
        rows = []
        for name, path, columns in corpora:
            rows.append(measure(name, path, columns, toolkit, before, args.repeat))
            print(json.dumps(rows[-1], ensure_ascii=False, default=str)[:2000], flush=True)

    lines = ["| corpus | rows | offices | analysis s | report in run s (ratio) | code | report rebuilt s "
             "(CPU s, ratio to analysis) | CPU s: imports | read files | charts | render page | font subset | "
             "report.html kB (font kB) | load avg |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        for i, (variant, runs) in enumerate(r["runs"].items()):
            whole = median(runs, "wall", "whole")
            cpu = median(runs, "cpu", "whole")
            head = (f"| {r['name']} | {r['rows']:,} | {r['offices']} | {r['analysis']:.1f} | "
                    f"{r['report_in_run']:.2f} ({r['report_in_run'] / r['analysis']:.2f}×) |") if i == 0 else \
                "| | | | | |"
            parts = " | ".join(f"{median(runs, 'cpu', p):.2f}" for p in PARTS)
            lines.append(f"{head} {variant} | {whole:.2f} ({cpu:.2f}, {whole / r['analysis']:.2f}×) | {parts} | "
                         f"{runs[0]['html_kb']:,.0f} ({runs[0]['font_kb']:,.0f}) | {r['load'] if i == 0 else ''} |")
        lines.append(f"| | | | | | notices for all {r['offices']} offices | {r['notices']:.2f} "
                     f"({r['notices'] / r['analysis']:.2f}×) | | | | | | | |")
    for line in lines:
        print(line)
    command = "python -m benchmarks.report" + (f" --before {args.before}" if args.before else "") + \
        (f" --synthetic {args.synthetic}" if args.synthetic else "") + (" --pool" if args.pool else "")
    body = (f"`{command}`: the whole job once per corpus (analysis = every stage but the report; the report "
            "in the run is that run's own report stage), then the report rebuilt from the output folder "
            f"{args.repeat}× per variant in fresh processes, variants alternated (medians; wall seconds, CPU "
            "including child processes): the whole `build_report` as a run's report stage pays it (first "
            "imports of matplotlib, Jinja2 and the font subsetter included), then its parts again in the same "
            "process (charts drawn in one process). "
            + (f"`before` is the report code of `{args.before}`; " if args.before else "")
            + "`after, 2 processes` draws the heat map in a forked process while the other charts are drawn. "
            "Load average (1/5/15 min) at the start and end of each corpus: other jobs share the 2 cores, so "
            "compare rows of one corpus, not across runs.\n\n" + "\n".join(lines))
    if not args.no_write:
        write_section("Reports: report.html, charts and notices", body)


if __name__ == "__main__":
    main()
