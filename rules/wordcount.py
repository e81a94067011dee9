"""Count 字 the way WPS and Word count 字数, and decide which files are held to a word limit.

The rule (WPS 文字 and Microsoft Word, 字数统计 → 字数), stated once and documented in
docs/VALIDATION.md:

1. every East Asian character counts 1: CJK ideographs (incl. extensions and compatibility forms),
   kana, Hangul, and every full-width punctuation mark or symbol (，。、；：？！“”‘’（）《》【】…—
   and the full-width forms block U+FF01–U+FF60, U+FFE0–U+FFE6, so a full-width digit １ counts 1);
2. every run of other non-space characters counts 1 (an English word, a number such as 2020 or
   3.5%, an address such as a@b.cn) — the "word" of Western text;
3. white space of any kind counts nothing and separates runs; an East Asian character also ends a run
   ("2020年1月" is 2020 + 年 + 1 + 月 = 4).

Pure: strings in, numbers out. The file's text is extracted elsewhere (bot.mime.textextract).
"""

from __future__ import annotations

import re
import unicodedata

from rules.catalogue import Indicator

# Ranges whose characters count one each (East Asian wide/full-width text and punctuation).
_EAST_ASIAN_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x2FF0, 0x2FFF),  # ideographic description
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。〈〉《》「」『』【】〔〕〖〗〜)
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes
    (0x3200, 0x33FF),  # enclosed CJK letters, CJK compatibility
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFE50, 0xFE6F),  # small form variants
    (0xFF01, 0xFF60),  # full-width ASCII forms and punctuation (，！？（）１Ａ)
    (0xFFE0, 0xFFE6),  # full-width signs (￥￡)
    (0x20000, 0x3FFFF),  # CJK extensions B–H, compatibility supplement
)
# Punctuation Chinese text uses from the General Punctuation block: typeset full-width in Chinese
# fonts, and counted one each by WPS/Word: ‘ ’ “ ” — … ‥ ※ and the middle dots.
_WIDE_PUNCTUATION = frozenset("\u2018\u2019\u201c\u201d\u2014\u2015\u2025\u2026\u203b\u00b7\u2027\u30fb")


def is_east_asian(ch: str) -> bool:
    """Whether ``ch`` counts as one 字 on its own (rule 1)."""
    if ch in _WIDE_PUNCTUATION:
        return True
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _EAST_ASIAN_RANGES)


def count_words(text: str) -> int:
    """字数 of ``text`` as WPS/Word count it (see the module docstring).

    >>> count_words("2020年以来，本部门清理涉企收费3项。")
    17
    >>> count_words("Hello world, 你好！")
    5
    """
    total = 0
    in_run = False
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            in_run = False
        elif is_east_asian(ch):
            total += 1
            in_run = False
        elif not in_run:
            total += 1
            in_run = True
    return total


# A file whose name says it is the 情况说明 (or a 说明 / 报告 of the work) is held to the limit.
_STATEMENT_NAME = re.compile(r"情况说明|说明|情况报告|工作报告|情况介绍|工作情况|工作总结")
# An indicator whose materials also ask for other documents (lists, statistics, case files ...):
# only the files named as the statement are held to the limit there.
_OTHER_MATERIALS = re.compile(r"相关材料|及材料|[和及、](?:情况)?说明|统计分析|清单|台账|名单|截图|案卷")

# Formats a 情况说明 comes in; pictures, spreadsheets and archives are never one.
TEXT_EXTENSIONS = frozenset({"docx", "doc", "wps", "pdf", "txt", "rtf", "odt", "wpt", "dotx"})


def extension(filename: str) -> str:
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""


def statement_limit(filename: str, indicator: Indicator) -> int | None:
    """The word limit ``filename`` is held to under ``indicator``, or None when it is not held to one.

    A file is taken for the indicator's 情况说明 when the indicator has a ``word_limit``, the file is
    a text document, and either its name says so (情况说明, 说明, 工作报告 ...) or the indicator asks
    for nothing but a 情况说明 (then any text document sent for it is that statement).

    >>> from rules.catalogue import load_catalogue
    >>> c = load_catalogue()
    >>> statement_limit("涉企收费清理.docx", c["12"]), statement_limit("培训签到表.pdf", c["32"])
    (500, None)
    """
    if indicator.word_limit is None or extension(filename) not in TEXT_EXTENSIONS:
        return None
    stem = unicodedata.normalize("NFKC", filename).rpartition(".")[0]
    if _STATEMENT_NAME.search(stem):
        return indicator.word_limit
    materials = unicodedata.normalize("NFKC", indicator.materials or "")
    if _OTHER_MATERIALS.search(materials):
        return None
    return indicator.word_limit
