import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from textmine.classify import LexiconThemeClassifier, split_codes, theme_table
from textmine.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def classifier():
    """These tests are about the lexicon (the shipped default also unites it with a learned
    model: tests/test_default_classifier.py)."""
    return LexiconThemeClassifier().fit()


def themes_of(classifier, text):
    return sorted(classifier.evidence([text])[0])


@pytest.mark.parametrize("text, expected", [
    ("窗口态度生硬，审批拖了两个月", ["attitude", "efficiency"]),
    ("工作人员爱理不理，材料要跑好几趟", ["attitude", "efficiency"]),
    ("几个部门相互推诿，踢皮球", ["buck_passing"]),
    ("多次反映至今没有解决，石沉大海", ["inaction"]),
    ("城管粗暴执法，随意罚款", ["lawful_admin"]),
    ("办个证还要托关系送红包", ["integrity"]),
    ("物业乱收费，收费不公示", ["fees"]),
    ("工作人员一问三不知，每个人说的都不一样", ["competence"]),
    ("手续繁琐，没有一次性告知，电话打不通", ["process"]),
    ("补贴迟迟不发，说好的政策没兑现", ["policy"]),
    ("上班时间玩手机，迟到早退", ["discipline"]),
])
def test_each_theme_is_recognised(classifier, text, expected):
    assert themes_of(classifier, text) == expected


@pytest.mark.parametrize("text", [
    "态度很好",
    "工作人员态度很好，办事效率高，点赞",
    "没有推诿",
    "从不推诿扯皮",
    "不存在乱收费的情况",
    "希望尽快解决",
    "收费标准是多少？",
    "推诿现象没有了",
    "建议增加周末窗口",
])
def test_negation_praise_and_requests_get_no_theme(classifier, text):
    assert themes_of(classifier, text) == []


def test_negation_is_clause_local(classifier):
    # the negation of 推诿 does not cancel the complaint in the next clause
    assert themes_of(classifier, "没有推诿，但是拖了三个月") == ["efficiency"]
    assert themes_of(classifier, "态度还可以，就是审批太慢") == ["efficiency"]
    # 不断 looks like a negation cue but is not one
    assert themes_of(classifier, "不断推诿") == ["buck_passing"]


def test_estimator_contract(classifier):
    est = LexiconThemeClassifier()
    assert est.get_params() == {"taxonomy": None, "min_matches": 1}
    with pytest.raises(NotFittedError):
        est.predict(["x"])
    assert est.fit() is est
    assert list(est.classes_) == load_taxonomy().codes
    matrix = est.predict(["态度差", "", "无"])
    assert matrix.shape == (3, 11) and matrix.dtype.kind == "i"
    assert matrix[0].tolist() == [0, 1] + [0] * 9
    assert matrix[1:].sum() == 0
    assert clone(est).get_params() == est.get_params()


def test_min_matches_and_decision_function():
    strict = LexiconThemeClassifier(min_matches=2).fit()
    assert strict.predict(["态度差"]).sum() == 0
    assert strict.predict(["态度差，爱理不理"])[0, 1] == 1
    scores = LexiconThemeClassifier().fit().decision_function(["态度差，爱理不理，甩脸色"])
    assert scores[0, 1] == 3
    with pytest.raises(ValueError, match="min_matches"):
        LexiconThemeClassifier(min_matches=0).fit()


def test_theme_table_columns(classifier):
    table = theme_table(classifier, ["窗口态度生硬，审批拖了两个月", "好"], load_taxonomy().names())
    assert table.loc[0, "themes"] == "efficiency;attitude"
    assert table.loc[0, "theme_names"] == "办事效率;服务态度"
    assert split_codes(table.loc[0, "evidence"]) == ["efficiency:拖了两个月", "attitude:态度生硬"]
    assert table.loc[1].tolist() == ["", "", ""]


def test_user_taxonomy_replaces_default(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[[themes]]\ncode = "parking"\nname = "停车"\nproblem = "停车难"\n'
                    'terms = ["停车难", "车位少"]\n', encoding="utf-8")
    est = LexiconThemeClassifier(taxonomy=path).fit()
    assert list(est.classes_) == ["parking"]
    assert np.array_equal(est.predict(["停车难", "态度差"]), [[1], [0]])


CONTEXT_TAXONOMY = '''
[[themes]]
code = "inaction"
name = "不作为"
problem = "无人处理"
terms = ["不作为"]
weak_terms = ["没人处理"]
context = ["反映|投诉"]
exclude = ["物业"]
window = 8
'''


