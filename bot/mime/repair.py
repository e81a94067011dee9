"""Repairs to a mail's top header block before the feed parser reads it.

The stdlib feed parser takes the first line it cannot read as a header for the start of the body. Two
forms real mail has make it lose every header, and with them the subject, the sender and the MIME
structure (the whole mail then goes to review):

- a UTF-8 byte order mark before the first header (mails saved by Windows editors and some exporters);
- the obsolete syntax of RFC 5322 section 4.5.1: white space between a field name and its colon
  (``Subject : ...``, RFC 2822's own example ``From  : John Doe``).

Only the top header block is touched (it ends at the first empty line); the body and the raw mail
that is stored stay byte for byte as received.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

BOM = b"\xef\xbb\xbf"
HEAD_LIMIT = 1 << 20  # a header block longer than this is passed on unrepaired
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_OBSOLETE_NAME = re.compile(rb"^([!-9;-~]+)[ \t]+:", re.MULTILINE)

BOM_NOTE = "邮件开头有 UTF-8 字节顺序标记（BOM），已忽略"
OBSOLETE_NOTE = "邮件头使用了过时格式（冒号前有空格），已照常读取"


def repair_head(head: bytes, notes: list[str]) -> bytes:
    """The header block ``head`` (possibly with the body after it) made readable; what was repaired
    is added to ``notes``."""
    if head.startswith(BOM):
        head = head[len(BOM) :]
        notes.append(BOM_NOTE)
    end = _HEAD_END.search(head)
    stop = end.start() if end else len(head)
    if b" :" not in head[:stop] and b"\t:" not in head[:stop]:
        return head  # the usual case: nothing obsolete to look for
    repaired, count = _OBSOLETE_NAME.subn(rb"\1:", head[:stop])
    if count:
        notes.append(OBSOLETE_NOTE)
        head = repaired + head[stop:]
    return head


def repair_bytes(raw: bytes, notes: list[str]) -> bytes:
    """:func:`repair_head` for a whole mail in memory: only its header block is looked at."""
    end = _HEAD_END.search(raw, 0, HEAD_LIMIT)
    stop = end.end() if end else min(len(raw), HEAD_LIMIT)
    head = raw[:stop]
    repaired = repair_head(head, notes)
    return raw if repaired is head else repaired + raw[stop:]


def repair_chunks(chunks: Iterable[bytes], notes: list[str]) -> Iterator[bytes]:
    """:func:`repair_head` for a mail read in chunks: the header block is collected (up to
    :data:`HEAD_LIMIT`), repaired and passed on, then everything else as it comes."""
    source = iter(chunks)
    head = b""
    for chunk in source:
        head += chunk
        if _HEAD_END.search(head) or len(head) >= HEAD_LIMIT:
            break
    yield repair_bytes(head, notes)
    yield from source
