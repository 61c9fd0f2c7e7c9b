"""The literal prefilter may skip only texts in which the pattern cannot match."""
import re

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from textmine.classify import LexiconThemeClassifier
from textmine.prefilter import MAX_STRINGS, required_literals
from textmine.resources import corpus_path


@pytest.mark.parametrize("pattern, expected", [
    (r"(时间|周期|耗时)?长达[一二三0-9]+(多)?个?(月|年)", {"长达"}),
    (r"(\S{1,8})说(去)?找(\S{1,8})", {"说找", "说去找"}),
    (r"(审批|办理)([^，。]{0,3})慢", {"审批", "办理"}),
    (r"(审批|办理)慢", {"审批慢", "办理慢"}),
    (r"(?<![此现要在])(反映|反应)", {"反映", "反应"}),
    (r".{0,3}投诉", {"投诉"}),
    (r"[一二]+(个)?月(了)?(还|都)没(办|批)", {"月"}),   # 16 spellings after 月: too many
    (r"(?:a(?i:b))+", {"a"}),                            # the part outside the local flag
])
def test_required_strings_of_patterns(pattern, expected):
    assert required_literals(pattern) == expected


@pytest.mark.parametrize("pattern", [
    "投诉无门",              # a literal start: re's own prefix search is faster
    r"\d+",                  # nothing literal
    r"(a|)b?",               # may match the empty string
    r"(a|b|c|d)x?",          # too many alternatives to be worth the scans
    r"(?i)(abc|abd)",        # flags change what matches
    r"(?i:ab)c?",            # local flags
    r"(",                    # not a pattern at all
])
def test_no_prefilter_when_unsure_or_useless(pattern):
    assert required_literals(pattern) is None


# patterns over a tiny alphabet, built from the constructs taxonomy patterns use
_atom = st.sampled_from(["a", "b", "c", "[ab]", "[^b]", ".", r"\S"])
_piece = st.one_of(
    _atom,
    st.tuples(_atom, st.sampled_from(["?", "*", "+", "{0,2}", "{1,3}"])).map("".join),
)


def _group(children):
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda xs: "(" + "".join(xs) + ")"),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: "(" + "|".join(xs) + ")"),
        children.map(lambda x: "(" + x + ")?"),
        children.map(lambda x: "(?<!c)" + x),
    )


_patterns = st.lists(st.recursive(_piece, _group, max_leaves=6), min_size=1, max_size=5).map("".join)


@settings(max_examples=600, deadline=None)
@given(_patterns, st.text(alphabet="abcx，", max_size=14))
def test_prefilter_never_skips_a_text_with_a_match(pattern, text):
    required = required_literals(pattern)
    if required is not None:
        assert 1 <= len(required) <= MAX_STRINGS and "" not in required
        if re.search(pattern, text):
            assert any(s in text for s in required), (pattern, text, required)


def test_shipped_cues_find_the_same_texts_with_and_without_prefilter():
    frame = pd.read_csv(corpus_path("sample", "opinions_2025.csv"), dtype=str, keep_default_na=False)
    texts = list(dict.fromkeys(frame["意见建议"]))
    classifier = LexiconThemeClassifier().fit()
    anchored = 0
    for matcher in classifier.matchers_:
        for regex, _, required in matcher.cues:
            if required is None:
                continue
            anchored += 1
            for text in texts:
                if regex.search(text):
                    assert any(s in text for s in required), (regex.pattern, text)
    assert anchored >= 10
