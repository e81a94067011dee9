"""What the coordinator names in a command, checked before anything changes: review items (R12),
files (A34 or a SHA-256 prefix), indicators (12, 指标12, 第十二项, 加分项1) and sections.

Every check fails with an ``ActionError`` whose message says what is wrong and what would be right
(the closest section name, the valid range of indicator ids, the forms of an id), the same for the
CLI and for commands by mail.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Attachment, ReviewItem
from rules.catalogue import Catalogue
from rules.commands import SHA_PREFIX_MIN
from rules.match import match_subject
from rules.normalize import normalize
from rules.suggest import section_name, unknown_indicator, unknown_word

REF_FORMS = f"待办写作 R12，文件写作 A34 或 SHA-256 前缀（至少{SHA_PREFIX_MIN}位）"


class ActionError(ValueError):
    """The action cannot be done; ``str()`` says why, in Chinese."""


@dataclass(frozen=True)
class Ref:
    kind: str  # "review" | "file" | "sha"
    value: str  # the number, or the lower-case hex prefix


def parse_ref(text: str) -> Ref:
    """``R12``/``#12`` -> review item 12; ``A34`` -> file 34; hex (not all digits) -> SHA-256 prefix.

    A bare number is refused: ``2`` could be R2 or A2 (it once silently meant R2)."""
    ref = normalize(text).strip()
    if m := re.fullmatch(r"[Rr#](\d+)", ref):
        return Ref("review", m.group(1))
    if m := re.fullmatch(r"[Aa](\d+)", ref):
        return Ref("file", m.group(1))
    if ref.isdigit():
        raise ActionError(f"编号“{text}”不明确：待办请写 R{ref}，文件请写 A{ref}")
    if re.fullmatch(r"[0-9a-fA-F]+", ref):
        if len(ref) < SHA_PREFIX_MIN:
            raise ActionError(f"SHA-256 前缀“{text}”太短：至少写{SHA_PREFIX_MIN}位，或改用文件编号 A34")
        if len(ref) <= 64:
            return Ref("sha", ref.lower())
    raise ActionError(f"编号“{text}”无效：{REF_FORMS}")


def is_ref(text: str) -> bool:
    """Whether a word is meant as a review item or file id (as opposed to an indicator)."""
    ref = normalize(text).strip()
    return bool(re.fullmatch(r"[RrAa#]\d+", ref)) or (
        not ref.isdigit() and bool(re.fullmatch(rf"[0-9a-fA-F]{{{SHA_PREFIX_MIN},64}}", ref))
    )


def parse_ids(words: Sequence[str], catalogue: Catalogue) -> list[str]:
    """Indicator ids from what the coordinator typed: "12", "指标12", "第十二项", "加分项1", "12、13"."""
    ids: list[str] = []
    for word in words:
        word = word.strip()
        if word in catalogue:
            found = [word]
        else:
            # The coordinator names indicators on purpose: bare numbers count here.
            m = match_subject(word)
            found = list(m.ids or m.weaker)
        bad = [i for i in found if i not in catalogue]
        if not found or bad:
            raise ActionError(unknown_indicator(bad[0] if bad else word, catalogue))
        ids.extend(i for i in found if i not in ids)
    if not ids:
        raise ActionError("请至少给出一个指标编号")
    return ids


def check_section(name: str, catalogue: Catalogue) -> str:
    """A section of the checklist's 责任单位, or an error with the closest name."""
    try:
        return section_name(name, catalogue.sections)
    except ValueError as exc:
        raise ActionError(str(exc)) from None


def explain_unknown(words: Sequence[str], catalogue: Catalogue, sections: Sequence[str]) -> str:
    """Why a mailed command's leftover words mean nothing (``办公司`` -> did you mean 办公室?)."""
    return "；".join(unknown_word(w, catalogue, sections) for w in words) + "。发送“帮助”可查看指令格式"


def find_review_item(s: Session, ref: Ref | str) -> ReviewItem:
    ref = parse_ref(ref) if isinstance(ref, str) else ref
    if ref.kind != "review":
        raise ActionError(f"这里需要待办编号（例如 R12），不是文件编号 {_shown(ref)}")
    item = s.get(ReviewItem, int(ref.value))
    if item is None:
        raise ActionError(f"没有编号为 R{ref.value} 的待办（intake review 列出全部待办）")
    return item


def find_attachment(s: Session, ref: Ref | str) -> Attachment:
    ref = parse_ref(ref) if isinstance(ref, str) else ref
    if ref.kind == "file":
        att = s.get(Attachment, int(ref.value))
        if att is None:
            raise ActionError(f"没有编号为 A{ref.value} 的文件")
        return att
    if ref.kind == "sha":
        rows = s.scalars(
            select(Attachment).where(Attachment.sha256.startswith(ref.value)).order_by(Attachment.id).limit(6)
        ).all()
        if not rows:
            raise ActionError(f"没有 SHA-256 以“{ref.value}”开头的文件")
        if len(rows) > 1:
            shown = "、".join(f"A{a.id}“{a.filename}”" for a in rows[:5])
            why = "请写长一些或改用 A 编号" if len({a.sha256 for a in rows}) > 1 else "同一文件收到过多次，请用 A 编号"
            raise ActionError(f"SHA-256 前缀“{ref.value}”对应多个文件（{shown}），{why}")
        return rows[0]
    raise ActionError(f"这里需要文件编号（例如 A34），不是待办编号 R{ref.value}")


def _shown(ref: Ref) -> str:
    return f"A{ref.value}" if ref.kind == "file" else ref.value
