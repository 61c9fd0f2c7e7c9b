"""Rectification notices (整改通知): one Word document per office, ready to print.

Built from the files a run wrote (like the HTML report): the office's problems with counts
and shares, representative masked opinions, the requirements, and as an attachment the
rectification table for the office to fill in (整改措施 / 责任人 / 完成时限 / 整改状态).
The wording comes from ``templates/notice.toml``; pass your own copy to change it.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .aggregate import FILL_IN_COLUMNS
from .datafiles import line_of_key, load_toml
from .errors import DataFileError, InputError
from .export import atomic_path
from .report import Results, load_results, office_table

NOTICE_DIR = "notices"
DEFAULT_TEMPLATE = Path(__file__).parent / "templates" / "notice.toml"
DEFAULT_ISSUER = "群众评议工作领导小组办公室"
TEMPLATE_KEYS = ("title", "salutation", "opening", "opening_no_problem", "problems_heading", "problem_line",
                 "opinions_heading", "requirements_heading", "requirements", "attachment_line",
                 "attachment_title", "no_items", "no_opinions", "signature", "date_line")
TABLE_HEADERS = ["序号", "问题类型", "问题描述", "意见数", "占比", "建议整改措施", *FILL_IN_COLUMNS]
TABLE_WIDTHS_CM = [1.1, 2.0, 5.4, 1.3, 1.8, 4.1, 4.3, 1.8, 2.0, 1.9]  # fits A4 landscape
BODY_FONT, HEADING_FONT, TITLE_FONT = "仿宋_GB2312", "黑体", "方正小标宋简体"  # GB/T 9704 layout
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FILE_BAD = re.compile(r'[\\/:*?"<>|\s]+')

Progress = Callable[..., Iterable]


@dataclass
class NoticeTemplate:
    """The notice's wording; every text may use the placeholders listed in notice.toml."""

    texts: dict
    source: Path

    @classmethod
    def load(cls, path: str | Path | None = None) -> "NoticeTemplate":
        path = Path(path) if path is not None else DEFAULT_TEMPLATE
        data, text = load_toml(path, "notice template")
        missing = [k for k in TEMPLATE_KEYS if k not in data]
        if missing:
            raise DataFileError(f"{path}: notice template lacks {', '.join(missing)} (see {DEFAULT_TEMPLATE})")
        if not isinstance(data["requirements"], list) or not all(isinstance(x, str) for x in data["requirements"]):
            raise DataFileError(f"{path}:{line_of_key(text, 'requirements')}: requirements must be a list of strings")
        probe = {k: "" for k in ("office", "issuer", "opinions", "with_theme", "items", "top_themes",
                                 "number", "theme", "count", "share", "problem")}
        for key in TEMPLATE_KEYS:
            for value in data[key] if isinstance(data[key], list) else [data[key]]:
                if not isinstance(value, str):
                    raise DataFileError(f"{path}:{line_of_key(text, key)}: {key} must be text")
                try:
                    value.format_map(probe)
                except (KeyError, ValueError, IndexError) as exc:
                    raise DataFileError(f"{path}:{line_of_key(text, key)}: {key}: bad placeholder {exc} — "
                                        f"use {{office}}, {{issuer}}, {{opinions}} … as in {DEFAULT_TEMPLATE.name}")
        return cls(data, path)

    def text(self, key: str, **values) -> str:
        return self.texts[key].format_map(values)


def notice_filename(office: str) -> str:
    """The file name of an office's notice: ``整改通知_<office>.docx`` with unsafe characters replaced."""
    return f"整改通知_{_FILE_BAD.sub('_', office).strip('_.') or '未命名'}.docx"


def _clean(text: object) -> str:
    """Text Word can store: XML-invalid control characters removed."""
    return _XML_BAD.sub("", str(text))


