from textmine.segment import Segmenter


def test_user_dictionary_keeps_government_terms_whole():
    seg = Segmenter()
    assert "推诿扯皮" in seg.cut("部门之间推诿扯皮现象严重")
    assert "首问负责制" in seg.cut("建议落实首问负责制")


def test_tokens_drop_stopwords_punctuation_and_numbers():
    tokens = Segmenter().tokens("我们的审批拖了3个月，太慢了！！")
    assert "我们" not in tokens and "的" not in tokens
    assert "3" not in tokens and "，" not in tokens and "！" not in tokens
    assert "审批" in tokens


def test_instances_do_not_share_dictionaries():
    plain = Segmenter()
    special = Segmenter(extra_words=["窗口办事难"])
    assert "窗口办事难" in special.cut("这个窗口办事难")
    assert "窗口办事难" not in plain.cut("这个窗口办事难")
    # building the special one did not leak into a fresh instance either
    assert "窗口办事难" not in Segmenter().cut("这个窗口办事难")


def test_custom_stopwords_from_sequence():
    seg = Segmenter(stopwords=["审批"])
    assert "审批" not in seg.tokens("审批太慢")


def test_callable_as_sklearn_tokenizer_and_picklable():
    import pickle

    seg = Segmenter(extra_words=["营业执照"])
    seg.tokens("办营业执照")
    clone = pickle.loads(pickle.dumps(seg))
    assert clone("办营业执照") == seg("办营业执照")
