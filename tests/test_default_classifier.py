"""The shipped default theme classifier: the lexicon united with a model of the shipped
training messages, fitted once and cached."""
import re

import joblib
import numpy as np
import pandas as pd
import pytest

from textmine import default_classifier as dc
from textmine.classify import LexiconThemeClassifier, theme_table
from textmine.learn import LearnedThemeClassifier
from textmine.resources import corpus_path
from textmine.taxonomy import load_taxonomy

TEXTS = ["窗口态度生硬，审批拖了两个月", "几个部门相互推诿，踢皮球", "补贴迟迟不发，说好的政策没兑现",
         "工作人员很耐心，一次就办好了", "建议延长午休时间的办公", "办个证还要托关系送红包",
         "连续三个月去问，每次都说再等等，到今天也没人给个准话", "物业乱收费，收费不公示"]


@pytest.fixture
def small_corpus(tmp_path, monkeypatch):
    """Train on 120 of the shipped messages (fast) and keep the cache in tmp_path."""
    frame = dc.training_messages().groupby("file").head(18)
    path = tmp_path / "written_small.csv"
    frame[["text", "labels", "channel"]].to_csv(path, index=False)
    monkeypatch.setattr(dc, "training_files", lambda: [path])
    dc._written_model.cache_clear()
    yield path
    dc._written_model.cache_clear()


def test_shipped_training_messages_are_well_formed():
    data = dc.training_messages()
    codes = set(load_taxonomy().codes)
    labels = [set(filter(None, cell.split(";"))) for cell in data["labels"]]
    assert len(data) >= 3000 and data["text"].is_unique and (data["text"].str.strip() != "").all()
    assert set().union(*labels) == codes                      # every code is taught
    counts = pd.Series([c for ls in labels for c in ls]).value_counts()
    assert counts.min() >= 100
    assert 0.45 <= np.mean([not ls for ls in labels]) <= 0.65  # most messages have no code
    assert set(data["channel"]) == {"hotline", "mailbox", "board", "form"}
    # written, not collected: no phone or ID numbers
    assert not data["text"].str.contains(r"1[3-9]\d{9}|\d{17}[\dXx]", regex=True).any()


def test_default_is_the_lexicon_then_the_learned_model(toolkit):
    classifier = toolkit.classifier
    assert isinstance(classifier, LearnedThemeClassifier) and classifier.lexicon == "fallback"
    lexicon = LexiconThemeClassifier().fit()
    assert list(classifier.classes_) == list(lexicon.classes_)
    combined, found = classifier.predict(TEXTS), lexicon.predict(TEXTS)
    tagged = found.any(axis=1)
    assert tagged.sum() >= 5 and (combined[tagged] == found[tagged]).all()   # the lexicon decides where it finds
    # where it finds nothing, the model decides alone
    model = classifier.predict_proba([t for t, hit in zip(TEXTS, tagged) if not hit]) >= classifier.thresholds_
    assert (combined[~tagged] == model).all()
    # the model adds a theme the phrase list has no words for
    said = "连续三个月去问，每次都说再等等，到今天也没人给个准话"
    assert not lexicon.evidence([said])[0]
    evidence, confidence = classifier.explain([said])
    assert evidence[0] and all(confidence[0][code] >= dc.MODEL_PARAMS["min_threshold"] for code in evidence[0])
    for phrases in evidence[0].values():                       # n-grams as they read in the text
        assert phrases and all(p.replace(" ", "") in said.replace(" ", "") and len(re.sub(r"\W", "", p)) >= 2
                               for p in phrases)


def test_default_output_columns_carry_evidence_and_confidence(toolkit):
    table = theme_table(toolkit.classifier, TEXTS, toolkit.taxonomy.names())
    assert table.columns.tolist() == ["themes", "theme_names", "evidence", "confidence"]
    found = LexiconThemeClassifier().fit().evidence(TEXTS)
    for themes, evidence, confidence, lexical in zip(table["themes"], table["evidence"], table["confidence"], found):
        codes = [c for c in themes.split(";") if c]
        if lexical:    # the lexicon's themes carry its phrases, and no model probability
            assert codes == [c for c in toolkit.taxonomy.codes if c in lexical] and confidence == ""
            assert evidence == ";".join(f"{c}:{p}" for c in codes for p in lexical[c])
        else:          # the model's themes carry their probability
            assert [c.split(":")[0] for c in confidence.split(";") if c] == codes
            assert all(0.5 <= float(c.split(":")[1]) <= 1 for c in confidence.split(";") if c)


