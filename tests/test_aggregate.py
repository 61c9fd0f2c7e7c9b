import pandas as pd

from textmine.aggregate import office_overview, office_theme_summary, rectification_items, representative_opinions
from textmine.offices import OfficeDirectory
from textmine.taxonomy import load_taxonomy


def comments_frame():
    rows = [
        ("市公安局", "efficiency;attitude", "efficiency:拖了两个月;attitude:态度差"),
        ("市公安局", "efficiency", "efficiency:拖了两个月"),
        ("市公安局", "efficiency", "efficiency:审批慢"),
        ("市公安局", "attitude", "attitude:态度差"),
        ("市公安局", "", ""),
        ("市教育局", "fees", "fees:乱收费"),
    ]
    return pd.DataFrame({
        "row_id": range(2, 2 + len(rows)),
        "office": [r[0] for r in rows],
        "text": ["办证拖了两个月，态度差", "拖了两个月才办好", "审批慢", "窗口态度差", "建议多设窗口", "学校乱收费"],
        "themes": [r[1] for r in rows],
        "evidence": [r[2] for r in rows],
    })


def test_summary_counts_shares_and_ranks():
    summary = office_theme_summary(comments_frame(), load_taxonomy())
    police = summary[summary["office"] == "市公安局"]
    assert police[["theme", "count", "opinions", "rank"]].values.tolist() == [
        ["efficiency", 3, 5, 1], ["attitude", 2, 5, 2]]
    assert police["share"].tolist() == [0.6, 0.4]
    assert summary[summary["office"] == "市教育局"]["theme_name"].tolist() == ["收费情况"]
    # an office's theme counts never exceed its opinions
    assert (summary["count"] <= summary["opinions"]).all()


def test_ties_share_a_rank():
    frame = comments_frame()
    frame.loc[4, ["themes", "evidence"]] = ["attitude", "attitude:冷漠"]
    summary = office_theme_summary(frame, load_taxonomy())
    assert summary[summary["office"] == "市公安局"]["rank"].tolist() == [1, 1]


def test_empty_comments_give_an_empty_summary():
    empty = comments_frame().iloc[:0]
    assert office_theme_summary(empty, load_taxonomy()).empty


def test_representative_opinions_prefer_the_typical_and_skip_repeats():
    texts = ["审批拖了两个月", "审批拖了两个月！", "审批拖了三个月", "排队排了很久", "审批太慢拖了很久"]
    chosen = representative_opinions(texts, {("A", "x"): [0, 1, 2, 3, 4]}, str.split if False else list, n=3)
    picked = chosen[("A", "x")]
    assert len(picked) == 3
    assert not {0, 1} <= set(picked)       # the near-identical pair is not shown twice
    assert 3 not in picked                # the odd one out is least typical


def test_rectification_items(toolkit):
    comments = comments_frame()
    tax = load_taxonomy()
    summary = office_theme_summary(comments, tax)
    items = rectification_items(comments, summary, tax, OfficeDirectory.from_file(), toolkit.segmenter, n_examples=2)
    police = items[items["office"] == "市公安局"]
    assert police["item"].tolist() == [1, 2]
    first = police.iloc[0]
    assert first["theme"] == "efficiency" and first["count"] == 3
    assert first["problem"].startswith(tax["efficiency"].problem)
    assert "拖了两个月" in first["problem"]               # the office's own wording
    assert first["measures"] == list(tax["efficiency"].measures)
    assert len(first["examples"]) == 2
    assert set(first["examples"]) <= set(comments["text"])
    assert first["category"] == "执法监管部门"
    overview = office_overview(comments, items, OfficeDirectory.from_file())
    assert overview.set_index("office").loc["市公安局", ["opinions", "with_theme", "items"]].tolist() == [5, 4, 2]
