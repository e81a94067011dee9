"""bot.mime.charsets: one row per client form in MAIL-FACTS.md, built from the literal bytes clients send."""

from __future__ import annotations

import base64
from email import message_from_bytes, policy
from email.message import Message

import pytest

from bot.mime.charsets import (
    charset_alias,
    decode_body,
    decode_filename,
    decode_header_value,
    decode_text,
    decode_undeclared,
    plausibly_chinese,
)
from bot.mime.mail import DecodedText


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GB2312", "gb18030"),
        ('"GB2312"', "gb18030"),
        ("gbk", "gb18030"),
        ("GBK", "gb18030"),
        ("cp936", "gb18030"),
        ("CP936", "gb18030"),
        ("euc_cn", "gb18030"),
        ("euc-cn", "gb18030"),
        ("x-gbk", "gb18030"),
        ("csGB2312", "gb18030"),
        ("chinese", "gb18030"),
        ("iso-ir-58", "gb18030"),
        ("gb_2312-80", "gb18030"),
        ("windows-936", "gb18030"),
        ("gb18030", "gb18030"),
        (" GB18030 ", "gb18030"),
        ("utf-8", "utf-8"),
        ("UTF8", "utf-8"),
        ("big5", "big5hkscs"),
        ("ks_c_5601-1987", "cp949"),
        ("iso-8859-1", "cp1252"),
        ("us-ascii", "ascii"),
        ("hz-gb-2312", "hz"),  # 7-bit HZ is a different encoding: never fed to the GB18030 decoder
        ("x-unknown-charset", "x-unknown-charset"),
    ],
)
def test_charset_alias(label: str, codec: str) -> None:
    assert charset_alias(label) == codec


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        # Foxmail: GB2312 label, GBK-only characters (镕 E946, 堃 88D2, 喆 86B4, 玥 AB68)
        (b"=?GB2312?B?ob7WuLHqMTKhv9LAt6jQ0NX+ssTBzy3pRg==?=", "【指标12】依法行政材料-镕"),
        (b"=?gb2312?B?1cWGtA==?=", "张喆"),
        (b"=?gb2312?B?wO6raA==?=", "李玥"),
        (b"=?GB2312?B?1rix6jEy?=", "指标12"),
        # QQ Mail: gb18030 label, a character outside GBK (䶮 FE9F)
        (b"=?gb18030?B?ob4zN6G/0NDV/rX3veKyxMHP?=", "【37】行政调解材料"),
        (b"=?gb18030?B?wfX+nw==?=", "刘䶮"),
        # Coremail: GBK, Re:Re: without spaces, inside or outside the encoded word
        (b"=?GBK?B?UmU6UmU6tdrKrrb+z+6yxMHP?=", "Re:Re:第十二项材料"),
        (b"Re:Re:=?GBK?B?tdrKrrb+z+6yxMHP?=", "Re:Re:第十二项材料"),
        # Outlook: UTF-8 B and Q words, folded, whitespace between words dropped (RFC 2047 6.2)
        (b"=?utf-8?B?5Zue5aSN77ya56ys5Y2B5LqM6aG55p2Q5paZ?=", "回复：第十二项材料"),
        (
            b"=?utf-8?q?=E5=9B=9E=E5=A4=8D=EF=BC=9A=E7=AC=AC=E5=8D=81=E4=BA=8C=E9=A1=B9=E6=9D=90=E6=96=99?=",
            "回复：第十二项材料",
        ),
        (
            b"=?gbk?B?1rix6jEyLdanttMtyebG8w==?=\r\n =?gbk?B?ytW30cflwO3H6b/2y7XD9y5kb2N4?=",
            "指标12-支队-涉企收费清理情况说明.docx",
        ),
        # a UTF-8 character split across two words is joined before decoding
        (b"=?UTF-8?B?5ow=?= =?UTF-8?B?h+aghw==?=", "指标"),
        (b"=?utf-8?Q?=E6=8C=87?=\t=?utf-8?Q?=E6=A0=87_12?=", "指标 12"),
        # literal text around words keeps its spaces
        (b"Fw: =?utf-8?B?5oyH5qCH?= 12", "Fw: 指标 12"),
        # RFC 2231 language suffix inside an RFC 2047 word (RFC 2231 section 5)
        (b"=?utf-8*zh-cn?B?5oyH5qCH?=", "指标"),
        # missing base64 padding is tolerated
        (b"=?gbk?B?19u6z7/G?=", "综合科"),
        (b"=?gbk?B?1cWGtA?=", "张喆"),
        # raw 8-bit GBK and UTF-8, no encoding at all
        (b"\xa1\xbe37\xa1\xbf\xd0\xd0\xd5\xfe\xb5\xf7\xbd\xe2\xb2\xc4\xc1\xcf", "【37】行政调解材料"),
        (b"\xe9F.doc", "镕.doc"),
        (
            b"\xe3\x80\x9037\xe3\x80\x91\xe8\xa1\x8c\xe6\x94\xbf\xe8\xb0\x83\xe8\xa7\xa3\xe6\x9d\x90\xe6\x96\x99",
            "【37】行政调解材料",
        ),
        # plain ASCII passes through, folding removed
        (b"Weekly report\r\n  part 2", "Weekly report  part 2"),
        (b"", ""),
    ],
)
def test_decode_header_value(raw: bytes, text: str) -> None:
    decoded = decode_header_value(raw)
    assert decoded.text == text
    assert not decoded.undecodable


