"""Property-based tests (hypothesis): reader, cleaner, masker, segmenter and the job on arbitrary input."""
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from textmine.clean import REASONS, clean_text, comparison_key
from textmine.errors import InputError
from textmine.flood import flood_key
from textmine.pipeline import analyse
from textmine.read import read_table
from textmine.redact import Masker

# Characters that exercise the rules: digits and separators (numbers), cue words for names
# and accounts, Latin letters, full-width forms, traditional characters, emoji, markup.
PIECES = ["1", "3", "8", "0", "9", "X", "x", "-", " ", "+86", "(", ")", "（", "）", "@", ".", "com", "qq", "QQ",
          "微信", "我叫", "本人", "我是", "姓名：", "联系人", "王", "张", "欧阳", "小明", "国", "，", "。", "！",
          "电话", "座机", "身份证", "浙A", "·", "【", "】", "姓名", "態度", "惡劣", "😡", "&amp;", "&nbsp;", "<br>",
          "\n", "\t", "\u3000", "１", "３", "Ｘ", "\u200b", "审批", "太慢", "无意见"]
noisy_text = st.one_of(st.text(max_size=200), st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def masker():
    return Masker.from_file()


@FAST
@given(noisy_text)
def test_cleaning_never_fails_and_is_bounded(text):
    cleaned = clean_text(text)
    assert isinstance(cleaned, str)
    assert len(cleaned) <= 18 * len(text)            # NFKC expands one character to at most 18
    assert cleaned == cleaned.strip() and "  " not in cleaned and "\n" not in cleaned
    assert len(clean_text(cleaned)) <= len(cleaned)  # a second pass never grows it


@FAST
@given(noisy_text)
def test_keys_are_letters_and_digits_only(text):
    key = comparison_key(clean_text(text))
    assert all(ch.isalnum() for ch in key)
    assert set(flood_key(text)) <= set(key.lower()) | set(text.lower())


@FAST
@given(noisy_text)
def test_masking_is_idempotent_and_never_fails(masker, text):
    cleaned = clean_text(text)
    once = masker.mask(cleaned)
    assert masker.mask(once) == once
    assert [kind for kind, _ in masker.findings(once)] == []


@FAST
@given(st.lists(st.sampled_from(["13912345678", "0571-87654321", "11010519491231002X", "6222021234567890123",
                                 "a.b@example.cn", "浙A12345", "QQ:12345678"]), min_size=1, max_size=4),
       st.lists(st.sampled_from(["，", "。", " ", "审批太慢", "电话", "我的", "号码是"]), min_size=1, max_size=4))
def test_numbers_are_masked_wherever_they_stand(masker, secrets, filler):
    # between words or punctuation (glued to other letters an e-mail's end is ambiguous)
    text = "".join(f"{filler[i % len(filler)]}{secret}" for i, secret in enumerate(secrets)) + "。"
    masked = masker.mask(clean_text(text))
    for secret in secrets:
        assert secret.split(":")[-1] not in masked


@FAST
@given(noisy_text)
def test_segmenter_never_fails_and_keeps_the_text(toolkit, text):
    cleaned = clean_text(text)
    tokens = toolkit.segmenter.cut(cleaned)
    assert "".join(tokens) == "".join(cleaned.split())
    assert set(toolkit.segmenter.tokens(cleaned)) <= set(tokens)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.sampled_from([".csv", ".tsv", ".txt"]))
def test_reader_reads_or_explains_arbitrary_bytes(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"input{suffix}"
    path.write_bytes(data)
    try:
        table = read_table(path)
    except InputError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    frame = table.frame
    assert len(frame) >= 1 and frame.index.is_unique and frame.index.min() >= 2
    assert all(isinstance(v, str) for v in frame.to_numpy().ravel())


cell = st.text(alphabet=st.sampled_from(list('ab,"\n\r\t 态度差审批慢;|，&')), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell, min_size=1, max_size=4), min_size=1, max_size=8))
def test_reader_on_csv_like_text(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "input.csv"
    path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    try:
        table = read_table(path)
    except InputError as exc:
        assert "input.csv" in str(exc) and "\n" not in str(exc)
        return
    assert all(isinstance(v, str) for v in table.frame.to_numpy().ravel())


opinion = st.one_of(st.sampled_from(["审批太慢", "审批太慢！", "态度差", "无意见", "", "。。。", "5", "😡",
                                     "我叫王小明，电话13912345678，审批太慢", "乱收费", "態度差"]), st.text(max_size=20))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(opinion, st.sampled_from(["市监局", "市公安局", "", "某某单位"]),
                          st.sampled_from(["P1", "P2", "P3", ""]),
                          st.sampled_from(["2025-11-01", "2025-11-02 09:30", "", "不详"])), min_size=1, max_size=30),
       st.booleans(), st.booleans())
def test_every_row_ends_accepted_or_rejected(toolkit, rows, keep_duplicates, keep_floods):
    frame = pd.DataFrame(rows, columns=["意见", "单位", "编号", "日期"], index=pd.RangeIndex(2, len(rows) + 2, name="row"))
    columns = {"text": "意见", "office": "单位", "evaluator": "编号", "date": "日期"}
    analysis = analyse(frame, columns, toolkit, keep_duplicates=keep_duplicates, keep_floods=keep_floods,
                       flood_min=2, min_evaluators=2)
    comments, rejects = analysis.comments, analysis.rejects
    assert len(comments) + len(rejects) == len(frame)
    assert sorted([*comments["row_id"], *rejects["row_id"]]) == list(frame.index)
    assert set(rejects["reason_code"]) <= set(REASONS)
    repeats = rejects[rejects["duplicate_of"].notna()]
    assert (repeats["duplicate_of"].astype(int) < repeats["row_id"].astype(int)).all()
    assert set(repeats["duplicate_of"].astype(int)) <= set(comments["row_id"]) | set(rejects["row_id"])
    counts = analysis.info["counts"]
    assert counts["accepted"] + counts["rejected"] == counts["input_rows"] == len(frame)
    assert sum(counts["rejected_by_reason"].values()) == len(rejects)
    assert not comments["text"].str.contains("13912345678").any()
    for item in analysis.items.itertuples():
        assert item.evaluators >= 2 or item.examples == []
