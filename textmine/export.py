"""Write results: CSV, JSON, the rectification workbook and its Markdown twin.

Every file is written to a temporary name in the same folder and renamed into place,
so an interrupted run never leaves a half-written output. Citizen text can never
become a formula (CSV/XLSX) or markup (Markdown).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .aggregate import FILL_IN_COLUMNS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_ENCODING = "utf-8-sig"  # the BOM makes Excel open UTF-8 Chinese text correctly


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def neutralise_formula(value: object) -> object:
    """Prefix text that a spreadsheet would read as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _neutralise_column(values: pd.Series) -> pd.Series:
    """:func:`neutralise_formula` of every cell; string columns are checked in one vectorised pass."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string":
        values = values.astype("str")  # only strings (and missing values): check them in one pass
    if isinstance(values.dtype, pd.StringDtype):
        flagged = values.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        return values.where(~flagged, "'" + values) if flagged.any() else values
    return values.map(neutralise_formula)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as UTF-8 (with BOM) CSV, neutralising formula-like text cells."""
    with CsvWriter(path) as writer:
        writer.write(frame)
    return Path(path)


def csv_text(frame: pd.DataFrame, *, header: bool = True) -> str:
    """``frame`` as the lines :func:`write_csv` writes (formula-like cells neutralised),
    with or without the header line; the chunks of one file can be made in other processes."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = _neutralise_column(safe[column])
    safe.columns = [neutralise_formula(str(c)) for c in safe.columns]
    return safe.to_csv(index=False, header=header, lineterminator="\n")


class CsvWriter:
    """Write one CSV file from a sequence of frames with the same columns (chunk by chunk),
    as :func:`write_csv` writes one frame: the header once, formula-like cells neutralised,
    and the file moved into place only when the ``with`` block ends without an error."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._header: list[str] | None = None

    def __enter__(self) -> "CsvWriter":
        self._atomic = atomic_path(self.path)
        self._handle = open(self._atomic.__enter__(), "w", encoding=CSV_ENCODING, newline="")
        return self

    def write(self, frame: pd.DataFrame) -> None:
        self.write_text(csv_text(frame, header=self._header is None), list(frame.columns))

    def write_text(self, text: str, columns: list) -> None:
        """Append lines made by :func:`csv_text` (with the header for the first chunk only)."""
        header = [str(c) for c in columns]
        if self._header is not None and header != self._header:
            raise ValueError(f"{self.path}: columns {header} differ from the first chunk's {self._header}")
        self._handle.write(text)
        self._header = header

    def __exit__(self, exc_type, exc, tb) -> None:
        self._handle.close()
        self._atomic.__exit__(exc_type, exc, tb)


def write_json(data: dict, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return Path(path)


# --- rectification workbook ----------------------------------------------------------

ITEM_HEADERS = ["序号", "问题类型", "问题描述", "意见数", "占比", "代表性意见", "建议整改措施", *FILL_IN_COLUMNS]
ITEM_WIDTHS = [6, 12, 40, 8, 8, 60, 28, 30, 10, 12, 10]
OVERVIEW_HEADERS = ["单位", "分组", "有效意见数", "涉及问题的意见数", "整改事项数", "主要问题", "整改清单"]
OVERVIEW_WIDTHS = [26, 16, 12, 16, 12, 40, 14]
_SHEET_BAD = re.compile(r"[\[\]:*?/\\']")


def sheet_names(offices: list[str], reserved: tuple[str, ...] = ("总览",)) -> dict[str, str]:
    """Give each office a unique, valid Excel sheet name (≤ 31 characters)."""
    used = set(reserved)
    names = {}
    for office in offices:
        base = _SHEET_BAD.sub("_", office).strip() or "未命名"
        base = base[:31]
        name, n = base, 2
        while name in used:
            suffix = f"~{n}"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name)
        names[office] = name
    return names