def test_decode_header_value_accepts_surrogate_escaped_str() -> None:
    # compat32 hands raw 8-bit header bytes over as a str with surrogate escapes
    value = "指标12-支队-涉企收费清理情况说明.docx".encode("gbk").decode("ascii", "surrogateescape")
    assert decode_header_value(value).text == "指标12-支队-涉企收费清理情况说明.docx"


def test_decode_header_value_accepts_unicode_str() -> None:
    assert decode_header_value("回复：=?gbk?B?19u6z7/G?=").text == "回复：综合科"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        # GBK name truncated inside a character by the sending client, labelled gb2312
        (
            b"=?GB2312?B?1rix6jEyLdanttMtyebG88rVt9HH5cDtx+m/9su1wy5kb2N4?=",
            "指标12-支队-涉企收费清理情况说\\xc3.docx",
        ),
        # Latin-1 raw bytes: neither UTF-8 nor GB18030
        (b"R\xe9sum\xe9.pdf", "R\\xe9sum\\xe9.pdf"),
        # unknown label and bytes that fit no fallback
        (b"=?x-mac-chinesesimp?B?wy5kb2M=?=", "\\xc3.doc"),
        # a lone 0xFF byte
        (b"report\xff.xls", "report\\xff.xls"),
    ],
)
def test_decode_header_value_keeps_raw_bytes_when_undecodable(raw: bytes, shown: str) -> None:
    decoded = decode_header_value(raw)
    assert decoded.undecodable
    assert decoded.raw == raw
    assert decoded.text == shown
    assert "\ufffd" not in decoded.text


def test_words_of_one_charset_are_decoded_together() -> None:
    decoded = decode_header_value(b"=?utf-8?B?1rix6jEy?=\r\n =?utf-8?B?5oyH?=")
    # the two words share a charset, so their octets are joined: d6 b8 b1 ea 31 32 e6 8c 87
    assert decoded.undecodable
    assert decoded.raw == b"=?utf-8?B?1rix6jEy?= =?utf-8?B?5oyH?="


def test_broken_base64_word_is_kept_not_dropped() -> None:
    decoded = decode_header_value(b"=?utf-8?B?5?= tail")
    assert decoded.text == "=?utf-8?B?5?= tail"


