"""Generated mails for ``bench/match.py``: what sections send, each file labelled with what it meant.

Every mail comes from a sender (a section, or now and then an address on no list) and covers indicators
that section owns, written the way staff write: lists in the subject, numbers leading the file names,
words taken from the table's 填报材料 column, covering notes, 二级指标 headings, typos. Each file
carries the indicator(s) its sender meant and how a careful clerk reading the mail would take it:

- ``knowable``: the mail says which indicator, and a clerk files it without asking;
- ``ambiguous``: a clerk would ask first (a typed number the section does not own next to one it
  does, a 二级指标 with several items of the section, a number that may be a file's own numbering);
- ``unknowable``: nothing in the mail says which indicator.

Shapes are named (``Shape``) so the benchmark can report the review rate per kind of mail. Seeded,
so two runs compare.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from rules.catalogue import Catalogue, Indicator

KNOWABLE = "knowable"
AMBIGUOUS = "ambiguous"
UNKNOWABLE = "unknowable"

_CN = "零一二三四五六七八九"
_PREFIXES = ["", "", "", "", "Re: ", "回复：", "转发：", "Fw: "]
_EXTS = [".docx", ".docx", ".doc", ".pdf", ".pdf", ".xlsx", ".jpg", ".png", ".wps"]
_GENERIC = ["情况说明", "相关材料", "佐证材料", "工作总结", "扫描件", "照片", "截图", "说明", "附件"]
_NOISE_NAMES = ["新建 Microsoft Word 文档", "IMG_20211020_093015", "微信图片_20211021", "扫描件001", "附件1"]


@dataclass(frozen=True)
class File:
    name: str
    truth: tuple[str, ...]  # what the sender meant
    kind: str  # KNOWABLE | AMBIGUOUS | UNKNOWABLE


@dataclass(frozen=True)
class Mail:
    shape: str
    subject: str
    files: tuple[File, ...]
    section: str | None
    body: str = ""


def chinese(n: int) -> str:
    if n < 10:
        return _CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")


# --- how a person shortens the table's words into a file name -----------------------------------------

_LEADING_TIME = re.compile(
    r"^(?:\d{4}(?:、\d{4})?年(?:度|以来)?|本级政府（上级部门）对|有关部门出具的|本级财政部门提供的)"
)
_TAIL = re.compile(r"(?:的情况说明|情况说明|的相关说明|相关说明|，及相关材料|及相关材料|的材料|的说明)$")


def words(ind: Indicator, rng: random.Random) -> str:
    """A file name's words for ``ind``: the materials text as written, shortened, or the requirement."""
    if ind.materials is None or ind.materials in {"相关情况说明"}:
        first = re.split(r"[，。；、]", ind.text)[0]
        return rng.choice([first[:14], ind.level2.rstrip("。") + "情况说明", "情况说明"])
    text = ind.materials
    core = _TAIL.sub("", _LEADING_TIME.sub("", text).replace("本部门", "", 1)).strip("，、 ")
    year = m[0] if (m := re.match(r"\d{4}年(?:度|以来)?", text)) else ""
    forms = [
        text,
        core,
        core + "情况说明",
        year + core,
        core[: rng.randint(6, 12)] if len(core) > 12 else core,
        ind.level2.rstrip("。") + "情况",
    ]
    return rng.choice(forms) or "情况说明"


def numbered(n: str, text: str, rng: random.Random) -> str:
    """``text`` led by the indicator number, in one of the ways staff write it."""
    if not n.isdigit():
        return rng.choice([f"加分项{n[1:]}-{text}" if n.startswith("加") else f"减分项{n[1:]}-{text}", f"{n}.{text}"])
    form = rng.choice(["{n}.", "{n}、", "{n} ", "{n}-", "（{n}）", "({n})", "{n}．", "指标{n}-", "第{n}项-", "【{n}】"])
    return form.format(n=n) + text


def ext(rng: random.Random) -> str:
    return rng.choice(_EXTS)


# --- the mail shapes ------------------------------------------------------------------------------------