def test_a_taxonomy_of_other_themes_gets_the_lexicon_alone(tmp_path):
    text = corpus_path("taxonomy.toml").read_text(encoding="utf-8").replace('code = "discipline"', 'code = "duty"')
    custom = tmp_path / "taxonomy.toml"
    custom.write_text(text, encoding="utf-8")
    classifier = dc.default_theme_classifier(custom)
    assert isinstance(classifier, LexiconThemeClassifier) and "duty" in classifier.classes_


def test_the_fitted_model_is_cached_and_reloaded_unchanged(small_corpus, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = dc.default_theme_classifier(cache_dir=cache)
    files = list(cache.glob("themes-*.joblib"))
    assert len(files) == 1
    expected = first.predict_proba(TEXTS)
    dc._written_model.cache_clear()
    monkeypatch.setattr(LearnedThemeClassifier, "fit", lambda *a, **k: pytest.fail("refitted despite the cache"))
    again = dc.default_theme_classifier(cache_dir=cache)
    np.testing.assert_array_equal(again.predict_proba(TEXTS), expected)
    np.testing.assert_array_equal(again.predict(TEXTS), first.predict(TEXTS))


def test_a_damaged_cache_file_is_refitted(small_corpus, tmp_path, caplog):
    cache = tmp_path / "cache"
    expected = dc.default_theme_classifier(cache_dir=cache).predict_proba(TEXTS)
    (path,) = cache.glob("themes-*.joblib")
    path.write_bytes(b"not a pickle")
    dc._written_model.cache_clear()
    np.testing.assert_allclose(dc.default_theme_classifier(cache_dir=cache).predict_proba(TEXTS), expected)
    assert "could not be read" in caplog.text
    assert joblib.load(path) is not None                       # rewritten


def test_an_unwritable_cache_still_gives_the_classifier(small_corpus, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    classifier = dc.default_theme_classifier(cache_dir=blocker / "cache")   # a file where a folder must be
    assert classifier.predict(TEXTS).shape == (len(TEXTS), 11)
    assert "could not be cached" in caplog.text


def test_editing_the_training_messages_changes_the_cache_key(small_corpus):
    before = dc._digest([small_corpus])
    frame = pd.read_csv(small_corpus, dtype=str, keep_default_na=False)
    frame.loc[0, "labels"] = "" if frame.loc[0, "labels"] else "inaction"
    frame.to_csv(small_corpus, index=False)
    assert dc._digest([small_corpus]) != before


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TEXTMINE_CACHE", str(tmp_path / "a"))
    assert dc.cache_directory() == tmp_path / "a"
    monkeypatch.delenv("TEXTMINE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert dc.cache_directory() == tmp_path / "x" / "textmine"


def test_empty_input_gives_empty_predictions(toolkit):
    assert toolkit.classifier.predict([]).shape == (0, 11)
    assert theme_table(toolkit.classifier, [], {}).empty


def test_run_json_says_which_classifier_tagged_the_themes(demo_run):
    analysis, out = demo_run
    import json
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["classifier"]["kind"] == "lexicon, else the model of the shipped training messages"
    assert info["classifier"]["training_key"] == dc._digest(dc.training_files())
    assert dc.describe_classifier(LexiconThemeClassifier().fit()) == {"kind": "lexicon"}


def test_a_theme_model_pickled_before_min_threshold_loads_with_its_old_floor(small_corpus):
    import pickle

    data = dc.training_messages([small_corpus])
    model = LearnedThemeClassifier(lexicon="none", word_ngrams=None).fit(data["text"].tolist(), data["labels"].tolist())
    state = model.__getstate__()
    del state["min_threshold"]
    old = LearnedThemeClassifier.__new__(LearnedThemeClassifier)
    old.__setstate__(state)
    assert old.min_threshold == 0.2
    np.testing.assert_array_equal(old.predict(TEXTS), model.predict(TEXTS))
    assert pickle.loads(pickle.dumps(model)).min_threshold == 0.2
