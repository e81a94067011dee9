"""Outlook's winmail.dat (application/ms-tnef): the files it hides, with their long names and MIME types.

Two things tnefparse gets wrong are put right here: it strips every trailing NUL byte off a binary
MAPI value (its way of removing the padding to four bytes), so a file sent as ``PR_ATTACH_DATA_OBJ``
loses its trailing zeros (a Word .doc of whole 512-byte sectors comes out hundreds of bytes short);
the exact length is read back from the property itself. And a winmail.dat that holds only the message
body (RTF) is no file the sender attached: it is skipped, not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
from collections.abc import Iterable
from typing import Any

from tnefparse.properties import MAPI_ATTACH_DATA_OBJ, MAPI_ATTACH_LONG_FILENAME, MAPI_ATTACH_MIME_TAG
from tnefparse.tnef import TNEF

from bot.mime.charsets import decode_undeclared
from bot.mime.mail import DecodedText, Material, Skipped
from bot.mime.unpacking import (
    TNEF_CORRUPT,
    TNEF_NO_DATA,
    TNEF_NO_FILES,
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
    if not tnef.attachments:
        return [], [Skipped(material.filename.text, TNEF_NO_FILES)]
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
    properties = _attachment_properties(tnef)
    for number, attachment in enumerate(tnef.attachments, start=1):
        name = _tnef_name(attachment, number, tnef.codepage)
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
        data = _with_trailing_zeros(data, properties.get(number - 1, []))
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


# TNEF attribute ids (MS-OXTNEF 2.1.3.1): attAttachRendData opens an attachment's attributes,
# attAttachment holds its MAPI properties.
_ATT_ATTACH_REND_DATA = 0x9002
_ATT_ATTACHMENT = 0x9005
_LEVEL_ATTACHMENT = 0x02
_BINARY_TYPES = (0x0102, 0x000D)  # PT_BINARY, PT_OBJECT


def _attachment_properties(tnef: Any) -> dict[int, list[bytes]]:
    """The raw attAttachment property blocks of each attachment, by the attachment's index."""
    blocks: dict[int, list[bytes]] = {}
    index = -1
    for obj in getattr(tnef, "objects", []):
        if obj.name == _ATT_ATTACH_REND_DATA:
            index += 1
        elif obj.level == _LEVEL_ATTACHMENT and obj.name == _ATT_ATTACHMENT and index >= 0:
            blocks.setdefault(index, []).append(obj.data)
    return blocks


def _with_trailing_zeros(data: bytes, blocks: list[bytes]) -> bytes:
    """``data`` with the trailing NUL bytes tnefparse stripped, when it came from ``PR_ATTACH_DATA_OBJ``.

    In the property block the value is ``type, id, count (1), length, bytes, padding``
    (MS-OXTNEF 2.1.3.4); ``length`` is the file's real size.
    """
    stripped = data.rstrip(b"\x00")
    if not stripped:
        return data
    tag = struct.pack("<H", MAPI_ATTACH_DATA_OBJ)
    for block in blocks:
        start = 0
        while (found := block.find(stripped, start)) >= 12:
            start = found + 1
            kind, prop, count, length = struct.unpack_from("<HHII", block, found - 12)
            if (
                struct.pack("<H", prop) == tag
                and kind in _BINARY_TYPES
                and count == 1
                and len(stripped) <= length <= len(block) - found
                and not block[found + len(stripped) : found + length].strip(b"\x00")
            ):
                return block[found : found + length]
    return data


def _tnef_name(attachment: Any, number: int, codepage: str | None = None) -> DecodedText:
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
    decoded = decode_undeclared(title, codepage)  # the sender's ANSI code page, from attOemCodepage
    if decoded.undecodable:
        return decoded
    return DecodedText(member_label(decoded.text) or f"未命名附件{number}")


def _tnef_mime(attachment: Any) -> str | None:
    for attr in attachment.mapi_attrs:
        if attr.name == MAPI_ATTACH_MIME_TAG:
            with contextlib.suppress(Exception):
                value = attr.data
                if isinstance(value, str) and "/" in value:
                    return value.strip("\x00").lower()
    return None
