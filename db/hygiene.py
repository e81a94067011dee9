"""Text as a database column and a spreadsheet cell will take it, whatever a mail put in it.

A hostile or broken mail can carry NUL and other control characters in a subject, a file name or a
Message-ID; PostgreSQL refuses NUL in text, openpyxl refuses C0 controls in a cell, and lone
surrogates (what Python keeps of undecodable bytes) cannot be encoded at all. ``clean_text`` removes
them at the boundary (the column types in ``db.models`` call it on every bound value), so no single
character can make a mail unrecordable. The raw bytes stay in the stored .eml.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, Dialect, String, Text, TypeDecorator

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


class CleanString(TypeDecorator[str]):
    """``String(n)`` whose bound values pass through ``clean_text`` and are clipped to ``n``
    characters (PostgreSQL refuses longer values of a VARCHAR(n))."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        length = getattr(self.impl_instance, "length", None)
        return clean_text(str(value), length)


class CleanText(TypeDecorator[str]):
    """``Text`` whose bound values pass through ``clean_text``."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else clean_text(str(value))


class CleanJSON(TypeDecorator[Any]):
    """``JSON`` whose strings pass through ``clean_text`` (PostgreSQL's jsonb refuses ``\\u0000``)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return clean_value(value)
