"""What a person is shown of text a stranger wrote: invisible format characters removed, bidi tricks
flagged, terminal control sequences stripped.

Unicode format characters (general category Cf: zero-width space and joiners, word joiner, BOM, soft
hyphen, the bidirectional embeddings, overrides and isolates) change how a name looks without
changing what it says: ``指标1\\u200b2`` reads as 12 but holds a 1 and a 2 apart, and
``报告\\u202ecod.exe`` shows as ``报告exe.doc``. They are removed before matching
(``rules.normalize.normalize``) and before display (receipts, digest, review); a name that carried
bidi controls is flagged (``has_bidi_controls``), since that has no innocent use in a file name here.

``visible`` goes further for text printed on a terminal (``intake review`` and the other CLI
listings): ANSI/VT escape sequences and every other control character could move the cursor, rewrite
earlier lines or set the window title.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode's bidirectional formatting characters (UAX #9, 2.1-2.7): marks, embeddings, overrides,
# isolates and the Arabic letter mark.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# ECMA-48: CSI (ESC [ ... final byte), OSC/DCS/SOS/PM/APC strings up to ST or BEL, and two-byte
# escapes; the 8-bit C1 forms of CSI (U+009B) and OSC (U+009D) as well.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b[ -/]*[0-~]?",
    re.DOTALL,
)


def is_format_char(char: str) -> bool:
    return unicodedata.category(char) == "Cf"


def strip_format(text: str) -> str:
    """``text`` without Unicode format characters (category Cf).

    >>> strip_format("指标1\\u200b2")
    '指标12'
    >>> strip_format("报告\\u202ecod.exe")
    '报告cod.exe'
    """
    if text.isascii():
        return text  # the common case: no Cf character is ASCII
    return "".join(c for c in text if not is_format_char(c))


def has_bidi_controls(text: str) -> bool:
    """Whether ``text`` carries a bidirectional control (an override can hide a file's real extension)."""
    return any(c in BIDI_CONTROLS for c in text)


def visible(text: str) -> str:
    """``text`` as a person may be shown it (in a mail or on a terminal): escape sequences removed,
    other control characters (C0 except newline and tab, DEL, C1) and format characters dropped.

    >>> visible("a\\x1b]0;owned\\x07b\\x1b[2Jc")
    'abc'
    """
    text = _ESCAPE_SEQUENCE.sub("", text)
    return "".join(
        c
        for c in text
        if c in "\n\t" or not (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or is_format_char(c))
    )
