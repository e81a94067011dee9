"""What the rules decide about one mail: plain values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """Something the coordinator or sender should know. ``code`` is stable; ``detail`` is Chinese."""

    code: str
    detail: str
    filename: str | None = None  # the attachment it concerns; None for the mail as a whole

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class AttachmentDecision:
    filename: str
    indicators: tuple[str, ...]  # empty when needs_review
    needs_review: bool
    candidates: tuple[str, ...] = ()  # ranked, best first; only meaningful when needs_review
    matched_by: str = ""  # "filename" | "subject" | "similarity" | "" (review): where the evidence was
    reason: str = ""  # why it went to review, in Chinese (rules.match_reasons)
    evidence: str = ""  # the rule that decided it: "filename-number", ..., "review:<reason>"
    advice: str = ""  # for a review: what the sender can write next time, in Chinese

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "indicators": list(self.indicators),
            "needs_review": self.needs_review,
            "candidates": list(self.candidates),
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Decision:
    subject_indicators: tuple[str, ...]
    declarations: tuple[str, ...]  # indicator ids declared not applicable (无材料, 不涉及 ...)
    attachments: tuple[AttachmentDecision, ...]
    problems: tuple[Problem, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "subject_indicators": list(self.subject_indicators),
            "declarations": list(self.declarations),
            "attachments": [a.to_json() for a in self.attachments],
            "problems": [p.to_json() for p in self.problems],
        }
