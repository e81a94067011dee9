"""The built-in checklist, spot-checked against the bureau's table, and the converter's invariants."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rules.catalogue import INDICATOR_KEYS, CatalogueError, load_catalogue, parse_catalogue
from rules.seed_converter import SeedFormatError, convert_seed, period_hint, split_persons, word_limit

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "rules/data/seed/指标体系及责任分工.txt"
DATA = ROOT / "rules/data/checklist.json"


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def owners(cat, ind_id: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(o.section, o.persons) for o in cat[ind_id].owners]


def test_checked_in_data_is_what_the_converter_produces() -> None:
    assert json.loads(DATA.read_text(encoding="utf-8")) == convert_seed(SEED.read_text(encoding="utf-8"))


def test_sixty_four_indicators_in_table_order(cat) -> None:
    assert len(cat) == 64
    assert cat.ids == (*[str(n) for n in range(1, 61)], "加1", "加2", "减1", "减2")


@pytest.mark.parametrize(
    ("ind_id", "expected"),
    [
        ("1", [("服务科", ("史凤云",))]),
        ("5", [("人事科", ("杨海娜",))]),
        ("7", [("支队", ("刘建设", "申军强"))]),
        ("11", [("法规科", ("刘海利",)), ("服务科", ("史凤云",))]),
        ("37", [("法规科", ("刘海利",)), ("支队", ("刘建设", "申军强"))]),
        ("40", [("服务科", ("史凤云",)), ("支队", ("刘建设", "申军强"))]),
        ("45", [("财审科", ("薛飘",)), ("人事科", ("杨海娜",))]),
        ("47", [("宣教科", ("吴柯",))]),
        ("14", [("办公室", ("孙新顺",))]),
        ("19", [("综合科", ("韩艳军",))]),
        ("减2", [("法规科", ("刘海利",))]),
    ],
)
def test_owners(cat, ind_id: str, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    assert owners(cat, ind_id) == expected


def test_no_materials_items(cat) -> None:
    none_needed = [i.id for i in cat if i.no_materials_needed]
    assert none_needed == ["5", "13", "22", "25", "27", "28", "41", "48", "57", "减1", "减2"]
    for ind in cat:
        assert ind.no_materials_needed == (ind.materials is None)


@pytest.mark.parametrize(
    ("ind_id", "limit"),
    [("52", 1000), ("1", 500), ("2", 500), ("59", 500), ("20", 500), ("3", None), ("21", None), ("5", None)],
)
def test_word_limits(cat, ind_id: str, limit: int | None) -> None:
    assert cat[ind_id].word_limit == limit


@pytest.mark.parametrize(
    ("ind_id", "hint"),
    [
        ("1", "2019年以来"),
        ("7", "2020年以来"),
        ("6", "2020年度"),
        ("14", "2020年"),
        ("40", "2021年"),
        ("59", "2019、2020年度"),
        ("2", None),
        ("5", None),
    ],
)
def test_period_hints(cat, ind_id: str, hint: str | None) -> None:
    assert cat[ind_id].period_hint == hint


def test_headings_and_methods(cat) -> None:
    assert cat["1"].level1 == "一、政府职能依法全面履行"
    assert (cat["1"].level2_no, cat["1"].level2) == (1, "行政审批制度改革全面推行")
    assert cat["60"].level1 == "十、法治政府建设组织领导落实到位"
    assert (cat["加1"].level1, cat["加1"].level2_no, cat["加1"].level2) == ("十一、附加项", 35, "加分项")
    assert (cat["减2"].level2_no, cat["减2"].level2) == (36, "减分项")
    assert cat["34"].methods == ("材料查证", "实地核查")
    assert cat["1"].methods == ("材料查证", "随机访谈", "问卷调查")
    assert cat["55"].text == "举办全员法治培训每年不少于1期，依法办事能力强"
    assert cat["59"].materials == "本级政府或上级部门对本部门2019、2020年度依法行政考核的等次说明"


def test_campaign_facts(cat) -> None:
    c = cat.campaign
    assert c.mailbox == "jzhbjfzk@163.com"
    assert (c.deadline_month, c.deadline_day) == (10, 28)
    assert (c.default_period_start, c.default_period_end) == ("2020-01-01", "2021-07-31")
    assert c.default_word_limit == 500
    assert "涉密" in c.classified_rule
    assert "无材料" in c.no_material_rule
    assert len(c.rules) == 6


def test_json_keys_are_exactly_the_documented_ones(cat) -> None:
    for ind in cat:
        assert tuple(ind.to_json()) == INDICATOR_KEYS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("史凤云", ["史凤云"]),
        ("刘建设申军强", ["刘建设", "申军强"]),
        ("刘建设、申军强", ["刘建设", "申军强"]),
        ("薛飘", ["薛飘"]),
        ("王小明 李红", ["王小明", "李红"]),
    ],
)
def test_split_persons(text: str, expected: list[str]) -> None:
    assert split_persons(text) == expected


def test_period_and_limit_helpers() -> None:
    assert period_hint("2020年以来本部门") == "2020年以来"
    assert period_hint(None) is None
    assert word_limit("情况说明，字数不超过800字", 500) == 800
    assert word_limit("文件目录", 500) is None


def _valid() -> dict[str, Any]:
    return convert_seed(SEED.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["indicators"][0].pop("text"), "missing field 'text'"),
        (lambda d: d["indicators"][1].update(id="1"), "duplicate id"),
        (lambda d: d["indicators"][0].update(no_materials_needed=True), "no_materials_needed"),
        (lambda d: d["indicators"][0].update(owners=[]), "no responsible section"),
        (lambda d: d["indicators"][0].update(level2_no="1"), "wrong type"),
        (lambda d: d["indicators"][0].update(colour="red"), "unknown fields"),
        (lambda d: d["campaign"].pop("mailbox"), "campaign: missing field 'mailbox'"),
    ],
)
def test_invalid_catalogue_names_the_entry_and_field(mutate, message: str) -> None:
    data = copy.deepcopy(_valid())
    mutate(data)
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(data)


def test_converter_rejects_a_table_without_header() -> None:
    with pytest.raises(SeedFormatError):
        convert_seed("说明：\n1.无\n\t随便\n\t一行\n")


def test_catalog_cli_json_and_section(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["catalog", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 64 and rows[36]["id"] == "37"
    assert main(["catalog", "--json", "--section", "财审科"]) == 0
    ids = [r["id"] for r in json.loads(capsys.readouterr().out)]
    assert ids == ["6", "33", "45", "46"]
    assert main(["catalog", "--section", "不存在科"]) == 1
    assert "已知科室" in capsys.readouterr().err
    assert main(["catalog", "--section", "宣教科"]) == 0
    assert "47" in capsys.readouterr().out
