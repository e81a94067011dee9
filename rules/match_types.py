"""The values the matchers produce and the read-only context the decision steps share."""

from __future__ import annotations

from dataclasses import dataclass

from rules.catalogue import Catalogue
from rules.match_refs import Evidence, IdSpace
from rules.match_similarity import Words, scores


@dataclass(frozen=True)
class TextMatch:
    """What one text references. ``ids`` are those at the strongest evidence level found."""

    text: str  # the normalised text that was read
    ids: tuple[str, ...]
    evidence: Evidence
    weaker: tuple[str, ...] = ()  # ids seen only with weaker evidence: candidates, never assignments
    out_of_range: tuple[str, ...] = ()  # explicit numbers outside the checklist, e.g. "65", "加3"
    classified: tuple[str, ...] = ()  # classification marks (涉密, 秘密 ...)
    groups: tuple[int, ...] = ()  # 二级指标 named (二级指标10, or its heading quoted)


@dataclass(frozen=True)
class SubjectMatch(TextMatch):
    declarations: tuple[str, ...] = ()  # ids declared not applicable (无材料, 不涉及 ...)


@dataclass(frozen=True)
class FilenameMatch(TextMatch):
    copy_mark: bool = False  # 材料(1).docx: the (1) is a duplicate marker, not evidence
    mark: str | None = None  # 清单截图（4）.png: a person's trailing full-width number (needs the words)


class FileWords:
    """What each file name's words read like (match_similarity.scores), worked out the first time a step
    asks: most files are settled by a number before anyone needs their words."""

    def __init__(self, names: tuple[str, ...], catalogue: Catalogue) -> None:
        self._names = names
        self._catalogue = catalogue
        self._found: dict[int, Words] = {}

    def __getitem__(self, n: int) -> Words:
        found = self._found.get(n)
        if found is None:
            found = self._found[n] = scores(self._names[n], self._catalogue)
        return found


@dataclass(frozen=True)
class Context:
    """Everything the assignment steps and checks read; none of them changes it."""

    catalogue: Catalogue
    space: IdSpace
    subject: SubjectMatch
    files: tuple[FilenameMatch, ...]
    wanted: tuple[str, ...]  # subject ids strong enough to assign files to (declared ones removed)
    declarations: tuple[str, ...]  # from the subject and the body
    words: FileWords  # per file: what its words read like
    section: str | None = None  # the sender's section, when the sender is on the list

    def owns(self, ind_id: str) -> bool:
        """Whether the sender's section is responsible for ``ind_id`` (False when the section is unknown)."""
        indicator = self.catalogue.get(ind_id)
        return self.section is not None and indicator is not None and self.section in indicator.sections
