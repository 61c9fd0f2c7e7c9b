import csv

import pandas as pd
import pytest
from openpyxl import load_workbook

from textmine.export import (atomic_path, md_escape, neutralise_formula, rectification_markdown, sheet_names,
                             write_csv, write_rectification_xlsx)

EVIL = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "普通文本"]


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+86", "'+86"), ("-x", "'-x"), ("@a", "'@a"), ("\t=1", "'\t=1"),
    ("态度差", "态度差"), ("1=1", "1=1"), (5, 5), (None, None),
])
def test_neutralise_formula(value, expected):
    assert neutralise_formula(value) == expected


def test_csv_never_starts_a_cell_with_a_formula_prefix(tmp_path):
    path = write_csv(pd.DataFrame({"text": EVIL, "n": range(len(EVIL))}), tmp_path / "x.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese correctly
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row, original in zip(rows, EVIL):
        assert not row["text"].startswith(("=", "+", "-", "@", "\t"))
        assert row["text"].lstrip("'") == original
    assert [r["n"] for r in rows] == [str(i) for i in range(len(EVIL))]  # numbers are untouched


def items_and_overview(texts):
    items = pd.DataFrame([{
        "office": "市公安局", "category": "执法监管部门", "item": 1, "theme": "attitude", "theme_name": "服务态度",
        "problem": "服务态度差", "count": len(texts), "share": 0.5, "examples": texts, "measures": ["首问负责制"],
    }])
    overview = pd.DataFrame([
        {"office": "市公安局", "category": "执法监管部门", "opinions": 4, "with_theme": 2, "items": 1, "top_themes": "服务态度"},
        {"office": "市统计局", "category": "综合管理部门", "opinions": 1, "with_theme": 0, "items": 0, "top_themes": ""},
    ])
    return items, overview


def test_workbook_has_overview_office_sheets_and_no_formulas(tmp_path):
    items, overview = items_and_overview(EVIL[:3])
    path = write_rectification_xlsx(items, overview, tmp_path / "r.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["总览", "市公安局", "市统计局"]
    overview_ws = wb["总览"]
    assert overview_ws["A3"].value == "市公安局"
    assert overview_ws["G3"].hyperlink.location == "'市公安局'!A1"
    police = wb["市公安局"]
    header = [c.value for c in police[3]]
    assert header[-4:] == ["整改措施", "责任人", "完成时限", "整改状态"]
    assert police["B4"].value == "服务态度" and police["D4"].value == 3
    assert police.freeze_panes == "C4"
    for row in wb["市公安局"].iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    assert "本轮评议未发现" in wb["市统计局"]["C4"].value


def test_markdown_escapes_markup():
    items, overview = items_and_overview(["<script>alert(1)</script>", "a|b [x](http://e)"])
    md = rectification_markdown(items, overview)
    assert "<script>" not in md
    assert "&lt;script&gt;" in md
    assert "a\\|b \\[x\\](http://e)" in md
    assert "## 市统计局" in md and "本轮评议未发现" in md
    assert md_escape("x\ny") == "x y"


def test_sheet_names_are_valid_and_unique():
    names = sheet_names(["A/B", "总览", "x" * 40, "x" * 40 + "y", "a:b?"])
    assert all(len(n) <= 31 for n in names.values())
    assert len(set(names.values())) == 5
    assert "总览" not in names.values()
    assert not any(ch in n for n in names.values() for ch in "[]:*?/\\")


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [target]
