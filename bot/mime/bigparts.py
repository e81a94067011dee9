"""Keep big base64 bodies out of the parser: a line filter between a spooled .eml and the feed parser.

The stdlib feed parser collects a part's body as a list of lines and joins them before handing the
part its payload, so a 40 MB base64 body costs well over twice its size in memory however quickly it
is written to disk afterwards. This filter reads the mail line by line; a run of lines made only of
base64 characters longer than :data:`RUN_THRESHOLD` bytes is written, byte for byte as sent, to a file
and replaced by one marker line. When the parser sets a payload that contains a marker, the part's
encoded body is reassembled on disk from the text around the marker and the diverted run.

Diverting is safe for any part: base64 lines contain neither ``:`` (so they are never headers) nor
``-`` (so they are never MIME boundaries), and the diverted bytes are the original encoded bytes, so a
part of any transfer encoding decodes exactly as it would have without the filter.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

RUN_THRESHOLD = 256 * 1024  # smaller runs are fed to the parser as they are (file input)
BYTES_RUN_THRESHOLD = 16 * 1024  # the same for mails already in memory: cheap to divert, costly to parse
_B64_LINE = re.compile(rb"[A-Za-z0-9+/=]+\r?\n")
_MARKER = re.compile(r"INTAKERUN([0-9A-F]{16})N(\d+)X\r?\n?")
# Possessive (no backtracking state per line; the same matches, as neither CR nor LF is in the class):
# a tenth faster over a mail's attachments.
_B64_RUNS = re.compile(rb"^(?:[A-Za-z0-9+/=]++\r?+\n)++", re.MULTILINE)
_COPY_CHUNK = 1 << 20


class Diverter:
    """Divert long base64 runs of one mail to files in ``workdir``; see the module docstring."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.nonce = secrets.token_hex(8).upper()
        self.runs: dict[str, Path | memoryview] = {}  # a file (``filter``) or a view of the mail (``filter_bytes``)

    def filter(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The mail's bytes with long base64 runs replaced by marker lines."""
        pending: list[bytes] = []  # a base64 run not yet known to be long
        pending_size = 0
        out: tuple[int, Path] | None = None  # (fd, path) of the run being diverted
        fd = -1
        for line in _lines(chunks):
            if _B64_LINE.fullmatch(line):
                if fd >= 0:
                    os.write(fd, line)
                    continue
                pending.append(line)
                pending_size += len(line)
                if pending_size > RUN_THRESHOLD:
                    fd, name = tempfile.mkstemp(prefix=".run-", dir=self.workdir)
                    out = (fd, Path(name))
                    os.write(fd, b"".join(pending))
                    pending, pending_size = [], 0
                continue
            if fd >= 0 and out is not None:
                yield self._close_run(fd, out[1])
                fd, out = -1, None
            if pending:
                yield b"".join(pending)
                pending, pending_size = [], 0
            yield line
        if fd >= 0 and out is not None:
            yield self._close_run(fd, out[1])
        if pending:
            yield b"".join(pending)

    def filter_bytes(self, raw: bytes, threshold: int = BYTES_RUN_THRESHOLD) -> Iterator[bytes]:
        """The same for a mail in memory: runs are found by one regular-expression scan (in C),
        which spares the feed parser's per-line work on every attachment line. The runs stay where
        they are, as views of ``raw`` (the mail is in memory already; writing them to files would
        cost more than the parse)."""
        view = memoryview(raw)
        position = 0
        for m in _B64_RUNS.finditer(raw):
            if m.end() - m.start() <= threshold:
                continue
            yield bytes(view[position : m.start()])
            key = str(len(self.runs))
            self.runs[key] = view[m.start() : m.end()]
            yield f"INTAKERUN{self.nonce}N{key}X\r\n".encode("ascii")
            position = m.end()
        yield bytes(view[position:])

    def _close_run(self, fd: int, path: Path) -> bytes:
        os.close(fd)
        key = str(len(self.runs))
        self.runs[key] = path
        return f"INTAKERUN{self.nonce}N{key}X\r\n".encode("ascii")

    def reassemble(self, payload: str) -> Path | memoryview | None:
        """If ``payload`` holds markers, the part's full encoded body: the run itself when the body is
        one run (most attachments), else a file it was written to."""
        if "INTAKERUN" + self.nonce not in payload:
            return None
        whole = _MARKER.fullmatch(payload)
        if whole is not None and whole.group(1) == self.nonce:
            return self.runs.pop(whole.group(2))  # no copy
        ours = [m for m in _MARKER.finditer(payload) if m.group(1) == self.nonce]
        if all(isinstance(self.runs.get(m.group(2)), memoryview) for m in ours):
            # Runs of a mail in memory: the body is put together in memory too.
            pieces: list[bytes | memoryview] = []
            position = 0
            for m in ours:
                pieces.append(payload[position : m.start()].encode("ascii", "surrogateescape"))
                run = self.runs.pop(m.group(2))
                assert isinstance(run, memoryview)
                pieces.append(run)
                position = m.end()
            pieces.append(payload[position:].encode("ascii", "surrogateescape"))
            return memoryview(b"".join(pieces))
        fd, name = tempfile.mkstemp(prefix=".encoded-", dir=self.workdir)
        with os.fdopen(fd, "wb") as dest:
            position = 0
            for m in _MARKER.finditer(payload):
                if m.group(1) != self.nonce:
                    continue  # marker-like text of the mail itself
                dest.write(payload[position : m.start()].encode("ascii", "surrogateescape"))
                run = self.runs.pop(m.group(2))
                if isinstance(run, memoryview):
                    dest.write(run)
                else:
                    with run.open("rb") as source:
                        while chunk := source.read(_COPY_CHUNK):
                            dest.write(chunk)
                    run.unlink(missing_ok=True)
                position = m.end()
            dest.write(payload[position:].encode("ascii", "surrogateescape"))
        return Path(name)

    def cleanup(self) -> None:
        for run in self.runs.values():
            if isinstance(run, Path):
                run.unlink(missing_ok=True)
        self.runs.clear()


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Split a byte stream into lines, keeping their endings (the last may have none)."""
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            yield data[start : end + 1]
            start = end + 1
        rest = data[start:]
    if rest:
        yield rest
