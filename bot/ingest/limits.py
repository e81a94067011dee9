"""Limits per mail, enforced before the work they protect: header fields before parsing, decoded
text before the rules and the database.

A 5 MB subject took minutes to decode and hundreds of MB to match, and came back in a 10 MB digest
(issue 11). Two steps keep any header within reason while the raw bytes stay in the stored .eml:

- ``clip_header_fields`` (bytes -> bytes, before parsing): every field of the top-level header at most
  ``MAX_FIELD_BYTES``, cut between folded lines (so RFC 2047 encoded words stay whole) or, in one
  unfolded line, at the last blank before the limit;
- ``bound`` (IncomingMail -> IncomingMail, after parsing): subject, sender name, Message-ID, file names
  and body text clipped to what display, matching and the database's indexes can use, and cleaned of
  control characters as ``db.hygiene`` would store them (``db.cleaning``).
"""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from bot.mime.mail import DecodedText, IncomingMail, Material
from bot.mime.parse import parse_message, parse_message_file
from db.cleaning import clean_text

MAX_FIELD_BYTES = 32 * 1024  # a To: with 300 recipients is about 12 KB
MAX_SUBJECT_CHARS = 1000
MAX_NAME_CHARS = 200  # sender's display name
MAX_ADDRESS_CHARS = 320
MAX_MESSAGE_ID_CHARS = 500  # PostgreSQL indexes a value only up to about 2700 bytes
MAX_FILENAME_CHARS = 255
MAX_BODY_CHARS = 200_000  # commands and declarations are at the top of a body
MAX_HEADER_CHARS = 4000  # each header value kept for the rules
MAX_RECIPIENTS = 200

_READ = 64 * 1024
ELLIPSIS = "…"


def _clipped_header(source: BinaryIO) -> tuple[bytes, bool]:
    """Read the top-level header block from ``source`` (which is left at the start of the body) and
    return it with long fields cut, and whether anything was cut. Fields are cut between folded
    lines; a single line longer than the limit is cut at its last blank before the limit."""
    out: list[bytes] = []
    field_size = 0
    at_line_start = True
    dropping = clipped = False
    while piece := source.readline(_READ):
        starts_line = at_line_start
        at_line_start = piece.endswith(b"\n")
        if starts_line and piece in (b"\n", b"\r\n"):
            out.append(piece)
            break
        new_field = starts_line and piece[:1] not in (b" ", b"\t")
        if new_field:
            field_size, dropping = 0, False
        if dropping:
            continue
        field_size += len(piece)
        if field_size <= MAX_FIELD_BYTES:
            out.append(piece)
            continue
        dropping = clipped = True
        if new_field or not starts_line:  # the limit falls inside a line: cut it at a blank
            room = MAX_FIELD_BYTES - (field_size - len(piece))
            cut = piece.rfind(b" ", 0, room)
            out.append(piece[: cut if cut > 0 else room].rstrip(b"\r\n") + b"\r\n")
    return b"".join(out), clipped


def clip_header_fields(raw: bytes) -> bytes:
    """``raw`` with every top-level header field at most ``MAX_FIELD_BYTES`` (usually ``raw`` itself)."""
    source = io.BytesIO(raw)
    header, clipped = _clipped_header(source)
    return header + raw[source.tell() :] if clipped else raw


def clip_header_file(path: Path, workdir: Path) -> Path:
    """Like ``clip_header_fields`` for a spooled mail: ``path`` itself, or a clipped copy in ``workdir``."""
    with path.open("rb") as source:
        header, clipped = _clipped_header(source)
        if not clipped:
            return path
        target = workdir / "clipped.eml"
        with target.open("wb") as out:
            out.write(header)
            shutil.copyfileobj(source, out, 1 << 20)
    return target


def parse_within_limits(raw: bytes | Path, workdir: Path) -> IncomingMail:
    """Parse a mail (bytes, or a spooled .eml) with its header fields clipped first; the stored .eml
    keeps the raw bytes."""
    if isinstance(raw, bytes):
        return parse_message(clip_header_fields(raw), workdir)
    return parse_message_file(clip_header_file(raw, workdir), workdir)


def _clip(text: str, limit: int) -> str:
    # Cleaned as the database will store it, so that comparing a mail with its recorded row (a
    # re-poll after a rescan) compares like with like.
    text = clean_text(text)
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _name(material: Material) -> Material:
    name = material.filename
    text = clean_text(name.text)
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        if not dot or len(ext) > 16:
            stem, dot, ext = text, "", ""
        text = stem[: MAX_FILENAME_CHARS - len(dot + ext) - 1] + ELLIPSIS + dot + ext
    return material if text == name.text else replace(material, filename=DecodedText(text, name.raw))


def bound(mail: IncomingMail) -> IncomingMail:
    """``mail`` with every text clipped to what display, the rules and the database use."""
    return replace(
        mail,
        subject=DecodedText(_clip(mail.subject.text, MAX_SUBJECT_CHARS), mail.subject.raw),
        from_addr=clean_text(mail.from_addr, MAX_ADDRESS_CHARS),
        from_name=_clip(mail.from_name, MAX_NAME_CHARS),
        message_id=clean_text(mail.message_id, MAX_MESSAGE_ID_CHARS),
        to_addrs=tuple(clean_text(a, MAX_ADDRESS_CHARS) for a in mail.to_addrs[:MAX_RECIPIENTS]),
        in_reply_to=clean_text(mail.in_reply_to, MAX_MESSAGE_ID_CHARS) if mail.in_reply_to else mail.in_reply_to,
        references=tuple(clean_text(r, MAX_MESSAGE_ID_CHARS) for r in mail.references[-MAX_RECIPIENTS:]),
        body_text=mail.body_text[:MAX_BODY_CHARS],
        headers={k: v[:MAX_HEADER_CHARS] for k, v in mail.headers.items()},
        materials=[_name(m) for m in mail.materials],
    )
