import pytest

from textmine.errors import DataFileError
from textmine.redact import Masker


@pytest.fixture(scope="module")
def masker():
    return Masker.from_file()


@pytest.mark.parametrize("text, expected", [
    ("我电话13912345678，一直没人回复", "我电话【电话】，一直没人回复"),
    ("手机 +86 139-1234-5678", "手机 【电话】"),
    ("座机0571-87654321", "座机【电话】"),
    ("电话(0571)87654321", "电话【电话】"),
    ("身份证11010519491231002X", "身份证【身份证号】"),
    ("身份证号110105194912310021。", "身份证号【身份证号】。"),
    ("老身份证110105491231002", "老身份证【身份证号】"),
    ("卡号6222021234567890123", "卡号【银行卡号】"),
    ("卡号6222 0212 3456 7890", "卡号【银行卡号】"),
    ("邮箱zhang.san@example.com.cn", "邮箱【邮箱】"),
    ("我叫王建国，在窗口办事", "我叫【姓名】，在窗口办事"),
    ("本人李红。", "本人【姓名】。"),
    ("QQ:12345678", "QQ:【社交账号】"),
    ("加我微信 zhangsan_88 详谈", "加我微信 【社交账号】 详谈"),
    ("我是刘晓燕，住在幸福小区", "我是【姓名】，住在幸福小区"),
    ("本人宋佳怡反映以下问题", "本人【姓名】反映以下问题"),
    ("家里电话（0571）86001234", "家里电话【电话】"),
    ("身份证 330106 19850312 231X", "身份证 【身份证号】"),
    ("车牌浙A12345被扣", "车牌【车牌号】被扣"),
])
def test_masks_personal_data(masker, text, expected):
    assert masker.mask(text) == expected


@pytest.mark.parametrize("text", [
    "拖了3个月，罚款500元，2023年12月1日",
    "打12345热线没人接",
    "本人是一名教师",
    "收费标准是多少？每户200元",
    "窗口态度生硬，审批拖了两个月",
    "我是安徽人，在这里打工五年了",
    "本人是党员，希望干部作风再实一点",
    "本人经常在窗口排队",
    "微信公众号上预约不了",
])
def test_ordinary_text_is_untouched(masker, text):
    assert masker.mask(text) == text


def test_masking_is_idempotent(masker):
    text = "我叫张三，电话13912345678，身份证11010519491231002X，邮箱a@b.cn"
    once = masker.mask(text)
    assert masker.mask(once) == once
    assert not any(ch.isdigit() for ch in once)


def test_findings_name_the_kind(masker):
    kinds = [k for k, _ in masker.findings("电话13912345678 邮箱a@b.cn")]
    assert kinds == ["email", "mobile"]


def test_rule_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rules]]\nname = "x"\nplaceholder = "X"\npattern = "("\n', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"rules.toml:4: rule 'x': invalid pattern"):
        Masker.from_file(bad)
    bad.write_text('[[rules]]\nname = "x"\nplaceholder = "【1】"\npattern = "\\\\d"\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="idempotent"):
        Masker.from_file(bad)