def test_weak_cues_need_context_and_excluded_actors_drop_cues(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(CONTEXT_TAXONOMY, encoding="utf-8")
    est = LexiconThemeClassifier(taxonomy=path).fit()
    found = est.evidence([
        "楼道积水，没人处理",                    # weak cue, no report: nothing
        "多次反映，一直没人处理",                 # report within the window
        "我们反映过了。现在没人处理",              # the context is in another sentence
        "多次向社区反映过这件事情的结果是没人处理",   # the context is beyond 8 characters
        "街道不作为",                          # strong cue alone
        "物业公司不作为",                       # strong cue, but the actor is excluded
        "物业不管，向街道反映后街道也不作为",        # the excluded actor is beyond the window
    ])
    assert found == [{}, {"inaction": ["没人处理"]}, {}, {}, {"inaction": ["不作为"]}, {},
                     {"inaction": ["不作为"]}]


def test_cues_merge_like_one_alternation():
    """Leftmost match first, patterns before terms at the same start, no overlapping phrases."""
    est = LexiconThemeClassifier().fit()
    assert est.evidence(["审批拖了两个月，态度非常差"])[0] == {
        "efficiency": ["拖了两个月"], "attitude": ["态度非常差"]}
    assert est.decision_function(["态度差态度差"])[0, 1] == 1   # the same phrase counts once


@pytest.mark.parametrize("text, expected", [
    ("这是不是推诿？", ["buck_passing"]),                       # 是不是 asks; its 不 negates nothing
    ("有关部门是否存在不作为？", ["inaction"]),
    ("现不是规定医院药品不准加价出售了，为什么还加这么多", ["policy"]),
    ("不知是不是推诿", []),                                     # a guess, not a complaint
    ("不知道是否存在乱收费", []),
    ("从不推诿", []),
])
def test_questions_do_not_negate_but_guesses_do(classifier, text, expected):
    assert themes_of(classifier, text) == expected


def test_short_gaps_stop_at_clause_breaks_and_long_ones_at_sentence_ends(classifier):
    # (效率)(.{0,3})(低) once read 提升工作效率，降低成本 as a complaint
    assert themes_of(classifier, "提升工作效率，降低成本") == []
    assert themes_of(classifier, "办理效率太低") == ["efficiency"]
    # the gap in 多次…投诉/举报 may span a comma but not a full stop
    assert themes_of(classifier, "多次劝阻无果。向城管举报") == []
    assert themes_of(classifier, "多次向社区，街道反映") == ["inaction"]
    # months gone by, then the clause saying nothing was done: a comma between them is normal
    assert "inaction" in themes_of(classifier, "向街道反映到现在已经半年了，还是没有解决")


def test_negation_cue_holding_an_ignored_phrase_is_found_before_removal():
    # 是不是 is ignored (a question), but 不知是不是 is a negation cue that contains it
    est = LexiconThemeClassifier().fit()
    assert est.negation_.before_raw is not None and est.negation_.before_raw.search("不知是不是")
    assert est.negation_.negated("不知是不是推诿", 5, 7)
    assert not est.negation_.negated("是不是推诿", 3, 5)


@pytest.mark.parametrize("text, expected", [
    # policy: a benefit awaited, not applied here though applied elsewhere, an entitlement denied
    ("我们村的退耕还林补贴什么时候能发放？", ["policy"]),
    ("为什么我们乡镇教师不能享受乡镇工作补贴", ["policy"]),
    ("周边县都已经发放了，我们县还在研究", ["policy"]),
    ("按照上级文件我们应该享受这项补助", ["policy"]),
    ("惠民政策执行走样", ["policy"]),
    ("到底是哪一条规定外嫁女不能分征地款", ["policy"]),
    # inaction: nobody deals with it, supervision failing, no measures taken by an office
    ("垃圾堆了几个月，为什么没人管", ["inaction"]),
    ("环保部门监管不力", ["inaction"]),
    ("街道没有采取任何措施", ["inaction"]),
    # buck passing, unlawful acts of an office, rudeness
    ("打电话问，说这事他们管不着", ["buck_passing"]),
    ("村干部违规发包集体土地", ["lawful_admin"]),
    ("镇政府强占村民的自留地", ["lawful_admin"]),
    ("窗口工作人员破口大骂", ["attitude"]),
    # second round: what is the office doing, enforcement that does not last, how long to wait
    ("垃圾堆成山，环保局是干嘛的？", ["inaction"]),
    ("路灯坏了大半年，相关部门在干嘛？", ["inaction"]),
    ("每次投诉城管来了就停，城管一走又开工", ["inaction"]),
    ("申请的独生子女优待金，快一年了也没领到", ["policy"]),
    ("购房补贴要多久才能下发？", ["efficiency"]),
    ("社区说马上修，一拖就是三年", ["efficiency"]),
])
def test_phrase_families_added_for_real_messages(classifier, text, expected):
    assert themes_of(classifier, text) == expected


@pytest.mark.parametrize("text", [
    "开发商没有采取任何措施",            # a company, not an office
    "没有采取任何措施的话，后果严重",      # no office in the sentence
    "商店老板破口大骂",
    "补贴标准是多少？",
    "商店老板一走又开门营业",            # no office in the sentence
    "施工方一拖就是三个月",              # a contractor's delay
    "邻居强占我家宅基地",                # 强占 by a private party
])
def test_phrase_families_keep_their_limits(classifier, text):
    assert themes_of(classifier, text) == []
