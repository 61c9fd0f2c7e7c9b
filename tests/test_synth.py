"""Tests for the synthetic round generator and the committed sample corpus."""
from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pytest

from textmine.errors import ColumnError, DataFileError, TextmineError
from textmine.resources import corpus_path
from textmine.synth import (
    KINDS,
    OPINION_COLUMNS,
    TRUTH_COLUMNS,
    generate_round,
    generate_truth,
    generate_with_truth,
    load_phrases,
    main,
    write_sample,
)

THEME_CODES = {
    "efficiency", "attitude", "buck_passing", "inaction", "lawful_admin", "integrity",
    "fees", "competence", "process", "policy", "discipline",
}
# Loose bounds around the specified shares (exact counts follow from the seed).
KIND_SHARES = {
    "complaint": (0.44, 0.60),
    "multi": (0.09, 0.19),
    "praise": (0.06, 0.12),
    "suggestion": (0.045, 0.10),
    "empty": (0.03, 0.07),
    "nonsubstantive": (0.045, 0.10),
    "duplicate": (0.015, 0.05),
    "near_duplicate": (0.01, 0.035),
}
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9X](?![0-9])")
EMAIL = re.compile(r"[A-Za-z0-9_.]+@[a-z0-9]+\.(?:com|cn)")
LANDLINE = re.compile(r"0[0-9]{2,3}[- ）)]?[5-8][0-9]{7}(?![0-9])")
BANK_CARD = re.compile(r"(?<![0-9])6[0-9]{15,18}(?![0-9])")
SELF_INTRO = re.compile(r"我叫[\u4e00-\u9fff]{2,3}|本人[\u4e00-\u9fff]{2,3}")


def id_check_ok(number: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(number[:17], weights))
    return "10X98765432"[total % 11] == number[17]


def luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def loose(text: str) -> str:
    """Normalise width, drop whitespace and punctuation: what a near duplicate keeps."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P"))


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """The committed sample joined with its answer key."""
    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(corpus_path("sample", name), dtype=str, keep_default_na=False)

    opinions = read("opinions_2025.csv")
    truth = read("opinions_2025_truth.csv")
    assert list(opinions.columns) == list(OPINION_COLUMNS)
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    assert opinions["序号"].tolist() == truth["序号"].tolist()
    return opinions.assign(themes=truth["themes"], kind=truth["kind"])


@pytest.fixture(scope="module")
def offices() -> pd.DataFrame:
    return pd.read_csv(corpus_path("offices.csv"), dtype=str, keep_default_na=False)


# ---- determinism and the committed file ------------------------------------------------------


def test_same_seed_gives_identical_frames():
    first = generate_with_truth(n=600, seed=11)
    second = generate_with_truth(n=600, seed=11)
    pd.testing.assert_frame_equal(first.opinions, second.opinions)
    pd.testing.assert_frame_equal(first.truth, second.truth)


def test_different_seed_gives_different_round():
    first = generate_round(n=600, seed=11)
    second = generate_round(n=600, seed=12)
    assert not first.equals(second)
    assert (first["意见建议"] != second["意见建议"]).mean() > 0.5


def test_round_and_truth_functions_agree_with_generate_with_truth():
    both = generate_with_truth(n=300, seed=5, year=2024)
    pd.testing.assert_frame_equal(generate_round(n=300, seed=5, year=2024), both.opinions)
    pd.testing.assert_frame_equal(generate_truth(n=300, seed=5, year=2024), both.truth)


def test_committed_sample_equals_fresh_generation(tmp_path):
    paths = write_sample(tmp_path, n=3200, year=2025, seed=2025)
    assert [p.name for p in paths] == ["opinions_2025.csv", "opinions_2025_truth.csv"]
    for path in paths:
        assert path.read_bytes() == corpus_path("sample", path.name).read_bytes(), (
            f"{path.name} differs from the committed sample; regenerate with "
            "python -m textmine.synth --out corpora/sample --n 3200 --year 2025 --seed 2025"
        )


def test_opinions_file_has_bom_and_truth_file_has_none():
    opinions = corpus_path("sample", "opinions_2025.csv").read_bytes()
    truth = corpus_path("sample", "opinions_2025_truth.csv").read_bytes()
    assert opinions.startswith(b"\xef\xbb\xbf" + "序号,评议人编号".encode())
    assert truth.startswith("序号,themes,kind\n".encode())


# ---- shape of the committed sample -------------------------------------------------------------


def test_sample_size_offices_and_serials(sample, offices):
    assert len(sample) >= 3000
    assert sample["序号"].tolist() == [str(i) for i in range(1, len(sample) + 1)]
    canonical = set(offices["office"])
    assert sample.loc[sample["被评议单位"].isin(canonical), "被评议单位"].nunique() >= 30


def test_office_spellings_mix_canonical_alias_and_unknown(sample, offices):
    canonical = set(offices["office"])
    aliases = {a for joined in offices["aliases"] for a in joined.split(";") if a}
    shown = sample["被评议单位"]
    alias_share = shown.isin(aliases - canonical).mean()
    unknown_share = (~shown.isin(canonical | aliases)).mean()
    assert 0.08 <= alias_share <= 0.16
    assert 0.003 <= unknown_share <= 0.025
    assert shown.isin(canonical).mean() > 0.8


def test_evaluators_write_on_several_offices(sample):
    ids = sample["评议人编号"]
    assert ids.str.fullmatch(r"P2025-\d{5}").all()
    assert 900 <= ids.nunique() <= 1600
    originals = sample[~sample["kind"].isin(["duplicate", "near_duplicate"])]
    offices_per_evaluator = originals.groupby("评议人编号")["被评议单位"].nunique()
    rows_per_evaluator = originals.groupby("评议人编号").size()
    assert (offices_per_evaluator == rows_per_evaluator).all()  # one form per office and evaluator
    assert (rows_per_evaluator >= 2).mean() > 0.5


def test_evaluator_fields(sample):
    names = sample["评议人姓名"]
    phones = sample["联系电话"]
    assert 0.2 <= (names != "").mean() <= 0.4
    assert 0.2 <= (phones != "").mean() <= 0.4
    assert phones[phones != ""].str.fullmatch(r"1[3-9]\d{9}").all()
    assert names[names != ""].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    # An evaluator's name and phone are the same on every form.
    fields = ["评议人姓名", "联系电话", "评议人类别"]
    per_evaluator = sample.groupby("评议人编号")[fields].nunique()
    assert (per_evaluator == 1).all().all()
    groups = sample["评议人类别"].value_counts()
    assert set(groups.index) == {
        "市领导", "人大代表", "政协委员", "企业管理人员", "基层群众", "服务对象", "行风监督员", "机关干部",
    }
    assert set(groups.index[:2]) == {"服务对象", "基层群众"}


def test_dates_fall_in_the_evaluation_months_in_order(sample):
    dates = pd.to_datetime(sample["填报日期"], format="%Y-%m-%d")
    assert dates.min() >= pd.Timestamp("2025-11-01")
    assert dates.max() <= pd.Timestamp("2025-12-31")
    assert dates.is_monotonic_increasing


# ---- answer key --------------------------------------------------------------------------------


def test_every_kind_present_with_roughly_the_specified_share(sample):
    shares = sample["kind"].value_counts(normalize=True)
    assert set(shares.index) == set(KINDS)
    for kind, (low, high) in KIND_SHARES.items():
        assert low <= shares[kind] <= high, (kind, shares[kind])


def test_truth_themes_use_only_the_eleven_codes(sample):
    themes = sample["themes"].str.split(";").explode()
    assert set(themes[themes != ""]) <= THEME_CODES
    assert set(themes[themes != ""]) == THEME_CODES  # and all of them occur


def test_theme_count_matches_kind(sample):
    counts = sample["themes"].map(lambda joined: len(joined.split(";")) if joined else 0)
    assert (counts[sample["kind"] == "complaint"] == 1).all()
    assert counts[sample["kind"] == "multi"].between(2, 3).all()
    no_theme = sample["kind"].isin(["praise", "suggestion", "empty", "nonsubstantive"])
    assert (counts[no_theme] == 0).all()


def test_duplicates_repeat_an_earlier_row(sample):
    seen: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in sample.itertuples(index=False):
        key = (row.评议人编号, row.被评议单位)
        earlier = seen.setdefault(key, [])
        if row.kind == "duplicate":
            assert (row.意见建议, row.themes) in earlier, row
        elif row.kind == "near_duplicate":
            texts = [text for text, _ in earlier]
            assert row.意见建议 not in texts, row
            assert (loose(row.意见建议), row.themes) in [(loose(t), th) for t, th in earlier], row
        earlier.append((row.意见建议, row.themes))


def test_empty_and_nonsubstantive_texts(sample):
    empty = sample.loc[sample["kind"] == "empty", "意见建议"]
    assert (empty.str.strip() == "").all()
    assert (empty == "").any() and (empty != "").any()
    nonsubstantive = sample.loc[sample["kind"] == "nonsubstantive", "意见建议"].str.strip()
    assert nonsubstantive.str.len().max() <= 12
    assert {"无", "无意见", "满意"} <= set(nonsubstantive)
    substantive = sample["kind"].isin(["complaint", "multi", "praise", "suggestion"])
    assert (sample.loc[substantive, "意见建议"].str.strip().str.len() >= 3).all()


def test_satisfaction_follows_the_text(sample):
    assert set(sample["满意度"]) == {"满意", "基本满意", "不满意"}
    by_kind = pd.crosstab(sample["kind"], sample["满意度"], normalize="index")
    assert by_kind.loc["complaint", "不满意"] + by_kind.loc["complaint", "基本满意"] > 0.85
    assert by_kind.loc["multi", "不满意"] > 0.45
    assert by_kind.loc["praise", "满意"] > 0.8
    assert by_kind.loc["praise", "不满意"] == 0


def test_text_lengths_are_short_and_informal(sample):
    substantive = sample[sample["kind"].isin(["complaint", "multi", "praise", "suggestion"])]
    lengths = substantive["意见建议"].str.len()
    assert 15 <= lengths.median() <= 45
    assert lengths.between(8, 80).mean() > 0.85
    assert lengths.max() <= 250
    assert (lengths > 100).sum() >= 5


def test_wording_varies(sample):
    complaints = sample.loc[sample["kind"].isin(["complaint", "multi"]), "意见建议"]
    assert complaints.nunique() / len(complaints) > 0.95
    # The same core phrase appears in many different sentences.
    for phrase in ("态度恶劣", "踢皮球", "乱收费", "业务不熟"):
        texts = sample.loc[sample["意见建议"].str.contains(phrase), "意见建议"]
        assert texts.nunique() >= 8, phrase


def test_personal_data_present_and_valid(sample):
    texts = sample["意见建议"]
    assert texts.str.contains(MOBILE).sum() >= 20
    ids = texts.str.findall(ID_NUMBER).explode().dropna()
    assert len(ids) >= 10 and all(id_check_ok(x) for x in ids)
    assert ids.str.endswith("X").any()
    assert texts.str.contains(EMAIL).sum() >= 5
    assert texts.str.contains(LANDLINE).sum() >= 5
    cards = texts.str.findall(BANK_CARD).explode().dropna()
    cards = cards[cards.str.len() != 18]  # 18 digits may be an ID number
    assert len(cards) >= 3 and all(luhn_ok(x) for x in cards)
    assert texts.str.contains(SELF_INTRO).sum() >= 10
    share = texts.str.contains(r"@|\d{7,}|我叫|本人").mean()
    assert 0.03 <= share <= 0.12


def test_export_noise_present(sample):
    texts = sample["意见建议"]
    for pattern in ("&nbsp;", "&lt;br&gt;", "&amp;", "<p>", "\n", "  "):
        assert texts.str.contains(pattern, regex=False).any(), pattern
    assert texts.str.contains(r"[０-９Ａ-Ｚａ-ｚ]").any()


def test_negated_themes_are_not_tagged(sample):
    for pattern, code in (
        ("不存在乱收费|没有乱收费", "fees"),
        ("态度还可以|态度挺好|态度不错", "attitude"),
        ("没有推诿|没有相互推诿|倒没有踢皮球", "buck_passing"),
    ):
        rows = sample[sample["意见建议"].str.contains(pattern)]
        assert len(rows) >= 3, pattern
        assert not rows["themes"].str.contains(code).any(), pattern
        assert (rows["kind"] == "praise").any() and rows["kind"].isin(["complaint"]).any(), pattern


def test_offices_have_different_problem_profiles(sample, offices):
    is_complaint = sample["kind"].isin(["complaint", "multi"])
    complaints = sample[is_complaint & sample["被评议单位"].isin(set(offices["office"]))]
    themes = complaints.assign(theme=complaints["themes"].str.split(";")).explode("theme")
    top = themes.groupby("被评议单位")["theme"].agg(lambda s: s.value_counts().index[0])
    assert top.nunique() >= 6
    category = dict(zip(offices["office"], offices["category"]))
    share = themes.groupby(themes["被评议单位"].map(category))["theme"].value_counts(normalize=True)
    assert share["执法监管部门"]["lawful_admin"] > share["窗口服务单位"].get("lawful_admin", 0) * 3
    assert share["窗口服务单位"]["efficiency"] > share["执法监管部门"]["efficiency"]


# ---- the phrase file ---------------------------------------------------------------------------


def test_phrase_file_covers_every_theme_with_its_own_templates():
    phrases = load_phrases()
    assert set(phrases["themes"]) == THEME_CODES
    templates: dict[str, str] = {}
    for code, theme in phrases["themes"].items():
        assert len(set(theme["core"])) >= 12, code
        for template in theme["templates"]:
            assert template not in templates, (template, code, templates.get(template))
            templates[template] = code


def test_unknown_slot_is_reported_with_file_and_line(tmp_path):
    text = corpus_path("sample", "phrases.toml").read_text(encoding="utf-8")
    broken = text.replace('"{staff}{act}，群众看在眼里"', '"{staff}{nosuch}，群众看在眼里"', 1)
    assert broken != text
    path = tmp_path / "phrases.toml"
    path.write_text(broken, encoding="utf-8")
    line = next(i for i, l in enumerate(broken.splitlines(), 1) if "{nosuch}" in l)
    with pytest.raises(DataFileError, match=rf"phrases\.toml:{line}: .*unknown slot \{{nosuch\}}"):
        generate_round(n=10, phrases_path=path)


def test_invalid_toml_is_a_data_file_error(tmp_path):
    path = tmp_path / "phrases.toml"
    path.write_text("[round\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="invalid TOML"):
        generate_round(n=10, phrases_path=path)


# ---- arguments, small rounds, custom offices, CLI ----------------------------------------------


def test_bad_arguments_are_rejected():
    with pytest.raises(TextmineError, match="n must be"):
        generate_round(n=-1)
    with pytest.raises(TextmineError, match="year must be"):
        generate_round(n=10, year=25)


def test_office_table_without_required_columns():
    with pytest.raises(ColumnError, match="category"):
        generate_round(n=10, offices=pd.DataFrame({"office": ["市公安局"], "aliases": [""]}))


def test_unknown_office_category_names_the_row():
    table = pd.DataFrame(
        {"office": ["市公安局", "市某某局"], "category": ["执法监管部门", "别的类"], "aliases": ["", ""]}
    )
    with pytest.raises(DataFileError, match="row 3 .*别的类"):
        generate_round(n=10, offices=table)


def test_custom_office_table_and_year():
    table = pd.DataFrame(
        {
            "office": ["市公安局", "区民政局"],
            "category": ["执法监管部门", "窗口服务单位"],
            "aliases": ["公安局;派出所", ""],
        }
    )
    opinions = generate_round(n=400, year=2023, seed=3, offices=table)
    assert len(opinions) == 400
    known = {"市公安局", "区民政局", "公安局", "派出所"}
    assert opinions["被评议单位"].isin(known).mean() > 0.95
    assert opinions["填报日期"].str.startswith("2023-1").all()
    assert opinions["评议人编号"].str.startswith("P2023-").all()


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_tiny_rounds_have_exactly_n_rows(n):
    both = generate_with_truth(n=n, seed=1)
    assert len(both.opinions) == len(both.truth) == n
    assert list(both.opinions.columns) == list(OPINION_COLUMNS)


def test_cli_writes_both_files(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--n", "50", "--year", "2024", "--seed", "9"]) == 0
    assert (tmp_path / "opinions_2024.csv").exists()
    truth = pd.read_csv(tmp_path / "opinions_2024_truth.csv", dtype=str, keep_default_na=False)
    assert len(truth) == 50
    assert "opinions_2024.csv" in capsys.readouterr().out


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--n", "-5"]) == 1
    assert capsys.readouterr().err.startswith("Error: n must be")
