import pytest

from textmine.errors import DataFileError
from textmine.offices import UNSPECIFIED, OfficeDirectory


@pytest.fixture(scope="module")
def directory():
    return OfficeDirectory.from_file()


@pytest.mark.parametrize("written, office", [
    ("市监局", "市市场监督管理局"),
    (" 市 监 局 ", "市市场监督管理局"),
    ("人社局", "市人力资源和社会保障局"),
    ("市市场监督管理局", "市市场监督管理局"),
    ("１２３４５热线", "市12345政务服务便民热线"),
])
def test_aliases_resolve_to_the_canonical_office(directory, written, office):
    assert directory.resolve(written) == (office, True)


def test_unknown_offices_are_kept_as_written(directory):
    assert directory.resolve("开发区管委会") == ("开发区管委会", False)
    assert directory.resolve("") == (UNSPECIFIED, True)
    assert directory.resolve(None) == (UNSPECIFIED, True)


def test_table_has_categories_for_every_office(directory):
    assert len(directory.offices) >= 30
    assert all(directory.category(o) for o in directory.offices)
    assert directory.category("不存在的单位") == ""


def test_resolve_many_returns_a_frame(directory):
    frame = directory.resolve_many(["市监局", "X局", "市监局"])
    assert frame["office"].tolist() == ["市市场监督管理局", "X局", "市市场监督管理局"]
    assert frame["office_known"].tolist() == [True, False, True]


@pytest.mark.parametrize("text, message", [
    ("name,kind\n", "offices.csv:1: the header must be office,category,aliases"),
    ("office,category,aliases\nA,g,a1\nA,g,\n", "offices.csv:3: office 'A' is listed twice"),
    ("office,category,aliases\nA,g,x\nB,g,x\n", "offices.csv:3: alias 'x' already names 'A'"),
    ("office,category,aliases\n,g,x\n", "offices.csv:2: each row needs"),
])
def test_invalid_alias_table(tmp_path, text, message):
    path = tmp_path / "offices.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        OfficeDirectory.from_file(path)
