"""mail-parser as a test-time oracle: where do intake's materials and mail-parser's attachments differ?

intake parses with its own code (bot/mime/parse.py; docs/MAIL-FACTS.md says why not mail-parser), so a
second, independent parser is a cheap check on it: every file one of them finds and the other does
not, every name they read differently and every payload they decode differently is a
:class:`Disagreement`. tests/unit/test_oracle_mailparser.py holds these against a reviewed list.

Files are paired in three rounds: same name and bytes (agreement), then same bytes (SHA-256) under
another name (a ``name`` disagreement), then same name with other bytes (``bytes``); whatever is left is
``only-intake`` or ``only-mailparser``. A parser that raises gives one ``error``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mailparser

from bot.mime.parse import parse_message_file

HASH_CHARS = 12  # enough to tell files apart in a reviewed list, short enough to read
RANDOM_NAME = "<random>"  # mail-parser names an unnamed part with ten random letters

_RANDOM = re.compile(r"[a-z]{10}\.(txt|rtf)")


@dataclass(frozen=True, order=True)
class Disagreement:
    """One difference between the two parsers on one mail; ``key`` identifies it in the reviewed list."""

    mail: str  # path below tests/corpus, "/" separated
    differs: str  # "name" | "bytes" | "only-intake" | "only-mailparser" | "error"
    intake: str | None = None  # intake's file name (or error text)
    mailparser: str | None = None  # mail-parser's file name (or error text)
    sha256: str | None = None  # first HASH_CHARS hex digits: intake's file, else mail-parser's
    mailparser_sha256: str | None = None  # only for "bytes": mail-parser's differing payload

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (
            self.mail,
            self.differs,
            self.intake or "",
            self.mailparser or "",
            self.sha256 or "",
            self.mailparser_sha256 or "",
        )


@dataclass(frozen=True)
class ParsedFile:
    name: str
    sha256: str  # first HASH_CHARS hex digits


def intake_files(eml: Path, workdir: Path) -> list[ParsedFile]:
    """intake's materials, through its own entry point (the one the poller uses for spooled mail)."""
    mail = parse_message_file(eml, workdir)
    return [ParsedFile(_storable(m.filename.text), m.sha256[:HASH_CHARS]) for m in mail.materials]


def mailparser_files(raw: bytes) -> list[ParsedFile]:
    """mail-parser's attachments with their payloads decoded (it hands binary ones over base64-encoded)."""
    parsed = mailparser.parse_from_bytes(raw)
    files = []
    for attachment in parsed.attachments:
        data = decoded_payload(attachment)
        files.append(ParsedFile(_stable_name(attachment, raw), hashlib.sha256(data).hexdigest()[:HASH_CHARS]))
    return files


def decoded_payload(attachment: dict[str, Any]) -> bytes:
    """The file's bytes from one of mail-parser's attachment dicts."""
    payload = str(attachment["payload"])
    if not attachment["binary"]:
        # Text payloads (an attached message, say) are the part's text as mail-parser produced it.
        return payload.encode("utf-8", "surrogateescape")
    # mail-parser hands base64 over as it was on the wire; decode it the tolerant way mail clients (and
    # the stdlib's get_payload(decode=True)) do: ignore junk, complete missing padding.
    text = re.sub(r"[^A-Za-z0-9+/]", "", payload)
    if len(text) % 4 == 1:
        text = text[:-1]  # a lone trailing sextet carries no whole byte
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _stable_name(attachment: dict[str, Any], raw: bytes) -> str:
    """mail-parser's name for the file; its random names for unnamed parts are replaced by a marker,
    so the reviewed list does not change from run to run."""
    name = str(attachment["filename"])
    if _RANDOM.fullmatch(name) and name.encode() not in raw:
        return f"{RANDOM_NAME}.{name.rsplit('.', 1)[1]}"
    return _storable(name)


def _storable(name: str) -> str:
    """A name TOML can hold: lone surrogates (undecodable bytes) become backslash escapes."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def compare(eml: Path, relative: str, workdir: Path) -> list[Disagreement]:
    """Every disagreement between intake and mail-parser on one mail file."""
    raw = eml.read_bytes()
    try:
        ours = intake_files(eml, workdir)
    except Exception as exc:  # any exception is a finding to review, not a crash of the oracle
        return [Disagreement(relative, "error", intake=f"{type(exc).__name__}: {exc}")]
    try:
        theirs = mailparser_files(raw)
    except Exception as exc:
        return [Disagreement(relative, "error", mailparser=f"{type(exc).__name__}: {exc}")]
    return sorted(pair_files(relative, ours, theirs))


def pair_files(mail: str, ours: list[ParsedFile], theirs: list[ParsedFile]) -> list[Disagreement]:
    """What differs between intake's files (``ours``) and mail-parser's (``theirs``) of one mail."""
    found: list[Disagreement] = []
    left = list(theirs)
    unpaired: list[ParsedFile] = []
    for file in ours:  # the same file on both sides: nothing to report
        match = next((t for t in left if (t.sha256, t.name) == (file.sha256, file.name)), None)
        if match is None:
            unpaired.append(file)
        else:
            left.remove(match)
    rest: list[ParsedFile] = []
    for file in unpaired:  # same bytes, another name
        match = next((t for t in left if t.sha256 == file.sha256), None)
        if match is None:
            rest.append(file)
            continue
        left.remove(match)
        found.append(Disagreement(mail, "name", file.name, match.name, file.sha256))
    for file in rest:  # same name, other bytes
        match = next((t for t in left if t.name == file.name), None)
        if match is None:
            found.append(Disagreement(mail, "only-intake", intake=file.name, sha256=file.sha256))
            continue
        left.remove(match)
        found.append(Disagreement(mail, "bytes", file.name, match.name, file.sha256, match.sha256))
    found.extend(Disagreement(mail, "only-mailparser", mailparser=t.name, sha256=t.sha256) for t in left)
    return found


def toml_entry(item: Disagreement, reason: str) -> str:
    """``item`` as a ``[[disagreement]]`` table for the reviewed file (printed when one is missing)."""
    lines = ["[[disagreement]]", f"mail = {_toml_string(item.mail)}", f"differs = {_toml_string(item.differs)}"]
    for field in ("intake", "mailparser", "sha256", "mailparser_sha256"):
        value = getattr(item, field)
        if value is not None:
            lines.append(f"{field} = {_toml_string(value)}")
    lines.append(f"reason = {_toml_string(reason)}")
    return "\n".join(lines)


def _toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
