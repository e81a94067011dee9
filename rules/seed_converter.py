"""Convert the bureau's checklist table (as exported to text) into the catalogue's JSON data.

The export puts one table cell after each TAB at the start of a line; lines without a leading TAB
continue the cell before them. After the seven header cells every row is seven cells:
一级指标, 二级指标, 序号, 三级指标, 测评方法, 填报材料, 责任单位及责任人 (an empty 一级/二级 cell means
"same as above"). The preamble above the header holds the campaign's numbered rules.

Pure: text in, JSON-ready dict out. ``scripts/convert_checklist.py`` does the file I/O.
"""

from __future__ import annotations

import re
from typing import Any

HEADER = ("一级指标", "二级指标", "序号", "三级指标", "测评方法", "填报材料", "责任单位及责任人")
NO_MATERIALS = "不需提供材料"
# Brackets in the source are mixed full- and half-width: 支队(刘建设申军强）.
_OWNER_RE = re.compile(r"^(?P<section>[^（(]+?)\s*[（(](?P<persons>[^）)]*)[）)]\s*$")
_LEVEL2_RE = re.compile(r"^(?P<no>\d+)\s*[.．、]\s*(?P<name>.+)$")
_EXPLICIT_LIMIT_RE = re.compile(r"(?:不超过|不多于|以内)?\s*(\d{3,5})\s*字")
# Most common single-character surnames, used only to split names written without a separator
# (刘建设申军强). A campaign whose names this cannot split writes them with 、 in the table.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫"
    "孔向汤申常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪"
    "梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪"
    "简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑"
    "郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)


class SeedFormatError(ValueError):
    """The table text does not have the expected shape; the message says where."""


def _cells(body: str) -> list[str]:
    cells: list[str] = []
    for line in body.splitlines():
        if line.startswith("\t"):
            cells.append(line[1:])
        elif cells:
            cells[-1] += "\n" + line
        # Text before the first cell is the preamble, read separately.
    return cells


def _lines(cell: str) -> list[str]:
    return [ln.strip() for ln in cell.splitlines() if ln.strip()]


def _joined(cell: str) -> str:
    # Line breaks inside a cell are wrapping artefacts of the export ("2019、\n\n2020年度").
    return "".join(_lines(cell))


def split_persons(text: str) -> list[str]:
    """Split the persons of an owner cell: 史凤云 -> [史凤云]; 刘建设申军强 -> [刘建设, 申军强]."""
    persons: list[str] = []
    for chunk in re.split(r"[、，,/\s；;]+", text.strip()):
        if not chunk:
            continue
        persons.extend(_split_run(chunk))
    return persons


def _split_run(run: str) -> list[str]:
    if len(run) <= 4:
        return [run]
    # Try to cut the run into names of two or three characters, each starting with a surname.
    for first in (3, 2):
        head, rest = run[:first], run[first:]
        if head[0] in _SURNAMES and rest and rest[0] in _SURNAMES:
            tail = _split_run(rest)
            if all(2 <= len(t) <= 4 for t in tail):
                return [head, *tail]
    return [run]


def parse_owners(cell: str) -> list[dict[str, Any]]:
    owners: list[dict[str, Any]] = []
    for line in _lines(cell):
        m = _OWNER_RE.match(line)
        if m is None:
            owners.append({"section": line, "persons": []})
            continue
        owners.append({"section": m["section"].strip(), "persons": split_persons(m["persons"])})
    return owners


def period_hint(materials: str | None) -> str | None:
    if not materials:
        return None
    for pattern in (r"20\d\d、20\d\d年度", r"20\d\d年以来", r"20\d\d年度", r"20\d\d年"):
        m = re.search(pattern, materials)
        if m:
            return m.group(0)
    return None


def word_limit(materials: str | None, default_limit: int) -> int | None:
    if not materials:
        return None
    m = _EXPLICIT_LIMIT_RE.search(materials)
    if m:
        return int(m.group(1))
    if "说明" in materials:
        return default_limit
    return None


def _preamble_rules(preamble: str) -> list[str]:
    rules: list[str] = []
    for line in _lines(preamble):
        m = re.match(r"^(\d+)\s*[.．、]\s*(.+)$", line)
        if m:
            rules.append(m.group(2))
        elif rules and not line.startswith("说明"):
            rules[-1] += line
    return rules


