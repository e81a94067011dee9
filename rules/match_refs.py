"""Find indicator references in one normalised text, with how strong the evidence is.

A reference is a span such as ``指标7,12,13``, ``第十二项``, ``【12】``, ``加分项1`` or a bare leading
``30.`` in a file name. Numbers that are something else (years, dates, counts with units, phone
numbers, version marks, 二级指标 numbers, 附件1, document numbers) are masked out first, so they can
never become references. Masking keeps every offset, so spans stay valid for the caller.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum

from rules.numbers import CHINESE_NUMERAL_CHARS, parse_number


class Evidence(IntEnum):
    """How sure a reference is, weakest first."""

    NONE = 0
    WEAK = 1  # a stray 1..60 number glued into text: a candidate, never an assignment
    POSITIONAL = 2  # a number where staff put indicator numbers: leading a file name, between dashes
    EXPLICIT = 3  # a keyword says so: 指标, 第..项, 序号, ..号, 【..】, 加分项


@dataclass(frozen=True)
class Group:
    """A 二级指标: its number and heading in the table, and the indicators under it."""

    number: int
    heading: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class IdSpace:
    """Which indicator ids exist: numbered ones 1..max_number, plus the extra items (加1, 减2 ...), and the
    二级指标 groups they belong to (none: 二级指标 references are masked and mean nothing)."""

    max_number: int = 60
    extras: tuple[str, ...] = ("加1", "加2", "减1", "减2")
    groups: tuple[Group, ...] = ()

    @classmethod
    def from_ids(cls, ids: Iterable[str], groups: Iterable[Group] = ()) -> IdSpace:
        ids = tuple(ids)
        numbers = [int(i) for i in ids if i.isdigit()]
        extras = tuple(i for i in ids if not i.isdigit())
        return cls(max_number=max(numbers, default=0), extras=extras, groups=tuple(groups))

    def group(self, number: int) -> Group | None:
        return next((g for g in self.groups if g.number == number), None)

    def describe(self) -> str:
        """The valid ids in Chinese, for problem details."""
        extras = "、".join(self.extras)
        return f"1–{self.max_number}" + (f"及{extras}" if extras else "")


@dataclass(frozen=True)
class Reference:
    ids: tuple[str, ...]  # ids that exist in the id space
    out_of_range: tuple[str, ...]  # numbers written explicitly that do not exist, e.g. "65", "加3"
    evidence: Evidence
    start: int
    end: int
    group: int | None = None  # a 二级指标 reference: ids are the group's items


_MASK = "\ue000"  # private-use character: not a digit, not a space, not a separator
_CJK = "\u4e00-\u9fff"
_CN = CHINESE_NUMERAL_CHARS
_NUM_DIGITS = r"(?<!\d)(?!0\d\d)\d{1,3}(?!\d)"  # 001, 002: a scan or copy sequence, never an item
# Chinese numerals only count when they end the word (第十二项, 指标十二、十三), never inside one
# (指标一览表, 十三五规划).
_NUM_ANY = rf"(?:{_NUM_DIGITS}|[{_CN}]{{1,4}}(?=[项号、,和及与至到\s\-~)\]】:;.]|$))"
_SEP = r"\s*(?:[,、/&+;]|和|及|与|以及)\s*"
_RANGE = r"\s*(?:-|~|至|到)\s*"


def _list(num: str) -> str:
    return rf"{num}(?:(?:{_SEP}|{_RANGE}){num})*"


# Contexts that look like references but are not; masked before anything else is read.
# 二级指标12 is not indicator 12 (read as a group first when the id space knows the groups).
_LEVEL_MASK = re.compile(rf"[一二]级指标\s*(?:第|序号)?\s*{_list(_NUM_ANY)}\s*[项号.]?")
_CONTEXT_MASKS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"(?:附件|附表|附图|图|表)\s*{_NUM_ANY}",
        r"[〔\[(【]\s*(?:19|20)\d{2}\s*[〕\])】]\s*第?\s*\d+\s*号",  # 焦环〔2021〕12号
        r"(?<!\d)\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?",  # 10月28日
        r"(?<!\d)\d{1,2}\s*号(?:前|之前|以前|下班前|上午|下午|截止)",  # 28号前报送
        r"[路街巷道]\s*\d+\s*号",  # addresses
        rf"第\s*{_NUM_ANY}\s*(?:条|款|章|节|版|稿|批|期|次|轮|届|季度|季|周|年|天|名|页|部分|篇|个|组|册|卷|号文)",
    )
)

# Everything that is a number but not an indicator; masked after the explicit references are read.
# A unit that begins a word is not a unit: "60 部门办公会议", "59 本级政府", "12台账", "54座谈会".
_UNITS = (
    "个工作日|工作日|个学时|学时|课时|小时|分钟|字|人次|人(?!民|大)|次|件|份|页|条|个(?!人)|家|万|亿|千|百|元|"
    "天|年|月|日|周|%|分(?!析)|余|多|名|户|起(?!诉|草)|期|批|篇|本(?!级|部门|单位|年)|张|场|轮(?!岗)|"
    "部(?!门|署)|类(?!别)|处(?!罚|理)|所(?!属)|台(?!账)|辆|公里|平方|亩|吨|米|倍|岁|种|座(?!谈)|季度|届|"
    "门|套|卷(?!宗)|盒|册|级|位|笔(?!录)|宗|例|单(?!位)|栏|点|时(?!限)|秒"
)
_NUMBER_MASKS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # letters glued to digits first (v1, PM2.5): a later mask must not take half of them (v1:10.1)
        r"(?<![A-Za-z])v(?:er)?\s*\.?\s*\d+(?:\.\d+)*",  # v2, V3, ver.2
        r"[A-Za-z]+\d[\w.]*",  # PM2.5, ISO9001
        r"(?<!\d)\d+[A-Za-z]+",  # 5G, 3D
        r"(?:电话|手机|联系方式|联系电话|座机|tel|phone)\s*:?\s*[\d\-\s]{3,}",
        r"(?<!\d)\d{4}\s*[-./年]\s*\d{1,2}(?:\s*[-./月]\s*\d{1,2}\s*日?)?(?!\d)",  # 2021-10-20, 2021.10
        r"(?<!\d)(?<!\d\.)\d{1,2}:\d{2}(?!\d)",  # 14:30 (not the tail of 2.12:10, a decimal first)
        r"(?<![\d.])\d{1,3}\.\d{1,2}(?![\d.])",  # 10.28 (a date or a decimal, never an indicator)
        rf"(?<!\d)\d+\s*(?:{_UNITS})",
        rf"(?:修改稿|修订稿|修改版|修订版|终稿|定稿|初稿|稿|版本)\s*[-_]?\s*{_NUM_ANY}",
        rf"{_NUM_ANY}\s*(?:稿|版)",
    )
)

_BARE_DASH = re.compile(r"(?<![\d\-~])(\d{1,2})\s*-\s*(\d{1,2})(?![\d\-~])")
_SEP_CHARS = r"\s\-_,、.:;|/()\[\]【】<>《》\"'“”+&~"

# A list that mixes plain numbers with 加分项/减分项 is one list: 指标3、9、17、加1项材料, (16,加2), 43,加2,
# 报送29,加1项. Like a glued list, the list itself shows these are item numbers; no item is a count (加2分).
_ITEM = rf"(?:(?:加|减)分?项?\s*{_NUM_ANY}|{_NUM_DIGITS})(?!\s*(?:{_UNITS}))"
_MIXED = re.compile(rf"(?<![\d.共计等了有这该各前后近约达至到])(?P<list>{_ITEM}(?:{_SEP}{_ITEM})+)\s*项?")
_MIXED_TOKEN = re.compile(rf"(?P<kind>加|减)?分?项?\s*(?P<n>{_NUM_ANY})")
_EXTRA = re.compile(
    rf"(?:(?P<kind1>加|减)分项?|(?:(?<![{_CJK}])|(?<=指标))(?P<kind2>加|减))"
    rf"\s*(?:第\s*)?[(\[【]?\s*(?P<list>{_list(_NUM_ANY)})(?!\s*(?:{_UNITS}))\s*[)\]】]?\s*项?"
)
_EXPLICIT = tuple(
    re.compile(p)
    for p in (
        # after 指标 a space separates a list too: 指标12 13 14
        rf"(?:三级)?指标\s*(?:第|序号|编号)?\s*:?\s*[(\[【]?\s*"
        rf"(?P<list>{_NUM_ANY}(?:(?:{_SEP}|{_RANGE}){_NUM_ANY}|\s+{_NUM_ANY}(?![\d.:]|\s*(?:{_UNITS})))*)"
        rf"\s*[)\]】]?\s*[项号]?",
        rf"第\s*(?P<list>{_NUM_ANY}(?:(?:{_SEP}|{_RANGE}|\s+){_NUM_ANY})*)\s*项",  # 第55 59项 too
        rf"序号\s*:?\s*(?P<list>{_list(_NUM_ANY)})",
        rf"(?<![\d.])(?P<list>{_NUM_DIGITS}(?:(?:{_SEP}|{_RANGE}){_NUM_DIGITS})+)\s*项",  # 12、13、14项
        rf"(?<![\d.])(?P<list>{_list(_NUM_DIGITS)})\s*号(?![文楼院线令库机码])",
        rf"【\s*(?P<list>{_list(_NUM_ANY)})\s*】",
        rf"\[\s*(?P<list>{_list(_NUM_ANY)})\s*\]",
    )
)
_LEADING = re.compile(rf"^\s*[(\[【]?\s*(?P<list>{_list(_NUM_DIGITS)})\s*[)\]】]?(?![A-Za-z\d])")
_DELIMITED = re.compile(rf"(?:^|(?<=[{_SEP_CHARS}]))(?P<list>{_list(_NUM_DIGITS)})(?:\s*项)?(?=$|[{_SEP_CHARS}])")
# A list glued to a section name ("综合科19 20 23项", "法规科8,9,10"): the list itself shows these are
# item numbers. A single glued number ("情况说明1", "扫描件001") is a file's own numbering, not evidence.
_GLUED_LIST = re.compile(
    rf"(?<=[{_CJK}])(?<![共计等了有这该各前后近约达第至到和及与])"
    rf"(?P<list>{_NUM_DIGITS}(?:(?:{_SEP}|{_RANGE}|\s+){_NUM_DIGITS})+)(?:\s*项)?(?=$|[{_SEP_CHARS}])"
)
_SINGLE_ITEM = re.compile(rf"(?<![\d.共计等了有这该各前后近约达加增减多少新另])(?P<list>{_NUM_DIGITS})\s*项")
_STRAY = re.compile(rf"(?P<list>{_NUM_DIGITS})")
_ANY_NUMBER = re.compile(rf"[\d{_CN}]")
_NUMBER_TOKEN = re.compile(rf"\d+|[{_CN}]+|{_RANGE}|{_SEP}")


def mask(text: str, pattern: re.Pattern[str], keep: Callable[[re.Match[str]], bool] | None = None) -> str:
    """Replace every match of ``pattern`` by mask characters of the same length."""

    def repl(m: re.Match[str]) -> str:
        return m[0] if keep is not None and keep(m) else _MASK * len(m[0])

    return pattern.sub(repl, text)


def _is_short_range(m: re.Match[str]) -> bool:
    """``12-14`` is a range of indicators; ``10-28`` or ``3-1`` is more likely a date or a sub-item."""
    first, last = int(m[1]), int(m[2])
    return first < last <= first + 5


def _numbers(listing: str, *, explicit: bool) -> list[int | None]:
    """Expand ``7,12,13`` / ``24至26`` / ``十二、十三`` into numbers (None for unreadable ones)."""
    values: list[int | None] = []
    pending_range = False
    for token in _NUMBER_TOKEN.findall(listing):
        stripped = token.strip()
        if not stripped or stripped in {",", "、", "/", "&", "+", ";", "和", "及", "与", "以及"}:
            continue
        if stripped in {"-", "~", "至", "到"}:
            pending_range = True
            continue
        value = parse_number(stripped)
        last = values[-1] if values else None
        if pending_range and value is not None and last is not None:
            width = 20 if explicit else 5
            if last < value <= last + width:
                values.extend(range(last + 1, value + 1))
            # otherwise (12-1, 12-3): the second number is a sub-item, not an indicator
        else:
            values.append(value)
        pending_range = False
    return values


def _resolve(values: Iterable[int | None], kind: str, space: IdSpace) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    bad: list[str] = []
    for value in values:
        if value is None:
            continue
        if kind:
            name = f"{kind}{value}"
            (ids if name in space.extras else bad).append(name)
        elif 1 <= value <= space.max_number:
            ids.append(str(value))
        else:
            bad.append(str(value))
    return ids, bad


def _remnant(text: str, start: int, end: int) -> bool:
    """Digits joined by "." or ":" to a masked number are what is left of it ("v1:10.2" with "1:10"
    masked as a time leaves ".2"), not a number of their own."""
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    # After a number only ":" joins ("30.2020年以来…" is item 30, then a year).
    return (len(before) == 2 and before[1] in ".:" and before[0] == _MASK) or (
        len(after) == 2 and after[0] == ":" and after[1] == _MASK
    )


def _collect(
    text: str,
    pattern: re.Pattern[str],
    evidence: Evidence,
    space: IdSpace,
    found: list[Reference],
) -> str:
    """Record every match of ``pattern`` as a reference and return ``text`` with the matches masked."""
    explicit = evidence is Evidence.EXPLICIT
    spans = []
    for m in pattern.finditer(text):
        spans.append((m.start(), m.end()))
        if not explicit and _remnant(text, m.start("list"), m.end("list")):
            continue
        groups = m.groupdict()
        kind = groups.get("kind1") or groups.get("kind2") or ""
        ids, bad = _resolve(_numbers(m["list"], explicit=explicit), kind, space)
        if not explicit:
            bad = []  # only a keyword makes an unknown number worth a complaint
        if ids or bad:
            found.append(Reference(tuple(ids), tuple(bad), evidence, m.start(), m.end()))
    return _mask_spans(text, spans) if spans else text


def _mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = _MASK * (end - start)
    return "".join(chars)


def _collect_mixed(text: str, space: IdSpace, found: list[Reference]) -> str:
    """Lists of plain numbers that go on with 加分项/减分项 items; other lists are left to the patterns
    below."""
    spans = []
    for m in _MIXED.finditer(text):
        tokens = list(_MIXED_TOKEN.finditer(m["list"]))
        if tokens[0]["kind"] or not any(t["kind"] for t in tokens):
            continue  # 加分项1、2 is a list of extras (below); 7,12,13 a plain list
        ids: list[str] = []
        bad: list[str] = []
        kind = ""
        for token in tokens:
            kind = token["kind"] or kind  # after 加1, a bare 2 is 加2
            good, wrong = _resolve([parse_number(token["n"])], kind, space)
            ids += good
            bad += wrong
        found.append(Reference(tuple(ids), tuple(bad), Evidence.EXPLICIT, m.start(), m.end()))
        spans.append((m.start(), m.end()))
    return _mask_spans(text, spans) if spans else text


# --- 二级指标 ----------------------------------------------------------------------------------------

# every number of the list must be a number of its own: not 37,1.1 (a decimal) nor 37,1字 (a count)
_L2_ITEM = rf"{_NUM_ANY}(?![.:]\d)(?!\s*(?:{_UNITS}))"
_LEVEL2_NUMBERED = re.compile(
    rf"二级指标\s*(?:第|序号)?\s*(?P<list>{_L2_ITEM}(?:(?:{_SEP}|{_RANGE}){_L2_ITEM})*)\s*[项号.]?"
)
_QUOTES = "“”\"'‘’《》"
_HEADINGS: dict[int, tuple[tuple[Group, ...], re.Pattern[str] | None, tuple[str, ...]]] = {}


def _heading_pattern(groups: tuple[Group, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """One pattern for every quotable 二级指标 heading, with the number staff may put before it
    (``10.依法决策机制健全``); quotation marks are optional (纵深推进放管服改革). Also the headings' first
    two characters: a text holding none of them needs no search."""
    cached = _HEADINGS.get(id(groups))
    if cached is not None and cached[0] is groups:
        return cached[1], cached[2]
    alternatives = []
    starts = []
    for g in groups:
        heading = g.heading.rstrip("。.;")
        if len(heading) < 4 or heading in {"加分项", "减分项"}:
            continue  # too short to quote by accident-free substring; 加分项 is an item marker
        body = "".join(f"[{_QUOTES}]?" if c in _QUOTES else re.escape(c) for c in heading)
        alternatives.append(f"(?P<g{g.number}>{body})")
        starts.append(heading[:2])
    prefix = rf"(?:(?:[一二三]级)?指标\s*)?(?:(?P<num>{_NUM_ANY})\s*[.、,\-_ :]?\s*)?"
    pattern = re.compile(rf"{prefix}(?:{'|'.join(alternatives)})") if alternatives else None
    _HEADINGS[id(groups)] = (groups, pattern, tuple(dict.fromkeys(starts)))
    return pattern, tuple(dict.fromkeys(starts))


def _collect_groups(text: str, space: IdSpace, found: list[Reference]) -> str:
    """二级指标 references: ``二级指标10``, or its heading quoted (``依法决策机制健全``). A number before a
    heading that is the heading's own number (``10.依法决策机制健全``) is the group's, not an item's."""
    if not space.groups:
        return text
    spans = []
    for m in _LEVEL2_NUMBERED.finditer(text):
        for value in _numbers(m["list"], explicit=True):
            group = space.group(value) if value is not None else None
            if group is not None:
                found.append(Reference(group.ids, (), Evidence.EXPLICIT, m.start(), m.end(), group.number))
        spans.append((m.start(), m.end()))  # 二级指标99 is no item either
    text = _mask_spans(text, spans)
    pattern, starts = _heading_pattern(space.groups)
    if pattern is None or not any(start in text for start in starts):
        return text
    spans = []
    for m in pattern.finditer(text):
        name = next(k for k, v in m.groupdict().items() if k.startswith("g") and v is not None)
        group = space.group(int(name[1:]))
        assert group is not None
        found.append(Reference(group.ids, (), Evidence.EXPLICIT, m.start(name), m.end(name), group.number))
        own_number = m["num"] is not None and parse_number(m["num"]) == group.number
        spans.append((m.start() if own_number else m.start(name), m.end()))
    return _mask_spans(text, spans)


