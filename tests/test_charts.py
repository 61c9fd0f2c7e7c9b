import io
import warnings
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pandas as pd
import pytest

from textmine import charts, fonts
from textmine.fonts import CJKFontWarning, FontNotFoundError

TOTALS = pd.DataFrame({"theme": ["efficiency", "attitude", "buck_passing"],
                       "theme_name": ["办事效率", "服务态度", "推诿扯皮"], "count": [12, 7, 3]})
SUMMARY = pd.DataFrame({
    "office": ["市公安局", "市公安局", "市税务局", "市民政局"],
    "theme": ["attitude", "efficiency", "efficiency", "fees"],
    "theme_name": ["服务态度", "办事效率", "办事效率", "收费情况"],
    "count": [5, 2, 4, 1], "share": [0.5, 0.2, 0.8, 0.1],
})


def render(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    return buffer.getvalue()


def glyph_warnings(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render(draw())
    return [str(w.message) for w in caught if "Glyph" in str(w.message) or "missing" in str(w.message)]


def test_a_cjk_font_is_found_and_covers_chinese():
    font = fonts.cjk_font(required=True)
    assert font.path.is_file()
    assert fonts._covers(font.path, "群众评议整改清单满意度办事效率推诿扯皮")
    assert font.family in {entry.name for entry in matplotlib.font_manager.fontManager.ttflist}


@pytest.mark.parametrize("draw", [
    lambda: charts.theme_distribution(TOTALS),
    lambda: charts.office_theme_heatmap(SUMMARY),
    lambda: charts.satisfaction_by_office(pd.DataFrame({
        "office": ["市公安局", "市公安局", "市税务局"], "satisfaction": ["满意", "不满意", "基本满意"],
        "count": [3, 1, 2], "share": [0.75, 0.25, 1.0]})),
], ids=["themes", "heatmap", "satisfaction"])
def test_chinese_labels_render_without_missing_glyphs(draw):
    assert glyph_warnings(draw) == []


def test_the_glyph_check_catches_a_font_without_chinese():
    """The check above can fail: the same chart drawn with DejaVu Sans only warns."""
    no_cjk = fonts.FontSpec(path=fonts.Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf",
                            family="DejaVu Sans", source="test")
    missing = glyph_warnings(lambda: charts.theme_distribution(TOTALS, font=no_cjk))
    assert missing and "missing from font" in missing[0]


def test_font_settings_do_not_leak_into_matplotlib_defaults():
    before = (list(matplotlib.rcParams["font.family"]), matplotlib.rcParams["axes.unicode_minus"])
    charts.theme_distribution(TOTALS)
    with fonts.font_context() as spec:
        assert matplotlib.rcParams["font.family"][0] == spec.family
    assert (list(matplotlib.rcParams["font.family"]), matplotlib.rcParams["axes.unicode_minus"]) == before


def test_no_cjk_font_warns_with_how_to_install(monkeypatch):
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    monkeypatch.setattr(fonts, "_packaged_font", lambda: None)
    monkeypatch.setattr(fonts, "_system_font", lambda: None)
    with pytest.warns(CJKFontWarning, match="pip install pylopdf-fonts-zh-cn.*fonts-noto-cjk"):
        assert fonts.cjk_font() is None
    with pytest.raises(FontNotFoundError, match="no font with Chinese glyphs"):
        fonts.cjk_font(required=True)


def test_font_from_environment_is_checked(monkeypatch, tmp_path):
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    good, _ = fonts.find_cjk_font()
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "nope.ttf"))
    with pytest.raises(FontNotFoundError, match="nope.ttf: no such font file"):
        fonts.cjk_font()
    dejavu = fonts.Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"
    monkeypatch.setenv(fonts.ENV_VAR, str(dejavu))
    with pytest.raises(FontNotFoundError, match="has no Chinese glyphs"):
        fonts.cjk_font()
    monkeypatch.setenv(fonts.ENV_VAR, str(good))
    assert fonts.cjk_font().source == "env"


def test_theme_colours_follow_the_given_order_and_cycle():
    codes = [f"t{i}" for i in range(14)]
    colours = charts.theme_colours(codes)
    assert colours["t0"] == charts.THEME_PALETTE[0] and colours["t12"] == charts.THEME_PALETTE[0]
    assert len(set(colours[c] for c in codes[:12])) == 12
    assert charts.theme_colours(["b", "a", "b"]) == {"b": charts.THEME_PALETTE[0], "a": charts.THEME_PALETTE[1]}


