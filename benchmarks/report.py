"""Cost of the reports people read (report.html with charts, Word notices) against the analysis.

For each corpus the whole job runs once (``textmine run``: the baseline is its analysis and
writing, everything but the report), then the report is rebuilt from the output folder with
its parts timed (reading the files, drawing and saving the charts, subsetting the font,
rendering the page), and a notice is written for every office. Figures are seconds and
ratios to the analysis time of the same corpus in the same run.

    python -m benchmarks.report [--pool]

Corpora: the embedded sample (3,200 synthetic opinions, 43 offices); the Fuzhou 12345 river
complaints from ../shared/data (offices = districts) when present; with ``--pool`` also
pool.csv (17,512 real messages, no office column), which takes a few minutes.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.results import write_section

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def measure(name: str, source: Path, columns: dict, toolkit) -> dict:
    from textmine import fonts, report
    from textmine.notice import write_notices
    from textmine.pipeline import run

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        run(source, out, columns=columns, toolkit=toolkit)
        timings = json.loads((out / "run.json").read_text(encoding="utf-8"))["timings_s"]
        analysis = sum(v for k, v in timings.items() if k not in {"report", "load"})
        parts = {}
        start = time.perf_counter()
        results = report.load_results(out)
        parts["read files"] = time.perf_counter() - start
        font = fonts.cjk_font()
        start = time.perf_counter()
        charts = report.draw_charts(results, font=font)
        parts["charts (PNG+SVG)"] = time.perf_counter() - start
        start = time.perf_counter()
        html = report.render_report(results, charts)
        parts["render page"] = time.perf_counter() - start
        report._subset_face.cache_clear()  # the run above subset the same characters already
        start = time.perf_counter()
        face = report._font_face(font.path, html)
        parts["font subset"] = time.perf_counter() - start
        start = time.perf_counter()
        path = report.build_report(out)
        whole = time.perf_counter() - start  # font subset cached from the step above
        start = time.perf_counter()
        notices = write_notices(out)
        notices_s = time.perf_counter() - start
        return {"name": name, "rows": int(results.run["counts"]["input_rows"]), "offices": len(notices),
                "analysis": analysis, "report_in_run": timings["report"], "parts": parts, "rebuild": whole,
                "notices": notices_s, "html_kb": path.stat().st_size / 1024, "font_kb": len(face) / 1024}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", action="store_true", help="also measure pool.csv (17,512 rows, minutes)")
    args = parser.parse_args(argv)

    from textmine.pipeline import Toolkit, sample_path

    toolkit = Toolkit.load()
    corpora = [("sample (synthetic)", sample_path(), {})]
    fuzhou = DATA / "fuzhou12345" / "fuzhou12345_rivers_by_district.csv"
    if fuzhou.exists():
        corpora.append(("Fuzhou 12345 rivers", fuzhou, {"office": "区域", "text": "投诉件内容"}))
    if args.pool and (DATA / "pool.csv").exists():
        corpora.append(("pool.csv", DATA / "pool.csv", {}))
    rows = [measure(name, path, columns, toolkit) for name, path, columns in corpora]

    lines = ["| corpus | rows | offices | analysis s | report in run s (ratio) | charts s | font subset s | "
             "render s | notices for all offices s (ratio) | report.html kB (font kB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        p = r["parts"]
        lines.append(f"| {r['name']} | {r['rows']:,} | {r['offices']} | {r['analysis']:.1f} | "
                     f"{r['report_in_run']:.1f} ({r['report_in_run'] / r['analysis']:.2f}×) | "
                     f"{p['charts (PNG+SVG)']:.1f} | {p['font subset']:.1f} | {p['render page']:.2f} | "
                     f"{r['notices']:.1f} ({r['notices'] / r['analysis']:.2f}×) | "
                     f"{r['html_kb']:,.0f} ({r['font_kb']:,.0f}) |")
        print(lines[-1])
    body = ("`python -m benchmarks.report" + (" --pool" if args.pool else "") + "`: the whole job once per corpus "
            "(analysis = every stage but the report; the report in the run also pays the first import of "
            "matplotlib, Jinja2 and fontTools and the font registration), then the report rebuilt from the output folder with its "
            "parts timed, and a Word notice written for every office. Ratios are to the analysis time of the "
            "same corpus in the same run.\n\n" + "\n".join(lines))
    write_section("Reports: report.html, charts and notices", body)


if __name__ == "__main__":
    main()
