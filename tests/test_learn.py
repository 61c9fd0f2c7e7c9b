import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from textmine.cli import main
from textmine.learn import (NEIGHBOUR_COUNTS, NEIGHBOUR_WEIGHTS, LearnedThemeClassifier, NgramVectorizer,
                            OfficeAliasNormaliser, RouteClassifier, _neighbour_votes)
from textmine.modelstore import ModelError, load_model, load_pickled, read_metadata, save_model, write_model
from textmine.resources import corpus_path


@pytest.fixture(scope="module")
def labelled_sample():
    """Substantive sample opinions with their themes (answer key) and their office's category."""
    opinions = pd.read_csv(corpus_path("sample", "opinions_2025.csv"), dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")
    truth = pd.read_csv(corpus_path("sample", "opinions_2025_truth.csv"), dtype=str, keep_default_na=False)
    offices = pd.read_csv(corpus_path("offices.csv"), dtype=str)
    frame = opinions.merge(truth, on="序号")
    frame = frame[frame["kind"].isin(["complaint", "multi", "praise", "suggestion"])]
    frame = frame.merge(offices[["office", "category"]], left_on="被评议单位", right_on="office")
    return frame.head(900).reset_index(drop=True)


@pytest.fixture(scope="module")
def theme_model(labelled_sample):
    train = labelled_sample.iloc[:600]
    return LearnedThemeClassifier(lexicon="none").fit(train["意见建议"].tolist(), train["themes"].tolist())


def test_vectorizer_blocks_and_validation():
    vec = NgramVectorizer(min_df=1).fit(["审批太慢", "态度很差", "审批要跑三趟"])
    names = vec.feature_names()
    assert any(n.startswith("char:") for n in names) and any(n.startswith("word:") for n in names)
    assert vec.transform(["审批"]).shape == (1, len(names))
    with pytest.raises(ValueError, match="char_ngrams"):
        NgramVectorizer(char_ngrams=(3, 1)).fit(["x"])
    with pytest.raises(ValueError, match="both be None"):
        NgramVectorizer(char_ngrams=None, word_ngrams=None).fit(["x"])


def test_theme_model_learns_held_out_themes(theme_model, labelled_sample):
    test = labelled_sample.iloc[600:]
    pred = theme_model.predict(test["意见建议"].tolist())
    classes = list(theme_model.classes_)
    truth = np.array([[c in t.split(";") for c in classes] for t in test["themes"]]).astype(int)
    tp, fp, fn = (pred & truth).sum(), (pred & (1 - truth)).sum(), ((1 - pred) & truth).sum()
    micro_f1 = 2 * tp / (2 * tp + fp + fn)
    assert micro_f1 > 0.6, micro_f1   # far above chance on held-out synthetic opinions


def test_theme_model_contract_evidence_and_confidence(theme_model):
    assert set(theme_model.get_params()) >= {"C", "lexicon", "taxonomy", "random_state"}
    assert clone(theme_model).get_params() == theme_model.get_params()
    with pytest.raises(NotFittedError):
        LearnedThemeClassifier().predict(["x"])
    texts = ["窗口工作人员态度恶劣，还训人", "无"]
    evidence, confidence = theme_model.explain(texts)
    assert "attitude" in evidence[0] and evidence[0]["attitude"]        # n-grams explain the decision
    assert 0.0 <= confidence[0]["attitude"] <= 1.0
    assert set(confidence[0]) == set(evidence[0])
    with pytest.raises(ValueError, match="not in the taxonomy"):
        LearnedThemeClassifier().fit(["a", "b"], ["nonsense", ""])


def test_lexicon_union_adds_lexicon_themes(labelled_sample):
    train = labelled_sample.iloc[:200]
    model = LearnedThemeClassifier(lexicon="union", tune_thresholds=False).fit(
        train["意见建议"].tolist(), [""] * len(train))   # nothing learned: only the lexicon speaks
    assert model.predict(["几个部门相互推诿"])[0, list(model.classes_).index("buck_passing")] == 1


def test_route_classifier_and_confidence(labelled_sample):
    train, test = labelled_sample.iloc[:600], labelled_sample.iloc[600:]
    model = RouteClassifier().fit(train["意见建议"].tolist(), train["category"].tolist())
    proba = model.predict_proba(test["意见建议"].tolist())
    assert np.allclose(proba.sum(axis=1), 1.0)
    accuracy = (model.predict(test["意见建议"].tolist()) == test["category"].to_numpy()).mean()
    assert accuracy > 0.5    # 4 categories; chance is about 0.3
    # calibrated: the mean confidence is close to the accuracy it claims
    assert abs(proba.max(axis=1).mean() - accuracy) < 0.15, (proba.max(axis=1).mean(), accuracy)
    routes, conf = model.route(test["意见建议"].tolist()[:20], min_confidence=1.01)
    assert set(routes) == {"unsure"} and (conf <= 1).all()
    routes, _ = model.route(test["意见建议"].tolist()[:20])
    assert "unsure" not in set(routes)
    with pytest.raises(ValueError, match="two different labels"):
        RouteClassifier().fit(["a", "b"], ["x", "x"])


def test_office_aliases_become_one_canonical_name():
    normalise = OfficeAliasNormaliser()
    assert normalise("区城管局的人乱收费") == "区市城市管理局的人乱收费"
    assert normalise("城管来了") == "市城市管理局来了"                     # two aliases, one name
    assert normalise("社保中心排队") == "市人力资源和社会保障局排队"
    assert normalise("打12345热线") == "打市12345政务服务便民热线"        # the longest alias wins
    assert normalise("号码123456") == "号码123456"                      # ASCII alias inside a number: no
    assert normalise.mentions("派出所和公安局") == ["市公安局", "市公安局"]
    vec = NgramVectorizer(min_df=1, offices=True).fit(["城管局很好", "城管执法局很好", "派出所太慢"])
    rows = vec.transform(["城管局很好", "城管执法局很好", "派出所太慢"]).toarray()
    assert np.array_equal(rows[0], rows[1]) and not np.array_equal(rows[0], rows[2])
    assert "word:市城市管理局" in set(vec.feature_names())           # a canonical name stays one word
    plain = NgramVectorizer(min_df=1).fit(["城管局很好", "城管执法局很好"])
    rows = plain.transform(["城管局很好", "城管执法局很好"]).toarray()
    assert not np.array_equal(rows[0], rows[1])


def test_office_table_can_be_the_users(tmp_path):
    table = tmp_path / "offices.csv"
    table.write_text("office,category,aliases\n区水务局,综合管理部门,水务所;排水办\n", encoding="utf-8")
    normalise = OfficeAliasNormaliser(table)
    assert normalise("排水办和水务所") == "区水务局和区水务局" and normalise("城管") == "城管"
    vec = NgramVectorizer(min_df=1, offices=str(table)).fit(["排水办", "水务所"])
    assert np.array_equal(*vec.transform(["排水办", "水务所"]).toarray())


def test_route_classifier_generalises_across_office_aliases():
    fillers = ["办事太慢", "工作人员态度不好", "来回跑了好几趟", "电话一直打不通", "材料要求不清楚", "排队排了半天"]
    train = [f"{alias}{f}" for f in fillers for alias in ("派出所", "劳动局")]
    labels = ["公安" if t.startswith("派出所") else "人社" for t in train]
    test = ["公安局办事太慢", "人社局办事太慢", "去公安局排队", "去人社局排队"]
    model = RouteClassifier(min_df=1).fit(train, labels)
    assert list(model.predict(test)) == ["公安", "人社", "公安", "人社"]


def test_route_model_round_trip_predicts_identically(tmp_path, labelled_sample):
    train, test = labelled_sample.iloc[:600], labelled_sample["意见建议"].tolist()[600:]
    model = RouteClassifier().fit(train["意见建议"].tolist(), train["category"].tolist())
    save_model(model, tmp_path / "r", task="route", training={"rows_used": 600})
    loaded, metadata = load_model(tmp_path / "r")
    assert np.array_equal(loaded.predict(test), model.predict(test))
    assert np.array_equal(loaded.decision_function(test), model.decision_function(test))
    assert np.array_equal(loaded.predict_proba(test), model.predict_proba(test))
    assert loaded.temperature_ == model.temperature_ and metadata["params"]["offices"] is True
    assert (loaded.n_neighbours_, loaded.neighbour_weight_) == (model.n_neighbours_, model.neighbour_weight_)
    assert metadata["params"]["n_neighbours"] == "auto" and metadata["params"]["neighbour_weight"] == "auto"
    assert metadata["task"] == "route" and metadata["labels"] == sorted(set(train["category"]))


def test_one_metadata_checker_serves_every_kind_of_model(tmp_path):
    directory = write_model({"a": 1}, tmp_path / "t", {"task": "topics", "kind": "textmine.topics.TopicModel"},
                            check=("gensim",), record=("numpy",))
    meta = read_metadata(directory, tasks=("topics",), what="topic model")
    assert meta["checked_versions"] == ["scikit-learn", "gensim"] and meta["versions"]["numpy"]
    assert load_pickled(directory) == {"a": 1}
    with pytest.raises(ModelError, match="a 'topics' model, not a textmine model"):
        load_model(directory)                       # `classify --model` given a topic model
    path = directory / "metadata.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["versions"]["gensim"] = "3.8.3"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelError, match="trained with gensim 3.8.3.*refit"):
        read_metadata(directory, tasks=("topics",), remedy="refit it")
    del raw["task"], raw["checked_versions"]        # written before metadata named its task
    raw["versions"] = {"scikit-learn": __import__("sklearn").__version__}
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert read_metadata(directory, tasks=("topics",))["task"] == "topics"
    with pytest.raises(ModelError, match="not a saved topic model \\(no metadata.json\\)"):
        read_metadata(tmp_path, tasks=("topics",), what="topic model")
    with pytest.raises(ValueError, match="name its task"):
        write_model({}, tmp_path / "x", {})


def test_save_load_round_trip_gives_identical_predictions(tmp_path, theme_model, labelled_sample):
    texts = labelled_sample["意见建议"].tolist()[600:700]
    save_model(theme_model, tmp_path / "m", task="themes", training={"rows_used": 600})
    loaded, metadata = load_model(tmp_path / "m")
    assert np.array_equal(loaded.predict(texts), theme_model.predict(texts))
    assert np.allclose(loaded.predict_proba(texts), theme_model.predict_proba(texts))
    assert metadata["task"] == "themes" and metadata["labels"] == list(theme_model.classes_)
    assert metadata["versions"]["scikit-learn"] and metadata["params"]["lexicon"] == "none"


def test_incompatible_or_damaged_models_are_refused(tmp_path, theme_model):
    directory = save_model(theme_model, tmp_path / "m", task="themes", training={})
    meta_path = directory / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["versions"]["scikit-learn"] = "0.24.2"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="trained with scikit-learn 0.24.2.*retrain"):
        load_model(directory)
    meta["versions"]["scikit-learn"] = __import__("sklearn").__version__
    meta["format"] = 99
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="format 99"):
        read_metadata(directory)
    with pytest.raises(ModelError, match="no metadata.json"):
        load_model(tmp_path)
    meta["format"] = 1
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    (directory / "model.joblib").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load the model"):
        load_model(directory)