def _set_fonts(target, name: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    """Set a style's or run's Latin and East Asian font (python-docx sets only the Latin one)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = target.font
    font.name = name
    element = target._r if hasattr(target, "_r") else target.element  # a run, or a style
    r_pr = element.get_or_add_rPr()
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold


def _page_number_footer(section) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    paragraph.add_run(" —")


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _representative(items: pd.DataFrame, per_item: int, limit: int) -> list[tuple[str, str]]:
    """The first ``per_item`` examples of each item (most frequent problem first), at most ``limit``."""
    chosen, seen = [], set()
    for item in items.itertuples(index=False):
        examples = [e for e in str(item.examples).split("\n") if e.strip() and e not in seen][:per_item]
        seen.update(examples)
        chosen += [(item.theme_name, e) for e in examples]
    return chosen[:limit]


def build_notice(results: Results, office: str, template: NoticeTemplate, *, issuer: str = DEFAULT_ISSUER,
                 per_item: int = 2, max_opinions: int = 12):
    """Return the notice for ``office`` as a python-docx ``Document``.

    Lists the office's problems, up to ``per_item`` representative (masked) opinions per
    problem and ``max_opinions`` in all, the requirements, and the table to fill in.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    offices = office_table(results).set_index("office")
    row = offices.loc[office]
    items = results.items[results.items["office"] == office].sort_values("item")
    values = {"office": office, "issuer": issuer, "opinions": int(row["opinions"]),
              "with_theme": int(row["with_theme"]), "items": len(items),
              "top_themes": "、".join(items["theme_name"].head(3))}

    doc = Document()
    doc.core_properties.title = _clean(template.text("title", **values))
    doc.core_properties.author = _clean(issuer)
    doc.core_properties.comments = "由 textmine 根据群众评议意见生成；意见文本已脱敏，不含评议人身份信息。"
    normal = doc.styles["Normal"]
    _set_fonts(normal, BODY_FONT, 16)
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _page_number_footer(section)

    def paragraph(text: str = "", *, indent: bool = True, font: str | None = None, size: float | None = None,
                  bold: bool | None = None, align=None):
        p = doc.add_paragraph()
        if indent:
            p.paragraph_format.first_line_indent = Pt(32)  # two characters of 三号
        if align is not None:
            p.alignment = align
        if text:
            run = p.add_run(_clean(text))
            if font or size or bold is not None:
                _set_fonts(run, font or BODY_FONT, size, bold)
        return p

    title = paragraph(template.text("title", **values), indent=False, font=TITLE_FONT, size=22,
                      align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(36)
    title.paragraph_format.space_after = Pt(16)
    paragraph(template.text("salutation", **values), indent=False)
    if items.empty:
        paragraph(template.text("opening_no_problem", **values))
    else:
        paragraph(template.text("opening", **values))
        paragraph(template.text("problems_heading", **values), font=HEADING_FONT)
        for number, item in enumerate(items.itertuples(index=False), 1):
            paragraph(template.text("problem_line", **values, number=_chinese_number(number), theme=item.theme_name,
                                    count=int(item.count), share=f"{float(item.share):.1%}", problem=item.problem))
        paragraph(template.text("opinions_heading", **values), font=HEADING_FONT)
        quoted = _representative(items, per_item, max_opinions)
        for n, (theme_name, example) in enumerate(quoted, 1):
            paragraph(f"{n}. 【{theme_name}】{example}")
        if not quoted:
            paragraph(template.text("no_opinions", **values))
    paragraph(template.text("requirements_heading", **values), font=HEADING_FONT)
    for requirement in template.texts["requirements"]:
        paragraph(requirement.format_map(values))
    paragraph()
    paragraph(template.text("attachment_line", **values))
    paragraph()
    paragraph(template.text("signature", **values), indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    paragraph(template.text("date_line", **values), indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)

    # the attachment: the table to fill in, on landscape pages
    annex = doc.add_section()
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = Cm(29.7), Cm(21.0)
    annex.top_margin = annex.bottom_margin = Cm(2.0)
    annex.left_margin = annex.right_margin = Cm(2.0)
    paragraph("附件", indent=False, font=HEADING_FONT)
    paragraph(template.text("attachment_title", **values), indent=False, font=TITLE_FONT, size=18,
              align=WD_ALIGN_PARAGRAPH.CENTER)
    table = doc.add_table(rows=1, cols=len(TABLE_HEADERS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _repeat_header(table.rows[0])
    rows = [[str(it.item), it.theme_name, it.problem, str(int(it.count)), f"{float(it.share):.1%}",
             "；".join(m for m in str(it.measures).split("；") if m)] + [""] * len(FILL_IN_COLUMNS)
            for it in items.itertuples(index=False)]
    if not rows:
        rows = [["", "", template.text("no_items", **values), "", "", ""] + [""] * len(FILL_IN_COLUMNS)]
    for values_row in [TABLE_HEADERS] + rows:
        cells = table.rows[0].cells if values_row is TABLE_HEADERS else table.add_row().cells
        for cell, value, width in zip(cells, values_row, TABLE_WIDTHS_CM):
            cell.width = Cm(width)
            p = cell.paragraphs[0]
            p.paragraph_format.line_spacing = Pt(15)
            p.paragraph_format.first_line_indent = None
            run = p.add_run(_clean(value))
            _set_fonts(run, HEADING_FONT if values_row is TABLE_HEADERS else BODY_FONT, 10.5)
    for i, width in enumerate(TABLE_WIDTHS_CM):  # Word reads the grid, LibreOffice the cells
        table.columns[i].width = Cm(width)
    return doc


def _chinese_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


def write_notices(directory: str | Path, *, offices: list[str] | None = None, out_dir: str | Path | None = None,
                  issuer: str = DEFAULT_ISSUER, template: str | Path | None = None,
                  progress: Progress | None = None) -> pd.DataFrame:
    """Write a rectification notice (.docx) for each office in ``offices`` (None: every office).

    Reads the files a run wrote into ``directory``; writes ``整改通知_<office>.docx`` into
    ``out_dir`` (default ``directory/notices``). Returns one row per notice: ``office, items,
    opinions, path``.
    """
    results = load_results(directory)
    wording = NoticeTemplate.load(template)
    known = office_table(results)
    names = list(known["office"])
    chosen = names if offices is None else list(dict.fromkeys(offices))
    for office in chosen:
        if office not in names:
            close = difflib.get_close_matches(office, names, n=3, cutoff=0.3)
            hint = f"did you mean {'、'.join(close)}?" if close else f"offices are {'、'.join(names[:10])} …"
            raise InputError(f"{results.directory / 'comments.csv'}: no office named {office!r} — {hint} "
                             f"(or pass --all)")
    target = Path(out_dir) if out_dir is not None else results.directory / NOTICE_DIR
    target.mkdir(parents=True, exist_ok=True)
    records = []
    wrap = progress or (lambda iterable, **_kw: iterable)
    by_office = known.set_index("office")
    used: set[str] = set()
    for office in wrap(chosen, desc="notices", total=len(chosen), unit="office"):
        doc = build_notice(results, office, wording, issuer=issuer)
        name, n = notice_filename(office), 2
        while name in used:  # "A/B" and "A:B" would share a file name
            name, n = notice_filename(office)[: -len(".docx")] + f"~{n}.docx", n + 1
        used.add(name)
        path = target / name
        with atomic_path(path) as tmp:
            doc.save(str(tmp))
        records.append({"office": office, "items": int(by_office.loc[office, "items"]),
                        "opinions": int(by_office.loc[office, "opinions"]), "path": str(path)})
    return pd.DataFrame.from_records(records, columns=["office", "items", "opinions", "path"])