def _part(headers: bytes) -> Message:
    return message_from_bytes(headers + b"\r\n\r\npayload\r\n", policy=policy.compat32)


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        # Foxmail: RFC 2047 inside quoted name= and filename=, GB2312 label, GBK-only 堃
        (
            b"Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;\r\n"
            b'\tname="=?GB2312?B?1rix6jEyLdanttMtyebG88rVt9HH5cDtx+m/9su1w/ctzfWI0i5kb2N4?="\r\n'
            b"Content-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment;\r\n"
            b'\tfilename="=?GB2312?B?1rix6jEyLdanttMtyebG88rVt9HH5cDtx+m/9su1w/ctzfWI0i5kb2N4?="',
            "指标12-支队-涉企收费清理情况说明-王堃.docx",
        ),
        # QQ Mail: gb18030
        (
            b'Content-Type: application/pdf; name="=?gb18030?B?tdrKrrb+z+6yxMHPLelGLnBkZg==?="\r\n'
            b'Content-Disposition: attachment; filename="=?gb18030?B?tdrKrrb+z+6yxMHPLelGLnBkZg==?="',
            "第十二项材料-镕.pdf",
        ),
        # Coremail: GBK, name folded into two encoded words inside the quotes
        (
            b'Content-Type: application/octet-stream;\r\n\tname="=?GBK?B?1rix6jEyLdanttMtyebG8w==?=\r\n'
            b' =?GBK?B?ytW30cflwO3H6b/2y7XD9y5kb2N4?="\r\n'
            b'Content-Disposition: attachment;\r\n\tfilename="=?GBK?B?1rix6jEyLdanttMtyebG8w==?=\r\n'
            b' =?GBK?B?ytW30cflwO3H6b/2y7XD9y5kb2N4?="',
            "指标12-支队-涉企收费清理情况说明.docx",
        ),
        # Outlook: RFC 2047 UTF-8 in both parameters
        (
            b'Content-Type: application/vnd.ms-excel; name="=?utf-8?B?5oyH5qCHNS3ms5XliLbnp5Et6KGM5pS/'
            b'5omn5rOV5YWs56S65Yi25bqmLnhsc3g=?="\r\n'
            b'Content-Disposition: attachment; filename="=?utf-8?B?5oyH5qCHNS3ms5XliLbnp5Et6KGM5pS/'
            b'5omn5rOV5YWs56S65Yi25bqmLnhsc3g=?="',
            "指标5-法制科-行政执法公示制度.xlsx",
        ),
        # Python / Apple Mail: RFC 2231 in one piece
        (
            b"Content-Type: application/vnd.ms-excel\r\n"
            b"Content-Disposition: attachment;\r\n filename*=utf-8''%E6%8C%87%E6%A0%875-%E6%B3%95%E5%88%B6"
            b"%E7%A7%91.xlsx",
            "指标5-法制科.xlsx",
        ),
        # Thunderbird: RFC 2231 continuations, plus an RFC 2047 name= for old readers
        (
            b'Content-Type: application/vnd.ms-excel;\r\n name="=?UTF-8?B?5oyH5qCHNS3ms5XliLbnp5Eu'
            b'eGxzeA==?="\r\n'
            b"Content-Disposition: attachment;\r\n filename*0*=UTF-8''%E6%8C%87%E6%A0%87%35%2D%E6%B3%95;\r\n"
            b" filename*1*=%E5%88%B6%E7%A7%91%2E%78%6C%73%78",
            "指标5-法制科.xlsx",
        ),
        # RFC 2231 continuation, unencoded second piece
        (
            b"Content-Disposition: attachment; filename*0*=utf-8''%E6%8C%87%E6%A0%87; filename*1=\"12.pdf\"",
            "指标12.pdf",
        ),
        # RFC 2231 with a GB2312 label and a GBK-only character
        (
            b"Content-Disposition: attachment; filename*=gb2312''%E9F.doc",
            "镕.doc",
        ),
        # the RFC 2231 form wins over a plain ASCII fallback (RFC 6266 section 4.3)
        (
            b"Content-Disposition: attachment; filename=\"____.doc\";\r\n filename*=UTF-8''%E9%95%95.doc",
            "镕.doc",
        ),
        # raw 8-bit GBK in both parameters
        (
            b'Content-Type: application/msword; name="\xd6\xb8\xb1\xea12-\xd6\xa7\xb6\xd3.doc"\r\n'
            b'Content-Disposition: attachment; filename="\xd6\xb8\xb1\xea12-\xd6\xa7\xb6\xd3.doc"',
            "指标12-支队.doc",
        ),
        # raw 8-bit UTF-8, only in name=
        (
            b'Content-Type: application/pdf; name="\xe6\x8c\x87\xe6\xa0\x8712.pdf"',
            "指标12.pdf",
        ),
        # raw 8-bit GBK with a GBK-only character, unquoted
        (b"Content-Disposition: attachment; filename=\xe9F.doc", "镕.doc"),
        # plain ASCII
        (b'Content-Disposition: attachment; filename="report 2021.pdf"', "report 2021.pdf"),
        # only name= on Content-Type (no disposition)
        (b'Content-Type: image/jpeg; name="=?gbk?B?19u6z7/G?=.jpg"', "综合科.jpg"),
    ],
)
def test_decode_filename(headers: bytes, name: str) -> None:
    decoded = decode_filename(_part(headers))
    assert decoded is not None
    assert decoded.text == name
    assert not decoded.undecodable


