"""Decoding of header values, attachment names and bodies as Chinese mail clients really send them.

The rules, each from ``docs/MAIL-FACTS.md``:

- Charset labels are mapped as the W3C Encoding Standard does (https://encoding.spec.whatwg.org/#names-and-labels):
  ``gb2312``, ``gbk``, ``cp936``, ``euc-cn``, ``x-gbk`` ... all decode with the GB18030 decoder, because
  Foxmail labels text ``GB2312`` that contains GBK-only characters (镕, 堃, 喆, 玥).
- RFC 2047 encoded words are decoded wherever they appear, also inside quoted parameters
  (``filename="=?GB2312?B?...?="``), and adjacent words of one charset are joined *before* decoding,
  so a multi-byte character split across two words survives.
- Raw 8-bit bytes (no encoding at all), and text its declared charset cannot decode, are tried as UTF-8,
  then as the charset the part or the mail declares elsewhere (``hint``: a German mail's
  ``iso-8859-1`` body says what its raw ``Frösche.txt`` name is), then as GB18030 only when the result
  is plausibly Chinese (:func:`plausibly_chinese`): GB18030 accepts almost any byte string, so Latin-1,
  windows-1254 or Big5 bytes would otherwise come out as Chinese mojibake. UTF-8 goes before the hint
  because it validates itself: text in a legacy charset practically never passes as UTF-8, while any
  legacy decoder accepts UTF-8 bytes as mojibake.
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
import unicodedata
from email.message import Message
from email.quoprimime import header_decode as _q_decode

from bot.mime.mail import DecodedText

__all__ = [
    "charset_alias",
    "decode_body",
    "decode_filename",
    "decode_header_value",
    "decode_text",
    "decode_undeclared",
    "plausibly_chinese",
]

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

# Labels a stateful 7-bit decoder rejects for one unusual character: try the supersets before giving up.
_SUPERSETS = {
    "iso2022_jp": ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_2004"),
    "iso2022_jp_1": ("iso2022_jp_2",),
    "iso2022_kr": ("cp949",),
}
_ASCII_LABELS = frozenset({"ascii", "us-ascii"})
_ISO2022_ESCAPE = re.compile(rb"\x1b(?:\$\(?|\()[@A-Z]")  # an ISO-2022 designation (ESC $ B, ESC ( J ...)

# Non-ASCII characters that occur in Chinese names and text: Han ideographs, CJK and full-width
# punctuation, the GB2312 symbol rows Chinese text uses (№ ① ㈠ ※ ± ×). Kana, Greek, Cyrillic, box drawing
# and private-use characters are what Big5 or Latin bytes become when read as GB18030.
_CHINESE_RANGES = (
    (0x00A7, 0x00A7),
    (0x00B0, 0x00B1),
    (0x00B7, 0x00B7),
    (0x00D7, 0x00D7),
    (0x00F7, 0x00F7),
    (0x2010, 0x203B),
    (0x2103, 0x2103),
    (0x2116, 0x2116),
    (0x2160, 0x216B),
    (0x2170, 0x2179),
    (0x2190, 0x2199),
    (0x2208, 0x2312),
    (0x2460, 0x249B),
    (0x25A0, 0x25CF),
    (0x2605, 0x2606),
    (0x3000, 0x303F),
    (0x3220, 0x3229),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF01, 0xFF5E),
    (0xFFE0, 0xFFE5),
    (0x20000, 0x2FFFF),
)
_NOT_CHINESE = re.compile(
    "[^\x00-\x7f" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _CHINESE_RANGES) + "]"
)
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
# A Han character inside a Latin word: a Latin-1 "ö" eating the letter after it ("Fr\xf6sche" -> "Fr鰏che").
_HAN_IN_LATIN_WORD = re.compile("[A-Za-z][\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff][A-Za-z]")

# RFC 2047 encoded word; the charset may carry an RFC 2231 language suffix (=?utf-8*zh?B?...?=).
# Whitespace inside the encoded text is tolerated because some clients fold inside a word.
_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_NEWLINES = re.compile(rb"[\r\n]+")
_FOLD_STR = re.compile(r"\r?\n(?=[ \t])")
_NEWLINES_STR = re.compile(r"[\r\n]+")


def charset_alias(name: str) -> str:
    """The Python codec to decode text labelled ``name``, following the W3C Encoding Standard.

    >>> charset_alias("GB2312"), charset_alias(" x-gbk "), charset_alias("UTF-8")
    ('gb18030', 'gb18030', 'utf-8')

    Unknown labels are returned lower-cased and stripped (``codecs.lookup`` decides later).
    """
    # A NUL cannot be in any codec's name, and codecs.lookup (like every decode given such a name)
    # raises ValueError, not LookupError, for it: make it a name that is merely unknown.
    label = name.strip().strip('"').strip().lower().replace("\x00", "\ufffd")
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


def plausibly_chinese(text: str) -> bool:
    """Whether ``text`` (bytes read as GB18030) reads as Chinese rather than as mojibake.

    Every non-ASCII character must be one Chinese text uses (no kana, Greek, Cyrillic, private use);
    no Han character may sit inside a Latin word; and of four or more Han characters at least half
    must be common ones (GB2312): Big5 text read as GBK is mostly rare characters.

    >>> plausibly_chinese("指标12-支队-王堃.doc"), plausibly_chinese("HasenundFr鰏che.txt")
    (True, False)
    """
    if _NOT_CHINESE.search(text) or _HAN_IN_LATIN_WORD.search(text):
        return False
    han = "".join(_HAN.findall(text))
    # GB2312 has no "?" among its Han characters, so each "?" is a character outside it.
    return len(han) < 4 or han.encode("gb2312", "replace").count(b"?") * 2 <= len(han)


def _candidates(charset: str | None, hint: str | None) -> list[str]:
    found: list[str] = []
    if charset:
        label = charset_alias(charset)
        found.append(label)
        found.extend(_SUPERSETS.get(_codec_name(label), ()))
    found.append("utf-8")
    if hint:
        label = charset_alias(hint)
        if label not in _ASCII_LABELS:
            found.append(label)
    return list(dict.fromkeys(found))


def _codec_name(label: str) -> str:
    try:
        return codecs.lookup(label).name.replace("-", "_")
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return label


def _strict(data: bytes, charset: str | None, hint: str | None = None) -> str | None:
    """``data`` decoded with ``charset`` (aliased), UTF-8, ``hint``, then GB18030 when the result is
    plausibly Chinese; None when nothing fits."""
    for codec in _candidates(charset, hint):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if "\x1b" in text and _ISO2022_ESCAPE.search(data):  # ISO-2022 left undecoded: not a reading
            continue
        return text
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return text if plausibly_chinese(text) else None


def _placeholder(data: bytes, charset: str | None) -> str:
    """Readable stand-in for undecodable bytes: what the declared charset can read, the rest as ``\\xNN``.

    Without a label only UTF-8 is used: it is self-validating, so the readable part is never mojibake.
    Control characters (an ISO-2022 escape left over) are escaped too.
    """
    try:
        text = data.decode(charset_alias(charset) if charset else "utf-8", "backslashreplace")
    except LookupError:
        text = data.decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" and c not in "\t\r\n" else c for c in text)


def decode_undeclared(data: bytes, hint: str | None = None) -> DecodedText:
    """Bytes no label describes (a zip member name, a winmail.dat title, a raw 8-bit header): UTF-8,
    ``hint``, then GB18030 when plausibly Chinese; otherwise the bytes, shown escaped."""
    if data.isascii():
        return DecodedText(data.decode("ascii"))
    text = _strict(data, None, hint)
    if text is None:
        return DecodedText(_placeholder(data, None), raw=data)
    return DecodedText(text)


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


def decode_header_value(raw: str | bytes, hint: str | None = None) -> DecodedText:
    """Decode one header value (or parameter value) into text.

    ``raw`` is the value as it stands in the mail: bytes, or a str from the compat32 parser in which
    8-bit bytes are surrogate-escaped. Handles RFC 2047 words anywhere (also inside quotes), charset
    labels per :func:`charset_alias`, raw 8-bit text (UTF-8, the ``hint`` charset the part or mail
    declares, GBK/GB18030 when plausibly Chinese), raw ISO-2022-JP, and folding. When any piece
    cannot be decoded, ``raw`` of the result holds the unfolded original bytes and ``text`` a
    placeholder in which the undecodable bytes are escaped (``\\xNN``).

    >>> decode_header_value("=?GB2312?B?1rix6jEy?=").text
    '指标12'
    """
    if isinstance(raw, str) and raw.isascii() and "=?" not in raw and "\x1b" not in raw:
        # Plain ASCII, most header values: only the folding to undo (the same steps as below).
        return DecodedText(_NEWLINES_STR.sub("", _FOLD_STR.sub("", raw)).strip())
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
        if encoded or not octets.isascii():
            text = _strict(octets, charset, hint)
        elif b"\x1b" in octets and _ISO2022_ESCAPE.search(octets):
            text = _strict(octets, "iso-2022-jp")
        else:
            text = octets.decode("ascii")
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


def _decode_rfc2231(charset: str | None, value: str, hint: str | None) -> DecodedText:
    # The stdlib leaves the percent-decoded octets as Latin-1 characters; raw 8-bit characters
    # outside Latin-1 cannot occur because the header went in as Latin-1.
    octets = value.encode("latin-1")
    text = _strict(octets, charset, hint)
    if text is None:
        return DecodedText(_placeholder(octets, charset), raw=octets)
    return DecodedText(text)


def decode_filename(part: Message, hint: str | None = None) -> DecodedText | None:
    """The attachment name of a MIME part, or None when it has none.

    Looks at ``filename`` in Content-Disposition, then ``name`` in Content-Type. An RFC 2231 value
    (``filename*=`` or ``filename*0*=`` continuations) wins over a plain one; a plain value may hold
    RFC 2047 words (Foxmail, QQ, Outlook) or raw 8-bit bytes, read per :func:`decode_header_value` with
    ``hint`` (the part's own ``charset`` parameter, else the mail's) as the declared charset. A
    decodable candidate wins over an undecodable one.
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
                decoded = _decode_rfc2231(value[0], value[2], hint)
            else:
                decoded = decode_header_value(value.encode("latin-1"), hint)
            if not decoded.text.strip():
                continue
            if not decoded.undecodable:
                return decoded
            undecodable = undecodable or decoded
    return undecodable


def decode_text(payload: bytes, charset: str | None, hint: str | None = None) -> tuple[str, bool]:
    """Text of a body part already freed of its transfer encoding, and whether it decoded cleanly.

    The declared charset (aliased per :func:`charset_alias`) is tried first, then UTF-8, then ``hint``
    (a charset the mail declares elsewhere), then GB18030 when the result is plausibly Chinese. When
    none decodes cleanly the declared charset (or UTF-8) is used with U+FFFD replacements: a body is
    read by humans and rules only, and the raw mail is kept for a better decoder.
    """
    text = _strict(payload, charset, hint)
    if text is not None:
        return text, True
    codec = charset_alias(charset) if charset else "utf-8"
    try:
        return payload.decode(codec, "replace"), False
    except LookupError:
        return payload.decode("utf-8", "replace"), False


def decode_body(payload: bytes, charset: str | None, hint: str | None = None) -> str:
    """:func:`decode_text` without the verdict."""
    return decode_text(payload, charset, hint)[0]
