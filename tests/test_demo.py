"""The demo on the embedded sample corpus: golden summary, reconciliation, workbook shape."""
import json
import os
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

GOLDEN = Path(__file__).parent / "golden" / "demo_summary.json"


def demo_digest(analysis) -> dict:
    top = analysis.summary[analysis.summary["rank"] == 1].groupby("office")["theme"].agg(lambda s: ";".join(sorted(s)))
    return {
        "counts": analysis.info["counts"],
        "themes": analysis.info["themes"],
        "offices": analysis.info["offices"],
        "top_theme_per_office": top.to_dict(),
        "items": int(len(analysis.items)),
    }


def test_demo_matches_golden_summary(demo_run):
    """Any change in what the demo finds must be deliberate: regenerate with TEXTMINE_UPDATE_GOLDEN=1."""
    analysis, _ = demo_run
    digest = demo_digest(analysis)
    if os.environ.get("TEXTMINE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(digest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert digest == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_demo_reconciles_and_covers_the_sample(demo_run):
    analysis, out = demo_run
    counts = analysis.info["counts"]
    assert counts["input_rows"] == 3200
    assert counts["accepted"] + counts["rejected"] == counts["input_rows"]
    comments = pd.read_csv(out / "comments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert sorted(pd.concat([comments["row_id"], rejects["row_id"]]).astype(int)) == list(range(2, 3202))
    assert {"empty", "non_substantive", "duplicate", "near_duplicate"} <= set(rejects["reason_code"])
    assert comments["office"].nunique() >= 30
    assert (comments["themes"].str.count(";") >= 1).sum() > 100    # multi-theme opinions exist
    # personal data in the sample is masked in every output
    assert comments["text"].str.contains(r"1[3-9]\d{9}", regex=True).sum() == 0
    assert comments["text"].str.contains("【电话】").sum() > 0


def test_demo_workbook_has_a_sheet_per_office(demo_run):
    analysis, out = demo_run
    wb = load_workbook(out / "rectification.xlsx", read_only=True)
    assert wb.sheetnames[0] == "总览"
    assert len(wb.sheetnames) == 1 + analysis.overview.shape[0]
    sheet = wb[wb.sheetnames[1]]
    header = [c.value for c in next(sheet.iter_rows(min_row=3, max_row=3))]
    assert header[:4] == ["序号", "问题类型", "问题描述", "意见数"]
    assert header[-4:] == ["整改措施", "责任人", "完成时限", "整改状态"]
    wb.close()
    # each item shows 1-3 representative opinions, all from the office's accepted comments
    by_office = analysis.comments.groupby("office")["text"].agg(set)
    for item in analysis.items.itertuples():
        if item.evaluators < 3:  # --min-evaluators: too few people to quote any of them
            assert item.examples == [] and "不列原文" in item.problem
            continue
        assert 1 <= len(item.examples) <= 3
        assert set(item.examples) <= by_office[item.office]


def test_demo_report_shows_scores_and_tracking(demo_run):
    """report.html is built after the 2024 → 2025 comparison, so it shows the rounds' tables."""
    _, out = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    tracking = pd.read_csv(out / "rounds" / "tracking.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "评议得分与排名（scores.csv）" in html and "整改跟踪（tracking.csv）" in html
    assert tracking["status"].iloc[0] in html
