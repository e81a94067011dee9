"""The sender of a mail from its ``From:`` header(s), read so that nobody can smuggle an address in.

``email.utils.parseaddr`` guesses (CVE-2023-27043: ``carol@example.test <evil@evil.example>`` comes
out as carol) and the old habit of decoding RFC 2047 before parsing let an encoded word become an
address. Here ``email.headerregistry`` parses the raw header; only the display name is decoded
(with ``bot.mime.charsets``, which knows what Chinese clients send). The address is taken as written,
or not at all: the result carries a *doubt* (``rules.sender``) instead when

- an encoded word sits inside the address (RFC 2047 section 5 forbids it; the receiving server checked
  a different address): the header is parsed a second time with encoded words neutralised, and the
  two readings must agree;
- there is more than one mailbox, or more than one ``From:`` header;
- the parser reported a defect about the address, i.e. it had to guess (defects of the display name
  alone, such as Foxmail's quoted encoded words, do not count);
- there is no address at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.errors import HeaderDefect, ObsoleteHeaderDefect, UndecodableBytesDefect
from email.headerregistry import AddressHeader
from email.policy import default
from functools import lru_cache

from bot.mime.charsets import decode_header_value
from rules.sender import ENCODED_ADDRESS, GUESSED_ADDRESS, NO_ADDRESS, SEVERAL_FROM, SEVERAL_MAILBOXES

# The longest From we read: a real one is under 200 characters; the parser is not made for megabytes.
_MAX_HEADER = 4096


@dataclass(frozen=True)
class ParsedSender:
    address: str  # lower-cased addr-spec; "" when ``doubt`` is set
    name: str  # decoded display name; for a doubtful header, the whole header as decoded text
    doubt: str | None = None  # a rules.sender doubt code


def _parse(value: str) -> AddressHeader:
    header = default.header_factory("from", value)
    assert isinstance(header, AddressHeader)
    return header


# Defects that concern only the display name, which ``charsets`` decodes on its own: Foxmail's quoted
# encoded words (``"=?GB2312?B?...?=" <a@b>``), undecodable or raw 8-bit bytes, and obsolete but
# harmless syntax (``J. Smith``). An encoded word inside the address is caught by the second reading.
_NAME_ONLY_DEFECTS = frozenset({"encoded word inside quoted string", "missing trailing whitespace after encoded-word"})


def _address_defects(defects: tuple[HeaderDefect, ...]) -> bool:
    return any(
        not isinstance(d, UndecodableBytesDefect | ObsoleteHeaderDefect) and str(d) not in _NAME_ONLY_DEFECTS
        for d in defects
    )


def _display_name(raw: str, hint: str | None = None) -> str:
    """The display name of a ``name <addr>`` header, decoded; "" for a bare address."""
    head, bracket, _ = raw.rpartition("<")
    if not bracket:
        return ""
    name = decode_header_value(head, hint).text.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\").strip()
    return name


def parse_sender(raw_values: list[str], hint: str | None = None) -> ParsedSender:
    """The sender from the raw ``From:`` values (compat32 strings, in header order); ``hint`` is the
    charset the mail declares, for a display name in raw 8-bit bytes (bot.mime.charsets).

    Remembered per process for the last ``_REMEMBERED`` distinct headers: a backlog brings the same
    few senders' headers again and again, and the header registry costs more than the rest of a
    small mail's header parsing."""
    return _parse_sender(tuple(raw_values), hint)


def parse_recipients(raw_values: list[str]) -> tuple[str, ...]:
    """The addresses of ``To:`` and ``Cc:`` as written (nothing decoded into an address), lower-cased;
    what cannot be read is left out (they only tell how widely a mail was sent)."""
    return _parse_recipients(tuple(raw_values))


_REMEMBERED = 1024


@lru_cache(maxsize=_REMEMBERED)
def _parse_sender(raw_values: tuple[str, ...], hint: str | None) -> ParsedSender:
    if not raw_values or not any(v.strip() for v in raw_values):
        return ParsedSender("", "", NO_ADDRESS)
    shown = " ".join(decode_header_value(v, hint).text.strip() for v in raw_values)[:200]
    if len(raw_values) > 1:
        return ParsedSender("", shown, SEVERAL_FROM)
    raw = " ".join(raw_values[0][:_MAX_HEADER].split())  # unfold
    try:
        header = _parse(raw)
        addresses, groups = header.addresses, header.groups
        # "=?" only opens an encoded word; with "?" replaced nothing can be decoded, so an address that
        # comes out differently was made by decoding.
        neutral = raw.replace("=?", "=\x1a")
        # Without "=?" the second reading is the first one: parsing it again only costs time.
        literal = [a.addr_spec for a in (_parse(neutral).addresses if neutral != raw else addresses)]
    except Exception:  # the header parser's own bugs on odd input (AttributeError, IndexError ...)
        return ParsedSender("", shown, GUESSED_ADDRESS)
    if len(addresses) > 1 or len(groups) > 1 or any(g.display_name is not None for g in groups):
        return ParsedSender("", shown, SEVERAL_MAILBOXES)
    if not addresses:
        return ParsedSender("", shown, NO_ADDRESS)
    if literal != [addresses[0].addr_spec]:
        return ParsedSender("", shown, ENCODED_ADDRESS)
    address = addresses[0]
    defects: tuple[HeaderDefect, ...] = getattr(header, "defects", ())  # BaseHeader, mixed in at run time
    if _address_defects(defects) or not address.username or not address.domain:
        return ParsedSender("", shown, GUESSED_ADDRESS)
    spec = address.addr_spec.lower()
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in spec) or not spec.isascii():
        return ParsedSender("", shown, GUESSED_ADDRESS)
    return ParsedSender(spec, _display_name(raw, hint))


@lru_cache(maxsize=_REMEMBERED)
def _parse_recipients(raw_values: tuple[str, ...]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for value in raw_values:
        try:
            header = _parse(" ".join(value[: _MAX_HEADER * 4].split()))
            addresses = header.addresses
        except Exception:  # as in parse_sender: an odd header says nothing, it must break nothing
            continue
        for address in addresses:
            if address.username and address.domain:
                found.setdefault(address.addr_spec.lower(), None)
    return tuple(found)