def find_references(text: str, space: IdSpace, *, leading_counts: bool = True) -> tuple[Reference, ...]:
    """All references in normalised ``text``, in order of position; 二级指标 references carry ``group``.

    ``leading_counts``: a number at the very start is positional evidence (true for file names and
    subjects, where staff put the indicator number first).
    """
    found: list[Reference] = []
    work = text
    if _ANY_NUMBER.search(work) is not None:
        for pattern in _CONTEXT_MASKS:  # dates and 附件1 first: 二级指标37,1月1日 lists no group 1
            work = mask(work, pattern)
    work = mask(_collect_groups(work, space, found), _LEVEL_MASK)
    if _ANY_NUMBER.search(work) is None:
        return tuple(found)  # nothing below can match without a number
    work = _collect_mixed(work, space, found)
    for pattern in (_EXTRA, *_EXPLICIT):
        work = _collect(work, pattern, Evidence.EXPLICIT, space, found)
    for pattern in _NUMBER_MASKS:
        work = mask(work, pattern)
    work = mask(work, _BARE_DASH, keep=_is_short_range)
    if leading_counts:
        work = _collect(work, _LEADING, Evidence.POSITIONAL, space, found)
    work = _collect(work, _GLUED_LIST, Evidence.POSITIONAL, space, found)
    work = _collect(work, _DELIMITED, Evidence.POSITIONAL, space, found)
    work = _collect(work, _SINGLE_ITEM, Evidence.POSITIONAL, space, found)
    _collect(work, _STRAY, Evidence.WEAK, space, found)
    return tuple(sorted(found, key=lambda r: r.start))


