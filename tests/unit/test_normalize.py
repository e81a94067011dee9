"""normalize(), strip_reply_prefixes() and the numeral parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.normalize import normalize, strip_reply_prefixes
from rules.numbers import chinese_to_int, parse_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("指标１２", "指标12"),
        ("指标7，12，13", "指标7,12,13"),
        ("（37）行政调解.docx", "(37)行政调解.docx"),
        ("指标12－支队－涉企收费", "指标12-支队-涉企收费"),
        ("指标24—26", "指标24-26"),
        ("指标24–26", "指标24-26"),
        ("指标24～26", "指标24~26"),
        ("法规科\u3000\u3000指标８", "法规科 指标8"),
        ("  指标12\t\n材料  ", "指标12 材料"),
        ("第１２项：情况说明", "第12项:情况说明"),
        ("【12】涉企收费", "【12】涉企收费"),
        ("３０．2020年以来", "30.2020年以来"),
        ("ＲＥ：指标３", "RE:指标3"),
        ("１００％", "100%"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: 指标12", "指标12"),
        ("RE：指标12", "指标12"),
        ("re:指标12", "指标12"),
        ("回复：指标12", "指标12"),
        ("回复: 指标12", "指标12"),
        ("答复:指标12", "指标12"),
        ("Fw: 指标12", "指标12"),
        ("FW：指标12", "指标12"),
        ("Fwd: 指标12", "指标12"),
        ("转发：指标12", "指标12"),
        ("Re:Re:指标12", "指标12"),
        ("Re:Re:Re: 指标12", "指标12"),
        ("回复：转发：Re: 指标12", "指标12"),
        ("Re[2]: 指标12", "指标12"),
        ("【转发】指标12", "指标12"),
        ("AW: 指标12", "指标12"),
        ("指标12", "指标12"),
        ("关于回复：的说明", "关于回复:的说明"),
        ("Regarding 指标12", "Regarding 指标12"),
        ("Fwd 指标12", "Fwd 指标12"),
    ],
)
def test_strip_reply_prefixes(subject: str, expected: str) -> None:
    assert strip_reply_prefixes(subject) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("二", 2),
        ("两", 2),
        ("九", 9),
        ("十", 10),
        ("十一", 11),
        ("十二", 12),
        ("十九", 19),
        ("二十", 20),
        ("二十三", 23),
        ("三十", 30),
        ("四十五", 45),
        ("六十", 60),
        ("六十五", 65),
        ("九十九", 99),
        ("一百", 100),
        ("〇", 0),
        ("零", 0),
        ("一十二", 12),
    ],
)
def test_chinese_to_int(text: str, value: int) -> None:
    assert chinese_to_int(text) == value


@pytest.mark.parametrize("text", ["", "十十", "二二", "两十", "十两", "百", "一千", "十二三", "abc", "12", "第十二"])
def test_chinese_to_int_refuses(text: str) -> None:
    assert chinese_to_int(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("012", 12), ("0", 0), (" 7 ", 7), ("二十三", 23), ("12a", None), ("", None), ("一二", None)],
)
def test_parse_number(text: str, value: int | None) -> None:
    assert parse_number(text) == value


_CN_DIGITS = "零一二三四五六七八九"


def _spell(n: int) -> str:
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


@given(st.integers(min_value=0, max_value=99))
def test_chinese_numerals_round_trip(n: int) -> None:
    assert chinese_to_int(_spell(n)) == n


def test_digits_of_other_scripts_become_ascii() -> None:
    assert normalize("指标١٢") == "指标12"  # Arabic-Indic
    assert normalize("১২৩") == "123"  # Bengali