def write_rectification_xlsx(items: pd.DataFrame, overview: pd.DataFrame, path: str | Path,
                             *, title: str = "整改清单",
                             extra_sheets: dict[str, pd.DataFrame] | None = None,
                             themes: list[str] | None = None) -> Path:
    """Write the rectification workbook: an overview sheet and one sheet per office.

    ``extra_sheets`` (sheet name → table, e.g. scores and tracking) are added after the
    overview as plain tables with their column names as headers. ``themes`` (theme codes in
    taxonomy order) fixes each theme's colour, the same as in the report's charts; the
    overview sheet carries the colour legend.
    """
    from .charts import theme_colours
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E78")
    fill_in = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="top")
    theme_names = dict(zip(items["theme"], items["theme_name"])) if not items.empty else {}
    colours = theme_colours(list(themes or []) + sorted(theme_names))
    theme_fill = {code: PatternFill("solid", fgColor=_tint(colour)) for code, colour in colours.items()}

    def print_setup(ws, title_rows: str) -> None:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = title_rows

    def header(ws, row: int, headers: list[str], widths: list[int]) -> None:
        for col, (text, width) in enumerate(zip(headers, widths), 1):
            cell = ws.cell(row=row, column=col)
            _set_text(cell, text)
            cell.font, cell.fill, cell.alignment = header_font, header_fill, wrap
            ws.column_dimensions[get_column_letter(col)].width = width

    wb = Workbook()
    ws = wb.active
    ws.title = "总览"
    _set_text(ws.cell(row=1, column=1), f"{title}（总览）")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    header(ws, 2, OVERVIEW_HEADERS, OVERVIEW_WIDTHS)
    ws.freeze_panes = "A3"
    extra_sheets = extra_sheets or {}
    names = sheet_names(list(overview["office"]), reserved=("总览", *extra_sheets))
    for r, row in enumerate(overview.itertuples(index=False), 3):
        values = [row.office, row.category, row.opinions, row.with_theme, row.items, row.top_themes]
        for c, value in enumerate(values, 1):
            _set_text(ws.cell(row=r, column=c), value).alignment = wrap
        link = ws.cell(row=r, column=len(values) + 1, value="查看")
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{names[row.office]}'!A1")
        link.font = Font(color="0563C1", underline="single")
    ws.auto_filter.ref = f"A2:{get_column_letter(len(OVERVIEW_HEADERS))}{max(2, len(overview) + 2)}"
    print_setup(ws, "2:2")
    legend_col = len(OVERVIEW_HEADERS) + 2  # one empty column between the table and the legend
    _set_text(ws.cell(row=2, column=legend_col), "主题图例").font = Font(bold=True)
    ws.column_dimensions[get_column_letter(legend_col)].width = 16
    for r, code in enumerate([c for c in colours if c in theme_names], 3):
        cell = _set_text(ws.cell(row=r, column=legend_col), theme_names[code])
        cell.fill = theme_fill[code]
        cell.border = Border(left=Side(style="thick", color=colours[code].lstrip("#")))

    for name, table in extra_sheets.items():
        sheet = wb.create_sheet(name)
        header(sheet, 1, [str(c) for c in table.columns], [max(8, min(40, 2 * len(str(c)) + 4)) for c in table.columns])
        sheet.freeze_panes = "B2"
        for r, values in enumerate(table.itertuples(index=False), 2):
            for c, value in enumerate(values, 1):
                value = None if pd.isna(value) else value.item() if hasattr(value, "item") else value
                _set_text(sheet.cell(row=r, column=c), value)
        sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(table.columns)))}{max(1, len(table) + 1)}"

    by_office = {office: frame for office, frame in items.groupby("office", sort=False)}
    for row in overview.itertuples(index=False):
        sheet = wb.create_sheet(names[row.office])
        _set_text(sheet.cell(row=1, column=1), f"{row.office} {title}")
        sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
        _set_text(sheet.cell(row=2, column=1),
                  f"有效意见 {row.opinions} 条，其中 {row.with_theme} 条反映了作风问题；请逐项填写整改措施、责任人、完成时限和整改状态。")
        header(sheet, 3, ITEM_HEADERS, ITEM_WIDTHS)
        sheet.freeze_panes = "C4"
        print_setup(sheet, "3:3")
        office_items = by_office.get(row.office)
        if office_items is None or office_items.empty:
            _set_text(sheet.cell(row=4, column=3), "本轮评议未发现集中反映的作风问题。")
            continue
        for r, item in enumerate(office_items.itertuples(index=False), 4):
            values = [item.item, item.theme_name, item.problem, item.count, item.share,
                      _numbered(item.examples), "；".join(item.measures)]
            for c, value in enumerate(values, 1):
                _set_text(sheet.cell(row=r, column=c), value).alignment = wrap
            sheet.cell(row=r, column=5).number_format = "0.0%"
            if item.theme in theme_fill:
                sheet.cell(row=r, column=2).fill = theme_fill[item.theme]
            for c in range(len(values) + 1, len(ITEM_HEADERS) + 1):
                sheet.cell(row=r, column=c).fill = fill_in
        sheet.auto_filter.ref = f"A3:{get_column_letter(len(ITEM_HEADERS))}{len(office_items) + 3}"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


