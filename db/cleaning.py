"""The text cleaning of ``db.hygiene`` without SQLAlchemy: for code that cleans text as the database
will store it but never opens a database (the poll's worker processes, ``bot.ingest.limits``).
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except TAB, LF and CR; DEL and the C1 controls; the two XML non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str, max_chars: int | None = None) -> str:
    """``value`` without control characters (TAB, LF and CR stay), lone surrogates as U+FFFD, and at
    most ``max_chars`` characters.

    >>> clean_text("指标\\x0012\\x1b[31m"), clean_text("a\\udcb9b"), clean_text("一二三", 2)
    ('指标12[31m', 'a\\ufffdb', '一二')
    """
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars]
    return text


def clean_value(value: Any) -> Any:
    """``clean_text`` applied to every string inside a JSON-like value (lists, dicts, scalars)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v) for k, v in value.items()}
    return value
