"""What the matcher's codes say in Chinese: why a file was assigned, why it went to review, and what the
sender can write next time so that it will not.

Evidence codes are stable (``intake match --json`` shows them, docs/COORDINATOR.md lists them); a
review's code is ``review:<reason>``. The sentences are the only place the wording lives: the review
item, the receipt and ``intake match`` all read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How an assigned file was decided, as a coordinator reads it.
EVIDENCE = {
    "filename-number": "文件名中的指标编号",
    "filename-number+materials": "文件名中的编号与文件名所述材料一致",
    "subject-number": "邮件主题中的指标编号",
    "subject-list": "邮件主题中的指标编号列表",
    "similarity": "文件名与主题所列某项指标的填报材料明显对应",
    "level2": "二级指标（其下只有这一项需报送材料）",
    "level2+section": "二级指标及发件科室的分工（该二级指标下本科室只负责这一项）",
}

REVIEW_PREFIX = "review:"


@dataclass(frozen=True)
class Reason:
    why: str  # a template over the facts of the case
    advice: str  # what to write next time


#: Why a file went to review, and what to write next time. Templates take ``file`` (the file name's
#: numbers), ``subject`` (the subject's), ``section``, ``group``/``heading``/``items`` (a 二级指标),
#: ``neighbours``, ``numbers`` and ``valid`` (out-of-range numbers and the valid range).
REVIEW = {
    "no-number": Reason(
        "文件名和邮件主题均未标明指标编号",
        "今后请在邮件主题或文件名中写明指标编号，如“指标12-涉企收费清理情况说明”",
    ),
    "conflict": Reason(
        "文件名中的编号{file}与邮件主题中的编号{subject}不一致，文件名的文字也不能说明是哪一项",
        "今后请让文件名开头的编号与邮件主题一致；一封邮件报送多项时，在主题中写全所有编号",
    ),
    "ambiguous": Reason(
        "邮件主题列有多项指标（{subject}），无法确定本文件对应其中哪一项",
        "今后一封邮件报送多项指标时，请在每个文件名开头写明编号，如“12-涉企收费清理情况说明.docx”",
    ),
    "enumeration": Reason(
        "文件名开头的{file}可能是文件的序号：文件名所述内容与指标{file}的填报材料不符",
        "今后文件名开头请只写指标编号（不写文件序号），或写成“指标12-…”",
    ),
    "not-owned": Reason(
        "文件名开头的编号{file}不是{section}负责的指标，文件名所述内容也不能印证",
        "请核对编号；今后请写成“指标12-…”的形式",
    ),
    "suspect-number": Reason(
        "指标{file}不由{section}负责，而相邻的指标{neighbours}由{section}负责，编号可能写错",
        "请核对编号；今后请在主题或文件名中写明本科室负责的指标编号",
    ),
    "level2-group": Reason(
        "邮件引用的是二级指标{group}（{heading}），其下有指标{items}，无法确定本文件对应哪一项",
        "今后请写三级指标的序号，如“指标{first}”",
    ),
    "level2-conflict": Reason(
        "文件名中的编号{file}不属于文件名所写的二级指标{group}（其下为指标{items}）",
        "请核对编号；今后请只写三级指标的序号，如“指标{first}-…”",
    ),
    "level2-subject": Reason(
        "文件名所写的二级指标{group}（{heading}）下没有邮件主题中的指标{subject}",
        "请核对编号；今后请在文件名开头写明三级指标的序号，如“指标{first}-…”",
    ),
    "mark": Reason(
        "文件名末尾的（{file}）无法确认是指标编号：文件名所述内容与指标{file}的填报材料不符",
        "今后请把指标编号写在文件名开头，如“{file}-…”或“指标{file}-…”",
    ),
    "series": Reason(
        "文件名末尾的编号（{file}）与同一邮件中其他文件的编号连续，像是文件的序号",
        "今后请把指标编号写在文件名开头，如“指标12-…”",
    ),
    "out-of-range": Reason(
        "编号{numbers}不在指标体系中（有效编号：{valid}）",
        "请核对编号后在主题或文件名中写明正确的指标编号",
    ),
}


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def explain(code: str, **facts: str) -> tuple[str, str]:
    """``(why, advice)`` for review reason ``code``, with the facts of the case filled in."""
    reason = REVIEW[code]
    return reason.why.format_map(_Facts(facts)), reason.advice.format_map(_Facts(facts))


def evidence_label(evidence: str) -> str:
    """The Chinese label of an evidence code (a review's shows as 待人工确认)."""
    if evidence.startswith(REVIEW_PREFIX):
        return "待人工确认"
    return EVIDENCE.get(evidence, evidence)
