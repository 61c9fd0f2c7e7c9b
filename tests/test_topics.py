"""Topic discovery: estimator contract, determinism, stable ids, theme mapping, outputs, CLI."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from textmine.cli import main
from textmine.errors import ColumnError, InputError, TextmineError
from textmine.pipeline import sample_path
from textmine.topics import (
    ModelError,
    TopicModel,
    analyse_topics,
    choose_k,
    load_topic_model,
    model_dir,
    run_topics,
    save_topic_model,
    topic_coherence,
    topic_diversity,
)

# three problems with disjoint vocabularies; flooding is in no taxonomy theme
VOCAB = {
    "flood": ["小区积水", "排水管道", "暴雨", "淹水", "地下车库", "排水", "堵塞", "积水严重"],
    "attitude": ["态度恶劣", "不耐烦", "工作人员", "训斥", "态度", "脸色", "爱理不理", "窗口"],
    "fees": ["乱收费", "收费标准", "不透明", "收费", "费用", "发票", "多收", "押金"],
}


def synthetic(n_per_topic: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for source, words in VOCAB.items():
        for _ in range(n_per_topic):
            picked = rng.sample(words, 4)
            rows.append({"意见": "，".join(picked) + "。", "source": source,
                         "单位": rng.choice(["市住建局", "市税务局"]),
                         "日期": rng.choice(["2025-01-15", "2025-02-03"])})
    frame = pd.DataFrame(rows)
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    return frame


COLUMNS = {"text": "意见", "office": "单位", "date": "日期"}


@pytest.fixture(scope="module")
def plain_segmenter():
    from textmine.segment import Segmenter

    return Segmenter()


@pytest.fixture(scope="module")
def synthetic_result(toolkit, plain_segmenter):
    return analyse_topics(synthetic(), COLUMNS, k=3, seed=0, toolkit=toolkit, theme_segmenter=plain_segmenter)


def test_recovers_planted_topics_and_maps_them(synthetic_result):
    result = synthetic_result
    frame = synthetic()
    truth = frame["source"].to_numpy()
    assigned = result.doc_topics["topic"].to_numpy()
    # every planted problem lands in exactly one topic
    for source in VOCAB:
        topics = set(assigned[truth == source])
        assert len(topics) == 1, (source, topics)
    theme_of = {source: result.topics.loc[assigned[truth == source][0], "theme"] for source in VOCAB}
    assert theme_of == {"flood": "new", "attitude": "attitude", "fees": "fees"}
    new = result.topics[result.topics["theme"] == "new"].iloc[0]
    assert new["theme_terms"] == "" and new["theme_name"] == "新主题"
    flood_text = "".join(VOCAB["flood"])  # its terms, ready to be promoted into a taxonomy
    assert all(term in flood_text for term in new["terms"].split())


def test_topic_table_invariants(synthetic_result):
    topics = synthetic_result.topics
    assert list(topics["topic"]) == [0, 1, 2]
    assert topics["size"].sum() == synthetic_result.info["with_topic"] == 120
    assert list(topics["size"]) == sorted(topics["size"], reverse=True)  # ids: biggest first
    assert topics["share"].sum() == pytest.approx(1.0, abs=1e-3)
    assert topics["coherence"].between(-1, 1).all()
    assert len(synthetic_result.doc_topics) == 120


def test_breakdowns_count_every_document(synthetic_result):
    per_office = synthetic_result.per_office
    assert set(per_office.columns) == {"office", "topic", "count", "share"}
    assert per_office["count"].sum() == 120
    assert per_office.groupby("office")["share"].sum().round(3).eq(1.0).all()
    over_time = synthetic_result.over_time
    assert set(over_time["period"]) == {"2025-01", "2025-02"}
    assert over_time["count"].sum() == 120


def test_representatives_are_typical_and_distinct(synthetic_result):
    reps = synthetic_result.representatives
    assert reps.groupby("topic").size().eq(5).all()
    assert not reps.duplicated(["topic", "text"]).any()
    doc = synthetic_result.doc_topics.set_index("row_id")
    assert (doc.loc[reps["row_id"], "topic"].to_numpy() == reps["topic"].to_numpy()).all()


def test_representatives_are_masked(toolkit, plain_segmenter):
    frame = synthetic(20)
    frame.loc[2, "意见"] = "小区积水，排水管道，暴雨，淹水。联系13912345678"
    result = analyse_topics(frame, COLUMNS, k=3, seed=0, toolkit=toolkit, n_examples=20,
                            theme_segmenter=plain_segmenter)
    texts = " ".join(result.representatives["text"])
    assert "13912345678" not in texts and "【电话】" in texts


def test_empty_and_non_substantive_rows_get_no_topic(toolkit, plain_segmenter):
    frame = synthetic(20)
    frame.loc[2, "意见"] = "无意见"
    frame.loc[3, "意见"] = ""
    result = analyse_topics(frame, COLUMNS, k=3, seed=0, toolkit=toolkit, theme_segmenter=plain_segmenter)
    doc = result.doc_topics.set_index("row_id")
    assert doc.loc[2, "topic"] == -1 and doc.loc[3, "topic"] == -1 and doc.loc[3, "weight"] == 0
    assert result.info["without_topic"] == 2 and result.info["non_substantive"] == 2


@pytest.mark.parametrize("method", ["nmf", "lda", "gensim-lda"])
def test_every_method_is_deterministic(toolkit, method):
    texts = synthetic()["意见"].tolist()
    a = TopicModel(n_topics=3, method=method, random_state=7, segmenter=toolkit.segmenter).fit(texts)
    b = TopicModel(n_topics=3, method=method, random_state=7, segmenter=toolkit.segmenter).fit(texts)
    assert a.top_terms_ == b.top_terms_
    np.testing.assert_allclose(a.transform(texts), b.transform(texts))
    weights = a.transform(texts)
    assert weights.shape == (120, 3)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)


def test_estimator_contract(toolkit):
    model = TopicModel(n_topics=4, method="lda", segmenter=toolkit.segmenter)
    assert not hasattr(model, "components_")
    assert clone(model).get_params()["n_topics"] == 4
    with pytest.raises(NotFittedError):
        model.predict(["态度恶劣"])
    with pytest.raises(ValueError, match="method must be one of"):
        TopicModel(method="bertopic").fit(["a"])
    with pytest.raises(ValueError, match="n_topics must be an integer ≥ 2, got 1"):
        TopicModel(n_topics=1).fit(["a"])


def test_too_few_documents_or_terms_is_a_clear_error(toolkit):
    with pytest.raises(InputError, match="only 2 documents with words"):
        TopicModel(n_topics=3, segmenter=toolkit.segmenter).fit(["态度恶劣", "乱收费", ""])
    with pytest.raises(InputError, match="too few for 3 topics|no vocabulary left"):
        TopicModel(n_topics=3, min_df=50, segmenter=toolkit.segmenter).fit(synthetic(10)["意见"])


def test_unknown_words_give_no_topic(synthetic_result):
    model = synthetic_result.model
    predicted = model.predict(["哈哈哈", "态度恶劣，不耐烦，训斥"])
    assert predicted[0] == -1 and predicted[1] >= 0


def test_choose_k_reports_the_curve(toolkit):
    tokens = TopicModel(segmenter=toolkit.segmenter).tokenize(synthetic()["意见"])
    curve, models = choose_k(tokens, [2, 3, 5], segmenter=toolkit.segmenter)
    assert list(curve["k"]) == [2, 3, 5]
    assert curve["chosen"].sum() == 1
    best = curve.loc[curve["coherence"].idxmax(), "k"]
    assert curve.loc[curve["chosen"], "k"].item() == best
    assert set(models) == {2, 3, 5}
    assert curve["diversity"].between(0, 1).all()


def test_coherence_and_diversity_measures():
    tokens = [["暴雨", "积水"], ["暴雨", "积水"], ["收费", "发票"], ["收费", "发票"]]
    npmi = topic_coherence([["暴雨", "积水"], ["暴雨", "发票"], ["未知", "暴雨"]], tokens)
    assert npmi[0] == pytest.approx(1.0, abs=1e-6)  # always together
    assert npmi[1] < 0  # never together
    assert np.isnan(npmi[2])  # fewer than two known terms
    assert topic_diversity([["a", "b"], ["a", "c"]]) == 0.75


def write_sample_subset(path: Path, rows: int) -> Path:
    frame = pd.read_csv(sample_path(), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.head(rows).to_csv(path, index=False, encoding="utf-8")
    return path


def test_same_seed_gives_identical_files(tmp_path, toolkit, plain_segmenter):
    sample = write_sample_subset(tmp_path / "sample.csv", 1500)
    run_topics(sample, tmp_path / "a", k=8, seed=3, toolkit=toolkit, theme_segmenter=plain_segmenter)
    run_topics(sample, tmp_path / "b", k=8, seed=3, toolkit=toolkit, theme_segmenter=plain_segmenter)
    for name in ("topics.csv", "doc_topics.csv", "representatives.csv", "topics_per_office.csv",
                 "topics_over_time.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    topics = pd.read_csv(tmp_path / "a" / "topics.csv", encoding="utf-8-sig")
    assert list(topics.columns) == ["topic", "label", "terms", "size", "share", "coherence", "theme",
                                    "theme_name", "theme_score", "theme_terms"]
    assert len(topics) == 8


def test_saved_model_keeps_ids_on_a_new_batch(tmp_path, toolkit, plain_segmenter):
    shared = {"toolkit": toolkit, "theme_segmenter": plain_segmenter, "models_root": tmp_path / "models"}
    training = write_sample_subset(tmp_path / "training.csv", 1500)
    first = run_topics(training, tmp_path / "out1", k=6, seed=0, model="m", **shared)
    saved = tmp_path / "models" / "m"
    assert (saved / "metadata.json").exists() and first.info["model"] == {"path": str(saved), "reused": False}
    batch = write_sample_subset(tmp_path / "batch.csv", 400)
    second = run_topics(batch, tmp_path / "out2", model="m", **shared)
    assert second.info["model"]["reused"] is True
    before = first.doc_topics.set_index("row_id")["topic"]
    after = second.doc_topics.set_index("row_id")["topic"]
    assert (before.loc[after.index] == after).all()
    assert second.topics["terms"].tolist() == first.topics["terms"].tolist()
    loaded = load_topic_model(saved)
    assert loaded.top_terms_ == first.model.top_terms_


def test_bad_model_folders_are_clear_errors(tmp_path, synthetic_result):
    with pytest.raises(ModelError, match="not a saved topic model"):
        load_topic_model(tmp_path)
    save_topic_model(synthetic_result.model, tmp_path / "m")
    meta = tmp_path / "m" / "metadata.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace('"format": 1', '"format": 99'), encoding="utf-8")
    with pytest.raises(ModelError, match="unsupported model format 99"):
        load_topic_model(tmp_path / "m")
    assert model_dir("m") == Path("models") / "m"
    assert model_dir(tmp_path / "x") == tmp_path / "x"


def test_breakdown_without_its_column_is_an_error(toolkit):
    with pytest.raises(ColumnError, match="--by office needs a office column"):
        analyse_topics(synthetic(), {"text": "意见"}, k=3, by=["office"], toolkit=toolkit)


def test_cli_topics(tmp_path):
    source = tmp_path / "in.csv"
    synthetic().drop(columns="source").to_csv(source, index=False)
    runner = CliRunner()
    result = runner.invoke(main, ["topics", str(source), "--out", str(tmp_path / "out"), "--k", "3",
                                  "--office-col", "单位"])
    assert result.exit_code == 0, result.output
    assert "3 topics (nmf, seed 0) on 120 of 120 rows" in result.output
    assert "1 topic(s) flagged new" in result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["doc_topics.csv", "representatives.csv", "topics.csv", "topics.json",
                     "topics_over_time.csv", "topics_per_office.csv"]
    auto = runner.invoke(main, ["topics", str(source), "--out", str(tmp_path / "auto"), "--k", "auto",
                                "--k-range", "2,3,4", "--by", "month"])
    assert auto.exit_code == 0, auto.output
    assert "mean c_npmi by k — 2: " in auto.output and "chose k = " in auto.output
    curve = pd.read_csv(tmp_path / "auto" / "k_curve.csv", encoding="utf-8-sig")
    assert list(curve["k"]) == [2, 3, 4] and curve["chosen"].sum() == 1
    assert not (tmp_path / "auto" / "topics_per_office.csv").exists()
    bad = runner.invoke(main, ["topics", str(source), "--k", "1"])
    assert bad.exit_code == 2 and "must be an integer ≥ 2 or 'auto'" in bad.output
    missing = runner.invoke(main, ["topics", str(source), "--out", str(tmp_path / "x"), "--text-col", "意见",
                                   "--office-col", "", "--by", "office"])
    assert missing.exit_code == 1 and "Error: --by office needs a office column" in missing.output


def test_library_errors_are_textmine_errors():
    assert issubclass(ModelError, TextmineError)
