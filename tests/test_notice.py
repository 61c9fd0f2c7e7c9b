import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner
from docx import Document

from textmine.cli import main
from textmine.errors import DataFileError, InputError
from textmine.notice import DEFAULT_TEMPLATE, TABLE_HEADERS, notice_filename, write_notices
from textmine.pipeline import sample_path

from .conftest import found_in, read

EVIL = "<script>alert(1)</script>\x07窗口态度差 & 不耐烦"


def docx_xml(path, parts=(".xml",)) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(parts))


def body_text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_notice_lists_the_office_problems_and_the_table_to_fill_in(demo_run, demo_copy):
    analysis, _ = demo_run
    office = "市公安局"
    written = write_notices(demo_copy, offices=[office])
    assert written[["office", "items", "opinions"]].to_dict("records") == [{
        "office": office, "items": int((analysis.items["office"] == office).sum()),
        "opinions": int((analysis.comments["office"] == office).sum())}]
    path = demo_copy / "notices" / "整改通知_市公安局.docx"
    assert written["path"].iloc[0] == str(path)
    doc = Document(str(path))
    text = body_text(doc)
    items = analysis.items[analysis.items["office"] == office]
    opinions = int((analysis.comments["office"] == office).sum())
    assert text.startswith("关于反馈群众评议意见并抓好整改的通知\n市公安局：")
    assert f"涉及你单位的有效意见{opinions}条" in text
    first = items.iloc[0]
    assert f"（一）{first.theme_name}：反映{first['count']}条，占你单位有效意见的{first.share:.1%}。" in text
    assert first.examples[0] in text  # a representative (masked) opinion
    assert "附件：市公安局整改清单" in text
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == TABLE_HEADERS
    assert len(table.rows) == len(items) + 1
    assert [r.cells[1].text for r in table.rows[1:]] == list(items["theme_name"])
    assert all(c.text == "" for r in table.rows[1:] for c in r.cells[-4:])  # for the office to fill in
    assert "w:tblHeader" in table.rows[0]._tr.xml  # the header repeats on every printed page
    portrait, landscape = doc.sections
    assert portrait.page_width < portrait.page_height and landscape.page_width > landscape.page_height


def test_all_offices_get_a_notice_and_no_evaluator_identity(demo_run, demo_copy):
    analysis, _ = demo_run
    written = write_notices(demo_copy, offices=None, out_dir=demo_copy / "n")
    offices = sorted(analysis.comments["office"].unique())
    assert sorted(written["office"]) == offices
    assert sorted(p.name for p in (demo_copy / "n").iterdir()) == sorted(notice_filename(o) for o in offices)
    source = read(sample_path())
    secrets = {v for c in ("评议人姓名", "联系电话", "评议人编号") for v in source[c] if v}
    for path in (demo_copy / "n").iterdir():
        # what python-docx writes from our data: the body, footers and the document properties
        written = docx_xml(path, ("document.xml", "core.xml")) + docx_xml(path, ("footer1.xml",))
        assert found_in(written, secrets) == set(), path.name


def test_office_without_problems_gets_a_short_notice(demo_copy):
    comments = read(demo_copy / "comments.csv")
    quiet = comments.iloc[[0]].assign(office="市档案馆", themes="", theme_names="", evidence="")
    pd.concat([comments, quiet]).to_csv(demo_copy / "comments.csv", index=False, encoding="utf-8-sig")
    write_notices(demo_copy, offices=["市档案馆"])
    doc = Document(str(demo_copy / "notices" / "整改通知_市档案馆.docx"))
    assert "未发现集中反映的作风问题" in body_text(doc)
    assert "一、群众反映的主要问题" not in body_text(doc)
    assert doc.tables[0].rows[1].cells[2].text == "本轮评议未发现集中反映的作风问题。"


def test_citizen_text_stays_text_and_control_characters_are_dropped(demo_copy):
    items = read(demo_copy / "rectification_items.csv")
    office = items.loc[0, "office"]
    items.loc[0, "examples"] = EVIL
    items.to_csv(demo_copy / "rectification_items.csv", index=False, encoding="utf-8-sig")
    written = write_notices(demo_copy, offices=[office])
    doc = Document(written["path"].iloc[0])
    assert "<script>alert(1)</script>窗口态度差 & 不耐烦" in body_text(doc)
    assert "&lt;script&gt;" in docx_xml(written["path"].iloc[0])


def test_unknown_office_and_bad_template_fail_with_a_hint(demo_copy, tmp_path):
    with pytest.raises(InputError, match=r"comments.csv: no office named '市公按局' — did you mean 市公安局"):
        write_notices(demo_copy, offices=["市公按局"])
    bad = tmp_path / "notice.toml"
    bad.write_text(DEFAULT_TEMPLATE.read_text(encoding="utf-8").replace("{office}：", "{单位}："), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"notice.toml:\d+: salutation: bad placeholder '单位'"):
        write_notices(demo_copy, offices=["市公安局"], template=bad)
    missing = tmp_path / "short.toml"
    missing.write_text('title = "x"\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="short.toml: notice template lacks salutation"):
        write_notices(demo_copy, offices=["市公安局"], template=missing)


def test_notice_filenames_are_safe():
    assert notice_filename("市公安局") == "整改通知_市公安局.docx"
    assert notice_filename('A/B:C*?"<>| D') == "整改通知_A_B_C_D.docx"
    assert notice_filename("///") == "整改通知_未命名.docx"


def test_cli_notice(demo_copy):
    runner = CliRunner()
    result = runner.invoke(main, ["notice", str(demo_copy)])
    assert result.exit_code == 2 and "give --office NAME (one or more) or --all" in result.output
    result = runner.invoke(main, ["notice", str(demo_copy), "--office", "市公安局", "--issuer", "某市作风办"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("市公安局: ")
    assert "某市作风办" in body_text(Document(str(demo_copy / "notices" / "整改通知_市公安局.docx")))
    result = runner.invoke(main, ["notice", str(demo_copy), "--office", "不存在的局"])
    assert result.exit_code == 1 and result.output.startswith("Error: ")


def test_items_without_quotable_opinions_say_why(demo_copy):
    items = read(demo_copy / "rectification_items.csv")
    items.loc[items["office"] == "市公安局", "examples"] = ""  # e.g. too few evaluators to quote (min_evaluators)
    items.to_csv(demo_copy / "rectification_items.csv", index=False, encoding="utf-8-sig")
    written = write_notices(demo_copy, offices=["市公安局"])
    text = body_text(Document(written["path"].iloc[0]))
    opinions = text[text.index("二、群众代表性意见"):text.index("三、整改要求")]
    assert opinions.splitlines()[1:] == ["（为保护评议人，反映人数较少的问题不引用原话。）"]
