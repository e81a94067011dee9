"""Text as a database column and a spreadsheet cell will take it, whatever a mail put in it.

A hostile or broken mail can carry NUL and other control characters in a subject, a file name or a
Message-ID; PostgreSQL refuses NUL in text, openpyxl refuses C0 controls in a cell, and lone
surrogates (what Python keeps of undecodable bytes) cannot be encoded at all. ``clean_text`` removes
them at the boundary (the column types in ``db.models`` call it on every bound value), so no single
character can make a mail unrecordable. The raw bytes stay in the stored .eml.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Dialect, String, Text, TypeDecorator

from db.cleaning import clean_text, clean_value

__all__ = ["CleanJSON", "CleanString", "CleanText", "clean_text", "clean_value"]


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
