"""Read a mail's subject, file names and body the way a careful clerk would, and decide.

``match_subject`` and ``match_filename`` say which indicator ids a text references and how strong the
evidence is; ``evaluate`` turns them into a :class:`rules.decision.Decision`. The order of the work is
data (``ASSIGNERS`` then ``CHECKS``), so it reads as the spec: the file name first (it is more specific
than the subject), then the subject, then pairing by similarity when it is unmistakable, and a review
for everything else. A wrong assignment is far worse than a review.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from rules.catalogue import Catalogue
from rules.decision import AttachmentDecision, Decision
from rules.match_checks import CHECKS
from rules.match_refs import (
    Evidence,
    IdSpace,
    Reference,
    classification_marks,
    declared,
    find_references,
    split_filename,
)
from rules.match_similarity import MIN_SCORE, clear_best, rank
from rules.match_types import Context, FilenameMatch, SubjectMatch
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

MAX_CANDIDATES = 5


def _summarise(
    text: str, refs: Sequence[Reference], exclude: frozenset[str] = frozenset()
) -> tuple[tuple[str, ...], Evidence, tuple[str, ...], tuple[str, ...]]:
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


def _declarations(text: str, refs: Sequence[Reference]) -> tuple[str, ...]:
    found = (r for r in refs if r.evidence >= Evidence.POSITIONAL and declared(text, r))
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
    return SubjectMatch(clean, ids, evidence, weaker, out, classification_marks(clean), decl)


def match_filename(name: str, space: IdSpace | None = None) -> FilenameMatch:
    """Indicator references in an attachment's file name (extension and copy marks are ignored).

    >>> match_filename("（37）行政调解.docx").ids
    ('37',)
    """
    space = space or IdSpace()
    clean = normalize(name)
    stem, copy_number, copy_mark = split_filename(clean)
    refs = find_references(stem, space)
    ids, evidence, weaker, out = _summarise(stem, refs)
    if copy_number is not None and 1 <= copy_number <= space.max_number:
        # Ambiguous: a Windows duplicate suffix or an indicator number. Only ever a candidate.
        weaker = tuple(dict.fromkeys((*weaker, str(copy_number))))
        if evidence == Evidence.NONE:
            evidence = Evidence.WEAK
    return FilenameMatch(clean, ids, evidence, weaker, out, classification_marks(stem), copy_mark)


def match_body(text: str, space: IdSpace | None = None) -> tuple[str, ...]:
    """Ids a body declares not applicable. Bodies are only read for declarations: quoted mails and
    signatures make their other numbers unreliable."""
    space = space or IdSpace()
    clean = normalize(text)
    return _declarations(clean, find_references(clean, space, leading_counts=False))


# --- assignment steps -------------------------------------------------------------------------------

Assigner = Callable[[Context, Mapping[int, AttachmentDecision]], dict[int, AttachmentDecision]]


def _pending(ctx: Context, done: Mapping[int, AttachmentDecision]) -> list[int]:
    return [n for n in range(len(ctx.files)) if n not in done]


def by_filename(ctx: Context, done: Mapping[int, AttachmentDecision]) -> dict[int, AttachmentDecision]:
    """A number the file name states is the most specific evidence there is.

    A merely positional number (``3.情况说明.docx``) that disagrees with the subject may be the
    sender's own enumeration: that goes to review instead.
    """
    out: dict[int, AttachmentDecision] = {}
    for n in _pending(ctx, done):
        fm = ctx.files[n]
        if fm.evidence < Evidence.POSITIONAL or not fm.ids:
            continue
        disagrees = bool(ctx.wanted) and not set(fm.ids) <= set(ctx.subject.ids)
        if fm.evidence == Evidence.POSITIONAL and (disagrees or _reads_like_another(ctx, fm)):
            continue
        out[n] = AttachmentDecision(fm.text, fm.ids, False, matched_by="filename")
    return out


def _reads_like_another(ctx: Context, fm: FilenameMatch) -> bool:
    """A bare leading number the subject does not back, on a file whose name clearly describes a
    different indicator's materials: ``1.涉企收费清理情况说明.docx`` is the sender's item 1, not
    indicator 1."""
    if ctx.wanted:
        return False
    ranked = rank(fm.text, ctx.catalogue)
    best = clear_best(ranked)
    claimed = max((score for i, score in ranked if i in fm.ids), default=0.0)
    return best is not None and best not in fm.ids and claimed < MIN_SCORE


def by_subject(ctx: Context, done: Mapping[int, AttachmentDecision]) -> dict[int, AttachmentDecision]:
    """The subject's numbers, when they leave no choice: one file covers all of them; one number
    covers every file; or exactly one file and one number are left over."""
    pending = _pending(ctx, done)
    if not ctx.wanted or not pending:
        return {}
    claimed = {i for d in done.values() for i in d.indicators}
    left = [i for i in ctx.wanted if i not in claimed]
    if len(ctx.files) == 1 or len(ctx.wanted) == 1:
        ids = ctx.wanted
    elif len(pending) == 1 and len(left) == 1:
        ids = tuple(left)
    else:
        return {}
    return {
        n: AttachmentDecision(ctx.files[n].text, ids, False, matched_by="subject")
        for n in pending
        if not _conflicting_positional(ctx, n)
    }


def _conflicting_positional(ctx: Context, n: int) -> bool:
    fm = ctx.files[n]
    return fm.evidence == Evidence.POSITIONAL and not set(fm.ids) <= set(ctx.subject.ids)


def by_similarity(ctx: Context, done: Mapping[int, AttachmentDecision]) -> dict[int, AttachmentDecision]:
    """Several files, several subject numbers, no numbers in the file names: pair each file with the
    subject number whose materials it reads like, only when every choice is unmistakable and no two
    files choose the same number."""
    pending = [n for n in _pending(ctx, done) if not _conflicting_positional(ctx, n)]
    if len(ctx.wanted) < 2 or not pending:
        return {}
    claimed = {i for d in done.values() for i in d.indicators}
    among = [i for i in ctx.wanted if i not in claimed] or list(ctx.wanted)
    choice = {n: clear_best(rank(ctx.files[n].text, ctx.catalogue, among)) for n in pending}
    picked = [c for c in choice.values() if c is not None]
    if len(picked) != len(set(picked)):
        return {}
    return {
        n: AttachmentDecision(ctx.files[n].text, (best,), False, matched_by="similarity")
        for n, best in choice.items()
        if best is not None
    }


def to_review(ctx: Context, done: Mapping[int, AttachmentDecision]) -> dict[int, AttachmentDecision]:
    """Everything left goes to a person, with candidates: the file's own numbers first, then the
    subject's (best reading first), then whatever the file name reads like."""
    out: dict[int, AttachmentDecision] = {}
    for n in _pending(ctx, done):
        fm = ctx.files[n]
        ranked = rank(fm.text, ctx.catalogue)
        order = {ind_id: n for n, (ind_id, _) in enumerate(ranked)}
        ranked_subject = sorted(ctx.wanted, key=lambda i: order.get(i, len(order)))
        similar = [i for i, score in ranked if score >= MIN_SCORE]
        pool = (*fm.ids, *ranked_subject, *fm.weaker, *ctx.subject.weaker, *similar)
        candidates = tuple(i for i in dict.fromkeys(pool) if i in ctx.catalogue)[:MAX_CANDIDATES]
        if fm.ids and ctx.wanted:
            reason = "文件名中的编号与邮件主题不一致"
        elif ctx.wanted:
            reason = "无法确定附件对应主题中的哪一项指标"
        else:
            reason = "文件名和邮件主题均未标明指标编号"
        out[n] = AttachmentDecision(fm.text, (), True, candidates, "", reason)
    return out


