"""Phrase families of the themes policy, integrity, lawful_admin, efficiency and fees, on short
made-up sentences.

Each family is checked with sentences it must catch and with the near misses it must leave alone:
praise, questions, a property company, a boss or a developer as the actor.
"""
from .conftest import assert_theme, themes_found


def test_policy_benefit_named_near_not_applied(lexicon):
    assert_theme(lexicon, "policy", hits=[
        "我家是贫困户，这几年从来没有享受过扶贫政策。",
        "上级规定的乡镇工作补贴，我们单位至今不予发放。",
        "同样是退休教师，唯独我们学校的生活补贴没有。",
        "今年的养老金被无故停发，生活没有着落。",
    ], misses=[
        "请问享受低保需要什么条件？",                        # a question
        "低保政策很好，每月按时发放，非常满意。",              # praise
        "物业承诺的优惠政策一直没有兑现。",                    # a property company's promise
        "老板克扣我们的加班补贴，还不发放工资。",              # a boss withholding pay
    ])


def test_policy_weak_cue_needs_its_context_nearby(lexicon):
    # the not-applied wording is the cue; the benefit word must stand within the window
    far = "扶贫" + "，".join(["村里修了路"] * 5) + "，我们没有享受。"
    assert "policy" not in themes_found(lexicon, far)
    assert themes_found(lexicon, "扶贫政策我们没有享受。")["policy"] == ["没有享受"]
    assert "policy" not in themes_found(lexicon, "这家店的服务我们没有享受。")


def test_policy_benefit_still_unpaid_after_long(lexicon):
    assert_theme(lexicon, "policy", hits=[
        "去年的种粮补贴，说好年底发，可我们至今还没有收到。",
        "每人增加了一百多元的养老金，时至今日增加的钱迟迟未到帐。",
        "我们的独生子女奖励补贴，政策实施多年，为何我们一直没有得到？",
        "特岗教师的正当待遇得不到落实。",
    ], misses=[
        "补贴已经全部发放到位，谢谢政府。",
        "待遇得不到保障的是外卖骑手，建议出台政策。",          # 保障 is a wish here, not a policy left unapplied
    ])


def test_policy_benefit_awaited_across_a_comma(lexicon):
    assert_theme(lexicon, "policy", hits=[
        "休耕补贴，什么时候能下来？",
        "出租车燃油补贴，是多少钱，何时可以发放？",
    ], misses=[
        "请问补贴的申请条件是什么？",
        "执业医师资格证什么时候发放？",                      # a certificate, not a benefit
    ])


def test_integrity_public_money_gone_missing(lexicon):
    assert_theme(lexicon, "integrity", hits=[
        "村里的征地补偿款到底去哪了？",
        "学校每学期收这么多伙食费，这些钱用到哪里去了，校长能公开吗？",
        "国家拨的教育经费到哪儿了？我们学校连电脑都没有。",
    ], misses=[
        "我的钱包丢了，钱去哪了也不知道。",                    # no public holder of the money
        "取缔音乐茶座，让我们这些消费者到哪里去休闲？",        # 费者 is not money
        "开发商收了几千万购房款，钱到哪里去了？",              # a developer, no office near
    ])


def test_lawful_admin_who_gave_them_the_power(lexicon):
    assert_theme(lexicon, "lawful_admin", hits=[
        "社区要求每户交900元才能接水，谁给社区这么大的权力？",
        "县社保局工作人员谁给的权利，私自支取个人养老金？",
        "处罚标准全凭领导个人意志，尽显权大于法。",
        "这就是以权压法的官僚作风。",
    ], misses=[
        "物业对我们停水，谁给他们的权利？",                    # a property company
        "谁给了我这么大的勇气，是家人的支持。",                # no power, no office
    ])


def test_policy_entitled_yet_denied_and_awaited_policy(lexicon):
    assert_theme(lexicon, "policy", hits=[
        "我们是水利局下属单位的职工，理应能享受国家的好政策，可是单位只缴了六年社保。",
        "村干部取消了我父母本应该享受的双女户补贴。",
        "中央提高养老金的政策在我们省何时才能落地？",
    ], misses=[
        "请问独生子女家庭应该享受哪些政策？",                # a question about entitlement
        "新的公积金政策什么时候执行？",                      # a plain question, no 才
        "我们应该享受生活，多出去走走。",                    # not a benefit
    ])


def test_fees_charged_despite_a_ban_or_without_basis(lexicon):
    assert_theme(lexicon, "fees", hits=[
        "国家已经取消天然气初装费了，为什么我们县还在收取？",
        "国家早就禁止公共厕所收费，而汽车站却要收费。",
        "学院在军训期间无理收费，一套用品要45元。",
        "快递代办点每件收取3元，这样的收费是否有法律依据？",
    ], misses=[
        "请问公证费的收费标准是多少？",                      # a question about the amount
        "取消这项服务后，请退还已收取的押金。",              # 退还 is no 'still'
        "公厕已经取消收费，非常方便。",                      # praise
    ])


def test_integrity_favoured_benefits_and_hidden_accounts(lexicon):
    assert_theme(lexicon, "integrity", hits=[
        "我们村的低保都是关系保、人情保。",
        "村里的财务从来没公开过，却说欠了两千万。",
        "教管办抽调的补贴是私分了吧。",
    ], misses=[
        "村里的财务每季度都公开，大家很放心。",               # praise
        "请问村务公开的内容有哪些？",                          # a question
    ])


def test_efficiency_sluggish_work(lexicon):
    assert_theme(lexicon, "efficiency", hits=[
        "工务部门办事拖拉，三个月还没验收。",
        "干部学到的是官僚作风和拖拉推诿。",
    ], misses=[
        "拖拉机在路上轰鸣，影响休息。",                        # a tractor
        "窗口办事效率很高，没有拖拉。",                        # praise, negated
    ])
