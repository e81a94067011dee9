"""The steps that assign attachments, in the order ``rules.match.ASSIGNERS`` runs them.

Each step reads the shared :class:`Context`, takes the attachments no earlier step decided, and returns
decisions for those it can settle; ``to_review`` takes the rest, with the reason and the candidates. A
number is assigned when the mail states it and nothing in the mail speaks against it; a number that
something speaks against (the subject names another, the words describe another, the sender's section
does not own it but owns the one next to it) needs the file name's own words to agree with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rules.decision import AttachmentDecision
from rules.match_reasons import REVIEW_PREFIX, explain
from rules.match_refs import Evidence
from rules.match_similarity import MIN_SCORE, agrees, clear_best, contradicts
from rules.match_types import Context

Assigner = Callable[[Context, Mapping[int, AttachmentDecision]], dict[int, AttachmentDecision]]

MAX_CANDIDATES = 5


def _pending(ctx: Context, done: Mapping[int, AttachmentDecision]) -> list[int]:
    return [n for n in range(len(ctx.files)) if n not in done]


def _assign(ctx: Context, n: int, ids: Iterable[str], evidence: str, matched_by: str) -> AttachmentDecision:
    return AttachmentDecision(ctx.files[n].text, tuple(ids), False, (), matched_by, "", evidence)


def _ids(ids: Iterable[str]) -> str:
    return "、".join(ids)


# --- what speaks for or against a number -----------------------------------------------------------


def own_numbers(ctx: Context, n: int) -> tuple[str, ...]:
    """The ids a file name states where staff put indicator numbers (not stray or copy-mark numbers)."""
    fm = ctx.files[n]
    return fm.ids if fm.evidence >= Evidence.POSITIONAL else ()


def group_items(ctx: Context, groups: Iterable[int]) -> tuple[str, ...]:
    return tuple(i for no in groups if (g := ctx.space.group(no)) is not None for i in g.ids)


def subject_scope(ctx: Context) -> set[str]:
    """What the subject points at: its numbers, or the items of the 二级指标 it quotes."""
    return set(ctx.wanted) | set(group_items(ctx, ctx.subject.groups))


def suspects(ctx: Context, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Numbers the sender's section does not own although it owns the one next to it (第34项 from a
    section that owns 33): a typo is likelier than a section sending another's material. id -> the
    neighbours it owns."""
    if ctx.section is None:
        return {}
    found = {}
    for ind_id in ids:
        if not ind_id.isdigit() or ctx.owns(ind_id):
            continue
        near = tuple(
            str(k)
            for k in (int(ind_id) - 1, int(ind_id) + 1)
            if ctx.owns(str(k)) and (ind := ctx.catalogue.get(str(k))) is not None and ind.owes_material
        )
        if near:
            found[ind_id] = near
    return found


def _agrees(ctx: Context, n: int, ids: tuple[str, ...]) -> bool:
    """The file name's words agree with the one number it states: they read like its materials (ahead
    of the subject's numbers), or they quote the 二级指标 heading it stands under."""
    if len(ids) != 1:
        return False
    if ctx.files[n].groups:
        return ids[0] in group_items(ctx, ctx.files[n].groups)
    return agrees(ctx.words[n], ids[0], ctx.wanted)


def _series(ctx: Context) -> set[int]:
    """Files whose numbers count the files rather than name indicators: leading numbers that run 1, 2,
    3 ... across the mail, or the same name with different trailing marks (截图（1）, 截图（2）)."""
    leading = {
        n: fm.ids[0] for n, fm in enumerate(ctx.files) if fm.evidence == Evidence.POSITIONAL and len(fm.ids) == 1
    }
    out: set[int] = set()
    numbers = sorted(int(i) for i in leading.values() if i.isdigit())
    if len(numbers) >= 2 and numbers == list(range(1, len(numbers) + 1)):
        out |= set(leading)
    marked = {n: fm for n, fm in enumerate(ctx.files) if fm.mark is not None}
    stems: dict[str, list[int]] = {}
    for n, fm in marked.items():
        stems.setdefault(fm.text.rsplit("(", 1)[0], []).append(n)
    marks = sorted(int(fm.mark) for fm in marked.values() if fm.mark is not None)
    if len(marks) >= 2 and marks == list(range(1, len(marks) + 1)):
        out |= set(marked)
    out |= {n for same in stems.values() if len(same) >= 2 for n in same}
    return out


