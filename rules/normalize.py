"""Text normalisation shared by every matcher: one place that folds width, dashes and spaces.

Chinese mail clients mix full-width and half-width forms freely (``指标１２``, ``（37）``, ``7，12``);
NFKC folds most of them. Dashes and the ideographic space need a little help on top.
"""

from __future__ import annotations

import re
import unicodedata

from rules.visible import strip_format

# NFKC keeps these as distinct characters; staff use them all as "a dash".
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\u30fc\ufe58\ufe63\uff0d]+")
_TILDES = re.compile("[\u301c\u223c\uff5e]")
_SPACES = re.compile(r"\s+")

# One reply/forward marker, as written by Outlook, Foxmail, Coremail (163: ``Re:Re:`` with no space),
# QQ Mail and the Chinese Outlook localisation. NFKC has already turned ``：`` into ``:``.
_PREFIX = re.compile(
    r"^\s*(?:re|fw|fwd|aw|sv|回复|答复|转发|回覆|转寄)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
    re.IGNORECASE,
)
# ``[Fwd: ...]``-style wrappers are rare, but ``【转发】`` appears in QQ Mail.
_BRACKETED_PREFIX = re.compile(r"^\s*[\[【](?:转发|回复|fwd?|re)[\]】]\s*", re.IGNORECASE)


_OTHER_DIGIT = re.compile(r"(?![0-9])\d")


def normalize(text: str) -> str:
    """Fold ``text`` to the one form every matcher reads.

    NFKC turns full-width digits, letters, brackets, commas and colons into ASCII; every dash becomes
    ``-``, every wave dash ``~``, and runs of whitespace (including the ideographic space) one space.

    >>> normalize("指标１２－支队（情况说明）")
    '指标12-支队(情况说明)'
    """
    folded = unicodedata.normalize("NFKC", strip_format(text))  # 指标1\u200b2 is 12 (rules.visible)
    # NFKC leaves other scripts' digits (١٢, ১২) alone, but a regex \d matches them: fold them too,
    # so that every matcher sees the same ASCII digits.
    folded = _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), 0)), folded)
    folded = _DASHES.sub("-", folded)
    folded = _TILDES.sub("~", folded)
    return _SPACES.sub(" ", folded).strip()


def strip_reply_prefixes(subject: str) -> str:
    """Remove any number of leading reply/forward markers (``Re:``, ``回复：``, ``Fw:``, ``Re:Re:``...).

    The subject is normalised first, so the result is normalised too.

    >>> strip_reply_prefixes("回复：Re:Re:转发: 指标12")
    '指标12'
    """
    text = normalize(subject)
    while True:
        stripped = _BRACKETED_PREFIX.sub("", _PREFIX.sub("", text, count=1), count=1)
        if stripped == text:
            return text
        text = stripped