def _set_text(cell, value):
    """Store ``value`` as a literal: text starting with '=' never becomes a formula."""
    cell.value = value
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


def _tint(colour: str, amount: float = 0.6) -> str:
    """Return ``#RRGGBB`` mixed with white (``amount`` of white) as openpyxl's ``RRGGBB``."""
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return "".join(f"{round(v + (255 - v) * amount):02X}" for v in rgb)


def _numbered(examples: list[str]) -> str:
    return "\n".join(f"{i}. {text}" for i, text in enumerate(examples, 1))


# --- Markdown ------------------------------------------------------------------------

_MD_ESCAPE = str.maketrans({"|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " ",
                            "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]"})


def md_escape(text: object) -> str:
    """Make ``text`` inert inside a Markdown table cell (no markup, links or HTML)."""
    return str(text).translate(_MD_ESCAPE)


def rectification_markdown(items: pd.DataFrame, overview: pd.DataFrame, *, title: str = "整改清单") -> str:
    """Return the rectification lists as Markdown: an overview table and a section per office."""
    lines = [f"# {title}", "", "| 单位 | 分组 | 有效意见数 | 整改事项数 | 主要问题 |", "|---|---|---:|---:|---|"]
    for row in overview.itertuples(index=False):
        lines.append(f"| {md_escape(row.office)} | {md_escape(row.category)} | {row.opinions} | "
                     f"{row.items} | {md_escape(row.top_themes)} |")
    by_office = {office: frame for office, frame in items.groupby("office", sort=False)}
    for row in overview.itertuples(index=False):
        lines += ["", f"## {md_escape(row.office)}", "",
                  f"有效意见 {row.opinions} 条，其中 {row.with_theme} 条反映了作风问题。", ""]
        office_items = by_office.get(row.office)
        if office_items is None or office_items.empty:
            lines.append("本轮评议未发现集中反映的作风问题。")
            continue
        lines.append("| " + " | ".join(ITEM_HEADERS) + " |")
        lines.append("|" + "|".join(["---:", "---", "---", "---:", "---:", "---", "---"] + ["---"] * len(FILL_IN_COLUMNS)) + "|")
        for item in office_items.itertuples(index=False):
            examples = "<br>".join(f"{i}. {md_escape(t)}" for i, t in enumerate(item.examples, 1))
            cells = [str(item.item), md_escape(item.theme_name), md_escape(item.problem), str(item.count),
                     f"{item.share:.1%}", examples, md_escape("；".join(item.measures))] + [" "] * len(FILL_IN_COLUMNS)
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_text(text: str, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