def test_decode_filename_none_without_name() -> None:
    assert decode_filename(_part(b"Content-Type: text/plain; charset=gbk")) is None
    assert decode_filename(_part(b"Content-Disposition: inline")) is None


def test_decode_filename_undecodable_keeps_bytes() -> None:
    decoded = decode_filename(_part(b'Content-Disposition: attachment; filename="R\xe9sum\xe9.pdf"'))
    assert decoded is not None
    assert decoded.undecodable
    assert decoded.raw == b"R\xe9sum\xe9.pdf"


def test_decode_filename_prefers_a_decodable_candidate() -> None:
    part = _part(
        b'Content-Type: application/pdf; name="=?utf-8?B?5oyH5qCHMTIucGRm?="\r\n'
        b'Content-Disposition: attachment; filename="\xff\xfe.pdf"'
    )
    decoded = decode_filename(part)
    assert decoded is not None
    assert decoded.text == "指标12.pdf"


def test_decode_filename_rfc2231_undecodable() -> None:
    decoded = decode_filename(_part(b"Content-Disposition: attachment; filename*=utf-8''%FF%FE.pdf"))
    assert decoded is not None
    assert decoded.raw == b"\xff\xfe.pdf"


@pytest.mark.parametrize(
    ("payload", "charset", "text"),
    [
        # Foxmail body labelled GB2312 with 镕
        (b"\xb8\xf7\xbf\xc6\xca\xd2\xa3\xba\xe9F", "GB2312", "各科室：镕"),
        # Coremail GBK
        (b"\xb5\xda\xca\xae\xb6\xfe\xcf\xee\xb2\xc4\xc1\xcf", "GBK", "第十二项材料"),
        # QQ gb18030 with a character outside GBK
        (b"\xc1\xf5\xfe\x9f", "gb18030", "刘䶮"),
        # UTF-8
        (b"\xe5\x90\x84\xe7\xa7\x91\xe5\xae\xa4", "utf-8", "各科室"),
        # no charset: UTF-8, then GB18030
        (b"\xe5\x90\x84\xe7\xa7\x91\xe5\xae\xa4", None, "各科室"),
        (b"\xb8\xf7\xbf\xc6\xca\xd2", None, "各科室"),
        # mislabelled: us-ascii label on GBK bytes, utf-8 label on GBK bytes
        (b"\xb8\xf7\xbf\xc6\xca\xd2", "us-ascii", "各科室"),
        (b"\xb8\xf7\xbf\xc6\xca\xd2", "utf-8", "各科室"),
        # unknown label
        (b"\xe5\x90\x84\xe7\xa7\x91\xe5\xae\xa4", "x-unknown", "各科室"),
        # plain ASCII
        (b"Dear colleagues", "us-ascii", "Dear colleagues"),
    ],
)
def test_decode_body(payload: bytes, charset: str | None, text: str) -> None:
    assert decode_body(payload, charset) == text


def test_decode_body_replaces_when_nothing_fits() -> None:
    assert decode_body(b"ok \xff\xfe end", "utf-8") == "ok \ufffd\ufffd end"


# --- undeclared 8-bit text (issue 12 class 5) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "chinese"),
    [
        ("指标12-支队-涉企收费清理情况说明.docx", True),
        ("支队 王堃", True),  # one GBK-only character beside common ones
        ("镕.doc", True),
        ("【37】行政调解材料（第①项）№3", True),  # full-width and GB2312 symbol rows
        ("report.pdf", True),  # nothing non-ASCII: nothing against it
        ("HasenundFr鰏che.txt", False),  # Latin-1 ö ate the letter after it
        ("R閟um.pdf", False),
        ("いゅ代刚郎嘿", False),  # Big5 bytes read as GBK: kana and private use
        ("戈\ue19d.doc", False),
        ("鰏鰏鰏鰏.txt", False),  # four or more Han characters, mostly outside GB2312
        ("Ã¤bc", False),
    ],
)
def test_plausibly_chinese(text: str, chinese: bool) -> None:
    assert plausibly_chinese(text) is chinese


