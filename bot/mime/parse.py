"""Raw mail (bytes or a spooled .eml file) -> :class:`bot.mime.mail.IncomingMail`.

Parsing uses the stdlib ``email`` feed parser with ``policy.compat32`` and no mail-parser, because of
three facts in ``docs/MAIL-FACTS.md``: mail-parser decodes ``gb2312``-labelled GBK text with
``errors="ignore"`` and loses characters silently; raw 8-bit header bytes survive only as compat32
surrogate escapes (``raw_items()``); and both parsers hold every payload in memory. Here every leaf
payload larger than :data:`SPOOL_THRESHOLD` is moved to a file the moment the parser finishes it, then
decoded to its final content-addressed file in chunks, so one big attachment is in memory once, briefly,
in its encoded form only. For mails read from a file (big mails), :mod:`bot.mime.bigparts` goes further and
keeps long base64 runs out of the parser altogether. Decoding of names and text is :mod:`bot.mime.charsets`' job.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path

from bs4 import BeautifulSoup

from bot.mime.bigparts import Diverter
from bot.mime.charsets import decode_body, decode_filename, decode_header_value
from bot.mime.mail import CloudLink, DecodedText, IncomingMail, Material, Skipped, synthesized_message_id
from bot.mime.payload import (
    SPOOL_THRESHOLD,
    Spool,
    decoded_bytes,
    feed,
    header_text,
    spool_part,
)
from bot.mime.sender import parse_recipients, parse_sender

__all__ = ["SPOOL_THRESHOLD", "ParseError", "parse_message", "parse_message_file"]

_FEED_CHUNK = 1 << 20

# Headers the rules look at (rules/mailkind.py, loop protection); first occurrence, decoded.
_KEPT_HEADERS = frozenset(
    {
        "auto-submitted",
        "precedence",
        "x-autoreply",
        "x-autorespond",
        "x-auto-response-suppress",
        "list-id",
        "list-unsubscribe",
        "return-path",
        "x-intake-loop",
        "content-type",
        "authentication-results",
        "x-mailer",
        "user-agent",
        "list-post",
        "x-autoreply-from",
        "x-mail-autoreply",
        "subject",
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "date",
        "message-id",
        "x-failed-recipients",
    }
)
_SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
_MSGID = re.compile(r"<[^<>\s]+>")


class ParseError(ValueError):
    """Nothing at all could be read: no header, or no bytes."""


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: one line per block, no scripts or styles, no blank runs."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


@dataclass
class _Walk:
    """What one pass over the MIME tree collects."""

    spool: Spool
    materials: list[Material] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    forwarded_bodies: list[tuple[str | None, str]] = field(default_factory=list)  # (html, text)
    unnamed: int = 0

    def visit(self, part: Message, origin: str, container: str | None) -> None:
        self._note_defects(part)
        ctype = part.get_content_type()
        payload = part.get_payload()
        if ctype == "message/rfc822":
            self._forwarded(part)
        elif isinstance(payload, list):
            # multipart/*, and message/* subtypes other than rfc822 (delivery-status: header blocks)
            if part.get_content_maintype() == "multipart":
                for sub in payload:
                    if isinstance(sub, Message):
                        self.visit(sub, origin, container)
        else:
            try:
                self._leaf(part, origin, container)
            except (ValueError, LookupError) as exc:  # binascii.Error is a ValueError
                self.defects.append(f"unreadable {part.get_content_type()} part: {exc}")

    def _note_defects(self, part: Message) -> None:
        for defect in part.defects:
            self.defects.append(f"{type(defect).__name__} in {part.get_content_type()}")

    def _forwarded(self, part: Message) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        encoding = header_text(part, "content-transfer-encoding").strip().lower()
        if isinstance(inner, Message) and encoding in ("base64", "quoted-printable") and not inner.keys():
            # RFC 2046 5.2.1 forbids encoding message/rfc822, some clients do it anyway: the parser then
            # sees a header-less message whose body is the encoded mail.
            inner = feed([decoded_bytes(inner, encoding)], self.spool)
        elif not isinstance(inner, Message):
            inner = feed([decoded_bytes(part)], self.spool)
        subject = decode_header_value(_raw_header(inner, "subject") or "").text.strip() or None
        nested = _Walk(self.spool)
        nested.visit(inner, "forwarded", subject)
        self.materials.extend(nested.materials)
        self.skipped.extend(nested.skipped)
        self.defects.extend(nested.defects)
        self.forwarded_bodies.append(("\n".join(nested.htmls) or None, "\n".join(nested.texts)))
        self.forwarded_bodies.extend(nested.forwarded_bodies)

    def _leaf(self, part: Message, origin: str, container: str | None) -> None:
        ctype = part.get_content_type()
        maintype = part.get_content_maintype()
        disposition = part.get_content_disposition()
        name = decode_filename(part)
        if maintype == "text" and disposition != "attachment" and (name is None or disposition == "inline"):
            if ctype in ("text/plain", "text/html"):
                text = decode_body(decoded_bytes(part), part.get_content_charset())
                (self.texts if ctype == "text/plain" else self.htmls).append(text)
            return
        content_id = header_text(part, "content-id").strip()
        label = name.text if name else content_id or ctype
        if maintype == "image" and content_id and disposition != "attachment":
            self.skipped.append(Skipped(label, "inline-image"))
            return
        if ctype in _SIGNATURE_TYPES:
            self.skipped.append(Skipped(label, "signature"))
            return
        if name is None:
            self.unnamed += 1
            name = DecodedText(f"未命名附件{_letters(self.unnamed)}{mimetypes.guess_extension(ctype) or '.bin'}")
        elif name.undecodable:
            self.defects.append(f"undecodable file name: {name.text}")
        path, size, digest, damage = spool_part(part, self.spool.workdir)
        self.materials.append(Material(name, path, size, digest, ctype, origin, container, damage))


def _letters(n: int) -> str:
    """"", "-b", "-c" ... "-aa": a nameless part's name must not read as a number (指标1)."""
    if n <= 1:
        return ""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("a") + rest) + out
    return f"-{out}"


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _ids(value: str | None) -> list[str]:
    return _MSGID.findall(value or "")