@pytest.fixture(scope="module")
def labelled_csv(tmp_path_factory, labelled_sample):
    path = tmp_path_factory.mktemp("lab") / "labelled.csv"
    labelled_sample[["序号", "意见建议", "themes", "category"]].to_csv(path, index=False, encoding="utf-8")
    return path


def test_cli_train_classify_evaluate_themes(tmp_path, labelled_csv):
    runner = CliRunner()
    model_dir = tmp_path / "models" / "themes"
    result = runner.invoke(main, ["train", str(labelled_csv), "--text-col", "意见建议", "--label-col", "themes",
                                  "--out", str(model_dir)])
    assert result.exit_code == 0, result.output
    assert "trained a themes model on 900 rows" in result.output
    out = tmp_path / "tagged.csv"
    result = runner.invoke(main, ["classify", str(labelled_csv), "--text-col", "意见建议", "--model", str(model_dir),
                                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    tagged = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(tagged) == 900 and {"themes", "evidence", "confidence"} <= set(tagged.columns)
    assert (tagged["themes"] != "").sum() > 300
    result = runner.invoke(main, ["evaluate", str(labelled_csv), "--text-col", "意见建议", "--label-col", "themes",
                                  "--model", str(model_dir), "--json"])
    report = json.loads(result.output)
    assert report["task"] == "themes" and report["n"] == 900
    assert report["micro"]["f1"] > 0.8    # its own training data
    assert {r["label"] for r in report["per_label"]} >= {"efficiency", "attitude"}
    assert isinstance(report["confusion"], list)


def test_cli_evaluate_folds_and_default(labelled_csv):
    runner = CliRunner()
    result = runner.invoke(main, ["evaluate", str(labelled_csv), "--text-col", "意见建议", "--label-col", "themes",
                                  "--folds", "3", "--json"])
    assert result.exit_code == 0, result.output
    cv = json.loads(result.output)
    assert cv["classifier"].startswith("3-fold cross-validation") and 0.5 < cv["micro"]["f1"] <= 1
    result = runner.invoke(main, ["evaluate", str(labelled_csv), "--text-col", "意见建议", "--label-col", "themes"])
    assert result.exit_code == 0 and "shipped default classifier on 900 rows" in result.output
    assert "micro precision" in result.output


def test_cli_route_train_and_classify(tmp_path, labelled_csv):
    runner = CliRunner()
    model_dir = tmp_path / "route"
    result = runner.invoke(main, ["train", str(labelled_csv), "--text-col", "意见建议", "--label-col", "category",
                                  "--task", "route", "--out", str(model_dir)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "routed.csv"
    result = runner.invoke(main, ["classify", str(labelled_csv), "--text-col", "意见建议", "--model", str(model_dir),
                                  "--min-confidence", "0.999", "--out", str(out)])
    assert result.exit_code == 0, result.output
    routed = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert {"route", "route_confidence"} <= set(routed.columns)
    assert set(routed["route"]) <= {"unsure", "窗口服务单位", "执法监管部门", "综合管理部门", "公共服务企事业单位"}
    assert (routed["route"] == "unsure").any()


@pytest.mark.parametrize("args, message", [
    (["evaluate", "{csv}", "--text-col", "意见建议", "--label-col", "category", "--task", "route"], "no shipped default"),
    (["evaluate", "{csv}", "--text-col", "意见建议", "--label-col", "nope"], "column nope not found"),
    (["evaluate", "{csv}", "--text-col", "意见建议", "--label-col", "category"], "unknown theme code"),
    (["train", "{csv}", "--text-col", "意见建议", "--weak", "--task", "route", "--out", "x"], "themes only"),
    (["classify", "{csv}", "--text-col", "意见建议", "--model", "{tmp}", "--out", "{tmp}/o.csv"], "no metadata.json"),
])
def test_cli_errors_are_one_line(tmp_path, labelled_csv, args, message):
    args = [a.format(csv=labelled_csv, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_run_uses_a_trained_theme_model(tmp_path, labelled_csv):
    runner = CliRunner()
    model_dir = tmp_path / "m"
    assert runner.invoke(main, ["train", str(labelled_csv), "--text-col", "意见建议", "--label-col", "themes",
                                "--out", str(model_dir)]).exit_code == 0
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(labelled_csv), "--text-col", "意见建议", "--model", str(model_dir),
                                  "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    comments = pd.read_csv(out / "comments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "confidence" in comments.columns and (comments["confidence"] != "").sum() > 100
    route_dir = tmp_path / "r"
    assert runner.invoke(main, ["train", str(labelled_csv), "--text-col", "意见建议", "--label-col", "category",
                                "--task", "route", "--out", str(route_dir)]).exit_code == 0
    result = runner.invoke(main, ["run", str(labelled_csv), "--text-col", "意见建议", "--model", str(route_dir),
                                  "--out", str(out)])
    assert result.exit_code == 1 and "needs a themes model" in result.output


def test_neighbour_votes_are_squared_similarity_shares():
    from scipy import sparse

    train = sparse.csr_matrix(np.array([[1, 0], [0.6, 0.8], [0, 1]], dtype=np.float32))
    queries = sparse.csr_matrix(np.array([[1, 0], [0, 0]], dtype=np.float32))
    votes = _neighbour_votes(queries, train, np.array([0, 1, 1]), 3, (1, 2, 5))
    assert np.allclose(votes[1], [[1, 0, 0], [0, 0, 0]])           # the nearest is itself; no similarity: no votes
    assert np.allclose(votes[2][0], [1 / 1.36, 0.36 / 1.36, 0])      # weights 1² and 0.6²
    assert np.allclose(votes[5], votes[2])                           # the third row (similarity 0) adds nothing
    one_by_one = _neighbour_votes(queries, train, np.array([0, 1, 1]), 3, (1, 2, 5), batch=1)
    assert all(np.array_equal(one_by_one[k], votes[k]) for k in votes)


def test_route_neighbour_blend_settings(labelled_sample):
    train = labelled_sample.iloc[:300]
    texts, labels = train["意见建议"].tolist(), train["category"].tolist()
    svm_only = RouteClassifier(neighbour_weight=0.0).fit(texts, labels)
    assert np.array_equal(svm_only.predict(texts), svm_only.classes_[svm_only.decision_function(texts).argmax(1)])
    # all weight on one neighbour: a training message is routed where it was labelled (the texts are distinct)
    distinct = train.drop_duplicates("意见建议")
    nearest = RouteClassifier(n_neighbours=1, neighbour_weight=1.0).fit(distinct["意见建议"], distinct["category"])
    assert list(nearest.predict(distinct["意见建议"])) == distinct["category"].tolist()
    auto = RouteClassifier().fit(texts, labels)
    assert auto.n_neighbours_ in NEIGHBOUR_COUNTS and auto.neighbour_weight_ in NEIGHBOUR_WEIGHTS
    assert np.array_equal(auto.svm_.coef_, svm_only.svm_.coef_)     # the votes never change the SVM itself
    for bad in ({"n_neighbours": 0}, {"n_neighbours": "many"}, {"neighbour_weight": 1.5},
                {"neighbour_weight": True}, {"holdouts": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            RouteClassifier(**bad).fit(texts, labels)


def test_route_model_pickled_before_neighbour_votes_answers_as_before(tmp_path, labelled_sample):
    import joblib

    train, test = labelled_sample.iloc[:300], labelled_sample["意见建议"].tolist()[600:700]
    model = RouteClassifier(neighbour_weight=0.0).fit(train["意见建议"].tolist(), train["category"].tolist())
    expected = (model.predict(test), model.predict_proba(test))
    old = RouteClassifier(neighbour_weight=0.0).fit(train["意见建议"].tolist(), train["category"].tolist())
    for name in ("n_neighbours", "neighbour_weight", "holdouts", "n_neighbours_", "neighbour_weight_",
                 "train_features_", "train_codes_"):
        del old.__dict__[name]           # the attributes an older textmine did not have
    joblib.dump(old, tmp_path / "old.joblib")
    migrated = joblib.load(tmp_path / "old.joblib")
    assert np.array_equal(migrated.predict(test), expected[0])
    assert np.array_equal(migrated.predict_proba(test), expected[1])
    assert migrated.get_params()["neighbour_weight"] == 0.0 and migrated.get_params()["holdouts"] == 1
