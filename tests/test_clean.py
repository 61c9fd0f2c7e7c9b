import pandas as pd
import pytest

from textmine.clean import NonSubstantiveFilter, clean_text, comparison_key, describe_reason, find_duplicates


@pytest.mark.parametrize("raw, expected", [
    ("  窗口态度生硬，审批拖了两个月！ ", "窗口态度生硬，审批拖了两个月！"),
    ("ＡＢＣ１２３办证", "ABC123办证"),               # full-width letters/digits → half-width
    ("拖了&amp;nbsp;两个月", "拖了 两个月"),           # double-escaped entity
    ("第一行<br>第二行", "第一行 第二行"),
    ("多个   空格\n\n换行\u3000全角空格", "多个 空格 换行 全角空格"),
    ("零宽\u200b字符\ufeff", "零宽字符"),
    (None, ""),
    (float("nan"), ""),
    (12345, "12345"),
])
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_keeps_chinese_punctuation_fullwidth():
    assert clean_text("态度差，效率低！为什么？（急）") == "态度差，效率低！为什么？（急）"


def test_comparison_key_ignores_punctuation_case_and_width():
    assert comparison_key(clean_text("窗口 态度差, 效率低！！")) == comparison_key(clean_text("窗口态度差，效率低。"))
    assert comparison_key("ABC办") == "abc办"


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("。。。", "no_content"),
    ("😀👍", "no_content"),
    ("无", "non_substantive"),
    ("无意见", "non_substantive"),
    ("满意，没有！", "non_substantive"),
    ("很满意，继续保持。", "non_substantive"),
    ("N/A", "non_substantive"),
    ("没有推诿", None),
    ("态度很好，办事效率高", None),
    ("无故拖延", None),
    ("建议增加周末窗口", None),
])
def test_non_substantive(text, reason):
    assert NonSubstantiveFilter().reason(clean_text(text)) == reason


def test_non_substantive_custom_list():
    assert NonSubstantiveFilter(["同意"]).reason("同意") == "non_substantive"
    assert NonSubstantiveFilter(["同意"]).reason("无意见") is None


def test_find_duplicates_exact_and_near_within_scope():
    frame = pd.DataFrame({
        "row_id": [2, 3, 4, 5, 6],
        "office": ["A", "A", "A", "B", "A"],
        "raw": ["态度差", "态度差", "态度差！", "态度差", "效率低"],
    })
    frame["key"] = frame["raw"].map(comparison_key)
    result = find_duplicates(frame, text="raw", key="key", by=["office"], row_id="row_id")
    assert result["reason"].tolist() == [None, "duplicate", "near_duplicate", None, None]
    assert result["duplicate_of"].tolist() == [None, 2, 2, None, None]


def test_describe_reason_names_the_first_row():
    assert describe_reason("duplicate", 17) == "exact duplicate of row 17"
    assert "row 9" in describe_reason("near_duplicate", 9)


def test_keys_equal_their_per_character_definitions():
    import unicodedata

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from textmine.clean import comparison_key
    from textmine.flood import flood_key

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=40))
    def check(text):
        lowered = text.lower()
        assert comparison_key(text) == "".join(c for c in lowered if unicodedata.category(c)[0] in "LN")
        assert flood_key(text) == "".join(c for c in lowered if unicodedata.category(c)[0] == "L"
                                          and not "a" <= c <= "z")

    check()