# --- file names -------------------------------------------------------------------------------

_EXTENSION = re.compile(r"\.(?=[A-Za-z0-9]{1,5}$)[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*$")
# Windows and mail clients add these to a second copy: 材料(1).docx, 材料 - 副本.docx, 材料 - 副本 (2).docx
_COPY_MARK = re.compile(r"(?<=\S)\s*(?:[-_]?\s*副本\s*(?:\(\s*\d{1,2}\s*\))?|\(\s*(?P<n>\d{1,2})\s*\))\s*$")


# A number in full-width brackets at the very end is written by a person (证明事项告知承诺制清单截图（4）);
# Explorer's copy mark is half-width after a space (清单 (1)). Read on the name before NFKC folds them.
_PERSON_MARK = re.compile(r"（\s*(?P<n>[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})\s*）$")


def person_mark(raw_name: str) -> int | None:
    """The number of a trailing full-width ``（N）`` in a file name as sent, if any."""
    stem = raw_name.strip()
    for _ in range(2):
        stem = _EXTENSION.sub("", stem).rstrip()
    m = _PERSON_MARK.search(stem)
    return parse_number(unicodedata.normalize("NFKC", m["n"])) if m else None


def split_filename(name: str) -> tuple[str, int | None, bool]:
    """``(stem without extension and copy mark, number inside the copy mark, had a copy mark)``."""
    stem = name
    for _ in range(2):  # 材料.docx.pdf
        stem = _EXTENSION.sub("", stem).rstrip()
    m = _COPY_MARK.search(stem)
    if m is None:
        return stem, None, False
    number = int(m["n"]) if m["n"] else None
    return stem[: m.start()], number, True


