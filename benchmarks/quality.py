"""Classification quality on real messages (skips cleanly when ../shared/data is absent).

Themes — conduct-gold/dev.csv (240 real messages, adjudicated labels):
  1. the shipped default through `textmine classify` exactly as a user runs it (baseline);
  2. 5-fold cross-validation of a model trained on dev.csv itself (`textmine evaluate --folds 5`);
  3. lexicon ∪ a model weakly supervised on the embedded synthetic sample (shippable);
  4. lexicon ∪ a model weakly supervised on pool.csv without the dev ids (benchmark only:
     the real data may not be shipped, so this shows what an analyst gets from
     `textmine train THEIR_POOL --weak`).
Routing — teddycup2020/附件2_details_labeled_union.csv (6,951 labelled messages, 7 classes;
rows flagged label_conflict have no label and are skipped): 5-fold stratified CV of
`RouteClassifier` (with and without office-alias normalisation) and, on the same folds, a TF-IDF
(char 1-2) + LinearSVC baseline; time to train on all rows. Writes its sections of benchmarks/RESULTS.md.

    python benchmarks/quality.py [--only themes|routing] [--skip-pool]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
GOLD = DATA / "conduct-gold" / "dev.csv"
ROUTE = DATA / "teddycup2020" / "附件2_details_labeled_union.csv"
POOL = DATA / "pool.csv"
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402
from textmine.classify import LexiconThemeClassifier  # noqa: E402
from textmine.clean import clean_text  # noqa: E402
from textmine.evaluate import (cross_validated_predictions, multilabel_scores, predict_label_cells,  # noqa: E402
                               single_label_scores)
from textmine.learn import LearnedThemeClassifier, OfficeAliasNormaliser, RouteClassifier  # noqa: E402
from textmine.redact import Masker  # noqa: E402
from textmine.resources import corpus_path  # noqa: E402
from textmine.taxonomy import load_taxonomy  # noqa: E402

MASKER = Masker.from_file()
HYBRID_THRESHOLD = 0.9


def prepare(texts) -> list[str]:
    return [MASKER.mask(clean_text(t)) for t in texts]


def theme_row(name: str, truth, predicted, codes, seconds: float) -> tuple[str, dict]:
    s = multilabel_scores(truth, predicted, codes)
    m = s["micro"]
    return (f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | **{m['f1']:.3f}** | {s['macro_f1']:.3f} | "
            f"{seconds:.1f} |", s)


def per_source_rows(dev: pd.DataFrame, truth, shipped, baseline, codes) -> list[str]:
    """Micro P/R/F1 of the shipped lexicon (and of the baseline, when given) on each source of dev.csv."""
    rows = []
    for source, group in dev.groupby("source", sort=True):
        cells = []
        for predicted in ([baseline] if baseline is not None else []) + [shipped]:
            m = multilabel_scores([truth[i] for i in group.index], [predicted[i] for i in group.index], codes)["micro"]
            cells.append(f"{m['precision']:.3f} / {m['recall']:.3f} / **{m['f1']:.3f}**")
        positives = sum(len([c for c in truth[i].split(";") if c]) for i in group.index)
        rows.append(f"| {source} | {len(group)} | {positives} | " + " | ".join(cells) + " |")
    return rows


def synthetic_rows(lexicons: list[tuple[str, LexiconThemeClassifier]], codes) -> list[str]:
    """Micro-F1 of each lexicon on the embedded synthetic rounds against their answer keys."""
    rows = []
    for year in ("2024", "2025"):
        opinions = pd.read_csv(corpus_path("sample", f"opinions_{year}.csv"), dtype=str, keep_default_na=False,
                               encoding="utf-8-sig")
        key = pd.read_csv(corpus_path("sample", f"opinions_{year}_truth.csv"), dtype=str, keep_default_na=False,
                          encoding="utf-8-sig")
        merged = opinions.merge(key, on="序号")
        texts = prepare(merged["意见建议"])
        for name, lexicon in lexicons:
            m = multilabel_scores(merged["themes"].tolist(), predict_label_cells(lexicon, texts), codes)["micro"]
            rows.append(f"| {year} ({len(merged):,} opinions) | {name} | {m['precision']:.4f} | {m['recall']:.4f} | "
                        f"**{m['f1']:.4f}** |")
    return rows


def themes(skip_pool: bool, before: str | None = None) -> None:
    codes = load_taxonomy().codes
    dev = pd.read_csv(GOLD, dtype=str, keep_default_na=False)
    truth = dev["labels"].tolist()
    dev_texts = prepare(dev["text"])
    rows, per_theme = [], None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tagged.csv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "textmine.cli", "classify", str(GOLD), "--text-col", "text",
                        "--out", str(out)], check=True, cwd=ROOT, capture_output=True)
        seconds = time.perf_counter() - start
        tagged = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    row, baseline = theme_row("shipped default: lexicon (`textmine classify`, incl. start-up)", truth,
                              tagged["themes"].tolist(), codes, seconds)
    rows.append(row)
    per_theme = baseline["per_theme"]
    old_lexicon, old_cells = None, None
    if before:  # the taxonomy of an earlier revision, through today's classifier: the lexicon's gain
        old = subprocess.run(["git", "show", f"{before}:corpora/taxonomy.toml"], check=True, cwd=ROOT,
                             capture_output=True, text=True).stdout
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "taxonomy.toml").write_text(old, encoding="utf-8")
            old_lexicon = LexiconThemeClassifier(taxonomy=Path(tmp) / "taxonomy.toml").fit()
            start = time.perf_counter()
            cells = predict_label_cells(old_lexicon, dev_texts)
        old_cells = cells
        rows.insert(0, theme_row(f"baseline: the lexicon of `{before}` (taxonomy.toml of that revision)", truth,
                                 cells, codes, time.perf_counter() - start)[0])

    start = time.perf_counter()
    cv = cross_validated_predictions(lambda: LearnedThemeClassifier(), dev_texts, truth, task="themes", folds=5)
    rows.append(theme_row("lexicon ∪ model trained on dev.csv, 5-fold CV", truth, cv, codes,
                          time.perf_counter() - start)[0])

    lexicon = LexiconThemeClassifier().fit()
    sample = pd.read_csv(corpus_path("sample", "opinions_2025.csv"), dtype=str, keep_default_na=False,
                         encoding="utf-8-sig")
    synth = [t for t in prepare(sample["意见建议"]) if t]
    start = time.perf_counter()
    model = LearnedThemeClassifier().fit(synth, [";".join(sorted(e)) for e in lexicon.evidence(synth)])
    rows.append(theme_row(f"lexicon ∪ model weakly supervised on the synthetic sample ({len(synth):,} texts)",
                          truth, predict_label_cells(model, dev_texts), codes, time.perf_counter() - start)[0])
    # the hybrid the shipped default could be: the same model trusted only when very sure (threshold fixed
    # beforehand, not tuned on dev.csv)
    model.thresholds_ = np.full(len(model.classes_), HYBRID_THRESHOLD)
    rows.append(theme_row(f"lexicon ∪ the same model at threshold {HYBRID_THRESHOLD} for every theme", truth,
                          predict_label_cells(model, dev_texts), codes, time.perf_counter() - start)[0])

    if not skip_pool and POOL.exists():
        pool = pd.read_csv(POOL, dtype=str, keep_default_na=False)
        pool = pool[~pool["id"].isin(set(dev["id"]))]
        texts = prepare([f"{a}。{b}" if a else b for a, b in zip(pool["title"], pool["text"])])
        start = time.perf_counter()
        model = LearnedThemeClassifier(tune_thresholds=False).fit(
            texts, [";".join(sorted(e)) for e in lexicon.evidence(texts)])
        rows.append(theme_row(f"lexicon ∪ model weakly supervised on pool.csv minus dev ({len(texts):,} texts; "
                              "benchmark only)", truth, predict_label_cells(model, dev_texts), codes,
                              time.perf_counter() - start)[0])

    lexicons = ([(f"lexicon of `{before}`", old_lexicon)] if old_lexicon is not None else []) + [("shipped", lexicon)]
    body = "\n".join([
        f"Gold set `conduct-gold/dev.csv`: {len(dev)} real messages (text column only), 11 theme codes. "
        "Target of issue 3: micro-F1 ≥ 0.80 and precision ≥ 0.80 for every theme with ≥ 10 positives. "
        "Seconds: fit (or CV, or the whole command) time on this machine.",
        "",
        "| classifier | micro P | micro R | micro F1 | macro F1 | s |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Shipped default per theme:",
        "",
        "| theme | support | precision | recall | F1 |",
        "|---|---:|---:|---:|---:|",
        *[f"| {r.theme} | {r.support} | {r.precision:.2f} | {r.recall:.2f} | {r.f1:.2f} |"
          for r in per_theme.itertuples()],
        "",
        "Per source of dev.csv (micro P / R / F1" + (f"; the lexicon of `{before}` first, then the shipped default"
                                                    if old_cells is not None else "") + "):",
        "",
        "| source | messages | positives | " + (f"`{before}` | " if old_cells is not None else "") + "shipped |",
        "|---|---:|---:|" + ("---:|" if old_cells is not None else "") + "---:|",
        *per_source_rows(dev, truth, tagged["themes"].tolist(), old_cells, codes),
        "",
        "Synthetic rounds (`corpora/sample`, opinions written for the injected themes of their answer key): "
        "real evaluation forms have far more attitude, efficiency, process and discipline opinions than the "
        "hotline messages of dev.csv, so the lexicon must not lose here what it gains there.",
        "",
        "| round | lexicon | micro P | micro R | micro F1 |",
        "|---|---|---:|---:|---:|",
        *synthetic_rows(lexicons, codes),
    ])
    print(body)
    write_section("Theme classification quality", body)


ROUTING_SELECTION = (
    "How the settings were chosen: C = 1, char 1-2 + word 1-2 n-grams and min_df = 2 were picked on these same "
    "5 folds (a small grid, not nested, so the RouteClassifier figure is slightly optimistic). Variants measured "
    "on the same folds in scratch runs, none better by 0.001 macro-F1 or more (figures in the commit message): "
    "C from 0.3 to 2.5, char 1-3, logistic regression, NB-SVM (log-count ratios, one-vs-rest), SGD "
    "modified-huber, ridge, Crammer-Singer SVM, SVM + logistic-regression probability averaging, per-class "
    "decision offsets tuned on inner folds, LSA components, a nearest-neighbour override for near-duplicates, "
    "a separate title block (only 1,827 rows have a title); earlier, office-alias mention columns. Office-alias "
    "normalisation is on by default although its effect above is not positive: the difference is well within "
    "the noise of 5-fold CV on 6,951 rows (it moved between -0.0006 and +0.0003 across variants), and it lets a "
    "model trained on one spelling of an office recognise the others (tests/test_learn.py); `offices=None` "
    "turns it off."
)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min)"


def routing() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    data = pd.read_csv(ROUTE, dtype=str, keep_default_na=False)
    data = data[(data["label_conflict"] == "") & (data["一级标签"] != "")]
    texts = prepare([f"{a}。{b}" if a else b for a, b in zip(data["留言主题"], data["留言详情"])])
    labels = data["一级标签"].tolist()
    mentioning = sum(bool(OfficeAliasNormaliser().mentions(t)) for t in texts)
    results = []
    for name, make in [
        ("baseline: TF-IDF char 1-2 + LinearSVC", lambda: make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 2), min_df=2, sublinear_tf=True), LinearSVC())),
        ("RouteClassifier without office-alias normalisation (`offices=None`)",
         lambda: RouteClassifier(offices=None)),
        (f"**textmine RouteClassifier** (default: {_describe(RouteClassifier())})", lambda: RouteClassifier()),
    ]:
        start = time.perf_counter()
        predicted = cross_validated_predictions(make, texts, labels, task="route", folds=5)
        scores = single_label_scores(labels, predicted)
        results.append((name, scores, time.perf_counter() - start))
        print(f"{scores['macro_f1']:.4f}  {name}", flush=True)
    load_before = _load()
    start = time.perf_counter()
    RouteClassifier().fit(texts, labels)
    train_seconds = time.perf_counter() - start
    load_after = _load()
    base, plain, ours = (r[1]["macro_f1"] for r in results)
    body = "\n".join([
        f"`teddycup2020/附件2_details_labeled_union.csv`: {len(texts):,} messages (title + text, cleaned and "
        "masked as `textmine train` does), 7 classes (一级标签), label-conflict rows skipped; 5-fold stratified CV "
        "(`textmine.evaluate.cross_validated_predictions`, seed 0), the same folds for every row. Target of issue 3: "
        f"macro-F1 ≥ 0.92, training on all rows < 60 s. {mentioning:,} texts mention an office alias of "
        "`corpora/offices.csv`.",
        "",
        "| model | accuracy | macro-F1 | CV seconds |",
        "|---|---:|---:|---:|",
        *[f"| {n} | {s['accuracy']:.4f} | **{s['macro_f1']:.4f}** | {t:.0f} |" for n, s, t in results],
        "",
        f"- macro-F1 of RouteClassifier vs the baseline in the same run: {ours - base:+.4f} "
        f"(ratio {ours / base:.4f}×); target 0.92 {'reached' if ours >= 0.92 else 'NOT reached'}",
        f"- effect of rewriting office aliases to canonical office names: {ours - plain:+.4f} macro-F1",
        f"- training RouteClassifier on all {len(texts):,} rows (segmentation, TF-IDF, SVM and the confidence "
        f"temperature's hold-out fit): **{train_seconds:.1f} s** ({load_before} before, {load_after} after; "
        "other engineers' jobs share the 2 cores)",
        "",
        "RouteClassifier per class (same CV):",
        "",
        "| class | support | precision | recall | F1 |",
        "|---|---:|---:|---:|---:|",
        *[f"| {r.label} | {r.support} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} |"
          for r in results[-1][1]["per_label"].itertuples()],
        "",
        ROUTING_SELECTION,
    ])
    print(body)
    write_section("Routing quality", body)


def _describe(model) -> str:
    p = model.get_params()
    return (f"char {p['char_ngrams'][0]}-{p['char_ngrams'][1]} + word {p['word_ngrams'][0]}-{p['word_ngrams'][1]} "
            f"TF-IDF, office aliases normalised, balanced LinearSVC C={p['C']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["themes", "routing"], help="run one of the two parts")
    parser.add_argument("--before", help="also score the taxonomy of this git revision (themes)")
    parser.add_argument("--skip-pool", action="store_true", help="themes: leave out the pool.csv row")
    args = parser.parse_args(argv)
    if not GOLD.exists() or not ROUTE.exists():
        print(f"skipped: {DATA} not found")
        return 0
    if args.only in (None, "themes"):
        themes(skip_pool=args.skip_pool, before=args.before)
    if args.only in (None, "routing"):
        routing()
    return 0


if __name__ == "__main__":
    sys.exit(main())
