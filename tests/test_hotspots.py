"""Hot issues: places found in text, grouping by place and event, heat index, outputs, CLI."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from textmine.cli import main
from textmine.errors import DataFileError, InputError
from textmine.hotspots import PlaceFinder, _merge_close_clusters, find_hotspots, load_hotspot_settings, run_hotspots


@pytest.fixture(scope="module")
def finder():
    return PlaceFinder(load_hotspot_settings())


@pytest.mark.parametrize("text, places", [
    ("投诉A市九龙领仕汇小区开发商收费不合理", [("九龙领仕汇小区", "estate")]),
    ("请求硬化A4区沙坪街道竹安村的道路", [("沙坪街道", "village"), ("竹安村", "village")]),
    ("A3区梅溪湖看云路一师润芳园小区临街门面油烟直排扰民", [("梅溪湖看云路", "road"), ("一师润芳园小区", "estate")]),
    ("A市A2区龙湾国际社区违建严重", [("龙湾国际社区", "estate")]),
    ("长沙市岳麓区桃花岭小学门口交通拥堵", [("桃花岭小学", "school")]),
    ("实名举报A市楚雅二医院鉴定中心作虚假鉴定", [("楚雅二医院", "hospital")]),
    ("希望修建道路，城市管理要加强，村民很多", []),  # generic roads, 城市, 村民
    ("我们小区的路灯坏了", []),
    ("58车贷老板跑路美国", []),
])
def test_places_found_in_text(finder, text, places):
    assert [(p, k) for p, k, _ in finder.find(text)] == places


def test_primary_place_prefers_title_then_most_named(finder):
    # 新城 ends the place; the 小区 after it adds nothing
    assert finder.primary("A市丽发新城小区附近搅拌站扰民", "我住在金星路") == ("丽发新城", "estate")
    text = "金星路上的车很多。东方花园门口摆摊，东方花园居民很烦"
    assert finder.primary("", text) == ("东方花园", "estate")
    assert finder.primary("", "没有地点的留言") == ("", "")


def messages() -> pd.DataFrame:
    rows = []

    def add(title, text, writer, date, likes=0):
        rows.append({"留言编号": str(1000 + len(rows)), "留言用户": writer, "留言主题": title,
                     "留言时间": date, "留言详情": text, "点赞数": str(likes)})

    for i in range(5):  # one estate, one event, five writers (one writes twice)
        add("A市丽发新城小区附近搅拌站噪音扰民", f"丽发新城小区旁边的搅拌站日夜施工，噪音和粉尘严重，第{i}次反映",
            f"U{min(i, 3)}", f"2020-01-{10 + i:02d} 09:00:00", likes=i)
    for i in range(3):  # same estate, another event
        add("丽发新城小区停车位被外来车辆占用", "丽发新城小区停车位长期被外来车辆占用，业主停车难",
            f"P{i}", f"2019-12-0{1 + i} 10:00:00")
    for i in range(2):  # no place, one event
        add("人才新政购房补贴迟迟不发", "申请人才购房补贴半年了还没发放", f"R{i}", "2020-01-20 08:00:00", likes=7)
    add("金星路路灯不亮", "金星路路灯坏了很久", "Z1", "2019-06-01 08:00:00")  # a single message is no issue
    frame = pd.DataFrame(rows)
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    return frame


COLUMNS = {"text": "留言详情", "title": "留言主题", "id": "留言编号", "name": "留言用户",
           "date": "留言时间", "likes": "点赞数"}


@pytest.fixture(scope="module")
def result(toolkit):
    return find_hotspots(messages(), COLUMNS, segmenter=toolkit.segmenter, masker=toolkit.masker)


def test_groups_by_place_and_event(result):
    hot = result.hotspots
    assert list(hot["count"]) == [5, 2, 3]
    assert list(hot["place"]) == ["丽发新城", "", "丽发新城"]
    assert hot.loc[0, "message_ids"] == "1000;1001;1002;1003;1004"
    assert hot.loc[1, "message_ids"] == "1008;1009"
    assert hot.loc[2, "message_ids"] == "1005;1006;1007"  # same estate, another event
    assert hot.loc[0, "first"] == "2020-01-10" and hot.loc[0, "last"] == "2020-01-14"
    assert hot.loc[0, "span_days"] == 5
    assert result.info["messages"] == 11 and result.info["messages_in_issues"] == 10
    single = result.messages.set_index("message_id").loc["1010"]
    assert single["issue"] == -1 and single["place"] == "金星路"


def test_heat_index_follows_its_formula(result):
    hot = result.hotspots.set_index("issue")
    latest = pd.Timestamp("2020-01-20 08:00:00")
    # issue 1: 5 messages, 4 writers, likes 0+1+2+3+4 = 10, last message 2020-01-14 → 5 days old
    age = (latest - pd.Timestamp("2020-01-14 09:00:00")).days
    expected = (4 + 0.2 * 1 + math.log2(1 + 10)) * 0.5 ** (age / 365)
    assert hot.loc[1, "writers"] == 4 and hot.loc[1, "likes"] == 10
    assert hot.loc[1, "heat"] == pytest.approx(round(expected, 3))
    assert hot.loc[2, "heat"] == pytest.approx(round(2 + math.log2(1 + 14), 3))  # the newest: no decay
    age = (latest - pd.Timestamp("2019-12-03 10:00:00")).days
    assert hot.loc[3, "heat"] == pytest.approx(round(3 * 0.5 ** (age / 365), 3))
    assert list(hot["heat"]) == sorted(hot["heat"], reverse=True)
    assert list(hot.index) == [1, 2, 3]


def test_members_list_every_message_of_every_issue(result):
    members = result.members
    assert list(members.columns) == ["issue", "message_id", "row_id", "date", "likes", "title"]
    assert members.groupby("issue").size().tolist() == result.hotspots["count"].tolist()
    assert set(members["row_id"]) == set(range(2, 12))


def test_without_writer_or_likes_columns(toolkit):
    columns = {"text": "留言详情", "title": "留言主题", "date": "留言时间"}
    hot = find_hotspots(messages(), columns, segmenter=toolkit.segmenter, masker=toolkit.masker).hotspots
    assert (hot["writers"] == hot["count"]).all() and (hot["likes"] == 0).all()
    assert hot.loc[0, "message_ids"] == "2;3;4;5;6"  # row numbers stand in for message ids


def test_titles_are_masked_and_writers_never_written(toolkit, tmp_path):
    frame = messages()
    frame["留言主题"] = frame["留言主题"] + "，电话13912345678"
    source = tmp_path / "m.csv"
    frame.to_csv(source, index=False)
    run_hotspots(source, tmp_path / "out")
    written = "".join(p.read_text(encoding="utf-8-sig") for p in (tmp_path / "out").glob("*.csv"))
    assert "13912345678" not in written and "【电话】" in written
    assert not any(w in written for w in ("U1", "P0", "R1"))


def test_bad_likes_value_names_the_row(toolkit):
    frame = messages()
    frame.loc[4, "点赞数"] = "很多"
    with pytest.raises(InputError, match="likes column 点赞数: value '很多' in row 4 is not a number"):
        find_hotspots(frame, COLUMNS, segmenter=toolkit.segmenter, masker=toolkit.masker)


def test_settings_errors_name_file_and_line(tmp_path):
    shipped = load_hotspot_settings()
    assert shipped.kinds[0][0] == "estate" and shipped.repeat_weight == 0.2
    bad = tmp_path / "h.toml"
    bad.write_text('max_name = 8\n[[kinds]]\nkind = "estate"\nsuffixes = ["小区"]\ncut_words = ["的"]\n',
                   encoding="utf-8")
    with pytest.raises(DataFileError, match=r"h.toml:3: .*unknown key\(s\) cut_words"):
        load_hotspot_settings(bad)
    bad.write_text('[[kinds]]\nkind = "estate"\nsuffixes = ["小区"]\n[heat]\nhalf_life_days = -1\n', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"h.toml:5: 'half_life_days' must be a non-negative number"):
        load_hotspot_settings(bad)


def test_cli_hotspots_detects_columns(tmp_path):
    source = tmp_path / "messages.csv"
    messages().to_csv(source, index=False)
    result = CliRunner().invoke(main, ["hotspots", str(source), "--out", str(tmp_path / "out"), "--top", "2"])
    assert result.exit_code == 0, result.output
    assert "2 hot issues from 7 of 11 messages" in result.output
    hot = pd.read_csv(tmp_path / "out" / "hotspots.csv", dtype=str, encoding="utf-8-sig")
    assert list(hot.columns) == ["issue", "title", "place", "place_kind", "first", "last", "span_days", "count",
                                 "writers", "likes", "heat", "terms", "message_ids"]
    assert hot.loc[0, "message_ids"] == "1000;1001;1002;1003;1004"
    assert (tmp_path / "out" / "hotspots.json").exists()
    missing = CliRunner().invoke(main, ["hotspots", str(source), "--likes-col", "赞"])
    assert missing.exit_code == 1 and "Error:" in missing.output and "column 赞 not found" in missing.output


def test_close_groups_without_place_are_joined():
    from scipy.sparse import csr_matrix

    # groups 1 and 2 share most words (one event worded two ways), group 3 is another event,
    # the singleton 4 is never merged
    rows = csr_matrix([[1, 1, 0, 0], [1, 1, 0, 0], [1, 0.8, 0.2, 0], [1, 0.8, 0.2, 0],
                       [0, 0, 0, 1], [0, 0, 0.1, 1], [1, 1, 0, 0]], dtype=float)
    labels = pd.Series([1, 1, 2, 2, 3, 3, 4]).to_numpy()
    assert _merge_close_clusters(rows, labels, 0.6).tolist() == [1, 1, 1, 1, 3, 3, 4]
    assert _merge_close_clusters(rows, labels, 0.01).tolist() == [1, 1, 2, 2, 3, 3, 4]