#: The order of evaluation, as a spec: every attachment is decided by the first step that can.
ASSIGNERS: tuple[Assigner, ...] = (by_filename, by_subject, by_similarity, to_review)


def evaluate(subject: str, filenames: Sequence[str], catalogue: Catalogue, body: str = "") -> Decision:
    """Decide which indicators a mail's attachments belong to, what it declares, and what is wrong."""
    space = IdSpace.from_ids(catalogue.ids)
    sm = match_subject(subject, space)
    declarations = tuple(dict.fromkeys((*sm.declarations, *match_body(body, space))))
    wanted = sm.ids if sm.evidence >= Evidence.POSITIONAL else ()
    files = tuple(match_filename(name, space) for name in filenames)
    ctx = Context(catalogue, space, sm, files, wanted, declarations)
    done: dict[int, AttachmentDecision] = {}
    for assign in ASSIGNERS:
        done.update(assign(ctx, done))
    # Keep the file names exactly as given, not as normalised.
    attachments = tuple(_with_name(done[n], filenames[n]) for n in range(len(files)))
    problems = tuple(p for check in CHECKS for p in check(ctx, attachments))
    return Decision(
        subject_indicators=tuple(i for i in sm.ids if i not in declarations),
        declarations=declarations,
        attachments=attachments,
        problems=problems,
    )


def _with_name(decision: AttachmentDecision, name: str) -> AttachmentDecision:
    return AttachmentDecision(
        name,
        decision.indicators,
        decision.needs_review,
        decision.candidates,
        decision.matched_by,
        decision.reason,
    )
