"""Topic models at scale: fit on a sample on one node, then assign topics to every opinion.

    python3 benchmarks/topics_scale.py [--n 1000000] [--samples 10000,50000,100000] [--k 10]

Topic fitting is not distributed (issue 8): textmine fits its NMF topic model on one
machine, on a random sample of the opinions, and then assigns every opinion to a topic
with ``TopicModel.transform`` — which works text by text, so it can run per partition.
This script measures, on a synthetic round of ``--n`` opinions
(:func:`textmine.synth.generate_round`):

- fit time and peak memory (RSS, a fresh child process per fit) for each sample size;
- the time to assign topics to all ``--n`` opinions with each fitted model;
- how stable the topics are: for each sample size, the mean best-match overlap of its
  topics' top-10 terms with those of the model fitted on the largest sample (1.0 = same
  topics), and the share of opinions given the same topic as by that model (after
  matching topics by their terms).

Writes the section "Topic models at scale" of benchmarks/RESULTS.md.
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

TITLE = "Topic models at scale"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(texts_path: str, sample: int, k: int, seed: int, out: str) -> None:
    """Fit on a sample, assign topics to every text; write timings, memory, topics and assignments."""
    import numpy as np

    from textmine.topics import TopicModel

    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(texts), size=min(sample, len(texts)), replace=False)
    wall, cpu = time.perf_counter(), _cpu()
    model = TopicModel(n_topics=k, method="nmf", random_state=seed).fit([texts[i] for i in chosen])
    fit = (time.perf_counter() - wall, _cpu() - cpu)
    wall, cpu = time.perf_counter(), _cpu()
    dominant = []
    for start in range(0, len(texts), 100_000):  # a partition at a time, as a worker would
        dominant.extend(int(t) for t in model.predict(texts[start:start + 100_000]))
    assign = (time.perf_counter() - wall, _cpu() - cpu)
    Path(out).write_text(json.dumps({
        "sample": len(chosen), "fit": fit, "assign": assign,
        "peak_rss_mb": peak_rss_mb(),
        "topics": [model._top(row) for row in model.components_], "dominant": dominant,
    }, ensure_ascii=False), encoding="utf-8")


def _match(topics, reference):
    """For each topic, the reference topic sharing most top terms, and the overlap share."""
    out = []
    for terms in topics:
        overlaps = [len(set(terms) & set(ref)) / max(len(ref), 1) for ref in reference]
        best = max(range(len(reference)), key=lambda j: overlaps[j])
        out.append((best, overlaps[best]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--samples", default="10000,50000,100000")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.child:
        path, sample, k, seed, out = args.child
        child(path, int(sample), int(k), int(seed), out)
        return

    from textmine.pipeline import clean_many
    from textmine.synth import generate_round

    samples = sorted(int(x) for x in args.samples.split(","))
    with tempfile.TemporaryDirectory(prefix="textmine-topics-") as tmp:
        frame = generate_round(n=args.n, seed=args.seed)
        texts = [t for t in clean_many(frame["意见建议"].fillna("").astype(str)) if t]
        del frame
        texts_path = Path(tmp) / "texts.json"
        texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        results = {}
        for sample in samples:
            out = Path(tmp) / f"fit_{sample}.json"
            subprocess.run([sys.executable, __file__, "--child", str(texts_path), str(sample), str(args.k),
                            str(args.seed), str(out)], check=True, cwd=ROOT)
            results[sample] = json.loads(out.read_text(encoding="utf-8"))
            r = results[sample]
            print(f"sample {sample:,}: fit {r['fit'][0]:.1f} s wall / {r['fit'][1]:.1f} s CPU, assign "
                  f"{len(texts):,} texts {r['assign'][0]:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    reference = results[samples[-1]]
    import os

    load = os.getloadavg()[0]
    lines = [f"Command: `python3 benchmarks/topics_scale.py --n {args.n} --samples {args.samples} --k {args.k} "
             f"--seed {args.seed}`. Synthetic round of {args.n:,} opinions ({len(texts):,} non-empty texts); NMF "
             f"topic model (`TopicModel(method='nmf')`, K = {args.k}) fitted on a random sample in a fresh process "
             "per row, then every text assigned to its main topic in partitions of 100,000 (what a worker would do). "
             "Term overlap / same topic: against the model fitted on the largest sample, topics matched by their "
             f"top-10 terms. Load average when written: {load:.1f}.", "",
             "| sample | fit s (CPU) | assign all s (CPU) | texts assigned / s | peak RSS MB | top-10 term overlap "
             "| same topic as largest sample |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for sample in samples:
        r = results[sample]
        matched = _match(r["topics"], reference["topics"])
        overlap = sum(o for _, o in matched) / len(matched)
        same = sum((a == b) if a < 0 or b < 0 else matched[a][0] == b  # -1: no topic (no known word)
                   for a, b in zip(r["dominant"], reference["dominant"])) / len(r["dominant"])
        lines.append(f"| {r['sample']:,} | {r['fit'][0]:.1f} ({r['fit'][1]:.1f}) | {r['assign'][0]:.1f} "
                     f"({r['assign'][1]:.1f}) | {len(r['dominant']) / r['assign'][0]:,.0f} | {r['peak_rss_mb']:,.0f} | "
                     f"{overlap:.2f} | {same:.1%} |")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section(TITLE, body)


if __name__ == "__main__":
    main()
