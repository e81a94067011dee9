"""Leaf payloads during a parse: a large one goes to a file as soon as the feed parser sets it, and
each is transfer-decoded in chunks into its content-addressed file (RFC 2045 section 6), so one big
attachment is in memory once, briefly, in its encoded form only."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.feedparser import BytesFeedParser
from email.message import Message
from email.policy import compat32
from functools import partial
from pathlib import Path
from typing import IO, Any

from bot.mime.bigparts import Diverter
from bot.mime.transfer import writer_for

SPOOL_THRESHOLD = 64 * 1024  # encoded leaf payloads above this size go to disk at once

_COPY_CHUNK = 1 << 20


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
    """

    def __init__(self, policy: Any = compat32, *, spool: Spool | None = None) -> None:
        super().__init__(policy)
        self.spool = spool
        self.spooled: Path | None = None

    def set_payload(self, payload: Any, charset: Any = None) -> None:
        diverter = self.spool.diverter if self.spool is not None else None
        if diverter is not None and charset is None and isinstance(payload, str):
            reassembled = diverter.reassemble(payload)
            if reassembled is not None and self.spool is not None:
                self.spooled = reassembled
                self.spool.temporaries.append(reassembled)
                payload = ""
        if self.spool is not None and charset is None and isinstance(payload, str) and len(payload) > SPOOL_THRESHOLD:
            fd, name = tempfile.mkstemp(prefix=".encoded-", dir=self.spool.workdir)
            self.spooled = Path(name)
            self.spool.temporaries.append(self.spooled)
            with os.fdopen(fd, "wb") as encoded:
                # In slices: encoding the whole string at once would double the peak.
                for start in range(0, len(payload), _COPY_CHUNK):
                    encoded.write(payload[start : start + _COPY_CHUNK].encode("ascii", "surrogateescape"))
            payload = ""
        super().set_payload(payload, charset)


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


def decode_into(part: Message, sink: Any, encoding: str | None = None) -> str | None:
    """Undo the part's Content-Transfer-Encoding (or ``encoding``) chunk by chunk into ``sink``;
    returns the damage the decoder saw (``Material.damage``), if any."""
    encoding = (encoding or header_text(part, "content-transfer-encoding")).strip().lower()
    writer = writer_for(encoding, sink)
    for chunk in encoded_chunks(part):
        writer.write(chunk)  # the base64 writer drops a stray "=" mid-body (bot.mime.transfer)
    writer.finish()
    if isinstance(part, SpoolingMessage) and part.spooled is not None:
        part.spooled.unlink(missing_ok=True)
        part.spooled = None
    return writer.damage


def decoded_bytes(part: Message, encoding: str | None = None) -> bytes:
    """The decoded body of a text part (bodies are small; attachments never come through here)."""
    collected = io.BytesIO()
    decode_into(part, collected, encoding)
    return collected.getvalue()


def spool_part(part: Message, workdir: Path) -> tuple[Path, int, str, str | None]:
    """Decode the part to ``workdir/<sha256>``; returns (path, size, sha256, damage)."""
    fd, name = tempfile.mkstemp(prefix=".part-", dir=workdir)
    try:
        with os.fdopen(fd, "wb") as out:
            sink = HashingFile(out)
            damage = decode_into(part, sink)
        digest = sink.sha256.hexdigest()
        final = workdir / digest
        os.replace(name, final)
    finally:
        if os.path.exists(name):
            os.unlink(name)
    return final, sink.size, digest, damage


def header_text(message: Message, name: str) -> str:
    """A structural header's value as text ("" when absent); 8-bit junk in it does not matter."""
    return str(message.get(name) or "")


def feed(chunks: Iterable[bytes], spool: Spool) -> Message:
    parser = BytesFeedParser(_factory=partial(SpoolingMessage, spool=spool), policy=compat32)
    for chunk in chunks:
        parser.feed(chunk)
    return parser.close()
