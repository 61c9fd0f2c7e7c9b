import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from textmine.cli import main
from textmine.errors import ColumnError, InputError
from textmine.pipeline import sample_path
from textmine.report import build_report, load_results, restore_text

from .conftest import found_in, read

EVIL = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">窗口态度差"
DATA_URI = re.compile(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+")
CHARTS = ["office_theme_heatmap", "satisfaction", "theme_distribution"]


def write(frame, path):
    frame.to_csv(path, index=False, encoding="utf-8-sig")


def without_data(html: str) -> str:
    return DATA_URI.sub("", html)


@pytest.fixture
def evil_run(demo_copy):
    """The demo's files with citizen text and an office name that try to inject markup."""
    items = read(demo_copy / "rectification_items.csv")
    items.loc[0, "examples"] = EVIL + "\n" + items.loc[0, "examples"]
    items.loc[0, "problem"] = "<b>加粗</b> & 问题"
    write(items, demo_copy / "rectification_items.csv")
    comments = read(demo_copy / "comments.csv")
    comments.loc[0, "text"] = EVIL
    comments.loc[comments["office"] == items.loc[0, "office"], "office"] = '"><script>alert(1)</script>局'
    items.loc[items["office"] == items.loc[0, "office"], "office"] = '"><script>alert(1)</script>局'
    write(items, demo_copy / "rectification_items.csv")
    write(comments, demo_copy / "comments.csv")
    return demo_copy


def test_demo_writes_a_self_contained_report_with_charts(demo_run):
    analysis, out = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    for name in CHARTS:
        assert (out / "charts" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (out / "charts" / f"{name}.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    # nothing is fetched: every src/href is inline data or an in-page anchor
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attr.startswith(("data:", "#")), attr
    assert "<link rel=\"stylesheet\"" not in html and "@import" not in html
    assert html.count('<img src="data:image/png;base64,') == 3
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "@font-face" in html  # Chinese shows even where no Chinese font is installed
    assert analysis.info["timings_s"]["report"] > 0


def test_overview_counts_come_from_run_json(demo_run):
    _, out = demo_run
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    counts = info["counts"]
    text = without_data((out / "report.html").read_text(encoding="utf-8"))
    assert (f"收到 {counts['input_rows']:,} 条 = 有效 {counts['accepted']:,} 条 + "
            f"剔除 {counts['rejected']:,} 条") in text
    for code, label in [("duplicate", "重复提交"), ("empty", "空白"), ("non_substantive", "无实质内容")]:
        n = counts["rejected_by_reason"][code]
        assert re.search(rf"<td>{label}[^<]*</td><td class=\"num\">{n:,}</td>", text), code
    for office in info["offices"]["unknown"]:
        assert office in text


def test_one_section_per_office_with_its_rectification_table(demo_run):
    analysis, out = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    sections = re.findall(r'<article class="office" id="(office-\d+)" data-office="([^"]*)"', html)
    assert sorted(o for _, o in sections) == sorted(analysis.comments["office"].unique())
    assert len({a for a, _ in sections}) == len(sections)
    # the busiest office comes first and its table has one row per rectification item
    busiest = analysis.comments["office"].value_counts().sort_index().idxmax()
    assert sections[0][1] == busiest
    start = html.index(f'data-office="{busiest}" data-themes=')
    section = html[start:html.index("</article>", start)]
    n_items = int((analysis.items["office"] == busiest).sum())
    assert section.count(f'<tr data-office="{busiest}" data-themes=') == n_items
    opinions = int((analysis.comments["office"] == busiest).sum())
    with_theme = int(((analysis.comments["office"] == busiest) & (analysis.comments["themes"] != "")).sum())
    assert (f'<td class="num">{opinions}</td><td class="num">{with_theme}</td>'
            f'<td class="num">{n_items}</td>') in html  # its row in the office table
    assert section.count("<blockquote") == min(5, analysis.items.loc[analysis.items["office"] == busiest, "examples"]
                                               .map(len).sum())


def test_satisfaction_section_only_when_ratings_exist(demo_run):
    analysis, out = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="satisfaction"' in html
    rated = analysis.comments["satisfaction"].value_counts()
    assert f"有效意见中填写了满意度的共 {rated.sum():,} 条" in html
    assert f"满意 {rated['满意']:,} 条" in html


def test_without_ratings_or_topics_those_sections_are_left_out_and_rebuilds_are_identical(demo_copy):
    comments = read(demo_copy / "comments.csv").drop(columns=["satisfaction"])
    write(comments, demo_copy / "comments.csv")
    first = build_report(demo_copy).read_bytes()
    html = first.decode("utf-8")
    assert 'id="satisfaction"' not in html and 'href="#satisfaction"' not in html
    assert not (demo_copy / "charts" / "satisfaction.png").exists()
    assert 'id="topics"' not in html and 'id="hotspots"' not in html
    pngs = {p.name: p.read_bytes() for p in (demo_copy / "charts").iterdir()}
    assert build_report(demo_copy).read_bytes() == first
    assert pngs == {p.name: p.read_bytes() for p in (demo_copy / "charts").iterdir()}


def test_citizen_text_and_office_names_are_escaped_and_optional_tables_shown(evil_run):
    write(pd.DataFrame({"topic": [0, 1], "label": ["停车 收费", "<i>积水</i>"], "size": [30, 12], "theme": ["fees", "new"]}),
          evil_run / "topics.csv")
    write(pd.DataFrame({"issue": [1], "title": ["某小区积水"], "office": ["市水务局"], "heat": [9.5]}),
          evil_run / "hotspots.csv")
    html = build_report(evil_run).read_text(encoding="utf-8")
    assert html.count("<script") == 1  # the report's own
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;&lt;img src=x onerror=" in html
    assert "&lt;b&gt;加粗&lt;/b&gt; &amp; 问题" in html
    assert 'data-office="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;局"' in html
    assert "<img src=x" not in html
    assert 'id="topics"' in html and 'id="hotspots"' in html
    assert "&lt;i&gt;积水&lt;/i&gt;" in html and "<i>积水" not in html
    assert '<tr data-office="市水务局">' in html and '<tr data-themes="fees">' in html


def test_report_never_contains_evaluator_identity(demo_run):
    _, out = demo_run
    text = without_data((out / "report.html").read_text(encoding="utf-8"))
    source = read(sample_path())
    for column in ("评议人姓名", "联系电话", "评议人编号"):
        assert found_in(text, {v for v in source[column] if v}) == set(), column
    assert "评议人编号" not in text and "联系电话" not in text


def test_formula_apostrophes_are_undone_for_display():
    assert restore_text("'=SUM(A1)") == "=SUM(A1)"
    assert restore_text("'-服务差") == "-服务差"
    assert restore_text("'引号") == "'引号"
    assert restore_text("普通") == "普通"


def test_missing_or_broken_files_name_the_file(demo_copy):
    summary = read(demo_copy / "office_summary.csv")
    (demo_copy / "office_summary.csv").unlink()
    with pytest.raises(InputError, match=r"office_summary.csv: not found — run `textmine run"):
        load_results(demo_copy)
    write(summary.drop(columns=["rank", "share"]), demo_copy / "office_summary.csv")
    with pytest.raises(ColumnError, match=r"office_summary.csv: column\(s\) share, rank not found; columns are office"):
        load_results(demo_copy)
    write(summary, demo_copy / "office_summary.csv")
    items = read(demo_copy / "rectification_items.csv")
    items.loc[4, "count"] = "many"
    write(items, demo_copy / "rectification_items.csv")
    with pytest.raises(InputError, match=r"rectification_items.csv:6: column count: 'many' is not a number"):
        load_results(demo_copy)
    with pytest.raises(InputError, match="no such folder"):
        load_results(demo_copy / "nope")


def test_cli_report_rebuilds_and_fails_cleanly(demo_copy, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(demo_copy)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"report → {demo_copy / 'report.html'}"
    assert (demo_copy / "charts" / "theme_distribution.svg").exists()
    result = runner.invoke(main, ["report", str(demo_copy), "-q", "--out", str(tmp_path / "r.html"),
                                  "--no-embed-font"])
    assert result.exit_code == 0 and result.output == ""
    assert "@font-face" not in (tmp_path / "r.html").read_text(encoding="utf-8")
    (demo_copy / "run.json").unlink()
    result = runner.invoke(main, ["report", str(demo_copy)])
    assert result.exit_code == 1
    assert "Error:" in result.output and "run.json: not found" in result.output


def test_workbook_colours_themes_and_carries_a_legend(demo_run):
    analysis, out = demo_run
    wb = load_workbook(out / "rectification.xlsx")
    overview = wb["总览"]
    legend = {}
    for row in range(3, 3 + 11):
        cell = overview.cell(row=row, column=9)
        if cell.value:
            legend[cell.value] = cell.fill.fgColor.rgb
    assert overview.cell(row=2, column=9).value == "主题图例"
    names = dict(zip(analysis.items["theme"], analysis.items["theme_name"]))
    assert set(legend) == set(names.values())
    assert len(set(legend.values())) == len(legend)  # one colour per theme
    office = analysis.items["office"].iloc[0]
    sheet = wb[office] if office in wb.sheetnames else wb.worksheets[1]
    assert sheet.print_title_rows == "$3:$3" and sheet.page_setup.orientation == "landscape"
    for row in range(4, sheet.max_row + 1):
        theme_name = sheet.cell(row=row, column=2).value
        if theme_name in legend:
            assert sheet.cell(row=row, column=2).fill.fgColor.rgb == legend[theme_name]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)


def test_a_run_with_every_row_rejected_still_gets_a_report(tmp_path, toolkit):
    from textmine.notice import write_notices
    from textmine.pipeline import run

    source = tmp_path / "in.csv"
    write(pd.DataFrame({"意见建议": ["无意见", "", "满意"], "被评议单位": ["市公安局", "市税务局", "市公安局"],
                        "满意度": ["满意", "满意", "基本满意"]}), source)
    run(source, tmp_path / "out", toolkit=toolkit)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "收到 3 条 = 有效 0 条 + 剔除 3 条" in html
    assert "没有意见被归入作风问题类型。" in html and "<img src=" not in html
    assert list((tmp_path / "out").glob("charts/*")) == []  # nothing to draw
    assert write_notices(tmp_path / "out").empty
    result = CliRunner().invoke(main, ["notice", str(tmp_path / "out"), "--all"])
    assert result.exit_code == 0 and "no notice written" in result.output


def embedded_font(html: str) -> bytes:
    import base64

    found = re.search(r'@font-face\{font-family:"TextmineCJK";src:url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\) '
                      r'format\("opentype"\);\}', html)
    assert found, "no embedded OpenType font"
    return base64.b64decode(found.group(1))


def cmap_of(data: bytes) -> set[int]:
    import io

    from fontTools.ttLib import TTFont

    return set(TTFont(io.BytesIO(data)).getBestCmap())


def test_the_embedded_font_covers_every_character_of_the_report_and_keeps_its_licence(demo_run):
    import io

    from fontTools.ttLib import TTFont

    from textmine.fonts import cjk_font
    from textmine.report import FONT_FACE_SLOT

    _, out = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert FONT_FACE_SLOT not in html
    data = embedded_font(html)
    source = TTFont(str(cjk_font().path), lazy=True)
    wanted = {ord(ch) for ch in set(without_data(html)) if ord(ch) > 0x2E7F}
    assert len(wanted) > 500  # the sample's opinions, offices and headings
    assert cmap_of(data) == wanted & set(source.getBestCmap())  # every character the font has, nothing more
    names = {n.nameID: str(n) for n in TTFont(io.BytesIO(data))["name"].names}
    assert "Open Font License" in names[13] and names[0] == str(source["name"].getName(0, 3, 1, 0x409))
    assert len(data) < 400_000


def test_fonttools_subsets_the_same_characters_when_harfbuzz_is_missing(monkeypatch):
    import sys

    from textmine import report
    from textmine.fonts import cjk_font

    path = str(cjk_font().path)
    chars = "".join(sorted(set("群众评议意见分析报告：窗口办事效率低，推诿扯皮。１２３％")))
    fast = report._subset_font(path, chars)
    monkeypatch.setitem(sys.modules, "uharfbuzz", None)  # import fails
    slow = report._subset_font(path, chars)
    assert fast[:4] == slow[:4] == b"OTTO"
    assert cmap_of(fast) == cmap_of(slow) == {ord(ch) for ch in chars}


def test_a_font_no_subsetter_can_read_gives_no_font_face(tmp_path):
    from textmine import report

    broken = tmp_path / "broken.otf"
    broken.write_bytes(b"OTTO" + b"\0" * 64)
    assert report._subset_face(str(broken), "群众") == ""


def test_formula_apostrophes_are_undone_when_the_files_are_read(demo_copy):
    items = read(demo_copy / "rectification_items.csv")
    items.loc[0, "problem"] = "'=HYPERLINK(\"x\")"
    items.loc[1, "problem"] = "'引号开头"
    write(items, demo_copy / "rectification_items.csv")
    loaded = load_results(demo_copy).items
    assert loaded.loc[0, "problem"] == "=HYPERLINK(\"x\")"
    assert loaded.loc[1, "problem"] == "'引号开头"
    assert loaded.loc[2:, "problem"].tolist() == items.loc[2:, "problem"].tolist()


def test_a_second_process_draws_the_same_charts_and_its_failure_is_covered(demo_copy, monkeypatch):
    import sys
    import time

    from textmine import report

    started = []
    real_start = report._start_process

    def spy(target, *args):
        started.append(args[-1])
        return real_start(target, *args)

    monkeypatch.setattr(report, "_start_process", spy)

    def files():
        return {p.name: p.read_bytes() for p in (demo_copy / "charts").iterdir()}

    def rebuild(**kwargs):
        for name in (demo_copy / "charts").iterdir():
            name.unlink()
        return build_report(demo_copy, **kwargs).read_bytes()

    html = build_report(demo_copy).read_bytes()
    assert started == []  # one process unless asked
    serial = files()
    assert rebuild(jobs=2) == html
    assert started == ["office_theme_heatmap"] and files() == serial  # 43 offices: worth a process

    # the failure paths, on three offices (fast to draw)
    keep = sorted(read(demo_copy / "comments.csv")["office"].unique())[:3]
    for name in ("comments.csv", "office_summary.csv", "rectification_items.csv"):
        table = read(demo_copy / name)
        write(table[table["office"].isin(keep)], demo_copy / name)
    html = rebuild(jobs=1)
    serial = files()
    assert rebuild(jobs=2) == html and started == ["office_theme_heatmap"]  # too few labels for a process
    monkeypatch.setattr(report, "FORK_MIN_LABELS", 1)
    monkeypatch.setattr(report, "_save_chart", lambda *args: sys.exit(3))  # the forked process fails
    assert rebuild(jobs=2) == html  # this process drew it instead
    assert files() == serial and started[-1] == "office_theme_heatmap" and len(started) == 2

    def stuck(draw, directory, name):
        (directory / f".{name}.png.x.tmp").write_bytes(b"half")
        time.sleep(600)

    monkeypatch.setattr(report, "_save_chart", stuck)
    monkeypatch.setattr(report, "CHILD_TIMEOUT_S", 1)
    assert rebuild(jobs=2) == html  # killed after 1 s, drawn here
    assert files() == serial and len(started) == 3  # no partial file left