def _campaign(preamble: str) -> dict[str, Any]:
    head = [ln for ln in _lines(preamble) if not re.match(r"^(\d+[.．、]|说明)", ln)]
    rules = _preamble_rules(preamble)
    text = "\n".join(rules)
    mailbox = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text, re.ASCII)
    deadline = re.search(r"(\d{1,2})月(\d{1,2})日前", text)
    period = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日至(\d{4})年(\d{1,2})月(\d{1,2})日?", text)
    limit = re.search(r"不超过\s*(\d+)\s*字", text)
    classified = next((r for r in rules if "涉密" in r), None)
    no_material = next((r for r in rules if "无材料" in r), None)
    missing = [
        name
        for name, found in (
            ("mailbox", mailbox),
            ("deadline", deadline),
            ("default period", period),
            ("word limit", limit),
            ("classified-material rule", classified),
            ("no-material rule", no_material),
        )
        if not found
    ]
    if missing or not head:
        raise SeedFormatError(f"preamble lacks: {', '.join(missing) or 'title'}")
    assert mailbox and deadline and period and limit and classified and no_material
    y1, m1, d1, y2, m2, d2 = (int(g) for g in period.groups())
    title = "".join(head)
    for suffix in ("指标体系及责任分工",):
        title = title.removesuffix(suffix)
    return {
        "title": title,
        "mailbox": mailbox.group(0),
        "deadline_month": int(deadline.group(1)),
        "deadline_day": int(deadline.group(2)),
        "default_period_start": f"{y1:04d}-{m1:02d}-{d1:02d}",
        "default_period_end": f"{y2:04d}-{m2:02d}-{d2:02d}",
        "default_word_limit": int(limit.group(1)),
        "rules": rules,
        "classified_rule": classified,
        "no_material_rule": no_material,
    }


def _indicator_id(level2: str, number: str) -> str:
    if "加分" in level2:
        return f"加{number}"
    if "减分" in level2:
        return f"减{number}"
    return number


def convert_seed(text: str) -> dict[str, Any]:
    """Return ``{"campaign": {...}, "indicators": [...]}`` for the table text."""
    cells = _cells(text)
    normalised = ["".join(_lines(c)) for c in cells]
    try:
        start = next(i for i in range(len(cells)) if tuple(normalised[i : i + 7]) == HEADER)
    except StopIteration:
        raise SeedFormatError("header row (一级指标 … 责任单位及责任人) not found") from None
    preamble = text.split("\t", 1)[0]
    campaign = _campaign(preamble)
    rows = cells[start + 7 :]
    # A trailing empty cell can follow the last row.
    while rows and not rows[-1].strip() and len(rows) % 7:
        rows.pop()
    if len(rows) % 7:
        raise SeedFormatError(f"{len(rows)} cells after the header: not a whole number of 7-cell rows")
    indicators: list[dict[str, Any]] = []
    level1 = level2 = ""
    level2_no = 0
    for r in range(0, len(rows), 7):
        c1, c2, c_no, c_text, c_methods, c_materials, c_owners = rows[r : r + 7]
        if _joined(c1):
            level1 = _joined(c1)
        if _joined(c2):
            m = _LEVEL2_RE.match(_joined(c2))
            if m is None:
                raise SeedFormatError(f"row {r // 7 + 1}: 二级指标 without a number: {_joined(c2)!r}")
            level2_no, level2 = int(m["no"]), m["name"]
        number = _joined(c_no)
        if not number.isdigit() or not level1 or not level2:
            raise SeedFormatError(f"row {r // 7 + 1}: bad 序号 {number!r} or missing heading")
        materials: str | None = _joined(c_materials)
        if not materials or materials == NO_MATERIALS:
            materials = None
        indicators.append(
            {
                "id": _indicator_id(level2, number),
                "level1": level1,
                "level2_no": level2_no,
                "level2": level2,
                "text": _joined(c_text),
                "methods": _lines(c_methods),
                "materials": materials,
                "no_materials_needed": materials is None,
                "owners": parse_owners(c_owners),
                "word_limit": word_limit(materials, campaign["default_word_limit"]),
                "period_hint": period_hint(materials),
            }
        )
    return {"campaign": campaign, "indicators": indicators}
