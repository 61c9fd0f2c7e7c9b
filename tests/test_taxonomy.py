import pytest

from textmine.errors import DataFileError
from textmine.taxonomy import load_taxonomy

DEFAULT_CODES = ["efficiency", "attitude", "buck_passing", "inaction", "lawful_admin", "integrity",
                 "fees", "competence", "process", "policy", "discipline"]


def test_default_taxonomy_has_the_eleven_codes_with_measures():
    tax = load_taxonomy()
    assert tax.codes == DEFAULT_CODES
    for theme in tax.themes:
        assert theme.name and theme.problem and theme.measures, theme.code
        assert theme.terms or theme.patterns
    assert tax["efficiency"].name == "办事效率"
    assert "限时办结制" in tax["efficiency"].measures
    assert "首问负责制" in tax["buck_passing"].measures
    assert "一次性告知" in tax["process"].measures
    assert len(tax.sha256) == 64


MINIMAL = '''
[[themes]]
code = "slow"
name = "慢"
problem = "太慢"
terms = ["慢"]
'''


def test_minimal_user_taxonomy(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    tax = load_taxonomy(path)
    assert tax.codes == ["slow"]
    assert tax.negation.before == ()


@pytest.mark.parametrize("text, message", [
    ("[[themes]]\ncode = \"a\"\nname = \"x\"\n", r"mine.toml:1: theme #1 needs a non-empty string 'problem'"),
    ("[[themes]]\ncode = \"Bad Code\"\nname = \"x\"\nproblem = \"p\"\nterms = [\"t\"]\n", r"mine.toml:2: theme code 'Bad Code'"),
    (MINIMAL + MINIMAL, r"mine.toml:\d+: duplicate theme code 'slow' \(first defined at line 2\)"),
    ("[[themes]]\ncode = \"a\"\nname = \"x\"\nproblem = \"p\"\npatterns = [\"(\"]\n", r"mine.toml:5: theme 'a': invalid pattern"),
    ("[[themes]]\ncode = \"a\"\nname = \"x\"\nproblem = \"p\"\nterms = \"t\"\n", r"mine.toml:5: theme 'a': 'terms' must be a list"),
    ("[[themes]]\ncode = \"a\"\nname = \"x\"\nproblem = \"p\"\n", r"mine.toml:1: theme 'a' has neither"),
    ("[[themes]]\ncode = \"a\"\nname = = \"x\"\n", r"mine.toml:3: invalid TOML"),
    ("title = 1\n", r"mine.toml:1: no \[\[themes\]\]"),
    (MINIMAL + "[negation]\nwindow = 99\n", r"mine.toml:\d+: \[negation\] window"),
])
def test_invalid_taxonomy_names_file_and_line(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        load_taxonomy(path)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(DataFileError, match="cannot read"):
        load_taxonomy(tmp_path / "nope.toml")
    path = tmp_path / "gbk.toml"
    path.write_bytes("code = '慢'\n".encode("gbk"))
    with pytest.raises(DataFileError, match="gbk.toml:1: .*UTF-8"):
        load_taxonomy(path)


@pytest.mark.parametrize("extra, message", [
    ('weak_terms = ["没人管"]\n', r"mine.toml:7: theme 'slow': weak cues count only near a 'context' match"),
    ('context = ["("]\n', r"mine.toml:7: theme 'slow': invalid pattern '\(' in 'context'"),
    ('window = 0\n', r"mine.toml:7: theme 'slow': window must be an integer from 1 to 200"),
    ('weak_term = ["x"]\n', r"mine.toml:7: theme 'slow': unknown key 'weak_term'"),
    ('exclude = "物业"\n', r"mine.toml:7: theme 'slow': 'exclude' must be a list"),
])
def test_context_keys_are_validated(tmp_path, extra, message):
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL + extra, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        load_taxonomy(path)


def test_context_keys_are_read(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL + 'weak_terms = ["拖"]\ncontext = ["审批"]\nexclude = ["物业"]\nwindow = 12\n',
                    encoding="utf-8")
    theme = load_taxonomy(path)["slow"]
    assert (theme.weak_terms, theme.context, theme.exclude, theme.window) == (("拖",), ("审批",), ("物业",), 12)
    assert load_taxonomy()["efficiency"].window == 30