def test_heatmap_draws_the_given_counts_without_computing_anything():
    fig = charts.office_theme_heatmap(SUMMARY, themes=["efficiency", "attitude", "fees"],
                                      offices=["市税务局", "市公安局", "市民政局"])
    ax = fig.axes[0]
    grid = np.asarray(ax.images[0].get_array())
    assert grid.tolist() == [[4, 0, 0], [2, 5, 0], [0, 0, 1]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["办事效率", "服务态度", "收费情况"]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "4", "5"]  # zero cells stay blank
    shares = charts.office_theme_heatmap(SUMMARY, value="share", themes=["efficiency"], offices=["市税务局"])
    assert [t.get_text() for t in shares.axes[0].texts] == ["80%"]


def test_satisfaction_bars_stack_to_the_given_shares():
    table = pd.DataFrame({"office": ["甲", "甲", "甲", "乙"], "satisfaction": ["满意", "基本满意", "不满意", "满意"],
                          "count": [1, 1, 2, 5], "share": [0.25, 0.25, 0.5, 1.0]})
    fig = charts.satisfaction_by_office(table, levels=["满意", "基本满意", "不满意"])
    ax = fig.axes[0]
    widths = {}
    for container, level in zip(ax.containers, ["满意", "基本满意", "不满意"]):
        widths[level] = [round(bar.get_width(), 4) for bar in container]
    assert widths == {"满意": [0.25, 1.0], "基本满意": [0.25, 0.0], "不满意": [0.5, 0.0]}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["甲", "乙"]


def test_save_figure_writes_png_and_svg_identically_each_time(tmp_path):
    first = charts.save_figure(charts.theme_distribution(TOTALS), tmp_path / "a", "themes")
    second = charts.save_figure(charts.theme_distribution(TOTALS), tmp_path / "b", "themes")
    assert first["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ET.parse(first["svg"]).getroot().tag.endswith("svg")
    for fmt in ("png", "svg"):
        assert first[fmt].read_bytes() == second[fmt].read_bytes(), fmt
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["themes.png", "themes.svg"]


def test_system_fonts_are_the_fallback_when_the_package_is_missing(monkeypatch):
    from matplotlib import font_manager

    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    path, _ = fonts.find_cjk_font()
    monkeypatch.setattr(fonts, "_packaged_font", lambda: None)
    dejavu = str(fonts.Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf")
    installed = [font_manager.FontEntry(fname=dejavu, name="Noto Sans CJK SC"),  # a name is not enough
                 font_manager.FontEntry(fname=str(path), name="WenQuanYi Micro Hei")]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", installed)
    assert fonts.find_cjk_font() == (path, "system")


def test_save_figure_lays_out_once_exactly_as_savefig_would(tmp_path):
    """save_figure runs the layout itself (one pass for both formats, heat-map labels left out of
    it): the files are the bytes matplotlib's own layout-in-savefig gives with every label in it."""
    from matplotlib import rc_context

    summary = pd.concat([SUMMARY.assign(office=SUMMARY["office"] + str(i), count=SUMMARY["count"] * (i + 1))
                         for i in range(8)], ignore_index=True)
    reference = charts.office_theme_heatmap(summary)
    for text in reference.axes[0].texts:
        text.set_in_layout(True)
    expected = {}
    for fmt, metadata in (("png", {"Software": None}), ("svg", {"Date": None})):
        buffer = io.BytesIO()
        with rc_context({"svg.hashsalt": "textmine"}):
            reference.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
        reference.set_layout_engine("none")  # as before: the SVG reused the PNG's layout
        expected[fmt] = buffer.getvalue()
    paths = charts.save_figure(charts.office_theme_heatmap(summary), tmp_path, "heat")
    assert paths["png"].read_bytes() == expected["png"]
    assert paths["svg"].read_bytes() == expected["svg"]
    saved = charts.office_theme_heatmap(summary)
    charts.save_figure(saved, tmp_path, "again")
    assert saved.get_layout_engine() is None  # laid out once; no engine left to re-run in savefig
