"""Privacy: masking recall on hand-written cases, evaluator identity, small-group quotes, injection."""
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from textmine.errors import DataFileError
from textmine.redact import NUMBER_KINDS, Masker, masking_audit, masking_scores

CASES = Path(__file__).parent / "data" / "privacy_cases.csv"


@pytest.fixture(scope="module")
def audit():
    cases = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    return masking_audit(Masker.from_file(), cases)


def test_case_file_is_large_and_varied():
    cases = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    assert len(cases) >= 200 and cases["id"].is_unique
    counts = cases["category"].value_counts()
    assert counts["none"] >= 60 and counts["name"] >= 60
    for kind in (*NUMBER_KINDS, "email", "plate", "im_account"):
        assert counts[kind] >= 10, kind


def test_every_number_is_masked(audit):
    numbers = audit[audit["kind"].isin(NUMBER_KINDS)]
    assert len(numbers) >= 90
    missed = numbers[~numbers["masked"].astype(bool)]
    assert missed.empty, missed[["id", "kind", "value", "masked_text"]].to_string()


def test_other_identifiers_are_all_masked(audit):
    other = audit[audit["kind"].isin(["email", "plate", "im_account"])]
    assert other["masked"].astype(bool).all(), other[~other["masked"].astype(bool)].to_string()


def test_name_recall_is_at_least_95_percent(audit):
    names = masking_scores(audit).set_index("kind").loc["name"]
    assert names["items"] >= 60
    assert names["recall"] >= 0.95


def test_ordinary_text_is_never_masked(audit):
    ordinary = audit[audit["kind"] == "none"]
    assert len(ordinary) >= 60
    changed = ordinary[ordinary["over_masked"]]
    assert changed.empty, changed[["id", "masked_text"]].to_string()


def test_masking_removes_only_personal_data(audit):
    # a case with personal data may only lose that data (a miss counts here too)
    positives = audit[audit["kind"] != "none"].drop_duplicates("id")
    assert positives["over_masked"].sum() <= (~audit["masked"].fillna(True).astype(bool)).sum()


def test_audit_and_scores_on_a_tiny_set():
    cases = pd.DataFrame({"id": ["1", "2", "3"], "category": ["mobile", "name", "none"],
                          "text": ["电话13912345678", "我叫张三，email:a@b.cn | 本人李", "本人多次反映"],
                          "pii": ["13912345678", "张三 | email:a@b.cn", ""]})
    cases.loc[1, "text"] = "我叫张三，邮箱a@b.cn"
    audit = masking_audit(Masker.from_file(), cases)
    assert audit[["id", "kind", "value"]].values.tolist() == [
        ["1", "mobile", "13912345678"], ["2", "name", "张三"], ["2", "email", "a@b.cn"], ["3", "none", ""]]
    assert audit["masked"].tolist()[:3] == [True, True, True] and audit["over_masked"].tolist() == [False] * 4
    scores = masking_scores(audit).set_index("kind")
    assert scores.loc["email", "recall"] == 1.0 and scores.loc["none", "cases"] == 1


def test_word_lists_expand_longest_first(tmp_path):
    (tmp_path / "names.txt").write_text("# comment\n王\n欧阳\n", encoding="utf-8")
    rules = tmp_path / "rules.toml"
    rules.write_text('[lists]\nsurname = "names.txt"\nstop = ["王府"]\n\n[[rules]]\nname = "n"\nplaceholder = "【姓名】"\n'
                     "group = 1\npattern = '我叫(?!{{stop}})({{surname}}\\w)'\n", encoding="utf-8")
    masker = Masker.from_file(rules)
    assert masker.mask("我叫欧阳锋") == "我叫【姓名】"
    assert masker.mask("我叫王五") == "我叫【姓名】"
    assert masker.mask("我叫王府井") == "我叫王府井"


