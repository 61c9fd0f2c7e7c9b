"""Masking of personal data: recall and false positives on the hand-written test set.

Scores the shipped rules (corpora/redaction.toml) on tests/data/privacy_cases.csv — 250+
realistic, invented cases (synthetic people only): recall per kind of personal data, and
how many cases lost text that is not personal data (for ordinary text: false positives).
Also counts how often each rule fires on the embedded sample corpus and, when
../shared/data is present, on the real messages of pool.csv (counts only: no real text is
printed or written), and times masking against cleaning in the same run.

    python benchmarks/privacy.py
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "privacy_cases.csv"
POOL = ROOT.parent / "shared" / "data" / "pool.csv"
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402
from textmine.clean import clean_text  # noqa: E402
from textmine.pipeline import sample_path  # noqa: E402
from textmine.redact import NUMBER_KINDS, Masker, masking_audit, masking_scores  # noqa: E402


def rule_counts(masker: Masker, texts: list[str]) -> tuple[Counter, int]:
    counts: Counter = Counter()
    touched = 0
    for text in texts:
        found = masker.findings(text)
        counts.update(kind for kind, _ in found)
        touched += bool(found)
    return counts, touched


def main() -> int:
    masker = Masker.from_file()
    cases = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    audit = masking_audit(masker, cases)
    scores = masking_scores(audit)
    items = scores[scores["kind"] != "none"]
    numbers = items[items["kind"].isin(NUMBER_KINDS)]
    names = items[items["kind"] == "name"]
    none = scores[scores["kind"] == "none"].iloc[0]
    number_recall = numbers["masked"].sum() / numbers["items"].sum()
    name_recall = names["masked"].sum() / names["items"].sum()
    over_positive = int(audit[audit["kind"] != "none"].drop_duplicates("id")["over_masked"].sum())
    positive_cases = audit[audit["kind"] != "none"]["id"].nunique()

    lines = [f"Test set: `tests/data/privacy_cases.csv`, {len(cases)} hand-written cases "
             f"({positive_cases} with personal data, {int(none['cases'])} ordinary texts); "
             "command: `python benchmarks/privacy.py`.", "",
             f"- numbers (mobile, landline, ID, bank card): recall **{number_recall:.1%}** "
             f"({numbers['masked'].sum()}/{numbers['items'].sum()})",
             f"- self-introduced names: recall **{name_recall:.1%}** ({names['masked'].sum()}/{names['items'].sum()})",
             f"- ordinary texts changed by masking (false positives): **{int(none['over_masked_cases'])}"
             f"/{int(none['cases'])}**; cases with personal data that lost other text: "
             f"{over_positive}/{positive_cases}", "",
             "| kind | items | masked | recall |", "|---|---:|---:|---:|"]
    for row in items.itertuples(index=False):
        lines.append(f"| {row.kind} | {row.items} | {row.masked} | {row.recall:.1%} |")
    missed = audit[audit["masked"].eq(False)]
    if len(missed):
        lines += ["", "Missed (invented people): " + "; ".join(f"#{r.id} {r.kind} {r.value}"
                                                             for r in missed.itertuples(index=False))]

    sample = pd.read_csv(sample_path(), dtype=str, keep_default_na=False)["意见建议"].map(clean_text).tolist()
    counts, touched = rule_counts(masker, sample)
    lines += ["", f"Embedded sample corpus: {touched:,} of {len(sample):,} opinions masked; matches per rule: "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]
    if POOL.exists():
        pool = pd.read_csv(POOL, dtype=str, keep_default_na=False)["text"].tolist()
        start = time.perf_counter()
        cleaned = [clean_text(t) for t in pool]
        clean_s = time.perf_counter() - start
        start = time.perf_counter()
        for text in cleaned:
            masker.mask(text)
        mask_s = time.perf_counter() - start
        counts, touched = rule_counts(masker, cleaned)
        chars = sum(map(len, cleaned))
        lines += [f"Real messages (`pool.csv`, {len(pool):,} texts, {chars:,} characters): {touched:,} masked; "
                  "matches per rule: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                  f"Speed: masking {mask_s:.2f} s vs cleaning {clean_s:.2f} s for the same texts "
                  f"(ratio {mask_s / clean_s:.2f}; {len(pool) / mask_s:,.0f} texts/s)"]
    else:
        lines.append(f"Real messages: skipped ({POOL} not found)")
    body = "\n".join(lines)
    print(body)
    write_section("Personal-data masking", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
