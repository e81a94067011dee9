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
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path

from bs4 import BeautifulSoup

from bot.mime.bigparts import Diverter
from bot.mime.charsets import decode_header_value
from bot.mime.mail import CloudLink, IncomingMail, Material, Skipped, synthesized_message_id
from bot.mime.payload import SPOOL_THRESHOLD, Spool, feed
from bot.mime.repair import repair_bytes, repair_chunks
from bot.mime.sender import parse_recipients, parse_sender
from bot.mime.walk import Walk

__all__ = ["SPOOL_THRESHOLD", "ParseError", "parse_message", "parse_message_file"]

_FEED_CHUNK = 1 << 20
HTML_TEXT_CAP = 512 * 1024

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
_MSGID = re.compile(r"<[^<>\s]+>")
_WORD_CHARSET = re.compile(r"=\?([^?*\s]+)(?:\*[^?]*)?\?[bBqQ]\?")


class ParseError(ValueError):
    """Nothing at all could be read: no header, or no bytes."""


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: one line per block, no scripts or styles, no blank runs. Only
    the first :data:`HTML_TEXT_CAP` characters are read: what the rules look for in a body (a
    declaration, a command) is at its top, and parsing megabytes of HTML takes seconds."""
    soup = BeautifulSoup(html[:HTML_TEXT_CAP], "html.parser")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


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
        defects.append(f"无法识别的日期（Date）：{value.strip()}")
        return None
    # RFC 5322 "-0000" (no zone information) comes back naive: read it as UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _cloud_links(htmls: list[str], text: str, forwarded: list[tuple[list[str], str]]) -> list[CloudLink]:
    """Cloud files announced in the body and in forwarded bodies. Only HTML parts that name a cloud
    service are parsed, each cut down to the text around those names (``cloudlinks.link_html``): a
    mail of thousands of HTML parts costs one substring search per part."""
    from bot.mime.cloudlinks import find_cloud_links, link_html

    links: list[CloudLink] = []
    seen: set[str] = set()
    for one_htmls, one_text in [(htmls, text), *forwarded]:
        candidates = [cut for cut in map(link_html, one_htmls) if cut is not None]
        for link in find_cloud_links("\n".join(candidates) or None, one_text):
            if link.url not in seen:
                seen.add(link.url)
                links.append(link)
    return links


def _expand(walk: Walk) -> tuple[list[Material], list[Skipped]]:
    from bot.mime.archive import expand

    materials: list[Material] = []
    skipped: list[Skipped] = []
    for material in walk.materials:
        found, dropped = expand(material, walk.spool.workdir)
        materials.extend(found)
        skipped.extend(dropped)
    return materials, skipped


def _build(root: Message, raw_sha256: str, spool: Spool, notes: list[str]) -> IncomingMail:
    if not root.keys():
        raise ParseError("读不到任何邮件头")
    walk = Walk(spool, _root_charset(root))
    walk.visit(root, "attachment", None)
    walk.finish()
    hint = walk.hint or _word_charset(root)
    defects = notes + walk.defects

    headers: dict[str, str] = {}
    for key, value in root.raw_items():
        lowered = key.lower()
        if lowered in _KEPT_HEADERS and lowered not in headers:
            headers[lowered] = decode_header_value(str(value), hint).text
    subject = decode_header_value(_raw_header(root, "subject") or "", hint)
    if subject.undecodable:
        defects.append(f"主题无法按任何字符集解码，已保留原始字节：{subject.text}")
    sender = parse_sender(_raw_header_all(root, "from"), hint)
    # A To: of a thousand encoded words made compat32's getaddresses recurse out of the stack (issue 12):
    # parse_recipients reads with email.headerregistry and leaves out what it cannot read.
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
        cloud_links=_cloud_links(walk.htmls, text, walk.forwarded_bodies),
        skipped=walk.skipped + skipped,
        defects=defects,
    )


def _root_charset(root: Message) -> str | None:
    charset = root.get_content_charset()
    return charset if charset and charset not in ("us-ascii", "ascii") else None


def _word_charset(root: Message) -> str | None:
    """The charset of the first RFC 2047 word in the top headers: what the sender's client writes in,
    when no part declares one (``From: =?Windows-1252?...`` beside a raw 8-bit Subject)."""
    for _, value in root.raw_items():
        for label in _WORD_CHARSET.findall(str(value)):
            if label.lower() not in ("us-ascii", "ascii"):
                return str(label)
    return None


def _raw_header_all(message: Message, name: str) -> list[str]:
    return [str(value) for key, value in message.raw_items() if key.lower() == name]


def _parse(chunks: Iterable[bytes] | bytes, workdir: Path) -> IncomingMail:
    workdir.mkdir(parents=True, exist_ok=True)
    diverter = Diverter(workdir)
    spool = Spool(workdir, diverter=diverter)
    digest = hashlib.sha256()
    notes: list[str] = []  # what was repaired before parsing (bot.mime.repair)

    def hashed(source: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in source:
            digest.update(chunk)
            yield chunk

    try:
        if isinstance(chunks, bytes):
            digest.update(chunks)
            stream = diverter.filter_bytes(repair_bytes(chunks, notes))
        else:
            stream = diverter.filter(repair_chunks(hashed(chunks), notes))
        try:
            root = feed(stream, spool)
        except RecursionError as exc:  # thousands of nested multiparts: the feed parser recurses per level
            raise ParseError("MIME 结构嵌套过深，无法读取") from exc
        return _build(root, digest.hexdigest(), spool, notes)
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
        raise ParseError("邮件为空")
    return _parse(raw, workdir)


def parse_message_file(eml_path: Path, workdir: Path) -> IncomingMail:
    """Parse one mail from a file without reading it whole: it is fed to the parser in 1 MiB chunks
    and every large part goes to disk as soon as it is complete (see the module docstring)."""
    if eml_path.stat().st_size == 0:
        raise ParseError("邮件为空")

    def chunks() -> Iterator[bytes]:
        with eml_path.open("rb") as source:
            while chunk := source.read(_FEED_CHUNK):
                yield chunk

    # Long base64 runs bypass the feed parser (bot.mime.bigparts), here read line by line from the file.
    return _parse(chunks(), workdir)
