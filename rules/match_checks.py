"""Problems worth telling the coordinator or the sender about, each a stable code and a Chinese detail.

Every check reads the shared :class:`Context` and the attachment decisions and returns problems;
``CHECKS`` is their order in the Decision.
"""

from __future__ import annotations

from collections.abc import Callable

from rules import codes
from rules.decision import AttachmentDecision, Problem
from rules.match_types import Context

Check = Callable[[Context, tuple[AttachmentDecision, ...]], tuple[Problem, ...]]


def _ids(ids: tuple[str, ...] | list[str]) -> str:
    return "、".join(ids)


def out_of_range(ctx: Context, attachments: tuple[AttachmentDecision, ...]) -> tuple[Problem, ...]:
    """``指标65``, ``第0项``, ``加分项3``: a number that is not in the checklist."""
    problems = []
    valid = ctx.space.describe()
    if ctx.subject.out_of_range:
        problems.append(
            Problem(
                codes.OUT_OF_RANGE,
                f"邮件主题中的编号{_ids(ctx.subject.out_of_range)}不在指标体系中（有效编号：{valid}）",
            )
        )
    for att, fm in zip(attachments, ctx.files, strict=True):
        if fm.out_of_range:
            problems.append(
                Problem(
                    codes.OUT_OF_RANGE,
                    f"附件《{att.filename}》中的编号{_ids(fm.out_of_range)}不在指标体系中（有效编号：{valid}）",
                    att.filename,
                )
            )
    return tuple(problems)


def conflicting_numbers(ctx: Context, attachments: tuple[AttachmentDecision, ...]) -> tuple[Problem, ...]:
    """The file name and the subject name different indicators, and the file name's was taken (a file
    sent to review for it says so in its review reason)."""
    if not ctx.wanted:
        return ()
    problems = []
    for att in attachments:
        extra = [i for i in att.indicators if i not in ctx.subject.ids]
        if att.needs_review or att.matched_by != "filename" or not extra:
            continue
        problems.append(
            Problem(
                codes.CONFLICTING_NUMBERS,
                f"附件《{att.filename}》的文件名标注指标{_ids(att.indicators)}，邮件主题标注指标"
                f"{_ids(ctx.subject.ids)}，两者不一致；已按文件名归入指标{_ids(att.indicators)}",
                att.filename,
            )
        )
    return tuple(problems)


def possibly_classified(ctx: Context, attachments: tuple[AttachmentDecision, ...]) -> tuple[Problem, ...]:
    """涉密/秘密/机密/绝密 in the subject or a file name: classified material must not be mailed."""
    problems = []
    if ctx.subject.classified:
        problems.append(
            Problem(
                codes.POSSIBLY_CLASSIFIED,
                f"邮件主题含“{_ids(ctx.subject.classified)}”字样，可能涉及涉密材料；"
                "涉密材料不得通过邮件报送，应在实地核验时提供",
            )
        )
    for att, fm in zip(attachments, ctx.files, strict=True):
        if fm.classified:
            problems.append(
                Problem(
                    codes.POSSIBLY_CLASSIFIED,
                    f"附件《{att.filename}》的文件名含“{_ids(fm.classified)}”字样，可能为涉密材料；"
                    "涉密材料不得通过邮件报送，应在实地核验时提供",
                    att.filename,
                )
            )
    return tuple(problems)


def no_materials_needed(ctx: Context, attachments: tuple[AttachmentDecision, ...]) -> tuple[Problem, ...]:
    """Material sent for an indicator whose table entry says 不需提供材料: probably a wrong number."""
    named = [*ctx.wanted, *(i for a in attachments for i in a.indicators)]
    flagged = [i for i in dict.fromkeys(named) if (ind := ctx.catalogue.get(i)) is not None and ind.no_materials_needed]
    if not flagged:
        return ()
    return (
        Problem(
            codes.NO_MATERIALS_NEEDED,
            f"指标{_ids(flagged)}按指标体系不需提供材料，请确认编号是否写错",
        ),
    )


def declared_and_submitted(ctx: Context, attachments: tuple[AttachmentDecision, ...]) -> tuple[Problem, ...]:
    """The same mail says 无材料 for an indicator and sends a file for it."""
    sent = {i for a in attachments for i in a.indicators}
    both = [i for i in ctx.declarations if i in sent]
    if not both:
        return ()
    return (
        Problem(
            codes.DECLARED_AND_SUBMITTED,
            f"指标{_ids(both)}既声明无材料（不涉及），又附有对应材料，请确认",
        ),
    )


def unmatched_attachment(ctx: Context, attachments: tuple[AttachmentDecision, ...]) -> tuple[Problem, ...]:
    """An attachment no rule could place: a person decides (the review item has the candidates). The
    detail speaks to the sender: why, and what to write next time (the receipt shows it by the file)."""
    return tuple(
        Problem(codes.UNMATCHED_ATTACHMENT, f"{att.reason}，已转法规科人工确认。{att.advice}。", att.filename)
        for att in attachments
        if att.needs_review
    )


CHECKS: tuple[Check, ...] = (
    out_of_range,
    conflicting_numbers,
    possibly_classified,
    no_materials_needed,
    declared_and_submitted,
    unmatched_attachment,
)
