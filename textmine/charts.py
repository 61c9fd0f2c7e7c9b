"""Charts of the tidy result tables, drawn with matplotlib's Agg canvas.

Every drawing function takes a tidy frame that is already counted (this module computes
no statistics), returns a :class:`matplotlib.figure.Figure` and never touches pyplot, so
nothing is shown and no global figure state is kept. Chinese labels use the CJK font
found by :mod:`textmine.fonts`, set per figure.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .export import atomic_path
from .fonts import FontSpec, font_context

# one colour per theme, in taxonomy order; shared by charts, the HTML report and the workbook
THEME_PALETTE = (
    "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948",
    "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC", "#86BCB6", "#D4A6C8",
)
SATISFACTION_COLOURS = {"满意": "#59A14F", "基本满意": "#EDC948", "不满意": "#E15759"}
OTHER_COLOUR = "#BAB0AC"


def theme_colours(codes: Sequence[str]) -> dict[str, str]:
    """Give each theme code a colour (``#RRGGBB``), by its place in ``codes``."""
    return {code: THEME_PALETTE[i % len(THEME_PALETTE)] for i, code in enumerate(dict.fromkeys(codes))}


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def theme_distribution(totals: pd.DataFrame, *, colours: dict[str, str] | None = None,
                       title: str = "各类作风问题的意见数", font: FontSpec | None = None):
    """Horizontal bars: opinions per theme.

    ``totals`` has columns ``theme, theme_name, count`` (one row per theme), drawn in
    the given row order from the top.
    """
    colours = colours or theme_colours(totals["theme"])
    with font_context(font):
        fig = _figure(7.5, 0.42 * max(len(totals), 1) + 1.2)
        ax = fig.add_subplot()
        y = range(len(totals))
        bars = ax.barh(list(y), totals["count"].to_list(),
                       color=[colours.get(c, OTHER_COLOUR) for c in totals["theme"]])
        ax.set_yticks(list(y), totals["theme_name"].to_list())
        ax.invert_yaxis()
        ax.bar_label(bars, padding=3, fontsize=9)
        ax.set_xlabel("意见数（条）")
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0.12)
    return fig


def office_theme_heatmap(summary: pd.DataFrame, *, value: str = "count", themes: Sequence[str] | None = None,
                         offices: Sequence[str] | None = None, title: str = "各单位 × 问题类型（意见数）",
                         font: FontSpec | None = None):
    """Heat map of ``value`` (``count`` or ``share``) per office (rows) and theme (columns).

    ``summary`` is the tidy ``office, theme, theme_name, count, share`` table; missing
    pairs are 0. ``themes`` and ``offices`` fix the order of columns and rows.
    """
    names = dict(zip(summary["theme"], summary["theme_name"]))
    themes = list(themes) if themes is not None else list(dict.fromkeys(summary["theme"]))
    offices = list(offices) if offices is not None else sorted(summary["office"].unique())
    grid = (summary.pivot_table(index="office", columns="theme", values=value, aggfunc="sum", fill_value=0)
            .reindex(index=offices, columns=themes, fill_value=0))
    with font_context(font):
        fig = _figure(2.8 + 0.62 * max(len(themes), 1), 1.6 + 0.3 * max(len(offices), 1))
        ax = fig.add_subplot()
        image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="YlOrRd", vmin=0)
        ax.set_xticks(range(len(themes)), [names.get(t, t) for t in themes], rotation=45, ha="right")
        ax.set_yticks(range(len(offices)), offices, fontsize=8)
        ax.xaxis.set_ticks_position("top")
        ax.xaxis.set_label_position("top")
        plt_max = float(grid.to_numpy().max()) if grid.size else 0.0
        for (r, c), v in pd.DataFrame(grid.to_numpy()).stack().items():
            if v:
                text = f"{v:.0%}" if value == "share" else f"{int(v)}"
                # inside its cell, so the layout need not measure it (hundreds of labels)
                ax.text(c, r, text, ha="center", va="center", fontsize=7,
                        color="white" if v > plt_max * 0.6 else "black", in_layout=False)
        ax.set_title(title)
        fig.colorbar(image, ax=ax, shrink=0.4, label="占比" if value == "share" else "意见数")
    return fig


def satisfaction_by_office(table: pd.DataFrame, *, levels: Sequence[str] | None = None,
                           title: str = "各单位满意度构成", font: FontSpec | None = None):
    """Stacked 100 % bars: the share of each satisfaction level per office.

    ``table`` has columns ``office, satisfaction, count, share`` (share within the
    office); offices are drawn in the order they first appear, from the top.
    """
    offices = list(dict.fromkeys(table["office"]))
    levels = list(levels) if levels is not None else list(dict.fromkeys(table["satisfaction"]))
    grid = (table.pivot_table(index="office", columns="satisfaction", values="share", aggfunc="sum", fill_value=0)
            .reindex(index=offices, columns=levels, fill_value=0))
    with font_context(font):
        fig = _figure(8, 1.4 + 0.28 * max(len(offices), 1))
        ax = fig.add_subplot()
        left = pd.Series(0.0, index=offices)
        for level in levels:
            ax.barh(range(len(offices)), grid[level].to_list(), left=left.to_list(), label=level,
                    color=SATISFACTION_COLOURS.get(level, OTHER_COLOUR))
            left += grid[level]
        ax.set_yticks(range(len(offices)), offices, fontsize=8)
        ax.set_ylim(len(offices) - 0.5, -0.5)  # first office on top, no empty margin
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter("{x:.0%}")
        ax.legend(ncols=len(levels), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
        ax.set_title(title, pad=28)
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def save_figure(fig, directory: str | Path, name: str, *, dpi: int = 150) -> dict[str, Path]:
    """Save ``fig`` as ``name.png`` and ``name.svg`` in ``directory``; return the paths by format."""
    from matplotlib import rc_context

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _lay_out(fig, dpi)
    paths = {}
    for fmt in ("png", "svg"):
        path = directory / f"{name}.{fmt}"
        with atomic_path(path) as tmp:
            # metadata without dates: the same data gives byte-identical files
            metadata = {"Software": None} if fmt == "png" else {"Date": None}
            with rc_context({"svg.hashsalt": "textmine"}):  # stable SVG ids instead of random ones
                fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
        paths[fmt] = path
    return paths


def _lay_out(fig, dpi: float) -> None:
    """Run the figure's layout engine once, at the resolution it is saved at, and switch it off.

    ``savefig`` with a layout engine draws the whole figure once without output just to lay it
    out, then again for real; laying out here saves that extra pass for both formats (the SVG
    uses the PNG's layout, as the files always did).
    """
    engine = fig.get_layout_engine()
    if engine is None:
        return
    from matplotlib import rc_context

    original = fig.dpi
    fig.dpi = dpi  # text sizes are measured in pixels at this resolution, as savefig(dpi=...) does
    try:
        engine.execute(fig)
    finally:
        fig.dpi = original
    # no engine at all: with even the "none" placeholder engine savefig still draws twice
    with rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