@pytest.mark.parametrize("lists, pattern, message", [
    ('[lists]\nsurname = "missing.txt"\n', "x", "missing.txt: cannot read"),
    ('[lists]\nsurname = 3\n', "x", r"rules.toml:2: list 'surname' must be a file name"),
    ('[lists]\nsurname = []\n', "x", r"rules.toml:2: list 'surname' is empty"),
    ("", "{{nobody}}", r"rules.toml:5: rule 'n': unknown list \{\{nobody\}\}"),
])
def test_word_list_errors_name_file_and_line(tmp_path, lists, pattern, message):
    rules = tmp_path / "rules.toml"
    body = f'[[rules]]\nname = "n"\nplaceholder = "【x】"\npattern = "{pattern}"\n'
    rules.write_text(lists + body if lists else "\n" + body, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        Masker.from_file(rules)


# ------------------------------------------------ evaluators stay anonymous to offices

from click.testing import CliRunner  # noqa: E402

from textmine.cli import main  # noqa: E402

from .conftest import write_csv  # noqa: E402

IDENTITY = {"评议人编号": "EV-90417", "评议人姓名": "欧阳娜娜", "联系电话": "13612349876"}
OPINIONS = [  # (office, text, evaluator number): 市监局 attitude from 3 people, 市公安局 efficiency from 2
    ("市监局", "窗口态度生硬，说话很冲", 1), ("市监局", "工作人员态度恶劣，爱理不理", 2),
    ("市监局", "态度差，我是欧阳娜娜，投诉过没人理", 3),
    ("市公安局", "办户口拖了三个月，欧阳娜娜的电话13612349876", 1), ("市公安局", "审批太慢，等了半年", 2),
]


def evaluation_file(tmp_path):
    rows = [{"被评议单位": office, "意见建议": text, "评议人编号": f"{IDENTITY['评议人编号']}{n}",
             "评议人姓名": f"{IDENTITY['评议人姓名']}" if n == 1 else f"司马光{n}",
             "联系电话": f"{IDENTITY['联系电话'][:-1]}{n}", "填报日期": "2025-11-03"}
            for office, text, n in OPINIONS]
    return write_csv(tmp_path / "round.csv", rows)


def office_facing_text(out):
    """Everything an office may receive: rectification lists (xlsx, md, csv) and the report."""
    texts = {}
    for name in ("rectification.md", "rectification_items.csv", "office_summary.csv", "report.html"):
        if (out / name).exists():
            texts[name] = (out / name).read_text(encoding="utf-8-sig")
    with zipfile.ZipFile(out / "rectification.xlsx") as archive:
        texts["rectification.xlsx"] = "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return texts


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evaluated")
    out = tmp / "out"
    result = CliRunner().invoke(main, ["run", str(evaluation_file(tmp)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_evaluator_identity_never_reaches_office_facing_outputs(evaluated):
    texts = office_facing_text(evaluated)
    assert set(texts) >= {"rectification.md", "rectification_items.csv", "rectification.xlsx"}
    for name, text in texts.items():
        for secret in ("EV-9041", "欧阳娜娜", "1361234987", "司马光"):
            assert secret not in text, (name, secret)
        for header in ("评议人编号", "评议人姓名", "联系电话"):
            assert header not in text, (name, header)
    # the evaluator's own name and phone are masked even where the text repeats them
    comments = pd.read_csv(evaluated / "comments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "欧阳娜娜" not in "".join(comments["text"]) and "【姓名】" in "".join(comments["text"])
    assert not set(comments.columns) & set(IDENTITY)


def test_items_with_fewer_than_three_evaluators_show_counts_but_no_quotes(evaluated):
    items = pd.read_csv(evaluated / "rectification_items.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    by_key = items.set_index(["office", "theme"])
    attitude = by_key.loc[("市市场监督管理局", "attitude")]
    assert attitude["evaluators"] == "3" and attitude["count"] == "3" and attitude["examples"] != ""
    slow = by_key.loc[("市公安局", "efficiency")]
    assert slow["evaluators"] == "2" and slow["count"] == "2" and slow["examples"] == ""
    assert slow["problem"].endswith("（评议人少于3人，为保护评议人不列原文）")
    markdown = (evaluated / "rectification.md").read_text(encoding="utf-8")
    assert "审批太慢" not in markdown and "办户口拖了三个月" not in markdown
    assert "窗口态度生硬" in markdown or "态度恶劣" in markdown


def test_min_evaluators_option(tmp_path):
    path = evaluation_file(tmp_path)
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "o"), "--min-evaluators", "4", "-q"])
    assert result.exit_code == 0, result.output
    items = pd.read_csv(tmp_path / "o" / "rectification_items.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    assert (items["examples"] == "").all() and len(items) >= 2
    info = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert info["options"]["min_evaluators"] == 4
    bad = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "o"), "--min-evaluators", "0"])
    assert bad.exit_code == 2 and "--min-evaluators" in bad.output


def test_without_identity_columns_each_opinion_counts_as_one_evaluator(toolkit):
    from textmine.pipeline import analyse

    frame = pd.DataFrame({"单位": ["市监局"] * 3 + ["市公安局"] * 2,
                          "意见": ["态度差", "态度恶劣", "态度生硬", "审批太慢", "审批拖了半年"]},
                         index=pd.RangeIndex(2, 7, name="row"))
    items = analyse(frame, {"text": "意见", "office": "单位"}, toolkit).items.set_index(["office", "theme"])
    assert items.loc[("市市场监督管理局", "attitude"), "evaluators"] == 3
    assert items.loc[("市市场监督管理局", "attitude"), "examples"] != []
    assert items.loc[("市公安局", "efficiency"), "examples"] == []


# ------------------------------------------------------------------------ injection

PAYLOADS = ['=HYPERLINK("http://evil.example","态度差")', "+1+2乱收费", "-2+3审批太慢", "@SUM(A1:A2)态度恶劣",
            "\t=1+1吃拿卡要",
            '<script>alert("x")</script>态度差', '<img src=x onerror=alert(1)>乱收费', "[点我](javascript:alert(1))审批慢"]


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("injected")
    rows = [{"被评议单位": office, "意见建议": f"{payload}", "评议人编号": f"P{i}{office}"}
            for i, payload in enumerate(PAYLOADS) for office in ("=cmd|' /C calc'!A0", "市监局", "<b>市公安局</b>")]
    out = tmp / "out"
    result = CliRunner().invoke(main, ["run", str(write_csv(tmp / "evil.csv", rows)), "--out", str(out),
                                       "--min-evaluators", "1", "--keep-floods"])
    assert result.exit_code == 0, result.output
    return out


def test_no_formula_in_csv_or_xlsx_outputs(injected):
    from openpyxl import load_workbook

    for name in ("comments.csv", "rejects.csv", "office_summary.csv", "rectification_items.csv"):
        frame = pd.read_csv(injected / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for value in frame.to_numpy().ravel():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, value)
    workbook = load_workbook(injected / "rectification.xlsx")
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [str(c.value) for c in cells]
    assert any("HYPERLINK" in t for t in texts)  # the citizen's text is there, as text


def test_no_markup_or_script_in_markdown_or_html(injected):
    markdown = (injected / "rectification.md").read_text(encoding="utf-8")
    assert "<script" not in markdown and "<img" not in markdown and "<b>" not in markdown
    assert "&lt;script&gt;" in markdown and "\\[点我\\](javascript" in markdown
    report = injected / "report.html"
    if report.exists():  # the HTML report, when this build writes one
        html = report.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>市公安局</b>" not in html
