from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def toolkit():
    """The default toolkit (taxonomy, aliases, masker, segmenter, classifier), built once."""
    from textmine.pipeline import Toolkit

    return Toolkit.load()


@pytest.fixture(scope="session")
def classifier(toolkit):
    return toolkit.classifier


@pytest.fixture(scope="session")
def lexicon():
    """The shipped taxonomy's phrase lexicon alone (the default classifier also has a model)."""
    from textmine.classify import LexiconThemeClassifier

    return LexiconThemeClassifier().fit()


def themes_found(lexicon, text: str) -> dict[str, list[str]]:
    """The lexicon's evidence for one text: theme code → phrases."""
    return lexicon.evidence([text])[0]


def assert_theme(lexicon, theme: str, hits: list[str], misses: list[str]) -> None:
    """``theme`` is found in every text of ``hits`` and in none of ``misses``."""
    for text in hits:
        assert theme in themes_found(lexicon, text), text
    for text in misses:
        assert theme not in themes_found(lexicon, text), text


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, toolkit):
    """The demo job run once on the embedded sample corpus."""
    from textmine.pipeline import demo

    out = tmp_path_factory.mktemp("demo")
    analysis = demo(out, toolkit=toolkit)
    return analysis, out


@pytest.fixture
def demo_copy(demo_run, tmp_path):
    """A copy of the demo's output folder without the report, charts and notices (to build them anew)."""
    import shutil

    _, out = demo_run
    target = tmp_path / "run"
    shutil.copytree(out, target, ignore=shutil.ignore_patterns("report.html", "charts", "notices"))
    return target


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
    return path


def read(path):
    """Read an output CSV as text, as a user's spreadsheet would show it."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def found_in(text: str, secrets: set[str]) -> set[str]:
    """The secrets that occur in ``text`` (every substring of each secret's length, looked up once)."""
    lengths = {len(s) for s in secrets}
    pieces = {text[i:i + n] for n in lengths for i in range(len(text) - n + 1)}
    return secrets & pieces


def write_rows(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", newline: str = "\r\n") -> Path:
    """Write ``rows`` as CSV with ``newline`` line ends in ``encoding``."""
    buffer = io.StringIO(newline="")
    # csv.writer quotes a cell holding a line break only when the break is in its lineterminator
    quoting = csv.QUOTE_MINIMAL if newline == "\r\n" else csv.QUOTE_ALL
    csv.writer(buffer, lineterminator=newline, quoting=quoting).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def expected_frame(header: list[str], body: list[list[str]], first_row: int) -> pd.DataFrame:
    """The frame the reader should give for ``body`` under ``header``, first data row ``first_row``."""
    index = pd.RangeIndex(first_row, first_row + len(body), name="row")
    return pd.DataFrame(body, columns=header, index=index, dtype=object).astype(str)