class Gen:
    def __init__(self, catalogue: Catalogue, rng: random.Random) -> None:
        self.cat = catalogue
        self.rng = rng
        self.owned = {s: [i.id for i in catalogue.for_section(s)] for s in catalogue.sections}
        self.persons = {
            s: sorted({p for i in catalogue.for_section(s) for o in i.owners if o.section == s for p in o.persons})
            for s in catalogue.sections
        }

    # helpers
    def section(self) -> str:
        # sections with more indicators send more mail
        sections = list(self.owned)
        return self.rng.choices(sections, weights=[len(self.owned[s]) for s in sections])[0]

    def pick(self, section: str, k: int, *, numbered_only: bool = True) -> list[str]:
        # items that need no material are declared, not sent
        pool = [i for i in self.owned[section] if (i.isdigit() or not numbered_only) and self.cat[i].owes_material]
        return sorted(self.rng.sample(pool, min(k, len(pool))), key=_order)

    def who(self, section: str) -> str:
        person = self.rng.choice(self.persons[section] or [""])
        return self.rng.choice([section, f"{section}-{person}", f"{section}（{person}）", person or section])

    def joined(self, ids: list[str]) -> str:
        return self.rng.choice(["、", "，", ",", "、", " "]).join(ids)

    def sender(self, section: str) -> str | None:
        return None if self.rng.random() < 0.05 else section

    # shapes: each returns a Mail
    def subject_single(self) -> Mail:
        """One indicator in the subject, one or more files with words or nothing telling."""
        s = self.section()
        (n,) = self.pick(s, 1, numbered_only=False)
        form = self.rng.choice(
            [
                "指标{n}",
                "第{n}项",
                "【{n}】{w}",
                "{who}-指标{n}-{w}",
                "序号{n}",
                "{n}-{who}-{w}",
                "指标{n}：{w}",
                "第{cn}项材料",
                "{who}报送第{n}项材料",
            ]
        )
        if not n.isdigit():
            form = self.rng.choice(["{n}", "加分项{k}", "{who}-加分项{k}"]) if n.startswith("加") else "{n}"
        subject = form.format(
            n=n, w=words(self.cat[n], self.rng), who=self.who(s), cn=chinese(int(n)) if n.isdigit() else n, k=n[1:]
        )
        names = [
            self.rng.choice([words(self.cat[n], self.rng), self.rng.choice(_GENERIC)]) + ext(self.rng)
            for _ in range(self.rng.choice([1, 1, 1, 2, 3]))
        ]
        files = tuple(File(name, (n,), KNOWABLE) for name in names)
        return Mail("subject-single", self._prefix(subject), files, self.sender(s))

    def subject_list(self) -> Mail:
        """Several indicators in the subject; files numbered, or named with the table's words."""
        s = self.section()
        ids = self.pick(s, self.rng.choice([2, 2, 3, 4]))
        subject = self.rng.choice(["指标{l}", "第{l}项", "{who}-指标{l}", "{l}项材料", "{who}{l}"]).format(
            l=self.joined(ids), who=self.who(s)
        )
        files = []
        for n in ids:
            if self.rng.random() < 0.6:
                files.append(File(numbered(n, words(self.cat[n], self.rng), self.rng) + ext(self.rng), (n,), KNOWABLE))
            else:
                # words only: a clerk pairs them when the words are clear, asks otherwise
                files.append(File(words(self.cat[n], self.rng) + ext(self.rng), (n,), AMBIGUOUS))
        if len(ids) >= 2 and self.rng.random() < 0.2:
            files = [File(self.rng.choice(_GENERIC) + ext(self.rng), tuple(ids), KNOWABLE)]  # one file for all
        return Mail("subject-list", self._prefix(subject), tuple(files), self.sender(s))

    def mixed_extras(self) -> Mail:
        """法规科's lists that end with a 加分项: 指标3、9、17、加1项材料, （16，加2）, 43,加2."""
        s = "法规科"
        plain = self.pick(s, self.rng.choice([1, 2, 3]))
        extra = self.rng.choice(["加1", "加2"])
        k = extra[1:]
        sep = self.rng.choice(["、", "，", ","])
        tail = self.rng.choice([extra, f"加{k}项", f"加分项{k}", f"加分{k}"])
        listing = sep.join([*plain, tail])
        subject = self.rng.choice(["指标{l}项材料", "{who}（{l}）", "{l}", "{who}报送{l}", "第{l}"]).format(
            l=listing, who=self.who(s)
        )
        ids = [*plain, extra]
        files = [File(numbered(n, words(self.cat[n], self.rng), self.rng) + ext(self.rng), (n,), KNOWABLE) for n in ids]
        if self.rng.random() < 0.3:
            files = [File(self.rng.choice(_GENERIC) + ext(self.rng), tuple(ids), KNOWABLE)]
        return Mail("mixed-extras", self._prefix(subject), tuple(files), s)

    def leading_numbers(self) -> Mail:
        """No number in the subject; each file name starts with its indicator number."""
        s = self.section()
        ids = self.pick(s, self.rng.choice([1, 1, 2, 3]))
        subject = self.rng.choice(
            ["{s}材料", "{s}报送依法行政示范创建材料", "关于报送依法行政示范单位创建材料的函", "{who}", "依法行政材料"]
        ).format(s=s, who=self.who(s))
        files = tuple(
            File(numbered(n, words(self.cat[n], self.rng), self.rng) + ext(self.rng), (n,), KNOWABLE) for n in ids
        )
        return Mail("leading-number", self._prefix(subject), files, self.sender(s))

    def covering_note(self) -> Mail:
        """The subject names one indicator (the covering note); the files are numbered for others."""
        s = self.section()
        ids = self.pick(s, self.rng.choice([2, 3]))
        if len(ids) < 2:
            return self.leading_numbers()
        subject = self.rng.choice(["指标{n}-{s}", "第{n}项{s}", "{who}-指标{n}"]).format(n=ids[0], s=s, who=self.who(s))
        files = []
        for n in ids:
            text = words(self.cat[n], self.rng)
            kind = KNOWABLE if n == ids[0] else AMBIGUOUS
            files.append(File(numbered(n, text, self.rng) + ext(self.rng), (n,), kind))
        return Mail("covering-note", self._prefix(subject), tuple(files), self.sender(s))

    def trailing_mark(self) -> Mail:
        """A person writes the indicator at the end in full-width brackets; Explorer adds `` (1)`` copies."""
        s = self.section()
        (n,) = self.pick(s, 1)
        subject = self.rng.choice(["{s}材料", "{who}报送材料", "材料"]).format(s=s, who=self.who(s))
        text = words(self.cat[n], self.rng)
        if self.rng.random() < 0.7:
            name, kind = f"{text}（{n}）", KNOWABLE
        else:
            name, kind = f"{text} ({self.rng.randint(1, 3)})", UNKNOWABLE
        return Mail("trailing-mark", self._prefix(subject), (File(name + ext(self.rng), (n,), kind),), self.sender(s))

    def year_after_number(self) -> Mail:
        """``6.2020年度预算执行情况说明``: the number, then the materials' year."""
        s = self.section()
        ids = self.pick(s, self.rng.choice([1, 2]))
        subject = self.rng.choice(["{s}材料", "{who}", "依法行政示范创建材料"]).format(s=s, who=self.who(s))
        files = []
        for n in ids:
            ind = self.cat[n]
            year = self.rng.choice(["2020年度", "2020年", "2019年以来", "2020年以来", "2021年"])
            topic = ind.level2.rstrip("。")
            text = self.rng.choice([f"{year}{topic}情况说明", f"{year}{_TAIL.sub('', ind.materials or topic)}"])
            sep = self.rng.choice([".", "、", "-", " ", "．"])
            files.append(File(f"{n}{sep}{text}" + ext(self.rng), (n,), KNOWABLE))
        return Mail("number-year", self._prefix(subject), tuple(files), self.sender(s))

    def level2(self) -> Mail:
        """The subject quotes a 二级指标 heading, numbered or not, with the section."""
        s = self.section()
        (n,) = self.pick(s, 1)
        ind = self.cat[n]
        group = [i.id for i in self.cat if i.level2_no == ind.level2_no]
        heading = ind.level2.rstrip("。")
        no = ind.level2_no
        subject = self.rng.choice(
            [
                "二级指标{no} {h}（{s}）",
                "二级指标{no}-{s}",
                "{h}-{s}",
                "{no}.{h}（{s}）",
                "二级指标第{no}项{h}",
                "{s}：{h}",
            ]
        ).format(no=no, h=heading, s=s)
        mine = [i for i in group if s in self.cat[i].sections]
        sender = self.sender(s)
        kind = KNOWABLE if len(mine) == 1 and sender is not None else AMBIGUOUS
        text = self.rng.choice([words(ind, self.rng), self.rng.choice(_GENERIC)])
        return Mail("level2", self._prefix(subject), (File(text + ext(self.rng), (n,), kind),), sender)

    def neighbour_typo(self) -> Mail:
        """The section types the number next to its own: 第34项 from a section that owns 33."""
        s = self.section()
        owned = [i for i in self.owned[s] if i.isdigit() and self.cat[i].owes_material]
        typos = [
            (str(int(n) + d), n)
            for n in owned
            for d in (-1, 1)
            if 1 <= int(n) + d <= 60 and str(int(n) + d) not in self.owned[s]
        ]
        if not typos:
            return self.subject_single()
        typed, meant = self.rng.choice(typos)
        subject = self.rng.choice(["第{t}项", "指标{t}", "{who}-指标{t}"]).format(t=typed, who=self.who(s))
        name = self.rng.choice(_GENERIC) + ext(self.rng)
        return Mail("neighbour-typo", self._prefix(subject), (File(name, (meant,), AMBIGUOUS),), s)

    def enumerated(self) -> Mail:
        """Files numbered 1, 2, 3 in the order of sending, not by indicator."""
        s = self.section()
        ids = self.pick(s, self.rng.choice([2, 3]))
        subject = self.rng.choice(["{s}材料", "{who}报送材料"]).format(s=s, who=self.who(s))
        files = tuple(
            File(f"{k}.{words(self.cat[n], self.rng)}" + ext(self.rng), (n,), KNOWABLE if str(k) == n else AMBIGUOUS)
            for k, n in enumerate(ids, start=1)
        )
        return Mail("enumerated", self._prefix(subject), files, self.sender(s))

    def nothing(self) -> Mail:
        """Nothing says which indicator: a generic subject and generic names."""
        s = self.section()
        (n,) = self.pick(s, 1)
        subject = self.rng.choice(["{s}材料", "材料", "{who}", "依法行政示范创建材料"]).format(s=s, who=self.who(s))
        name = self.rng.choice([*_GENERIC, *_NOISE_NAMES]) + ext(self.rng)
        return Mail("no-number", self._prefix(subject), (File(name, (n,), UNKNOWABLE),), self.sender(s))

    def _prefix(self, subject: str) -> str:
        return self.rng.choice(_PREFIXES) + subject


#: how often each shape comes, roughly as a mailbox would hold them
SHAPES = (
    ("subject_single", 30),
    ("subject_list", 14),
    ("leading_numbers", 14),
    ("mixed_extras", 4),
    ("covering_note", 6),
    ("trailing_mark", 4),
    ("year_after_number", 6),
    ("level2", 6),
    ("neighbour_typo", 3),
    ("enumerated", 4),
    ("nothing", 9),
)


def _order(ind_id: str) -> tuple[int, str]:
    return (int(ind_id), "") if ind_id.isdigit() else (100, ind_id)


def generate(catalogue: Catalogue, count: int, seed: int = 20211028) -> list[Mail]:
    rng = random.Random(seed)
    gen = Gen(catalogue, rng)
    names = [name for name, _ in SHAPES]
    weights = [w for _, w in SHAPES]
    return [getattr(gen, rng.choices(names, weights=weights)[0])() for _ in range(count)]
