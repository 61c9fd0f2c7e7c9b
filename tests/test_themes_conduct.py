"""Phrase families of the conduct themes (inaction, buck_passing, attitude, competence, process,
discipline) and the shared negation table, on short made-up sentences.

Each family is checked with sentences it must catch and with the near misses it must leave alone:
praise, questions, requests, a property company or a shop as the actor.
"""
from .conftest import assert_theme, themes_found


def test_inaction_reports_without_effect(lexicon):
    assert_theme(lexicon, "inaction", hits=[
        "噪音扰民，多次打12345市民热线，没有任何效果。",
        "我们向环保局反映，然而并没有什么用。",
        "这个问题已经投诉至少3次了，一点改善都没有。",
        "找了无数次镇里领导，一点用也没有。",
        "向多个部门反映，毫无反应。",
    ], misses=[
        "这个软件没什么用，建议取消。",
        "反映的问题已经解决，非常满意。",
        "我没有投诉过，也没有效果可言。",
    ])


def test_inaction_not_accepted_and_nobody_came(lexicon):
    assert_theme(lexicon, "inaction", hits=[
        "之前向12345热线反映，均未受理。",
        "我们持续报案，派出所一直不立案。",
        "打电话给相关部门，一直没有人来处理。",
        "举报给城管队，等了一个小时也不见执法人员来制止。",
        "路灯坏了半年，怎么就没有相关部门来管？",
    ], misses=[
        "请问这个申请多久可以受理？",
        "路灯坏了半年，怎么没人管？",               # a substantive problem alone: no office named
        "楼道堆满杂物，物业也没有人来处理。",         # weak cue without an office near it
    ])


def test_inaction_no_answer_of_substance_and_no_improvement(lexicon):
    assert_theme(lexicon, "inaction", hits=[
        "已书面反映路政，但近一个月没有给出处理意见。",
        "孩子被罚站两个月，教育局没有给个说法。",
        "去年就向社区反映，一直未得到改善。",
        "城管睁只眼闭只眼，也不管。",
    ], misses=[
        "开发商都没有给出明确答复。",                 # a developer, not an office
        "希望给个说法。",
    ])


def test_inaction_calls_again_and_again(lexicon):
    assert_theme(lexicon, "inaction", hits=[
        "违停严重，多次打122电话，交警也不来处理。",
        "小区居民无数次拨打12345热线。",
    ], misses=[
        "多次打击此类违法行为，值得肯定。",
    ])


def test_complaint_words_do_not_negate_the_cue_after_them(lexicon):
    # 不监管 / 置之不理 are complaints themselves: the 不 in them negates nothing
    assert "inaction" in themes_found(lexicon, "卫生局不监管不作为。")
    assert "buck_passing" in themes_found(lexicon, "相关部门对此置之不理或相互推诿。")
    # plain negations still cancel the cue
    assert "inaction" not in themes_found(lexicon, "街道从来没有不作为的情况，点赞。")
    assert "buck_passing" not in themes_found(lexicon, "希望各部门不要推诿。")


def test_buck_passing_told_it_is_not_theirs(lexicon):
    assert_theme(lexicon, "buck_passing", hits=[
        "城管回复是渣土车运送造成的，他们管不了。",
        "消防总队回复说这是小区内的消防问题，他们管不了，要我们找城管。",
        "找到区法院信访室，说此事归市中院管。",
        "以前反映的时候答复说属于金星村管辖。",
        "监管部门说不是他的管辖范围。",
    ], misses=[
        "这件事归哪个部门管？",
        "这件事我们管不了，请谅解。",
    ])


def test_buck_passing_sent_elsewhere_and_kicked_around(lexicon):
    assert_theme(lexicon, "buck_passing", hits=[
        "社保所的人搞不懂，叫我们直接找县社保局。",
        "110说要我自己联系基层派出所。",
        "两个街道办像个皮球一样把我踢来踢去。",
        "打了各种投诉电话，都是我推你你推他。",
        "反映给村里，村干部说已过维护期，要我们自行解决。",
    ], misses=[
        "物业让我们自己联系承建商。",                   # a property company
        "家人让我再去找一下工作人员。",                 # no office sending anyone away
        "要我自己想办法疏通管道。",                     # weak cue with no office near
    ])


def test_discipline_names_staff_not_citizens(lexicon):
    assert_theme(lexicon, "discipline", hits=[
        "九点多了还没开门。",
        "窗口经常没人，等了半天。",
        "大厅里窗口人员在网上购物。",
        "检疫站人员白天不上班，晚上才来。",
        "工作人员上班时间玩手机。",
        "医生在打牌，病人没人管。",
    ], misses=[
        "公交太慢，上班都迟到了。",                     # the writer is late, not staff
        "我翻了聊天记录，卖家确实答应退款。",
        "孩子在家玩游戏，不写作业。",
        "支持科研人员离岗创业的政策怎么申请？",
        "工地通宵施工，我们上班时间都在打瞌睡。",
    ])


def test_attitude_rude_treatment_but_not_companies(lexicon):
    assert_theme(lexicon, "attitude", hits=[
        "窗口人员把群众当犯人一样训。",
        "冷着个脸，材料往外一扔，让我自己看。",
        "经办人说话一点都不客气。",
    ], misses=[
        "门难进，手续太多。",                           # hard to get in is a process complaint
        "驾校教练态度恶劣，说就是不退费。",
        "工作人员态度很好，说话客气。",
    ])


def test_competence_wrong_or_inconsistent_answers(lexicon):
    assert_theme(lexicon, "competence", hits=[
        "问三个人三种说法。",
        "调解员的说法跟上次不一样。",
        "告诉我的流程是错的。",
        "按他说的填，结果全填错了。",
        "导办员连自己的业务都搞不清。",
        "工作人员政策都讲不明白。",
        "专业水平太差，建议加强培训。",
        "信访局的同志接待了我，却一直说不清楚。",
    ], misses=[
        "费用明细说不清楚。",                           # a bill, a fees complaint
        "情况比较复杂，我也说不清楚。",                 # the writer himself
        "物业公司太不专业。",
    ])


def test_process_documents_guides_and_copies(lexicon):
    assert_theme(lexicon, "process", hits=[
        "还要开无房证明。",
        "办事指南写得不清楚。",
        "要交14份材料。",
        "同样的材料要交好几份。",
        "门难进，能不能简化一下？",
    ], misses=[
        "上个月交了三次电费。",
        "电梯经常卡死，物业不管。",
        "附近找不到地方停车。",
    ])
