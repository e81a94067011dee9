"""Incremental Content-Transfer-Encoding decoders for streamed body parts.

A large attachment arrives from ``BODY.PEEK[n]<offset.length>`` partial fetches (or from a spooled part)
in chunks whose edges fall anywhere, even inside a base64 quantum or a quoted-printable ``=XX`` escape.
These writers keep the unfinished tail of each chunk and decode the rest straight to the destination
file, so memory stays at one chunk no matter how big the part is (RFC 2045 sections 6.7 and 6.8; the
uuencode format of POSIX ``uuencode``).

Each writer also says, in ``damage``, when the encoded text was not what its encoding allows, so the
bytes written may not be the file the sender attached (the codes of ``Material.damage``):

- ``base64-invalid``: characters outside the base64 alphabet, or more encoded lines after the padding
  that ends the data (two bodies glued together);
- ``base64-truncated``: the data stops inside a quantum without padding (a cut mail);
- ``qp-invalid``: an ``=`` that is neither an ``=XX`` escape nor a soft line break;
- ``uuencode-invalid``: no ``begin`` line, or a line that is not uuencode;
- ``uuencode-truncated``: no ``end`` line.
"""

from __future__ import annotations

import binascii
import re
from typing import Protocol

import pybase64

BASE64_INVALID = "base64-invalid"
BASE64_TRUNCATED = "base64-truncated"
QP_INVALID = "qp-invalid"
UUENCODE_INVALID = "uuencode-invalid"
UUENCODE_TRUNCATED = "uuencode-truncated"

UUENCODE_NAMES = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_WHITESPACE = b" \t\r\n\f\v"
# Everything but the alphabet and "=" is dropped (RFC 2045 6.8: to be ignored); what is neither
# alphabet, padding nor whitespace is also a sign of damage.
_B64_DROP = bytes(b for b in range(256) if b not in _B64_ALPHABET + b"=")
_B64_ALLOWED = _B64_ALPHABET + b"=" + _WHITESPACE
# After the padding: a further line that looks like base64 data means more encoded data was glued on,
# a line of ordinary text is an epilogue that lost its boundary (e.g. "--boundary-->").
_B64_DATA_LINE = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)")
_AFTER_END_KEPT = 64 * 1024  # of text after the padding, enough to judge it
# quoted-printable: "=" must start "=XX" or a soft line break (optional trailing whitespace).
_QP_TRAILING_SPACE = re.compile(rb"[ \t]+(?=\r?\n)")
_QP_BAD_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2})(?![ \t]*(?:\r?\n|\r|$))")
_UU_BEGIN = re.compile(rb"begin(?:-base64)?\s+[0-7]{1,4}\s+(.*?)\s*$")
_UU_BEFORE_BEGIN_KEPT = 64 * 1024  # a part without "begin" is kept as sent, up to here in memory


class Sink(Protocol):
    """Where streamed bytes go: an open binary file, or anything with ``write(bytes)``."""

    def write(self, data: bytes, /) -> object: ...


class RawWriter:
    """7bit / 8bit / binary, or when the caller wants the encoded bytes."""

    def __init__(self, dest: Sink) -> None:
        self.dest = dest
        self.written = 0
        self.damage: str | None = None
        self.filename: bytes | None = None  # a name the encoding itself carries (uuencode "begin")

    def write(self, data: bytes) -> None:
        self._out(data)

    def _out(self, data: bytes) -> None:
        if data:
            self.dest.write(data)
            self.written += len(data)

    def _damaged(self, code: str) -> None:
        if self.damage is None:
            self.damage = code

    def finish(self) -> None:
        return None


