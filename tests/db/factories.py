"""Small row builders for the database tests: valid defaults, override what a test is about."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db.models import Assignment, Attachment, Mail, StoredFile

RECEIVED = datetime(2021, 10, 20, 9, 30, tzinfo=UTC)

_counter = itertools.count(1)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def mail(**fields: Any) -> Mail:
    n = next(_counter)
    values: dict[str, Any] = {
        "dedupe_key": f"<m{n}@example.org>",
        "message_id": f"<m{n}@example.org>",
        "raw_sha256": sha(f"raw {n}"),
        "raw_path": f"raw/{n}.eml",
        "from_addr": "fuwuke@example.org",
        "received_at": RECEIVED,
        "kind": "submission",
        "status": "recorded",
    }
    values.update(fields)
    return Mail(**values)


def stored(s: Session, content: str) -> StoredFile:
    digest = sha(content)
    existing = s.get(StoredFile, digest)
    if existing is not None:
        return existing
    row = StoredFile(sha256=digest, size=len(content), path=f"files/{digest[:2]}/{digest}")
    s.add(row)
    return row


def attachment(s: Session, owner: Mail, content: str, filename: str = "材料.docx") -> Attachment:
    row = Attachment(
        mail=owner,
        sha256=stored(s, content).sha256,
        filename=filename,
        origin="attachment",
        content_type="application/octet-stream",
        size=len(content),
    )
    s.add(row)
    return row


def assignment(file: Attachment, indicator_id: str, section: str, **fields: Any) -> Assignment:
    values: dict[str, Any] = {
        "attachment": file,
        "indicator_id": indicator_id,
        "section": section,
        "name_key": file.filename,
        "matched_by": "filename",
    }
    values.update(fields)
    return Assignment(**values)


def select_mail(dedupe_key: str) -> Select[Any]:
    return select(Mail).where(Mail.dedupe_key == dedupe_key)
