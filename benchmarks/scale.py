"""Scale benchmark: time every stage of ``textmine run`` and segmentation against jieba.lcut.

    python3 benchmarks/scale.py --n 10000,100000[,1000000] [--seed 7] [--baseline-max 30000]

For each size it generates a synthetic round with :func:`textmine.synth.generate_round`
(~60 characters per opinion, duplicates at the generator's rate), writes it as CSV to a
temporary folder and runs :func:`textmine.pipeline.run` on it **in a child process**, so
that the peak RSS reported is that run's alone. In the same run it measures, over the
same texts:

- the baseline: ``jieba.lcut`` in accurate mode, one process, with the same user
  dictionary (a private ``jieba.Tokenizer`` with the same words added, which is what
  ``jieba.load_userdict`` + ``jieba.lcut`` does), over the first ``--baseline-max``
  texts (jieba is slow: ~5,700 opinions/s);
- ``Segmenter(engine="rjieba")`` without and with the token cache over the same texts
  (and with the cache over all texts of the round), as throughput ratios to the baseline;
- token agreement of rjieba with jieba on the baseline texts;
- segmenter start-up (build of the dictionary with ~1,000 user words), per engine.

CPU seconds are reported next to wall seconds: on a shared machine wall time includes
waiting for the CPU. Writes the section "Scale: stages, memory and segmentation" of
benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import peak_rss_mb, write_section  # noqa: E402

TITLE = "Scale: stages, memory and segmentation"


def _cpu(who=resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def child_run(csv: str, out_dir: str, result_path: str, profile: str | None, jobs: int | None,
              lexicon_only: bool = False) -> None:
    """Run the pipeline once (in this fresh process) and write timings and peak RSS.

    CPU time includes the worker processes (``RUSAGE_CHILDREN``); the peak RSS of the
    largest worker is reported next to this process's.
    """
    from textmine import pipeline

    wall, cpu = time.perf_counter(), _cpu()
    options = {"jobs": jobs}
    if lexicon_only:   # the toolkit as the default would load it, with the lexicon as its classifier
        from textmine.classify import LexiconThemeClassifier

        options["toolkit"] = pipeline.Toolkit.load(classifier=LexiconThemeClassifier().fit())
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        analysis = profiler.runcall(pipeline.run, csv, out_dir, **options)
        profiler.dump_stats(profile)
    else:
        analysis = pipeline.run(csv, out_dir, **options)
    result = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": _cpu() - cpu + _cpu(resource.RUSAGE_CHILDREN),
        "stages_s": analysis.info["timings_s"],
        "peak_rss_mb": peak_rss_mb(),
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "accepted": analysis.info["counts"]["accepted"],
    }
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")


def segmentation(texts: list[str], baseline_max: int) -> dict:
    """Compare jieba.lcut (baseline) with the rjieba Segmenter on the same texts."""
    from textmine.pipeline import Toolkit
    from textmine.segment import Segmenter, token_agreement

    words = Toolkit.load().segmenter.extra_words  # the pipeline's user words (offices, theme terms)
    out = {}
    for engine in ("jieba", "rjieba"):
        seg = Segmenter(extra_words=words, engine=engine, cache_size=0)
        wall, cpu = time.perf_counter(), _cpu()
        seg.cut("窗口工作人员态度很好")  # start-up = dictionary build + first cut (loads the HMM model)
        out[f"startup_{engine}"] = (time.perf_counter() - wall, _cpu() - cpu)
        out[f"seg_{engine}"] = seg
    for engine in ("jieba", "rjieba"):  # warm up (first calls load the HMM model)
        for text in texts[:200]:
            out[f"seg_{engine}"].cut(text)
    sample = texts[:baseline_max]
    chars = sum(len(t.encode("utf-8")) for t in sample)
    lcut = out["seg_jieba"].tokenizer.lcut  # a private jieba.Tokenizer: jieba.lcut with our user dictionary

    def timed(fn, items):
        wall, cpu = time.perf_counter(), _cpu()
        result = fn(items)
        return result, time.perf_counter() - wall, _cpu() - cpu

    base, base_wall, base_cpu = timed(lambda xs: [lcut(t) for t in xs], sample)
    fast_seg = out["seg_rjieba"]
    fast, fast_wall, fast_cpu = timed(lambda xs: [fast_seg.cut(t) for t in xs], sample)
    cached_seg = Segmenter(extra_words=words, engine="rjieba")
    cached_seg.tokenizer
    _, cached_wall, cached_cpu = timed(lambda xs: [cached_seg.cut(t) for t in xs], sample)
    cached_all = Segmenter(extra_words=words, engine="rjieba")
    cached_all.tokenizer
    _, all_wall, all_cpu = timed(lambda xs: [cached_all.cut(t) for t in xs], texts)
    base_no_ws = [[t for t in toks if not t.isspace()] for toks in base]
    return {"steps": text_steps(sample, fast_seg),

        "sample": len(sample), "mb": chars / 1e6, "distinct_share": len(set(sample)) / max(len(sample), 1),
        "base": (base_wall, base_cpu), "rjieba": (fast_wall, fast_cpu), "rjieba_cached": (cached_wall, cached_cpu),
        "all_texts": len(texts), "rjieba_cached_all": (all_wall, all_cpu),
        "agreement": token_agreement(base_no_ws, fast),
        "startup_jieba": out["startup_jieba"], "startup_rjieba": out["startup_rjieba"],
    }


def text_steps(texts: list[str], segmenter) -> dict[str, float]:
    """CPU seconds of each per-text step over the same texts, in one process: the job runs
    cleaning, masking and tagging as one task per chunk on the workers, so its stage times
    cannot split them; segmenting is done for typical opinions."""
    from textmine.classify import theme_table
    from textmine.clean import clean_text, comparison_key
    from textmine.flood import flood_key
    from textmine.pipeline import Toolkit

    toolkit = Toolkit.load()
    steps = {}
    cpu = _cpu()
    cleaned = [clean_text(t) for t in texts]
    [(comparison_key(t), flood_key(t)) for t in cleaned]
    steps["clean + keys"] = _cpu() - cpu
    cpu = _cpu()
    masked = [toolkit.masker.mask(t) for t in cleaned]
    steps["mask"] = _cpu() - cpu
    from textmine.classify import LexiconThemeClassifier

    lexicon = LexiconThemeClassifier(taxonomy=toolkit.taxonomy).fit()
    cpu = _cpu()
    theme_table(lexicon, masked, toolkit.taxonomy.names())
    steps["classify (lexicon alone)"] = _cpu() - cpu
    cpu = _cpu()
    theme_table(toolkit.classifier, masked, toolkit.taxonomy.names())
    steps["classify (default: lexicon, else model)"] = _cpu() - cpu
    cpu = _cpu()
    for text in masked:
        segmenter.cut(text)
    steps["segment (rjieba)"] = _cpu() - cpu
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="10000,100000", help="comma-separated round sizes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-max", type=int, default=30000,
                        help="texts segmented by the jieba baseline per size (it is slow)")
    parser.add_argument("--profile", help="write a cProfile of the largest run's pipeline to this file")
    parser.add_argument("--jobs", default="1,2",
                        help="comma-separated worker-process counts to run each size with (1 = one process)")
    parser.add_argument("--child", nargs=3, metavar=("CSV", "OUT", "RESULT"), help=argparse.SUPPRESS)
    parser.add_argument("--child-jobs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print only, do not update RESULTS.md")
    parser.add_argument("--lexicon-only", action="store_true",
                        help="tag themes with the lexicon alone instead of the default classifier (own section)")
    args = parser.parse_args()
    if args.child:
        child_run(*args.child, profile=args.profile, jobs=args.child_jobs, lexicon_only=args.lexicon_only)
        return

    from textmine.synth import generate_round

    sizes = [int(x) for x in args.n.split(",") if x.strip()]
    job_counts = [int(x) for x in args.jobs.split(",") if x.strip()]
    rows, seg_rows = [], []
    with tempfile.TemporaryDirectory(prefix="textmine-scale-") as tmp:
        for n in sizes:
            start = time.perf_counter()
            frame = generate_round(n=n, seed=args.seed)
            csv = Path(tmp) / f"opinions_{n}.csv"
            frame.to_csv(csv, index=False, encoding="utf-8-sig")
            texts = frame["意见建议"].fillna("").astype(str).tolist()
            del frame
            print(f"n={n:,}: generated in {time.perf_counter() - start:.1f} s", flush=True)
            for jobs in job_counts:
                result_path = Path(tmp) / f"result_{n}_{jobs}.json"
                command = [sys.executable, __file__, "--child", str(csv), str(Path(tmp) / f"out_{n}_{jobs}"),
                           str(result_path), "--child-jobs", str(jobs)] + (["--lexicon-only"] if args.lexicon_only else [])
                profiled = bool(args.profile and n == max(sizes) and jobs == job_counts[-1])
                if profiled:
                    command += ["--profile", args.profile]
                subprocess.run(command, check=True, cwd=ROOT)
                result = json.loads(result_path.read_text(encoding="utf-8"))
                result["jobs"], result["profiled"] = jobs, profiled
                print(f"  pipeline, {jobs} job(s): {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU, "
                      f"peak RSS {result['peak_rss_mb']:.0f} MB (workers {result['worker_peak_rss_mb']:.0f} MB); "
                      f"stages {result['stages_s']}", flush=True)
                rows.append((n, result))
            seg = segmentation(texts, args.baseline_max)
            print(f"  segmentation over {seg['sample']:,} texts: jieba.lcut {seg['base'][1]:.2f} s CPU, "
                  f"rjieba {seg['rjieba'][1]:.2f} s, cached {seg['rjieba_cached'][1]:.2f} s; "
                  f"agreement {seg['agreement']:.5f}", flush=True)
            seg_rows.append((n, seg))
            if not args.no_write:  # after every size, so a long last size does not lose the others
                write_section(TITLE + (" (lexicon alone)" if args.lexicon_only else ""), _table(rows, seg_rows, args))
    print(_table(rows, seg_rows, args))


def _table(rows, seg_rows, args) -> str:
    stages = []
    for _, result in rows:
        stages += [s for s in result["stages_s"] if s not in stages]
    import os

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lexicon = args.lexicon_only
    lines = ["Command: `python3 benchmarks/scale.py --n " + args.n + f" --jobs {args.jobs} --seed {args.seed} "
             f"--baseline-max {args.baseline_max}" + (" --lexicon-only" if lexicon else "") + "`. Each pipeline run "
             "is a fresh child process (`textmine.pipeline.run(..., jobs=J)` on a CSV of `generate_round(n, seed)`, "
             + ("the lexicon alone as theme classifier" if lexicon else "the default theme classifier (lexicon, "
                "else its model)") + ", all "
             "outputs including the HTML report); stage times in wall seconds from `run.json` `timings_s`; CPU "
             "seconds include the worker processes; 'workers MB' is the peak RSS of the largest worker (forked "
             "from the main process, so part of it is shared with it). × 1 job = wall time with one process / "
             f"wall time of this row, same size, same run. Load average when the table was written: {load:.1f}.", "",
             "| opinions | jobs | " + " | ".join(stages) + " | total wall s | × 1 job | total CPU s | peak RSS MB "
             "| workers MB |",
             "|---:|---:|" + "---:|" * (len(stages) + 5)]
    single = {n: r["wall_s"] for n, r in rows if r.get("jobs") == 1}
    for n, r in rows:
        cells = [f"{r['stages_s'].get(s, 0):.2f}" for s in stages]
        label = f"{n:,} (under cProfile)" if r.get("profiled") else f"{n:,}"
        ratio = f"{single[n] / r['wall_s']:.2f}" if n in single else "–"
        lines.append(f"| {label} | {r.get('jobs', 1)} | " + " | ".join(cells) + f" | {r['wall_s']:.1f} | {ratio} | "
                     f"{r['cpu_s']:.1f} | {r['peak_rss_mb']:,.0f} | {r.get('worker_peak_rss_mb', 0):,.0f} |")
    lines += ["", "Segmentation, same texts, same user dictionary (jieba's + ~1,000 office and theme words). "
              "Baseline = `jieba.lcut` accurate mode, one process. Speed-up = baseline CPU s / engine CPU s "
              "over the same texts; 'cached' = `Segmenter(engine=\"rjieba\")` with its token cache "
              "(repeated texts segmented once); 'all texts' = the cached segmenter over every text of the round, "
              "as a throughput ratio to the baseline.", "",
              "| opinions | texts segmented | MB | distinct | jieba.lcut texts/s (CPU) | rjieba × | rjieba+cache × "
              "| rjieba+cache over all texts × | token agreement | start-up jieba s (CPU) | start-up rjieba s (CPU) |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, s in seg_rows:
        base_rate = s["sample"] / s["base"][1]
        all_rate = s["all_texts"] / s["rjieba_cached_all"][1]
        lines.append(
            f"| {n:,} | {s['sample']:,} | {s['mb']:.2f} | {s['distinct_share']:.0%} | {base_rate:,.0f} | "
            f"{s['base'][1] / s['rjieba'][1]:.1f} | {s['base'][1] / s['rjieba_cached'][1]:.1f} | "
            f"{all_rate / base_rate:.1f} | {s['agreement']:.5f} | "
            f"{s['startup_jieba'][0]:.2f} ({s['startup_jieba'][1]:.2f}) | "
            f"{s['startup_rjieba'][0]:.2f} ({s['startup_rjieba'][1]:.2f}) |")
    steps = [name for _, s in seg_rows for name in s["steps"]]
    steps = list(dict.fromkeys(steps))
    lines += ["", "Per-text steps, CPU seconds in one process over the same texts as the segmentation "
              "columns (`text_steps`; in the job, cleaning, masking and tagging run as one task on the workers, "
              "so `clean_mask_classify` above is their sum plus the waiting):", "",
              "| opinions | texts | " + " | ".join(steps) + " |", "|---:|---:|" + "---:|" * len(steps)]
    for n, s in seg_rows:
        lines.append(f"| {n:,} | {s['sample']:,} | " + " | ".join(f"{s['steps'][k]:.2f}" for k in steps) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
