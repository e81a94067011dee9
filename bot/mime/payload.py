"""Leaf payloads during a parse: a large one goes to a file as soon as the feed parser sets it, and
each is transfer-decoded in chunks into its content-addressed file (RFC 2045 section 6), so one big
attachment is in memory once, briefly, in its encoded form only."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.feedparser import BytesFeedParser
from email.message import Message
from email.policy import compat32
from functools import partial
from pathlib import Path
from typing import IO, Any

from bot.mime import boundaries
from bot.mime.bigparts import Diverter
from bot.mime.transfer import RawWriter, writer_for

SPOOL_THRESHOLD = 64 * 1024  # encoded leaf payloads above this size go to disk at once

_COPY_CHUNK = 1 << 20
_FOLD = re.compile(r"\r\n|\r|\n")
_ENCODING_TOKEN = re.compile(r"\s*\"?([A-Za-z0-9_-]+)")
_ENCODING_ALIASES = {"7-bit": "7bit", "8-bit": "8bit", "quoted_printable": "quoted-printable"}


@dataclass
class Spool:
    """Where one parse writes files, and the transfer-encoded temporaries it must remove again."""

    workdir: Path
    temporaries: list[Path] = field(default_factory=list)
    diverter: Diverter | None = None  # set when big base64 runs bypass the parser (files)

    def remove_temporaries(self) -> None:
        for path in self.temporaries:
            path.unlink(missing_ok=True)
        self.temporaries.clear()


class SpoolingMessage(Message):
    """A compat32 message whose large leaf payloads go to a file as soon as the parser sets them.

    The feed parser calls ``set_payload`` once per leaf with the whole encoded body; keeping a path
    instead of that string is what bounds memory to one encoded part at a time.

    The body's final line break stays in ``_payload``: when the part ends at a boundary, the feed parser
    strips it there afterwards (RFC 2046 5.1.1: that line break belongs to the boundary), so a spooled
    text attachment keeps exactly the bytes it would have had in memory.
    """

    def __init__(self, policy: Any = compat32, *, spool: Spool | None = None) -> None:
        super().__init__(policy)
        self.spool = spool
        # The encoded body: a file, or a view of the mail in memory (``Diverter.filter_bytes``).
        self.spooled: Path | memoryview | None = None

    def get_boundary(self, failobj: Any = None) -> Any:
        """The boundary with a line break folded into its quoted value removed (RFC 5322 3.2.2
        unfolding keeps the whitespace after it): compat32 keeps the break, and the boundary is then
        never found, so every part of the mail is lost (Outlook 2000, the RFC 1341 example)."""
        boundary = super().get_boundary(failobj)
        if isinstance(boundary, str) and ("\n" in boundary or "\r" in boundary):
            return _FOLD.sub("", boundary)
        return boundary

    def set_payload(self, payload: Any, charset: Any = None) -> None:
        diverter = self.spool.diverter if self.spool is not None else None
        if diverter is not None and charset is None and isinstance(payload, str):
            reassembled = diverter.reassemble(payload)
            if isinstance(reassembled, memoryview):
                eol = _final_eol(bytes(reassembled[-2:]).decode("latin-1"))
                self.spooled = reassembled[: len(reassembled) - len(eol)]
                payload = eol
            elif reassembled is not None and self.spool is not None:
                self.spooled = reassembled
                self.spool.temporaries.append(reassembled)
                payload = _split_final_eol(reassembled)
        if self.spool is not None and charset is None and isinstance(payload, str) and len(payload) > SPOOL_THRESHOLD:
            end = len(payload) - len(_final_eol(payload))
            fd, name = tempfile.mkstemp(prefix=".encoded-", dir=self.spool.workdir)
            self.spooled = Path(name)
            self.spool.temporaries.append(self.spooled)
            with os.fdopen(fd, "wb") as encoded:
                # In slices: encoding the whole string at once would double the peak.
                for start in range(0, end, _COPY_CHUNK):
                    encoded.write(payload[start : min(start + _COPY_CHUNK, end)].encode("ascii", "surrogateescape"))
            payload = payload[end:]
        super().set_payload(payload, charset)


def _final_eol(text: str) -> str:
    """The line break ``text`` ends with, as the feed parser's NLCRE_eol finds it (a regular
    expression anchored at the end would scan the whole payload)."""
    if text.endswith("\r\n"):
        return "\r\n"
    return text[-1:] if text[-1:] in ("\r", "\n") else ""


def _split_final_eol(path: Path) -> str:
    """Cut the file's final line break off and return it (see ``SpoolingMessage``)."""
    with path.open("r+b") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - 2))
        last = f.read()
        eol = b"\r\n" if last.endswith(b"\r\n") else last[-1:] if last[-1:] in (b"\r", b"\n") else b""
        f.truncate(size - len(eol))
    return eol.decode("ascii")


