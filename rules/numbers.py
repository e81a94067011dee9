"""Numbers as staff write them: Arabic digits or Chinese numerals (一..九十九, 两, 〇).

Only what indicator references need: small non-negative integers. Anything else is ``None``, never a
guess.
"""

from __future__ import annotations

import re

_DIGITS = dict(zip("〇零一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))

#: Characters that can make up a Chinese numeral up to 一百, for building larger patterns.
CHINESE_NUMERAL_CHARS = "〇零一二两三四五六七八九十百"

#: A number as it appears in a reference: 1-3 Arabic digits (never part of a longer run) or a numeral.
NUMBER_PATTERN = rf"(?:(?<!\d)\d{{1,3}}(?!\d)|[{CHINESE_NUMERAL_CHARS}]{{1,4}})"

_NUMERAL = re.compile(
    r"""
    ^(?:
        (?P<hundred>一百)
      | (?P<tens>[一二两三四五六七八九])?十(?P<ones>[一二三四五六七八九])?
      | (?P<single>[〇零一二两三四五六七八九])
    )$
    """,
    re.VERBOSE,
)


def chinese_to_int(text: str) -> int | None:
    """Value of a Chinese numeral from 〇 to 一百, or ``None`` when ``text`` is not one.

    >>> chinese_to_int("二十三"), chinese_to_int("十二"), chinese_to_int("两"), chinese_to_int("十十")
    (23, 12, 2, None)
    """
    m = _NUMERAL.match(text)
    if m is None:
        return None
    if m["hundred"]:
        return 100
    if m["single"]:
        return _DIGITS[m["single"]]
    tens = _DIGITS[m["tens"]] if m["tens"] else 1
    # 两十 is not how anyone writes 20; refuse rather than guess.
    if m["tens"] == "两":
        return None
    ones = _DIGITS[m["ones"]] if m["ones"] else 0
    return tens * 10 + ones


def parse_number(text: str) -> int | None:
    """Value of Arabic digits (after NFKC) or a Chinese numeral; ``None`` otherwise.

    >>> parse_number("012"), parse_number("十二"), parse_number("12a")
    (12, 12, None)
    """
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit():
        return int(stripped)
    return chinese_to_int(stripped)
