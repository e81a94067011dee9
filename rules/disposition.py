"""What a submission's rows should say, decided before anything is written.

The matcher (``rules.match.evaluate``) reads the subject and file names; this module adds what the
sender's identity and the record so far decide, so that ``bot.ingest.record`` only writes:

- ``disposition``: which files count for which indicators, which need the coordinator (no certain
  indicator; a sender in no section; a submission with nothing in it), which problems to report
  (a section sending for an item it does not own);
- ``next_version``: whether a file is a new version of one already counted for the same indicator and
  section (same name once copy marks like ``(1)``/``修改稿`` are removed), or the same content again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rules import codes
from rules.catalogue import Catalogue
from rules.decision import Decision
from rules.material import NotMaterial
from rules.visible import has_bidi_controls, strip_format

# Marks people add when they re-send a corrected file; stripped so that the corrected file becomes
# a new version of the old one instead of an extra file.
_COPY_MARKS = re.compile(
    r"[\s_-]*(?:[(（\[【](?:\d{1,2}|修改|修改稿|修订|修订稿|更新|新|最终|最终版|终稿|定稿|补充|更正)[)）\]】]"
    r"|修改稿|修订稿|修改版|最终版|终稿|定稿|更正版|[vV]\d{1,2})$"
)


def name_key(filename: str) -> str:
    """The identity of a file name across versions: NFKC, case-folded, copy/version marks removed."""
    name = unicodedata.normalize("NFKC", filename).strip().casefold()
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 6:
        stem, ext = name, ""
    while True:
        shorter = _COPY_MARKS.sub("", stem)
        if shorter == stem or not shorter:
            break
        stem = shorter
    stem = re.sub(r"\s+", "", stem)
    return f"{stem}.{ext}" if ext else stem


# -- versions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorVersion:
    """A file already counted for one indicator and section (current or replaced)."""

    name_key: str
    version: int
    sha256: str


@dataclass(frozen=True)
class NextVersion:
    """Where a file goes among the versions of its indicator and section. ``version`` is None when the
    same content is already counted there (nothing to write); ``replaces`` is the version it makes
    no longer current, if any."""

    name_key: str
    version: int | None
    replaces: int | None = None


def next_version(filename: str, sha256: str, prior: Iterable[PriorVersion]) -> NextVersion:
    """The version rule: identical content counts once; a file whose name matches an earlier one
    (copy marks aside) replaces it; any other name is a further file of the item, version 1."""
    key = name_key(filename)
    latest = 0
    for p in prior:
        if p.sha256 == sha256:
            return NextVersion(key, None)
        if p.name_key == key:
            latest = max(latest, p.version)
    return NextVersion(key, latest + 1, latest or None)


# -- what a submission's rows say -------------------------------------------------------------------


@dataclass(frozen=True)
class Assign:
    file: int  # index into the mail's materials (the order the matcher saw the names in)
    indicator_id: str
    matched_by: str


@dataclass(frozen=True)
class Review:
    reason: str  # rules.codes
    detail: str  # Chinese, for the coordinator
    candidates: tuple[str, ...] = ()
    file: int | None = None  # None: about the mail as a whole


@dataclass(frozen=True)
class Finding:
    code: str  # rules.codes
    detail: str  # Chinese, for the sender and the coordinator
    file: int | None = None


@dataclass(frozen=True)
class Disposition:
    assignments: tuple[Assign, ...]
    reviews: tuple[Review, ...]
    problems: tuple[Finding, ...]
    declarations: tuple[str, ...]  # indicator ids to record as 无材料 for the sender's section


def disposition(
    decision: Decision,
    section: str | None,
    catalogue: Catalogue,
    *,
    from_addr: str,
    has_cloud_links: bool = False,
    unverified: str | None = None,
    not_material: Mapping[int, NotMaterial] | None = None,
) -> Disposition:
    """Turn the matcher's decision into rows for a sender of ``section`` (None: in no section).

    - A file that is not material (``rules.material``: an executable, a damaged encoding, a container
      intake could not open) is never assigned: one review item per file says why.
    - A file the matcher placed counts for its indicators, also from a section that does not own
      them (it is the section's own evidence), with a ``not_owner`` problem for the coordinator.
    - A sender in no section cannot count for anyone: the files are assigned under no section and one
      review asks the coordinator who sent them; declarations wait for that answer. A sender intake
      cannot trust (``unverified``: why, from ``rules.sender``) is treated the same way, with its
      own review reason (and the caller neither answers nor obeys it).
    - A file name that carried bidi controls is reported (they can disguise an extension).
    - A submission with no file, link or declaration is put before the coordinator to read.
    """
    assignments: list[Assign] = []
    reviews: list[Review] = []
    problems: list[Finding] = []
    refused = not_material or {}
    for index, verdict in enumerate(decision.attachments):
        if index in refused:
            reviews.append(Review(refused[index].reason, refused[index].detail, (), index))
            continue
        if has_bidi_controls(verdict.filename):
            problems.append(
                Finding(
                    codes.BIDI_IN_NAME,
                    f"文件名含有双向文字控制字符（可用来伪装扩展名），已按去除后的名称登记："
                    f"{strip_format(verdict.filename)}",
                    index,
                )
            )
        if verdict.needs_review or not verdict.indicators:
            reviews.append(
                Review(
                    codes.NEEDS_REVIEW,
                    verdict.reason or "无法确定该文件对应的指标",
                    tuple(verdict.candidates),
                    index,
                )
            )
            continue
        for indicator_id in verdict.indicators:
            assignments.append(Assign(index, indicator_id, verdict.matched_by or "subject"))
            indicator = catalogue.get(indicator_id)
            if section and indicator is not None and section not in indicator.sections:
                owners = "、".join(indicator.sections)
                problems.append(
                    Finding(
                        codes.NOT_OWNER,
                        f"指标{indicator_id}的责任单位是{owners}，本文件由{section}报送，已记录并提请协调人核对。",
                        index,
                    )
                )
    first_of: dict[str, int] = {}
    for index, verdict in enumerate(decision.attachments):
        first_of.setdefault(verdict.filename, index)
    for problem in decision.problems:
        target = first_of.get(problem.filename) if problem.filename else None
        if target is not None and target in refused:
            continue  # the file is not material: its review item says all there is to say
        problems.append(Finding(problem.code, problem.detail, target))

    declarations = tuple(decision.declarations) if section else ()
    if unverified is not None:
        reviews.append(
            Review(
                codes.SENDER_UNVERIFIED,
                f"发件人无法确认（{unverified}）；From：{from_addr or '（无）'}。"
                "文件已记录但未计入任何科室；不会自动回执，也不执行其中的指令。"
                "如确认来信属于某科室，可指派到该科室（intake assign R编号 --section 科室）。",
                tuple(decision.declarations),
            )
        )
    elif not section:
        reviews.append(
            Review(
                codes.UNKNOWN_SENDER,
                f"发件人 {from_addr or '（无地址）'} 不属于任何已配置的科室；"
                "文件已记录但未计入任何科室。请在配置的 [[sections]] senders 中添加该地址，或手工指派。",
                tuple(decision.declarations),
            )
        )
    elif not decision.attachments and not has_cloud_links and not decision.declarations:
        reviews.append(
            Review(
                codes.NO_MATERIAL,
                "邮件中没有附件、云附件或“无材料”声明，请协调人查看邮件正文。",
                tuple(decision.subject_indicators),
            )
        )
    return Disposition(tuple(assignments), tuple(reviews), tuple(problems), declarations)