class HashingFile:
    """A binary sink that hashes and counts what it writes."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.sink.write(data)


def encoded_chunks(part: Message) -> Iterator[bytes]:
    """The part's body as sent (still transfer-encoded), from memory or from its spool file."""
    spooled = part.spooled if isinstance(part, SpoolingMessage) else None
    if isinstance(spooled, memoryview):
        for start in range(0, len(spooled), _COPY_CHUNK):
            yield bytes(spooled[start : start + _COPY_CHUNK])
        return
    if spooled is not None:
        with spooled.open("rb") as source:
            while chunk := source.read(_COPY_CHUNK):
                yield chunk
        return
    # Not get_payload(): for 8-bit text it decodes with the declared charset and errors="replace".
    # The parser stored the body as sent, 8-bit bytes surrogate-escaped, in ``_payload``.
    payload = getattr(part, "_payload", None)
    if isinstance(payload, str):
        yield payload.encode("ascii", "surrogateescape")


@dataclass(frozen=True)
class Spooled:
    """A part decoded into its content-addressed file."""

    path: Path
    size: int
    sha256: str
    damage: str | None  # see bot.mime.transfer
    inner_name: bytes | None  # a name the transfer encoding carries (uuencode "begin 644 NAME")


def decode_into(part: Message, sink: Any, encoding: str | None = None) -> RawWriter:
    """Undo the part's Content-Transfer-Encoding (or ``encoding``) chunk by chunk into ``sink``;
    returns the finished writer, which tells whether the encoding was damaged."""
    writer = writer_for(encoding or transfer_encoding(part), sink)
    for chunk in encoded_chunks(part):
        writer.write(chunk)
    writer.finish()
    if isinstance(part, SpoolingMessage) and part.spooled is not None:
        if isinstance(part.spooled, Path):
            part.spooled.unlink(missing_ok=True)
        part.spooled = None
    return writer


def decoded_bytes(part: Message, encoding: str | None = None) -> bytes:
    """The decoded body of a text part (bodies are small; attachments never come through here)."""
    collected = io.BytesIO()
    decode_into(part, collected, encoding)
    return collected.getvalue()


def spool_part(part: Message, workdir: Path, encoding: str | None = None) -> Spooled:
    """Decode the part (its Content-Transfer-Encoding, or ``encoding``) to ``workdir/<sha256>``."""
    fd, name = tempfile.mkstemp(prefix=".part-", dir=workdir)
    try:
        with os.fdopen(fd, "wb") as out:
            sink = HashingFile(out)
            writer = decode_into(part, sink, encoding)
        digest = sink.sha256.hexdigest()
        final = workdir / digest
        os.replace(name, final)
    finally:
        if os.path.exists(name):
            os.unlink(name)
    return Spooled(final, sink.size, digest, writer.damage, writer.filename)


def transfer_encoding(part: Message) -> str:
    """The part's Content-Transfer-Encoding token, lower-cased: what comes after it is ignored
    (``base64;``, ``quoted-printable charset=...``, 8-bit junk), ``7-bit`` means ``7bit``."""
    match = _ENCODING_TOKEN.match(header_text(part, "content-transfer-encoding"))
    token = match.group(1).lower() if match else ""
    return _ENCODING_ALIASES.get(token, token)


def header_text(message: Message, name: str) -> str:
    """A structural header's value as text ("" when absent); 8-bit junk in it does not matter."""
    return str(message.get(name) or "")


def feed(chunks: Iterable[bytes], spool: Spool) -> Message:
    boundaries.install()  # no regular expression compiled per multipart (bot.mime.boundaries)
    parser = BytesFeedParser(_factory=partial(SpoolingMessage, spool=spool), policy=compat32)
    for chunk in chunks:
        parser.feed(chunk)
    return parser.close()