def _refusal(ctx: Context, n: int, series: set[int]) -> str | None:
    """Why the number a file name states must not be assigned, or None when it may be."""
    fm = ctx.files[n]
    ids = own_numbers(ctx, n)
    if fm.groups and not set(ids) <= set(group_items(ctx, fm.groups)):
        return "level2-conflict"
    if _agrees(ctx, n, ids):
        return None
    if suspects(ctx, ids):
        return "suspect-number"
    if fm.evidence == Evidence.EXPLICIT:
        return None
    scope = subject_scope(ctx)
    if scope:
        return None if set(ids) <= scope else "conflict"
    if n in series or contradicts(ctx.words[n], ids):
        return "enumeration"
    if ctx.section is not None and not all(ctx.owns(i) for i in ids):
        return "not-owned"
    return None


# --- the steps -------------------------------------------------------------------------------------


def by_filename(ctx: Context, done: Mapping[int, AttachmentDecision]) -> dict[int, AttachmentDecision]:
    """A number the file name states is the most specific evidence there is; a number a person wrote at
    the end (``清单截图（4）``) counts when the name's words agree with it."""
    out: dict[int, AttachmentDecision] = {}
    series = _series(ctx)
    for n in _pending(ctx, done):
        fm = ctx.files[n]
        ids = own_numbers(ctx, n)
        if ids:
            if _refusal(ctx, n, series) is None:
                evidence = "filename-number+materials" if _agrees(ctx, n, ids) else "filename-number"
                out[n] = _assign(ctx, n, ids, evidence, "filename")
        elif fm.mark is not None and n not in series and _agrees(ctx, n, (fm.mark,)):
            out[n] = _assign(ctx, n, (fm.mark,), "filename-number+materials", "filename")
    return out


def level2_target(ctx: Context, number: int) -> tuple[str, str] | None:
    """``(id, evidence)`` when a 二级指标 leaves one indicator: the only one under it that needs
    material, or the only one of those the sender's section owns."""
    group = ctx.space.group(number)
    if group is None:
        return None
    owed = [i for i in group.ids if (ind := ctx.catalogue.get(i)) is not None and ind.owes_material]
    if len(owed) == 1:
        return owed[0], "level2"
    mine = [i for i in owed if ctx.owns(i)]
    return (mine[0], "level2+section") if len(mine) == 1 else None


def _level2_of(ctx: Context, n: int) -> tuple[int, ...]:
    fm = ctx.files[n]
    return fm.groups or (ctx.subject.groups if not ctx.wanted else ())


def by_level2(ctx: Context, done: Mapping[int, AttachmentDecision]) -> dict[int, AttachmentDecision]:
    """A file with no number of its own, under a 二级指标 (its own name's, else the subject's) that
    leaves one indicator, when the file's words do not describe another."""
    out: dict[int, AttachmentDecision] = {}
    for n in _pending(ctx, done):
        groups = _level2_of(ctx, n)
        if own_numbers(ctx, n) or len(groups) != 1:
            continue
        target = level2_target(ctx, groups[0])
        if target is None or contradicts(ctx.words[n], (target[0],)):
            continue
        if ctx.wanted and target[0] not in ctx.wanted:
            continue  # the file's own heading and the subject's number disagree
        out[n] = _assign(ctx, n, (target[0],), target[1], "filename" if ctx.files[n].groups else "subject")
    return out


def _blocked_by_subject(ctx: Context, n: int, ids: tuple[str, ...]) -> bool:
    """The file itself speaks against taking the subject's ``ids``: its own number is another, its own
    二级指标 heading is another, or an id is a likely typo its words do not confirm."""
    fm = ctx.files[n]
    if own_numbers(ctx, n) and not set(own_numbers(ctx, n)) <= set(ctx.subject.ids):
        return True
    if fm.groups and not set(ids) <= set(group_items(ctx, fm.groups)):
        return True
    return bool(suspects(ctx, ids)) and not _agrees(ctx, n, ids)


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
    evidence = "subject-number" if len(ctx.wanted) == 1 else "subject-list"
    return {n: _assign(ctx, n, ids, evidence, "subject") for n in pending if not _blocked_by_subject(ctx, n, ids)}


def by_similarity(ctx: Context, done: Mapping[int, AttachmentDecision]) -> dict[int, AttachmentDecision]:
    """Several files, several subject numbers, no numbers in the file names: pair each file with the
    subject number whose materials it reads like, only when every choice is unmistakable and no two
    files choose the same number."""
    pending = [n for n in _pending(ctx, done) if not _blocked_by_subject(ctx, n, ())]
    if len(ctx.wanted) < 2 or not pending:
        return {}
    claimed = {i for d in done.values() for i in d.indicators}
    among = [i for i in ctx.wanted if i not in claimed] or list(ctx.wanted)
    choice = {n: clear_best(rank_words(ctx, n, among)) for n in pending}
    picked = [c for c in choice.values() if c is not None]
    if len(picked) != len(set(picked)):
        return {}
    return {
        n: _assign(ctx, n, (best,), "similarity", "similarity")
        for n, best in choice.items()
        if best is not None and not _blocked_by_subject(ctx, n, (best,))
    }


