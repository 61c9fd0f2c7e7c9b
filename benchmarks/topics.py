"""Topic models on real messages: textmine's default against gensim LDA and BERTopic, in one run.

Reads ../shared/data/pool.csv (17,512 real messages; skips when absent), cuts every text once
with textmine's Segmenter (project dictionary, stopwords, topic stopwords, words of ≥ 2
characters) and gives the same token lists to three models, each fitted in its own
process so that peak memory is its own:

- textmine: ``TopicModel(n_topics=K)`` — NMF on TF-IDF, min_df=2, max_df=0.5 (the default);
- gensim: ``LdaModel(corpus, num_topics=K, id2word=dictionary, random_state=0)`` with every
  other setting at its default (1 pass), on the same document-frequency-filtered vocabulary;
- BERTopic: default settings (UMAP + HDBSCAN + c-TF-IDF) with ``nr_topics=K`` and, instead of a
  downloaded sentence model, a scikit-learn pipeline TF-IDF → TruncatedSVD(100) as the
  embedding model; its c-TF-IDF uses the same tokens. BERTopic is a benchmark-only
  dependency: it runs from the Python named by $BERTOPIC_PYTHON (default: this one) and is
  reported as unavailable when it cannot be imported there.

Reported per model: fit time (wall clock, tokenisation excluded — it is shared), peak memory
(peak RSS of the fitting process minus its RSS before fitting), NPMI coherence of each
topic's top-10 terms (gensim CoherenceModel c_npmi on the same token lists, computed by the
parent process the same way for all three; mean over topics) and topic diversity (share of
unique words among all top-10 terms).

    python benchmarks/topics.py [--k 20] [--repeat 2]
    BERTOPIC_PYTHON=/path/to/venv/bin/python python benchmarks/topics.py
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POOL = ROOT.parent / "shared" / "data" / "pool.csv"
sys.path.insert(0, str(ROOT))


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _identity(tokens):
    return tokens


def fit_one(method: str, tokens_path: str, k: int) -> dict:
    """Fit one model in this process; return time, memory and top-10 terms per topic."""
    with open(tokens_path, "rb") as fh:
        tokens = pickle.load(fh)
    before = _rss_kib("VmRSS")
    start = time.perf_counter()
    if method == "textmine":
        from textmine.topics import TopicModel

        model = TopicModel(n_topics=k, random_state=0).fit_tokens(tokens)
        topics = model.top_terms_
    elif method == "gensim":
        from gensim.corpora import Dictionary
        from gensim.models import LdaModel

        dictionary = Dictionary(tokens)
        dictionary.filter_extremes(no_below=2, no_above=0.5, keep_n=20000)
        corpus = [dictionary.doc2bow(doc) for doc in tokens]
        model = LdaModel(corpus, num_topics=k, id2word=dictionary, random_state=0)
        topics = [[word for word, _ in model.show_topic(t, topn=10)] for t in range(k)]
    elif method == "bertopic":
        from bertopic import BERTopic
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
        from sklearn.pipeline import make_pipeline

        docs = [" ".join(doc) for doc in tokens]
        split = str.split
        embedding = make_pipeline(
            TfidfVectorizer(tokenizer=split, lowercase=False, token_pattern=None, min_df=2, max_df=0.5),
            TruncatedSVD(100, random_state=0))
        vectorizer = CountVectorizer(tokenizer=split, lowercase=False, token_pattern=None, min_df=2, max_df=0.5)
        model = BERTopic(embedding_model=embedding, vectorizer_model=vectorizer, nr_topics=k)
        model.fit_transform(docs)
        ids = sorted(t for t in model.get_topics() if t != -1)
        topics = [[word for word, _ in model.get_topic(t)][:10] for t in ids]
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - start
    peak = _rss_kib("VmHWM")
    return {"method": method, "seconds": seconds, "peak_mib": (peak - before) / 1024,
            "topics": [[str(w) for w in t if str(w)] for t in topics]}


def run_child(python: str, method: str, tokens_path: str, k: int) -> dict:
    command = [python, str(Path(__file__).resolve()), "--child", method, "--tokens", tokens_path, "--k", str(k)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"method": method, "error": " | ".join(tail) or f"exit code {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="fits per model; the fastest counts")
    parser.add_argument("--child")
    parser.add_argument("--tokens")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(fit_one(args.child, args.tokens, args.k), ensure_ascii=False))
        return 0
    if not POOL.exists():
        print(f"skipped: {POOL} not found")
        return 0

    import jieba
    import logging

    import pandas as pd

    from benchmarks.results import write_section
    from textmine.clean import clean_text
    from textmine.topics import TopicModel, topic_coherence, topic_diversity

    jieba.setLogLevel(logging.WARNING)
    pool = pd.read_csv(POOL, dtype=str, keep_default_na=False)
    texts = [clean_text(t) for t in pool["text"]]
    start = time.perf_counter()
    tokens = TopicModel().tokenize(texts)
    tokenise_s = time.perf_counter() - start
    print(f"{len(texts):,} messages tokenised in {tokenise_s:.1f} s "
          f"({sum(map(len, tokens)):,} tokens)", flush=True)

    bertopic_python = os.environ.get("BERTOPIC_PYTHON", sys.executable)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tokens_path = str(Path(tmp) / "tokens.pkl")
        with open(tokens_path, "wb") as fh:
            pickle.dump(tokens, fh)
        for method, python in (("textmine", sys.executable), ("gensim", sys.executable),
                               ("bertopic", bertopic_python)):
            runs = []
            for attempt in range(args.repeat):
                print(f"fitting {method} ({attempt + 1}/{args.repeat}) …", flush=True)
                runs.append(run_child(python, method, tokens_path, args.k))
                if "error" in runs[-1]:
                    break
            ok = [r for r in runs if "error" not in r]
            if not ok:
                results.append(runs[-1])
                continue
            best = min(ok, key=lambda r: r["seconds"])
            best["peak_mib"] = max(r["peak_mib"] for r in ok)
            best["all_seconds"] = [round(r["seconds"], 1) for r in ok]
            results.append(best)

    start = time.perf_counter()
    fitted = [r for r in results if "topics" in r]
    flat = [t for r in fitted for t in r["topics"]]
    scores = topic_coherence(flat, tokens, measure="c_npmi")
    coherence_s = time.perf_counter() - start
    offset = 0
    for r in fitted:
        own = scores[offset:offset + len(r["topics"])]
        offset += len(r["topics"])
        finite = [s for s in own if s == s]
        r["npmi"] = sum(finite) / len(finite) if finite else float("nan")
        r["diversity"] = topic_diversity(r["topics"])

    base = next((r for r in results if r["method"] == "textmine" and "seconds" in r), None)
    names = {"textmine": "textmine default (NMF on TF-IDF)", "gensim": "gensim LdaModel (defaults, 1 pass)",
             "bertopic": "BERTopic (TF-IDF+SVD embedding, UMAP, HDBSCAN, nr_topics=K)"}
    lines = [
        f"Data: `pool.csv`, {len(texts):,} real messages; the same token lists for every model "
        f"(textmine Segmenter + topic stopwords, tokenisation {tokenise_s:.1f} s, not counted below); "
        f"K = {args.k} topics; NPMI = gensim `CoherenceModel(coherence='c_npmi')` of each topic's top-10 "
        f"terms on those token lists (mean over topics; scoring all models took {coherence_s:.0f} s). "
        f"Each model is fitted {args.repeat}× in a fresh process; fit time is the fastest fit (all fits in "
        "brackets: the machine is shared, so single timings are noisy), peak memory the largest.",
        "",
        "| model | topics | fit time | × textmine time | peak memory | NPMI (top-10) | topic diversity |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {names[r['method']]} | — | not run: {r['error']} | | | | |")
            continue
        ratio = r["seconds"] / base["seconds"] if base else float("nan")
        lines.append(f"| {names[r['method']]} | {len(r['topics'])} | {r['seconds']:.1f} s "
                     f"({', '.join(map(str, r['all_seconds']))}) | {ratio:.1f}× | "
                     f"{r['peak_mib']:.0f} MiB | {r['npmi']:.3f} | {r['diversity']:.2f} |")
    lines.append("")
    for r in fitted:
        lines.append(f"{r['method']} topics, first 5 (top 5 terms): "
                     + "; ".join(" ".join(t[:5]) for t in r["topics"][:5]))
        lines.append("")
    text = "\n".join(lines)
    print(text)
    write_section("Topic models on pool.csv (textmine vs gensim LDA vs BERTopic)", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
