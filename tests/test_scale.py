"""Segmenter engines (jieba reference vs rjieba) and the token cache."""
import pickle

import pandas as pd
import pytest

from textmine.errors import TextmineError
from textmine.resources import corpus_path
from textmine.segment import Segmenter, _jieba_ascii, token_agreement

pytest.importorskip("rjieba")


def test_rjieba_agrees_with_jieba_on_the_sample(toolkit):
    texts = pd.read_csv(corpus_path("sample", "opinions_2025.csv"))["意见建议"].fillna("").astype(str).tolist()
    words = toolkit.segmenter.extra_words
    reference = Segmenter(extra_words=words, engine="jieba", cache_size=0)
    fast = Segmenter(extra_words=words, engine="rjieba", cache_size=0)
    jieba_tokens = [reference.cut(t) for t in texts]
    rjieba_tokens = [fast.cut(t) for t in texts]
    assert token_agreement(jieba_tokens, rjieba_tokens) >= 0.999
    # both honour the user dictionary and the office names
    assert "推诿扯皮" in fast.cut("部门之间推诿扯皮现象严重")
    assert "首问负责制" in fast.cut("建议落实首问负责制")


def test_token_agreement_counts_matching_spans():
    assert token_agreement([["ab", "c"]], [["ab", "c"]]) == 1.0
    assert token_agreement([["ab", "c"]], [["a", "bc"]]) == 0.0
    assert token_agreement([["ab", "c", "d"]], [["a", "b", "c", "d"]]) == pytest.approx(2 / 3)


def test_ascii_runs_split_like_jieba():
    assert _jieba_ascii(["发到", "qq.com", "。"]) == ["发到", "qq", ".", "com", "。"]
    assert _jieba_ascii(["3.5%", "abc"]) == ["3.5%", "abc"]


def test_rjieba_instances_do_not_share_dictionaries():
    plain = Segmenter(engine="rjieba")
    special = Segmenter(engine="rjieba", extra_words=["窗口办事难"])
    assert "窗口办事难" in special.cut("这个窗口办事难")
    assert "窗口办事难" not in plain.cut("这个窗口办事难")
    assert "窗口办事难" not in Segmenter(engine="rjieba").cut("这个窗口办事难")


def test_unknown_engine_is_refused():
    with pytest.raises(TextmineError, match="unknown segmenter engine 'spacy'"):
        Segmenter(engine="spacy").cut("审批太慢")


def test_cache_is_bounded_and_callers_cannot_corrupt_it():
    seg = Segmenter(engine="rjieba", cache_size=2)
    first = seg.tokens("审批太慢了")
    first.append("篡改")
    assert seg.tokens("审批太慢了") == ["审批", "太慢"]
    for text in ("窗口态度差", "办事效率低", "收费不透明"):
        seg.tokens(text)
    assert len(seg._token_cache) <= 2
    clone = pickle.loads(pickle.dumps(seg))
    assert clone._token_cache == {} and clone.tokens("收费不透明") == seg.tokens("收费不透明")


def test_cli_help_imports_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys; sys.argv = ['textmine', '--help']\n"
            "from textmine.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = ['pandas', 'numpy', 'sklearn', 'jieba', 'rjieba', 'dask', 'distributed', 'matplotlib']\n"
            "print('heavy:' + ','.join(m for m in heavy if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "heavy:"  # none of them loaded