@pytest.mark.parametrize(
    ("raw", "hint", "text"),
    [
        # the charset the part or mail declares reads a raw name it did not encode
        (b"HasenundFr\xf6sche.txt", "iso-8859-1", "HasenundFrösche.txt"),
        (b"Da\xf0\xfdt\xfdm listesi.xls", "windows-1254", "Dağıtım listesi.xls"),
        ("會議紀錄".encode("big5"), "big5", "會議紀錄"),
        # UTF-8 goes first: it validates itself, a legacy label would read it as mojibake
        ("指标12.pdf".encode(), "iso-8859-1", "指标12.pdf"),
        ("指标12.pdf".encode(), "gbk", "指标12.pdf"),
        # GBK without any label, plausibly Chinese
        ("指标12-支队.doc".encode("gbk"), None, "指标12-支队.doc"),
        # an ASCII label says nothing about 8-bit bytes
        ("指标12-支队.doc".encode("gbk"), "us-ascii", "指标12-支队.doc"),
    ],
)
def test_undeclared_8bit_uses_the_declared_charset(raw: bytes, hint: str | None, text: str) -> None:
    decoded = decode_header_value(raw, hint)
    assert (decoded.text, decoded.undecodable) == (text, False)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"HasenundFr\xf6sche.txt", "HasenundFr\\xf6sche.txt"),  # was HasenundFr鰏che.txt
        (b"Da\xf0\xfdt\xfdm.xls", "Da\\xf0\\xfdt\\xfdm.xls"),
        ("會議紀錄".encode("big5"), None),  # was private-use characters
    ],
)
def test_undeclared_8bit_nothing_explains_stays_bytes(raw: bytes, shown: str | None) -> None:
    decoded = decode_header_value(raw)
    assert decoded.raw == raw
    assert "\\x" in decoded.text
    assert not any("\ue000" <= char <= "\uf8ff" or "\u4e00" <= char <= "\u9fff" for char in decoded.text)
    if shown is not None:
        assert decoded.text == shown


def test_iso_2022_jp_that_fails_tries_its_supersets() -> None:
    # 鷗 is JIS X 0212: plain ISO-2022-JP cannot decode it, and the escape bytes must not pass as UTF-8
    raw = "森鷗外.txt".encode("iso2022_jp_2")
    word = b"=?iso-2022-jp?B?" + base64.b64encode(raw) + b"?="
    assert decode_header_value(word).text == "森鷗外.txt"
    rfc2231 = b"Content-Disposition: attachment; filename*=iso-2022-jp''" + "".join(f"%{b:02X}" for b in raw).encode()
    name = decode_filename(_part(rfc2231))
    assert name is not None and name.text == "森鷗外.txt"


def test_raw_iso_2022_jp_in_a_header() -> None:
    raw = "会議の資料".encode("iso2022_jp")
    assert decode_header_value(raw).text == "会議の資料"


def test_undecodable_escapes_control_characters() -> None:
    decoded = decode_header_value(b"=?iso-2022-jp?B?" + base64.b64encode(b"\x1b$(Q\xff") + b"?=")
    assert decoded.undecodable
    assert "\x1b" not in decoded.text and "\\x1b" in decoded.text


def test_decode_filename_uses_the_hint() -> None:
    part = _part(
        b'Content-Type: text/plain; charset="iso-8859-1"\r\nContent-Disposition: attachment; filename="Fr\xf6sche.txt"'
    )
    assert decode_filename(part) is not None
    assert decode_filename(part, "iso-8859-1") == DecodedText("Frösche.txt")


@pytest.mark.parametrize(
    ("data", "hint", "expected"),
    [
        (b"report.pdf", None, DecodedText("report.pdf")),
        ("指标3.docx".encode("gbk"), None, DecodedText("指标3.docx")),
        ("指标3.docx".encode(), None, DecodedText("指标3.docx")),
        ("Frösche.txt".encode("cp437"), None, DecodedText("Fr\\x94sche.txt", raw="Frösche.txt".encode("cp437"))),
        ("Frösche.txt".encode("cp850"), "cp850", DecodedText("Frösche.txt")),
    ],
)
def test_decode_undeclared(data: bytes, hint: str | None, expected: DecodedText) -> None:
    assert decode_undeclared(data, hint) == expected


@pytest.mark.parametrize(
    ("payload", "charset", "hint", "text", "clean"),
    [
        ("Über".encode("latin-1"), None, "iso-8859-1", "Über", True),
        ("各科室".encode("gbk"), None, None, "各科室", True),
        (b"ok \xff\xfe end", "utf-8", None, "ok \ufffd\ufffd end", False),
        (b"Fr\xf6sche", None, None, "Fr\ufffdsche", False),
    ],
)
def test_decode_text(payload: bytes, charset: str | None, hint: str | None, text: str, clean: bool) -> None:
    assert decode_text(payload, charset, hint) == (text, clean)