# --- declarations ---------------------------------------------------------------------------------

_DECLARATION_WORDS = (
    r"(?:暂无相关材料|暂无材料|无相关材料|无材料|没有材料|不涉及|无此项|不适用|无此项工作"
    r"|无需提供材料|不需提供材料|不需要提供材料|无需材料|无须提供材料)"
)
_WHO = r"(?:本部门|本单位|本科室|我科|我部门|我单位|我队|该项|此项|均|都|暂|也)*"
_DECLARED_AFTER = re.compile(rf"^[\s:,;。()\-_]*{_WHO}\s*{_DECLARATION_WORDS}")
_DECLARED_BEFORE = re.compile(rf"{_DECLARATION_WORDS}\s*(?:的)?\s*[:]?\s*$")


def declared(text: str, ref: Reference) -> bool:
    """Whether ``ref`` is declared not applicable: ``指标13 无材料``, ``第45项本部门不涉及``, ``不涉及:指标7``."""
    return bool(_DECLARED_AFTER.search(text[ref.end :]) or _DECLARED_BEFORE.search(text[: ref.start]))


# --- classification marks -------------------------------------------------------------------------

# 保密 (keeping secrets, e.g. a 保密工作 report) is not a classification; 非涉密 / 不涉密 says it isn't.
_CLASSIFIED = re.compile(r"(?<![非不无未])(?:涉密|绝密|机密|秘密)")


def classification_marks(text: str) -> tuple[str, ...]:
    """Distinct classification words in ``text``, in order of appearance."""
    return tuple(dict.fromkeys(_CLASSIFIED.findall(text)))
