"""Privacy: masking recall on hand-written cases, evaluator identity, small-group quotes."""
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
