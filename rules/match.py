"""Read a mail's subject, file names and body the way a careful clerk would, and decide.

``match_subject`` and ``match_filename`` say which indicator ids a text references and how strong the
evidence is; ``evaluate`` turns them into a :class:`rules.decision.Decision`. The order of the work is
data (``ASSIGNERS`` in rules.match_steps, then ``CHECKS``), so it reads as the spec: the file name first
(it is more specific than the subject), then a 二级指标 that leaves one indicator, then the subject, then
pairing by similarity when it is unmistakable, and a review for everything else. The sender's section,
when known, tells which numbers are likely typos. A wrong assignment is far worse than a review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rules.catalogue import Catalogue
from rules.decision import AttachmentDecision, Decision
from rules.match_checks import CHECKS
from rules.match_refs import (
    Evidence,
    Group,
    IdSpace,
    Reference,
    classification_marks,
    declared,
    find_references,
    person_mark,
    split_filename,
)
from rules.match_steps import ASSIGNERS
from rules.match_types import Context, FilenameMatch, FileWords, SubjectMatch
from rules.normalize import normalize, strip_reply_prefixes

__all__ = [
    "ASSIGNERS",
    "CHECKS",
    "Evidence",
    "FilenameMatch",
    "IdSpace",
    "SubjectMatch",
    "evaluate",
    "match_body",
    "match_filename",
    "match_subject",
]


def _summarise(
    text: str, refs: Sequence[Reference], exclude: frozenset[str] = frozenset()
) -> tuple[tuple[str, ...], Evidence, tuple[str, ...], tuple[str, ...]]:
    refs = [r for r in refs if r.group is None]
    strongest = max((r.evidence for r in refs if r.ids), default=Evidence.NONE)
    ids: dict[str, None] = {}
    weaker: dict[str, None] = {}
    for ref in refs:
        target = ids if ref.evidence == strongest else weaker
        for ind_id in ref.ids:
            if ind_id not in exclude:
                target.setdefault(ind_id, None)
    out = tuple(dict.fromkeys(b for r in refs for b in r.out_of_range))
    if strongest == Evidence.WEAK:  # stray numbers are candidates only, never ids
        return (), strongest, tuple(ids), out
    return tuple(ids), strongest, tuple(i for i in weaker if i not in ids), out


def _groups(refs: Sequence[Reference]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(r.group for r in refs if r.group is not None))


def _declarations(text: str, refs: Sequence[Reference]) -> tuple[str, ...]:
    found = (r for r in refs if r.evidence >= Evidence.POSITIONAL and r.group is None and declared(text, r))
    return tuple(dict.fromkeys(i for r in found for i in r.ids))


def match_subject(text: str, space: IdSpace | None = None) -> SubjectMatch:
    """Indicator references in a subject line (reply/forward prefixes are ignored).

    >>> m = match_subject("回复：指标7，12，13")
    >>> m.ids, m.evidence.name
    (('7', '12', '13'), 'EXPLICIT')
    """
    space = space or IdSpace()
    clean = strip_reply_prefixes(text)
    refs = find_references(clean, space)
    decl = _declarations(clean, refs)
    ids, evidence, weaker, out = _summarise(clean, refs, exclude=frozenset(decl))
    return SubjectMatch(clean, ids, evidence, weaker, out, classification_marks(clean), _groups(refs), decl)


def match_filename(name: str, space: IdSpace | None = None) -> FilenameMatch:
    """Indicator references in an attachment's file name (extension and copy marks are ignored).

    A trailing full-width ``（4）`` is a person's mark, not a copy mark: it is kept as ``mark``, which
    counts only when the name's words agree (rules.match_steps).

    >>> match_filename("（37）行政调解.docx").ids
    ('37',)
    >>> match_filename("证明事项告知承诺制清单截图（4）.png").mark
    '4'
    """
    space = space or IdSpace()
    clean = normalize(name)
    stem, copy_number, copy_mark = split_filename(clean)
    refs = find_references(stem, space)
    ids, evidence, weaker, out = _summarise(stem, refs)
    mark = None
    if copy_number is not None and 1 <= copy_number <= space.max_number:
        # Ambiguous: a Windows duplicate suffix or an indicator number. Only ever a candidate.
        weaker = tuple(dict.fromkeys((*weaker, str(copy_number))))
        if evidence == Evidence.NONE:
            evidence = Evidence.WEAK
        if person_mark(name) == copy_number:
            mark, copy_mark = str(copy_number), False
    return FilenameMatch(clean, ids, evidence, weaker, out, classification_marks(stem), _groups(refs), copy_mark, mark)


def match_body(text: str, space: IdSpace | None = None) -> tuple[str, ...]:
    """Ids a body declares not applicable. Bodies are only read for declarations: quoted mails and
    signatures make their other numbers unreliable."""
    space = space or IdSpace()
    clean = normalize(text)
    return _declarations(clean, find_references(clean, space, leading_counts=False))


_SPACES: dict[int, tuple[Catalogue, IdSpace, frozenset[str]]] = {}


def id_space(catalogue: Catalogue) -> IdSpace:
    """The catalogue's ids and 二级指标 groups (built once per catalogue)."""
    return _space_and_sections(catalogue)[0]


def _space_and_sections(catalogue: Catalogue) -> tuple[IdSpace, frozenset[str]]:
    cached = _SPACES.get(id(catalogue))
    if cached is not None and cached[0] is catalogue:
        return cached[1], cached[2]
    groups: dict[int, list[str]] = {}
    headings: dict[int, str] = {}
    for ind in catalogue:
        groups.setdefault(ind.level2_no, []).append(ind.id)
        headings.setdefault(ind.level2_no, normalize(ind.level2))
    space = IdSpace.from_ids(catalogue.ids, (Group(no, headings[no], tuple(ids)) for no, ids in groups.items()))
    sections = frozenset(catalogue.sections)
    _SPACES[id(catalogue)] = (catalogue, space, sections)
    return space, sections


def evaluate(
    subject: str, filenames: Sequence[str], catalogue: Catalogue, body: str = "", *, section: str | None = None
) -> Decision:
    """Decide which indicators a mail's attachments belong to, what it declares, and what is wrong.

    ``section``: the sender's section, when the sender is on the list (a name the catalogue does not
    know is treated as unknown).
    """
    space, sections = _space_and_sections(catalogue)
    sm = match_subject(subject, space)
    declarations = tuple(dict.fromkeys((*sm.declarations, *match_body(body, space))))
    wanted = sm.ids if sm.evidence >= Evidence.POSITIONAL else ()
    files = tuple(match_filename(name, space) for name in filenames)
    known = section if section in sections else None
    words = FileWords(tuple(filenames), catalogue)
    ctx = Context(catalogue, space, sm, files, wanted, declarations, words, known)
    done: dict[int, AttachmentDecision] = {}
    for assign in ASSIGNERS:
        done.update(assign(ctx, done))
    # Keep the file names exactly as given, not as normalised.
    attachments = tuple(replace(done[n], filename=filenames[n]) for n in range(len(files)))
    problems = tuple(p for check in CHECKS for p in check(ctx, attachments))
    return Decision(
        subject_indicators=tuple(i for i in sm.ids if i not in declarations),
        declarations=declarations,
        attachments=attachments,
        problems=problems,
    )
