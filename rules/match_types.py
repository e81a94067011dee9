"""The values the matchers produce and the read-only context the decision steps share."""

from __future__ import annotations

from dataclasses import dataclass

from rules.catalogue import Catalogue
from rules.match_refs import Evidence, IdSpace


@dataclass(frozen=True)
class TextMatch:
    """What one text references. ``ids`` are those at the strongest evidence level found."""

    text: str  # the normalised text that was read
    ids: tuple[str, ...]
    evidence: Evidence
    weaker: tuple[str, ...] = ()  # ids seen only with weaker evidence: candidates, never assignments
    out_of_range: tuple[str, ...] = ()  # explicit numbers outside the checklist, e.g. "65", "加3"
    classified: tuple[str, ...] = ()  # classification marks (涉密, 秘密 ...)


@dataclass(frozen=True)
class SubjectMatch(TextMatch):
    declarations: tuple[str, ...] = ()  # ids declared not applicable (无材料, 不涉及 ...)


@dataclass(frozen=True)
class FilenameMatch(TextMatch):
    copy_mark: bool = False  # 材料(1).docx: the (1) is a duplicate marker, not evidence


@dataclass(frozen=True)
class Context:
    """Everything the assignment steps and checks read; none of them changes it."""

    catalogue: Catalogue
    space: IdSpace
    subject: SubjectMatch
    files: tuple[FilenameMatch, ...]
    wanted: tuple[str, ...]  # subject ids strong enough to assign files to (declared ones removed)
    declarations: tuple[str, ...]  # from the subject and the body
