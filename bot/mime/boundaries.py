"""MIME boundary lines for the stdlib feed parser, without a regular expression compiled per boundary.

``email.feedparser`` compiles ``(?P<sep>--BOUNDARY)(?P<end>--)?(?P<ws>[ \\t]*)(?P<linesep>\\r\\n|\\r|\\n)?$``
for every multipart it meets. Boundaries are unique per mail, so the ``re`` module's cache never
helps: every mail pays a compile per multipart (0.1 ms each on the benchmark machine, about a tenth of
a worker's parse of a usual mail with two multiparts), and every line then pays a regular-expression
call per open multipart.

:func:`install` makes ``email.feedparser`` look ``re`` up in a stand-in that hands out a
:class:`BoundaryMatcher` for exactly that pattern: a ``startswith`` of the separator and one
precompiled match of the rest at the same position, which matches the same lines with the same
``end``, ``ws`` and ``linesep`` groups (the feed parser reads nothing else). Any other pattern, or a
boundary pattern of another shape (a future Python), goes to ``re.compile`` unchanged.
"""

from __future__ import annotations

import email.feedparser
import re
from typing import Any

_PREFIX = "(?P<sep>"
_SUFFIX = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_TAIL = re.compile(_SUFFIX[1:])  # what follows the separator, matched at its end
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)  # inverse of re.escape: one backslash before a character


class BoundaryMatcher:
    """``.match(line)`` as the feed parser's compiled boundary pattern answers it."""

    __slots__ = ("_length", "separator")

    def __init__(self, separator: str) -> None:
        self.separator = separator
        self._length = len(separator)

    def match(self, line: str) -> re.Match[str] | None:
        if not line.startswith(self.separator):
            return None
        return _TAIL.match(line, self._length)


def boundary_matcher(pattern: str) -> BoundaryMatcher | None:
    """The matcher for the feed parser's boundary ``pattern``; None for any other pattern."""
    if not (pattern.startswith(_PREFIX) and pattern.endswith(_SUFFIX)):
        return None
    escaped = pattern[len(_PREFIX) : -len(_SUFFIX)]
    separator = _UNESCAPE.sub(r"\1", escaped)
    if re.escape(separator) != escaped:
        return None  # not a plain escaped literal: leave it to re
    return BoundaryMatcher(separator)


class _FeedParserRe:
    """``re`` as ``email.feedparser`` sees it once :func:`install` ran."""

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)

    @staticmethod
    def compile(pattern: Any, flags: int = 0) -> Any:
        if flags == 0 and isinstance(pattern, str):
            matcher = boundary_matcher(pattern)
            if matcher is not None:
                return matcher
        return re.compile(pattern, flags)


def install() -> None:
    """Let the feed parser use :class:`BoundaryMatcher` (idempotent; the process's other ``re``
    users are not touched)."""
    if email.feedparser.re is re:  # type: ignore[attr-defined]
        email.feedparser.re = _FeedParserRe()  # type: ignore[attr-defined]