def rank_words(ctx: Context, n: int, among: Iterable[str] | None = None) -> list[tuple[str, float]]:
    """The file's scores for ``among`` (default: every indicator), best first; the sender's own
    indicators first among equals."""
    found = ctx.words[n]
    if not found:
        return []
    ids = list(dict.fromkeys(among)) if among is not None else list(ctx.catalogue.ids)
    return sorted(((i, found.get(i, 0.0)) for i in ids), key=lambda pair: (-pair[1], not ctx.owns(pair[0])))


def _review_reason(ctx: Context, n: int, series: set[int]) -> tuple[str, dict[str, str]]:
    """The reason code for a file no step could place, with the facts its sentence names."""
    fm = ctx.files[n]
    ids = own_numbers(ctx, n)
    facts = {"file": _ids(ids or ((fm.mark,) if fm.mark else ())), "subject": _ids(ctx.wanted)}
    if ctx.section:
        facts["section"] = ctx.section
    groups = fm.groups or ctx.subject.groups
    if groups and (group := ctx.space.group(groups[0])) is not None:
        facts.update(group=str(group.number), heading=group.heading.rstrip("。"), items=_ids(group.ids))
        facts["first"] = group.ids[0]
    code = _refusal(ctx, n, series) if ids else None
    if code is None:
        suspect = suspects(ctx, ids or ctx.wanted)
        if suspect:
            code = "suspect-number"
        elif fm.mark is not None:
            code = "series" if n in series else "mark"
        elif fm.groups and ctx.wanted:
            code = "level2-subject"
        elif _level2_of(ctx, n):
            code = "level2-group"
        elif len(ctx.wanted) >= 2:
            code = "ambiguous"
        elif ctx.subject.out_of_range or fm.out_of_range:
            code = "out-of-range"
            facts.update(numbers=_ids((*ctx.subject.out_of_range, *fm.out_of_range)), valid=ctx.space.describe())
        else:
            code = "no-number"
    if code == "suspect-number":
        suspect = suspects(ctx, ids or ctx.wanted)
        facts.update(file=_ids(suspect), neighbours=_ids(dict.fromkeys(i for v in suspect.values() for i in v)))
    return code, facts


def to_review(ctx: Context, done: Mapping[int, AttachmentDecision]) -> dict[int, AttachmentDecision]:
    """Everything left goes to a person, with the reason and candidates: the file's own numbers first,
    then the subject's (best reading first), then whatever the file name reads like (the sender's own
    indicators first). A 二级指标 that could not be settled offers exactly its items."""
    out: dict[int, AttachmentDecision] = {}
    series = _series(ctx)
    for n in _pending(ctx, done):
        fm = ctx.files[n]
        code, facts = _review_reason(ctx, n, series)
        ranked = rank_words(ctx, n)
        order = {ind_id: k for k, (ind_id, _) in enumerate(ranked)}
        if code == "level2-group":
            items = group_items(ctx, _level2_of(ctx, n))
            pool: tuple[str, ...] = tuple(sorted(items, key=lambda i: order.get(i, len(order))))
        else:
            by_words = sorted(ctx.wanted, key=lambda i: order.get(i, len(order)))
            near = tuple(i for v in suspects(ctx, (*own_numbers(ctx, n), *ctx.wanted)).values() for i in v)
            similar = [i for i, score in ranked if score >= MIN_SCORE]
            marks = (fm.mark,) if fm.mark else ()
            pool = (*fm.ids, *marks, *by_words, *near, *fm.weaker, *ctx.subject.weaker, *similar)
        candidates = tuple(i for i in dict.fromkeys(pool) if i in ctx.catalogue)[:MAX_CANDIDATES]
        why, advice = explain(code, **facts)
        out[n] = AttachmentDecision(fm.text, (), True, candidates, "", why, REVIEW_PREFIX + code, advice)
    return out


#: The order of evaluation, as a spec: every attachment is decided by the first step that can.
ASSIGNERS: tuple[Assigner, ...] = (by_filename, by_level2, by_subject, by_similarity, to_review)
