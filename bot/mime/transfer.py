"""Incremental Content-Transfer-Encoding decoders for streamed body parts.

A large attachment arrives from ``BODY.PEEK[n]<offset.length>`` partial fetches in chunks whose edges
fall anywhere, even inside a base64 quantum or a quoted-printable ``=XX`` escape. These writers keep the
unfinished tail of each chunk and decode the rest straight to the destination file, so memory stays at
one chunk no matter how big the part is (RFC 2045 sections 6.7 and 6.8).
"""

from __future__ import annotations

import binascii
from typing import Protocol

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
# RFC 2045 6.8: characters outside the alphabet (line breaks, stray junk) are to be ignored. "=" is
# dropped too: it is only padding at the very end, and one in the middle (two bodies glued together,
# damage) would stop the decoder; finish() restores the padding of the last quantum.
_B64_JUNK = bytes(b for b in range(256) if b not in _B64_ALPHABET) + b"="
_B64_SPACE = b" \t\r\n"


class Sink(Protocol):
    """Where streamed bytes go: an open binary file, or anything with ``write(bytes)``."""

    def write(self, data: bytes, /) -> object: ...


class RawWriter:
    """7bit / 8bit / binary, or when the caller wants the encoded bytes."""

    def __init__(self, dest: Sink) -> None:
        self.dest = dest
        self.written = 0
        # Set when the encoding was visibly damaged (``Material.damage``): the bytes written may not be
        # the sender's file.
        self.damage: str | None = None

    def write(self, data: bytes) -> None:
        self.dest.write(data)
        self.written += len(data)

    def finish(self) -> None:
        return None


class Base64Writer(RawWriter):
    def __init__(self, dest: Sink) -> None:
        super().__init__(dest)
        self._tail = b""
        self._last = b""  # the last significant byte seen: "=" when the body ended with its padding

    def write(self, data: bytes) -> None:
        if self.damage is None and data.translate(None, _B64_ALPHABET + _B64_SPACE):
            self.damage = "base64-invalid"  # characters no base64 encoder writes
        significant = data.translate(None, _B64_SPACE)
        if significant:
            self._last = significant[-1:]
        buf = self._tail + data.translate(None, _B64_JUNK)
        cut = len(buf) - len(buf) % 4
        self._tail = buf[cut:]
        if cut:
            super().write(binascii.a2b_base64(buf[:cut]))

    def finish(self) -> None:
        if self._tail:
            # A truncated last quantum (broken senders): pad it rather than lose the final bytes, and
            # say so unless the body ended with its own padding (then only the quantum was split).
            tail = self._tail.rstrip(b"=")
            if self._last != b"=" and self.damage is None:
                self.damage = "base64-truncated"
            if len(tail) % 4 != 1:
                super().write(binascii.a2b_base64(tail + b"=" * (-len(tail) % 4)))
            self._tail = b""


class QuotedPrintableWriter(RawWriter):
    def __init__(self, dest: Sink) -> None:
        super().__init__(dest)
        self._tail = b""

    def write(self, data: bytes) -> None:
        # Decode whole lines only: a soft break "=\r\n" and an "=XX" escape never span a line end.
        buf = self._tail + data
        cut = buf.rfind(b"\n") + 1
        self._tail = buf[cut:]
        if cut:
            super().write(binascii.a2b_qp(buf[:cut]))

    def finish(self) -> None:
        if self._tail:
            super().write(binascii.a2b_qp(self._tail))
            self._tail = b""


def writer_for(encoding: str | None, dest: Sink) -> RawWriter:
    """The decoder for a Content-Transfer-Encoding; None or an identity encoding writes bytes as sent."""
    kind = (encoding or "").strip().lower()
    if kind == "base64":
        return Base64Writer(dest)
    if kind == "quoted-printable":
        return QuotedPrintableWriter(dest)
    return RawWriter(dest)