class Base64Writer(RawWriter):
    """Base64 up to the padding that ends the data (as binascii and mail clients read it); a stray
    ``=`` elsewhere is dropped, junk characters are skipped and reported."""

    def __init__(self, dest: Sink) -> None:
        super().__init__(dest)
        self._tail = b""  # alphabet characters of an unfinished quantum
        self._pad = 0  # "=" seen right after an unfinished quantum, not yet known to be padding
        self._ended = False
        self._after = bytearray()  # text after the padding (bounded)
        self._junk = False

    def write(self, data: bytes) -> None:
        if self._ended:
            self._keep_after(data)
            return
        position = 0
        while True:
            equals = data.find(b"=", position)
            piece = data[position:] if equals < 0 else data[position:equals]
            if piece.translate(None, _B64_ALLOWED):
                self._junk = True
            self._data(piece.translate(None, _B64_DROP))
            if equals < 0:
                return
            position = equals + 1
            if self._padding():
                self._keep_after(data[position:])
                return

    def _data(self, clean: bytes) -> None:
        if not clean:
            return
        if self._pad:  # "=" followed by more data: it was not padding but a stray "="
            self._pad = 0
            self._junk = True
        buf = self._tail + clean
        cut = len(buf) - len(buf) % 4
        self._tail = buf[cut:]
        if cut:
            # Whole quanta of alphabet characters only: the standard decoding, which pybase64 does
            # with SIMD (60x binascii's speed; a2b_base64 was a tenth of a worker's time).
            self._out(pybase64.b64decode(memoryview(buf)[:cut], validate=True))

    def _padding(self) -> bool:
        """One more "=": True when it completes the final quantum (the data ends here)."""
        missing = -len(self._tail) % 4
        if missing in (1, 2):  # "xxx=" or "xx=="
            self._pad += 1
            if self._pad == missing:
                self._out(binascii.a2b_base64(self._tail + b"=" * missing))
                self._tail = b""
                self._ended = True
                return True
            return False
        self._junk = True  # "=" at the start of a quantum, or after one character: not padding
        return False

    def _keep_after(self, data: bytes) -> None:
        room = _AFTER_END_KEPT - len(self._after)
        if room > 0:
            self._after += data[:room]

    def finish(self) -> None:
        after_lines = bytes(self._after).lstrip(b"=").split(b"\n")
        if self._junk or any(_B64_DATA_LINE.fullmatch(line.strip()) for line in after_lines):
            self._damaged(BASE64_INVALID)  # first: a character lost to junk also leaves a quantum short
        if not self._ended and self._tail:
            # A truncated last quantum (a cut mail): decode what it holds rather than lose the bytes.
            if len(self._tail) % 4 != 1:
                self._out(binascii.a2b_base64(self._tail + b"=" * (-len(self._tail) % 4)))
            self._damaged(BASE64_TRUNCATED)
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
            self._decode(buf[:cut])

    def _decode(self, lines: bytes, last: bool = False) -> None:
        # RFC 2045 6.7 (3): white space at the end of a line was added in transport and is deleted
        # (a2b_qp keeps it, and would then not see "=  " as a soft line break).
        lines = _QP_TRAILING_SPACE.sub(b"", lines)
        if last:
            lines = lines.rstrip(b" \t")
        if b"=" in lines and _QP_BAD_ESCAPE.search(lines):
            self._damaged(QP_INVALID)
        self._out(binascii.a2b_qp(lines))

    def finish(self) -> None:
        if self._tail:
            self._decode(self._tail, last=True)
            self._tail = b""


class UuencodeWriter(RawWriter):
    """``Content-Transfer-Encoding: x-uuencode`` (old clients, some scanners): the lines between
    ``begin MODE NAME`` and ``end``. Text before ``begin`` is skipped; a part with no ``begin`` at all
    is kept as sent and reported."""

    def __init__(self, dest: Sink) -> None:
        super().__init__(dest)
        self._tail = b""
        self._state = "before"  # -> "body" -> "done"; "raw" when no begin line came
        self._before = bytearray()

    def write(self, data: bytes) -> None:
        if self._state == "raw":
            self._out(data)
            return
        buf = self._tail + data
        cut = buf.rfind(b"\n") + 1
        self._tail = buf[cut:]
        for line in buf[:cut].splitlines():
            self._line(line)
        if self._state == "before":
            self._before += data
            if len(self._before) > _UU_BEFORE_BEGIN_KEPT:
                self._give_up()

    def _line(self, line: bytes) -> None:
        if self._state == "before":
            begin = _UU_BEGIN.match(line)
            if begin:
                self._state = "body"
                self._before.clear()
                self.filename = begin.group(1) or None
            return
        if self._state != "body":
            return
        stripped = line.rstrip(b"\r\n")
        if stripped.strip() == b"end":
            self._state = "done"
            return
        if not stripped.strip():
            return
        try:
            self._out(binascii.a2b_uu(stripped))
        except binascii.Error:
            # Some encoders pad lines with junk past the length the first character gives (the
            # stdlib uu module's workaround): decode only that many characters.
            count = (((stripped[0] - 32) & 63) * 4 + 5) // 3
            try:
                self._out(binascii.a2b_uu(stripped[:count]))
            except binascii.Error:
                self._damaged(UUENCODE_INVALID)

    def _give_up(self) -> None:
        self._state = "raw"
        self._damaged(UUENCODE_INVALID)
        self._out(bytes(self._before))
        self._before.clear()

    def finish(self) -> None:
        if self._tail:
            line, self._tail = self._tail, b""
            if self._state == "raw":
                return  # already written as it came
            self._line(line)
        if self._state == "before":
            self._give_up()
        elif self._state == "body":
            self._damaged(UUENCODE_TRUNCATED)


def writer_for(encoding: str | None, dest: Sink) -> RawWriter:
    """The decoder for a Content-Transfer-Encoding; None or an identity encoding writes bytes as sent."""
    kind = (encoding or "").strip().lower()
    if kind == "base64":
        return Base64Writer(dest)
    if kind == "quoted-printable":
        return QuotedPrintableWriter(dest)
    if kind in UUENCODE_NAMES:
        return UuencodeWriter(dest)
    return RawWriter(dest)
