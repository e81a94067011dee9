"""The documents of one mail read for validation (``bot.ingest.validate``), before any transaction:
each in a capped child process (``bot.mime.textextract``), the mail's documents under one shared time
budget. No database here: the poll's worker processes call it (``bot.ingest.prepare``) and import
nothing of SQLAlchemy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from bot.mime.textextract import DEFAULT_LIMITS, Extracted, ExtractLimits, extract_text
from bot.mime.textreaders import TIME
from rules.wordcount import TEXT_EXTENSIONS, extension

log = logging.getLogger(__name__)

LIMITS = DEFAULT_LIMITS  # what reading one document may cost (bot.mime.textreaders.ExtractLimits)
MAIL_SECONDS = 120.0  # what reading all documents of one mail may take together


def extract_texts(
    files: Iterable[tuple[str, Path, str]],
    *,
    limits: ExtractLimits | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Extracted]:
    """The text of every file that validation reads, from (sha256, path, file name); one child
    process per distinct content. Call it outside any transaction: a document may take seconds. The
    documents of one mail share ``MAIL_SECONDS``; what is left when it is used up is over the limit."""
    texts: dict[str, Extracted] = {}
    limits = limits or LIMITS
    deadline = time.monotonic() + MAIL_SECONDS
    for sha256, path, filename in files:
        if sha256 in texts or extension(filename) not in TEXT_EXTENSIONS:
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            texts[sha256] = Extracted(None, reason=f"这封邮件的文档读取时间（{MAIL_SECONDS:.0f} 秒）已用完", limit=TIME)
        else:
            capped = replace(limits, wall_seconds=min(limits.wall_seconds, remaining))
            texts[sha256] = extract_text(path, filename, capped, should_stop=should_stop)
        if texts[sha256].limit is not None:
            log.warning("file %s (%s) over a limit: %s", filename, sha256[:12], texts[sha256].reason)
    return texts
