"""A snapshot of where the campaign stands, read from the database in one session.

``intake status``, the digest and the export all start from ``take_snapshot``; the rules for what
counts as received live in ``rules.progress``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Acceptance, Assignment, CloudFile, Declaration, Mail, ReturnRecord, ReviewItem
from db.queries import (
    current_assignments,
    declarations,
    error_mails,
    ignored_mails,
    open_review_items,
    pending_cloud_files,
)
from rules.catalogue import Catalogue
from rules.progress import IndicatorProgress, progress


@dataclass(frozen=True)
class FileRow:
    indicator_id: str
    section: str
    filename: str
    sha256: str
    message_id: str | None
    received_at: datetime
    matched_by: str
    attachment_id: int
    version: int


@dataclass(frozen=True)
class Snapshot:
    items: list[IndicatorProgress]
    files: dict[str, list[FileRow]]
    review: list[ReviewItem]
    declarations: list[Declaration]
    cloud_files: list[CloudFile]
    ignored: list[Mail]
    errors: list[Mail]
    returned: frozenset[tuple[str, str]] = frozenset()  # (indicator, section) owed again after 退回
    accepted: frozenset[tuple[str, str]] = frozenset()  # (indicator, section) checked by the coordinator


def _file_row(a: Assignment) -> FileRow:
    att = a.attachment
    return FileRow(
        indicator_id=a.indicator_id,
        section=a.section,
        filename=att.filename,
        sha256=att.sha256,
        message_id=att.mail.message_id,
        received_at=att.mail.received_at,
        matched_by=a.matched_by,
        attachment_id=att.id,
        version=a.version,
    )


def verdicts(s: Session) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """The coordinator's verdicts as (indicator, section) pairs: ``returned`` (owed again: sent back
    and nothing assigned since) and ``accepted`` (checked, and nothing assigned since)."""
    latest = dict(
        ((i, sec), at)
        for i, sec, at in s.execute(
            select(Assignment.indicator_id, Assignment.section, func.max(Assignment.created_at)).group_by(
                Assignment.indicator_id, Assignment.section
            )
        )
    )
    returned = {
        (i, sec)
        for i, sec, at in s.execute(
            select(ReturnRecord.indicator_id, ReturnRecord.section, func.max(ReturnRecord.created_at)).group_by(
                ReturnRecord.indicator_id, ReturnRecord.section
            )
        )
        if (i, sec) not in latest or _aware(latest[(i, sec)]) <= _aware(at)
    }
    accepted = {
        (a.indicator_id, a.section)
        for a in s.scalars(select(Acceptance))
        if (a.indicator_id, a.section) not in latest or _aware(latest[(a.indicator_id, a.section)]) <= a.created_at
    }
    return frozenset(returned), frozenset(accepted - returned)


def _aware(value: datetime) -> datetime:
    # Aggregates bypass the column type on SQLite and come back naive (they are UTC).
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def progress_items(s: Session, catalogue: Catalogue) -> list[IndicatorProgress]:
    """Only the per-indicator states, from three small aggregate queries: cheap enough to run for
    every receipt inside the poll (``take_snapshot`` also loads every file row)."""
    received = {
        (i, sec)
        for i, sec in s.execute(
            select(Assignment.indicator_id, Assignment.section).where(Assignment.is_current.is_(True)).distinct()
        )
        if sec
    }
    declared = {(i, sec) for i, sec in s.execute(select(Declaration.indicator_id, Declaration.section))}
    returned, accepted = verdicts(s)
    return progress(catalogue, received, declared, returned, accepted)


def take_snapshot(s: Session, catalogue: Catalogue) -> Snapshot:
    assignments = current_assignments(s)
    files: dict[str, list[FileRow]] = defaultdict(list)
    for a in assignments:
        files[a.indicator_id].append(_file_row(a))
    decls = list(declarations(s))
    received = {(a.indicator_id, a.section) for a in assignments if a.section}
    declared = {(d.indicator_id, d.section) for d in decls}
    returned, accepted = verdicts(s)
    return Snapshot(
        items=progress(catalogue, received, declared, returned, accepted),
        files=dict(files),
        review=list(open_review_items(s)),
        declarations=decls,
        cloud_files=list(pending_cloud_files(s)),
        ignored=list(ignored_mails(s)),
        errors=list(error_mails(s)),
        returned=returned,
        accepted=accepted,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot_json(snap: Snapshot, *, section: str | None = None) -> dict[str, Any]:
    """The documented ``intake status --json`` shape."""
    indicators = []
    for p in snap.items:
        if section is not None and section not in p.indicator.sections:
            continue
        indicators.append(
            {
                "id": p.indicator.id,
                "state": p.state.value,
                "owners": [{"section": o.section, "state": o.state.value} for o in p.owners],
                "files": [
                    {
                        "section": f.section,
                        "filename": f.filename,
                        "sha256": f.sha256,
                        "message_id": f.message_id,
                        "received_at": _iso(f.received_at),
                        "matched_by": f.matched_by,
                    }
                    for f in snap.files.get(p.indicator.id, [])
                    if section is None or f.section == section
                ],
            }
        )
    return {
        "indicators": indicators,
        "review": [
            {
                "id": r.id,
                "message_id": r.mail.message_id,
                "filename": r.attachment.filename if r.attachment else None,
                "sha256": r.attachment.sha256 if r.attachment else None,
                "reason": r.reason,
                "detail": r.detail,
                "candidates": list(r.candidates or []),
            }
            for r in snap.review
        ],
        "declarations": [
            {"id": d.indicator_id, "section": d.section, "message_id": d.mail.message_id if d.mail else None}
            for d in snap.declarations
            if section is None or d.section == section
        ],
        "cloud_files": [
            {
                "message_id": c.mail.message_id,
                "filename": c.filename,
                "url": c.url,
                "expires_at": _iso(c.expires_at),
            }
            for c in snap.cloud_files
        ],
        "ignored": [{"message_id": m.message_id, "kind": m.kind} for m in snap.ignored],
        # raw_path is relative to [storage] files; folder, uidvalidity and uid find a mail with no Message-ID
        "errors": [
            {
                "message_id": m.message_id,
                "error": m.error,
                "raw_path": m.raw_path,
                "folder": m.folder,
                "uidvalidity": m.uidvalidity,
                "uid": m.uid,
            }
            for m in snap.errors
        ],
    }
