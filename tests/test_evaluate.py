import pytest

from textmine.evaluate import multilabel_scores


def test_hand_computed_scores():
    truth = ["a;b", "a", "", ""]
    pred = ["a", "a;b", "b", ""]
    scores = multilabel_scores(truth, pred, ["a", "b", "c"])
    per = scores["per_theme"].set_index("theme")
    assert per.loc["a", ["tp", "fp", "fn"]].tolist() == [2, 0, 0]
    assert per.loc["b", ["tp", "fp", "fn"]].tolist() == [0, 2, 1]
    # micro: tp 2, fp 2, fn 1 → P 2/4, R 2/3, F1 2·(1/2)(2/3)/(1/2+2/3) = 4/7
    assert scores["micro"] == {"precision": 0.5, "recall": 0.6667, "f1": 0.5714}
    assert scores["macro_f1"] == 0.5          # (1.0 + 0.0) / 2; c never occurs
    assert scores["exact_match"] == 0.25
    assert scores["n"] == 4


def test_length_mismatch():
    with pytest.raises(ValueError, match="2 label rows but 1 predictions"):
        multilabel_scores(["a", "b"], ["a"], ["a", "b"])
