"""Outlook's winmail.dat (application/ms-tnef): the files it hides, with their long names and MIME types."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from typing import Any

from tnefparse.properties import MAPI_ATTACH_LONG_FILENAME, MAPI_ATTACH_MIME_TAG
from tnefparse.tnef import TNEF

from bot.mime.mail import DecodedText, Material, Skipped
from bot.mime.unpacking import (
    TNEF_CORRUPT,
    TNEF_NO_DATA,
    ZIP_TOO_DEEP,
    ZIP_TOO_LARGE,
    Inner,
    LimitExceeded,
    Run,
    Unreadable,
    guess_type,
    member_label,
)

# --- winmail.dat ---------------------------------------------------------------------------------


def expand_tnef(material: Material, run: Run, depth: int, inner: Inner) -> tuple[list[Material], list[Skipped]]:
    # tnefparse parses from memory: the size limits apply before reading.
    if material.size > run.limits.max_member_bytes:
        raise LimitExceeded(ZIP_TOO_LARGE)
    data = material.path.read_bytes()
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # tnefparse raises assorted errors (struct, index, value) on bad input
        raise Unreadable(TNEF_CORRUPT) from exc
    materials: list[Material] = []
    skipped: list[Skipped] = []
    for found_or_skip in _tnef_files(tnef, material.filename.text, run, depth):
        if isinstance(found_or_skip, Skipped):
            skipped.append(found_or_skip)
            continue
        inner_materials, inner_skipped = inner(found_or_skip, run, depth)
        materials.extend(inner_materials)
        skipped.extend(inner_skipped)
    if not materials:
        return [material], skipped  # nothing inside: the file itself is what was sent
    return materials, skipped


def _tnef_files(tnef: Any, container: str, run: Run, depth: int) -> Iterable[Material | Skipped]:
    for number, attachment in enumerate(tnef.attachments, start=1):
        name = _tnef_name(attachment, number)
        embedded = getattr(attachment, "embed", None)
        if embedded is not None:  # an attached Outlook message: its own files count
            if depth < run.limits.max_depth:
                yield from _tnef_files(embedded, container, run, depth + 1)
            else:
                yield Skipped(name.text, ZIP_TOO_DEEP)
            continue
        data = attachment.data
        if not isinstance(data, bytes) or not data:
            yield Skipped(name.text, TNEF_NO_DATA)
            continue
        run.count_member()
        run.account(len(data), len(data), len(data))
        fd, path = run.new_spool("tnef-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        yield Material(
            filename=name,
            path=path,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=_tnef_mime(attachment) or guess_type(name.text),
            origin="tnef",
            container=container,
        )


def _tnef_name(attachment: Any, number: int) -> DecodedText:
    for attr in attachment.mapi_attrs:
        if attr.name == MAPI_ATTACH_LONG_FILENAME:
            with contextlib.suppress(Exception):
                value = attr.data
                if isinstance(value, str) and value.strip("\x00"):
                    return DecodedText(member_label(value.strip("\x00")) or value)
    # attAttachTitle holds 8.3 or ANSI-code-page bytes; tnefparse's ``name`` decodes them as UTF-8 and
    # raises on GBK, so read the stored value and decode it like a zip member name.
    title = getattr(attachment, "_name", b"")
    if isinstance(title, str):
        title = title.encode("utf-8")
    title = title.rstrip(b"\x00")
    if not title:
        return DecodedText(f"未命名附件{number}")
    for encoding in ("utf-8", "gb18030"):
        try:
            return DecodedText(member_label(title.decode(encoding)) or f"未命名附件{number}")
        except UnicodeDecodeError:
            continue
    return DecodedText(title.decode("ascii", errors="backslashreplace"), raw=title)


def _tnef_mime(attachment: Any) -> str | None:
    for attr in attachment.mapi_attrs:
        if attr.name == MAPI_ATTACH_MIME_TAG:
            with contextlib.suppress(Exception):
                value = attr.data
                if isinstance(value, str) and "/" in value:
                    return value.strip("\x00").lower()
    return None