def _message_id(value: str | None, raw_sha256: str) -> str:
    found = _ids(value)
    if found:
        return found[0]
    bare = (value or "").strip()
    if bare and not any(c.isspace() for c in bare):
        return f"<{bare.strip('<>')}>"  # some clients drop the angle brackets
    return synthesized_message_id(raw_sha256)


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        defects.append(f"unparsable Date: {value.strip()}")
        return None
    # RFC 5322 "-0000" (no zone information) comes back naive: read it as UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _cloud_links(html: str | None, text: str, forwarded: list[tuple[str | None, str]]) -> list[CloudLink]:
    from bot.mime.cloudlinks import find_cloud_links

    links: list[CloudLink] = []
    seen: set[str] = set()
    for one_html, one_text in [(html, text), *forwarded]:
        for link in find_cloud_links(one_html, one_text):
            if link.url not in seen:
                seen.add(link.url)
                links.append(link)
    return links


def _expand(walk: _Walk) -> tuple[list[Material], list[Skipped]]:
    from bot.mime.archive import expand

    materials: list[Material] = []
    skipped: list[Skipped] = []
    for material in walk.materials:
        found, dropped = expand(material, walk.spool.workdir)
        materials.extend(found)
        skipped.extend(dropped)
    return materials, skipped


def _build(root: Message, raw_sha256: str, spool: Spool) -> IncomingMail:
    if not root.keys():
        raise ParseError("no mail header could be read")
    headers: dict[str, str] = {}
    for key, value in root.raw_items():
        lowered = key.lower()
        if lowered in _KEPT_HEADERS and lowered not in headers:
            headers[lowered] = decode_header_value(str(value)).text

    walk = _Walk(spool)
    walk.visit(root, "attachment", None)
    defects = walk.defects

    subject = decode_header_value(_raw_header(root, "subject") or "")
    if subject.undecodable:
        defects.append(f"undecodable subject: {subject.text}")
    sender = parse_sender(_raw_header_all(root, "from"))
    to_addrs = parse_recipients(_raw_header_all(root, "to") + _raw_header_all(root, "cc"))
    message_id = _message_id(headers.get("message-id"), raw_sha256)
    in_reply_to = _ids(_raw_header(root, "in-reply-to"))

    text = "\n".join(walk.texts).strip()
    html = "\n".join(walk.htmls) or None
    if not text and html:
        text = html_to_text(html)
    materials, skipped = _expand(walk)
    return IncomingMail(
        message_id=message_id,
        subject=subject,
        from_addr=sender.address,
        from_name=sender.name,
        sender_doubt=sender.doubt,
        to_addrs=to_addrs,
        date=_date(headers.get("date"), defects),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(_ids(_raw_header(root, "references"))),
        body_text=text,
        body_html=html,
        headers=headers,
        content_type=root.get_content_type(),
        materials=materials,
        cloud_links=_cloud_links(html, text, walk.forwarded_bodies),
        skipped=walk.skipped + skipped,
        defects=defects,
    )


def _raw_header_all(message: Message, name: str) -> list[str]:
    return [str(value) for key, value in message.raw_items() if key.lower() == name]


def _parse(chunks: Iterable[bytes] | bytes, workdir: Path) -> IncomingMail:
    workdir.mkdir(parents=True, exist_ok=True)
    diverter = Diverter(workdir)
    spool = Spool(workdir, diverter=diverter)
    digest = hashlib.sha256()

    def hashed(source: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in source:
            digest.update(chunk)
            yield chunk

    try:
        if isinstance(chunks, bytes):
            digest.update(chunks)
            stream = diverter.filter_bytes(chunks)
        else:
            stream = diverter.filter(hashed(chunks))
        root = feed(stream, spool)
        return _build(root, digest.hexdigest(), spool)
    finally:
        # Encoded temporaries of parts that were not decoded (skipped, or an exception half-way)
        # must not stay beside the decoded payloads.
        spool.remove_temporaries()
        if spool.diverter is not None:
            spool.diverter.cleanup()  # runs of parts that were never set (broken structure)


def parse_message(raw: bytes, workdir: Path) -> IncomingMail:
    """Parse one mail given as bytes; materials are spooled to files in ``workdir`` named by SHA-256.

    Broken structure gives a result with ``defects``; :class:`ParseError` only when no header at all
    can be read.
    """
    if not raw.strip():
        raise ParseError("empty mail")
    return _parse(raw, workdir)


def parse_message_file(eml_path: Path, workdir: Path) -> IncomingMail:
    """Parse one mail from a file without reading it whole: it is fed to the parser in 1 MiB chunks
    and every large part goes to disk as soon as it is complete (see the module docstring)."""
    if eml_path.stat().st_size == 0:
        raise ParseError("empty mail")

    def chunks() -> Iterator[bytes]:
        with eml_path.open("rb") as source:
            while chunk := source.read(_FEED_CHUNK):
                yield chunk

    # Long base64 runs bypass the feed parser (bot.mime.bigparts), here read line by line from the file.
    return _parse(chunks(), workdir)
