"""Decoding of header values, attachment names and bodies as Chinese mail clients really send them.

The rules, each from ``docs/MAIL-FACTS.md``:

- Charset labels are mapped as the W3C Encoding Standard does (https://encoding.spec.whatwg.org/#names-and-labels):
  ``gb2312``, ``gbk``, ``cp936``, ``euc-cn``, ``x-gbk`` ... all decode with the GB18030 decoder, because
  Foxmail labels text ``GB2312`` that contains GBK-only characters (镕, 堃, 喆, 玥).
- RFC 2047 encoded words are decoded wherever they appear, also inside quoted parameters
  (``filename="=?GB2312?B?...?="``), and adjacent words of one charset are joined *before* decoding,
  so a multi-byte character split across two words survives.
- Raw 8-bit bytes (no encoding at all) are tried as UTF-8, then GB18030.
- What still cannot be decoded is returned as :class:`~bot.mime.mail.DecodedText` with the original bytes,
  never as mojibake and never with characters silently dropped.

The stdlib's ``email.header.decode_header`` is not used for headers: it cannot carry raw 8-bit text
(it re-encodes unencoded runs with ``raw-unicode-escape``) and it raises on one bad base64 word.
RFC 2231 parameters, continuations and quoting are left to ``email.message.Message.get_params``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from email.message import Message
from email.quoprimime import header_decode as _q_decode

from bot.mime.mail import DecodedText

__all__ = ["charset_alias", "decode_body", "decode_filename", "decode_header_value"]

# Labels whose bytes must go through the GB18030 decoder (W3C Encoding Standard: the "GBK" encoding's
# labels, plus the names Python and mail clients use for the same family).
_GB18030_LABELS = frozenset(
    {
        "chinese",
        "csgb2312",
        "csiso58gb231280",
        "gb2312",
        "gb_2312",
        "gb_2312-80",
        "gb-2312",
        "gbk",
        "gb18030",
        "gb-18030",
        "iso-ir-58",
        "x-gbk",
        "cp936",
        "ms936",
        "windows-936",
        "euc-cn",
        "euc_cn",
        "euccn",
        "x-euc-cn",
        "x-gb2312",
    }
)

# Other W3C mappings where the label names a subset of what senders actually use.
_W3C_SUPERSETS = {
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "iso8859-1": "cp1252",
    "us-ascii": "ascii",  # kept strict on purpose: 8-bit bytes under an ASCII label go to the fallbacks
    "utf8": "utf-8",
}

# Raw 8-bit or mislabelled bytes are tried in this order: UTF-8 is self-validating, so GBK text almost
# never passes as UTF-8 by accident, while the reverse often would.
_FALLBACKS = ("utf-8", "gb18030")

# RFC 2047 encoded word; the charset may carry an RFC 2231 language suffix (=?utf-8*zh?B?...?=).
# Whitespace inside the encoded text is tolerated because some clients fold inside a word.
_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_NEWLINES = re.compile(rb"[\r\n]+")


def charset_alias(name: str) -> str:
    """The Python codec to decode text labelled ``name``, following the W3C Encoding Standard.

    >>> charset_alias("GB2312"), charset_alias(" x-gbk "), charset_alias("UTF-8")
    ('gb18030', 'gb18030', 'utf-8')

    Unknown labels are returned lower-cased and stripped (``codecs.lookup`` decides later).
    """
    label = name.strip().strip('"').strip().lower()
    if label in _GB18030_LABELS:
        return "gb18030"
    if label in _W3C_SUPERSETS:
        return _W3C_SUPERSETS[label]
    try:
        canonical = codecs.lookup(label).name
    except LookupError:
        return label
    # Python's own names for the GB family ("gb2312", "gbk") are caught here too.
    if canonical in {"gb2312", "gbk", "gb18030"}:
        return "gb18030"
    return canonical


def _strict(data: bytes, charset: str | None) -> str | None:
    """``data`` decoded with ``charset`` (aliased), then with the fallbacks; None when nothing fits."""
    candidates: list[str] = []
    if charset:
        candidates.append(charset_alias(charset))
    candidates.extend(c for c in _FALLBACKS if c not in candidates)
    for codec in candidates:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def _placeholder(data: bytes, charset: str | None) -> str:
    """Readable stand-in for undecodable bytes: what the declared charset can read, the rest as ``\\xNN``.

    Without a label only UTF-8 is used: it is self-validating, so the readable part is never mojibake.
    """
    try:
        return data.decode(charset_alias(charset) if charset else "utf-8", "backslashreplace")
    except LookupError:
        return data.decode("utf-8", "backslashreplace")


def _to_bytes(raw: str | bytes) -> bytes:
    # A str from the compat32 parser carries raw 8-bit bytes as surrogate escapes; real non-ASCII
    # characters (a str built by a caller) become UTF-8, which the decoder then accepts.
    if isinstance(raw, bytes):
        return raw
    return raw.encode("utf-8", "surrogateescape")


def _decode_word(encoding: bytes, text: bytes) -> bytes | None:
    """The octets of one RFC 2047 encoded word, or None when its transfer encoding is broken."""
    if encoding in (b"b", b"B"):
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
        if len(cleaned) % 4 == 1:
            return None
        try:
            return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
        except binascii.Error:
            return None
    return _q_decode(text.decode("latin-1")).encode("latin-1")


def decode_header_value(raw: str | bytes) -> DecodedText:
    """Decode one header value (or parameter value) into text.

    ``raw`` is the value as it stands in the mail: bytes, or a str from the compat32 parser in which
    8-bit bytes are surrogate-escaped. Handles RFC 2047 words anywhere (also inside quotes), charset
    labels per :func:`charset_alias`, raw 8-bit UTF-8 and GBK/GB18030, and folding. When any piece
    cannot be decoded, ``raw`` of the result holds the unfolded original bytes and ``text`` a
    placeholder in which the undecodable bytes are escaped (``\\xNN``).

    >>> decode_header_value("=?GB2312?B?1rix6jEy?=").text
    '指标12'
    """
    original = _NEWLINES.sub(b"", _FOLD.sub(b"", _to_bytes(raw))).strip()
    # Split into literal runs and encoded words; whitespace between two encoded words is dropped
    # (RFC 2047 section 6.2) and adjacent words with one charset are joined before decoding.
    pieces: list[tuple[str | None, bytes, bool]] = []  # (charset, octets, encoded)
    position = 0
    for match in _ENCODED_WORD.finditer(original):
        literal = original[position : match.start()]
        if literal and not (literal.isspace() and pieces and pieces[-1][2]):
            pieces.append((None, literal, False))
        charset = match.group(1).decode("ascii", "replace").split("*", 1)[0]
        octets = _decode_word(match.group(2), match.group(3))
        if octets is None:  # keep the broken word as literal text so it is escaped, not dropped
            pieces.append((None, match.group(0), False))
        elif pieces and pieces[-1][2] and pieces[-1][0] == charset.lower():
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + octets, True)
        else:
            pieces.append((charset.lower(), octets, True))
        position = match.end()
    if position < len(original):
        pieces.append((None, original[position:], False))

    parts: list[str] = []
    failed = False
    for charset, octets, encoded in pieces:
        text = _strict(octets, charset) if encoded or not octets.isascii() else octets.decode("ascii")
        if text is None:
            failed = True
            text = _placeholder(octets, charset)
        parts.append(text)
    joined = "".join(parts)
    return DecodedText(joined, raw=original) if failed else DecodedText(joined)


def _raw_header(part: Message, name: str) -> str | None:
    """The first ``name`` header exactly as parsed (compat32 keeps 8-bit bytes surrogate-escaped).

    ``Message.get`` would turn such a value into an ``email.header.Header`` whose text has U+FFFD
    instead of the bytes, so the raw items are read instead.
    """
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _param_values(header_value: str, param: str) -> list[str | tuple[str | None, str | None, str]]:
    """All values of ``param`` in a raw header, RFC 2231 continuations joined by the stdlib.

    The header is mapped byte-for-character through Latin-1 so that raw 8-bit bytes survive the
    stdlib's parameter parser and can be recovered exactly afterwards.
    """
    latin = _NEWLINES.sub(b"", _FOLD.sub(b"", _to_bytes(header_value))).decode("latin-1")
    holder = Message()
    holder["Content-Disposition"] = latin
    params = holder.get_params(header="content-disposition") or []
    return [value for key, value in params[1:] if key.lower() == param]


def _decode_rfc2231(charset: str | None, value: str) -> DecodedText:
    # The stdlib leaves the percent-decoded octets as Latin-1 characters; raw 8-bit characters
    # outside Latin-1 cannot occur because the header went in as Latin-1.
    octets = value.encode("latin-1")
    text = _strict(octets, charset)
    if text is None:
        return DecodedText(_placeholder(octets, charset), raw=octets)
    return DecodedText(text)


def decode_filename(part: Message) -> DecodedText | None:
    """The attachment name of a MIME part, or None when it has none.

    Looks at ``filename`` in Content-Disposition, then ``name`` in Content-Type. An RFC 2231 value
    (``filename*=`` or ``filename*0*=`` continuations) wins over a plain one; a plain value may hold
    RFC 2047 words (Foxmail, QQ, Outlook) or raw 8-bit bytes. A decodable candidate wins over an
    undecodable one.
    """
    undecodable: DecodedText | None = None
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = _raw_header(part, header)
        if raw is None:
            continue
        values = _param_values(raw, param)
        # RFC 6266 section 4.3: the extended (RFC 2231) form is preferred when both are present.
        values.sort(key=lambda v: not isinstance(v, tuple))
        for value in values:
            if isinstance(value, tuple):
                decoded = _decode_rfc2231(value[0], value[2])
            else:
                decoded = decode_header_value(value.encode("latin-1"))
            if not decoded.text.strip():
                continue
            if not decoded.undecodable:
                return decoded
            undecodable = undecodable or decoded
    return undecodable


def decode_body(payload: bytes, charset: str | None) -> str:
    """Text of a body part already freed of its transfer encoding.

    The declared charset (aliased per :func:`charset_alias`) is tried first, then UTF-8, then GB18030.
    When none decodes cleanly the declared charset (or UTF-8) is used with U+FFFD replacements: a body
    is read by humans and rules only, and the raw mail is kept for a better decoder.
    """
    text = _strict(payload, charset)
    if text is not None:
        return text
    codec = charset_alias(charset) if charset else "utf-8"
    try:
        return payload.decode(codec, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")
