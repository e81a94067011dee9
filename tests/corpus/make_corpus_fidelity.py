"""Write the regression mails of issue 12 (real-world MIME fidelity): tests/corpus/issue12_*.eml and the
expectation file beside each, named after the bug as Mailman names its samples.

Each mail has the form in which public test mails of other mail libraries lost or altered a file
(issue 12 lists the nine classes); the content is ours, in the campaign's setting. Like
``make_corpus.py`` every mail is assembled byte by byte, never with the stdlib generator.

Run from the repository root: ``python tests/corpus/make_corpus_fidelity.py``. The output is
deterministic.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import quopri
import struct
import zipfile
from collections.abc import Callable

from make_corpus import CRLF, HERE, Item, b64, material, payload, word

FROM = b'"' + word("综合科", "GB2312", "gbk") + b'" <zhk@jzsthjj.gov.cn>'
TO = b"To: jzhbjfzk@163.com"


def head(subject: bytes, message_id: bytes, boundary: bytes, *, sender: bytes = FROM) -> list[bytes]:
    return [
        b"From: " + sender,
        TO,
        b"Subject: " + subject,
        b"Date: Mon, 01 Nov 2021 09:00:00 +0800",
        b"Message-ID: <" + message_id + b">",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"',
        b"",
    ]


def text_part(text: str, charset: str = "gb2312", codec: str = "gbk") -> list[bytes]:
    return [
        b'Content-Type: text/plain; charset="' + charset.encode() + b'"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(text.encode(codec)),
    ]


def encoded_name_part(ctype: str, name: str, data: bytes) -> list[bytes]:
    encoded = word(name, "gb2312", "gbk")
    return [
        b"Content-Type: " + ctype.encode() + b'; name="' + encoded + b'"',
        b"Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment; filename="' + encoded + b'"',
        b"",
        b64(data),
    ]


def assemble(top: list[bytes], boundary: bytes, *parts: list[bytes], close: bool = True) -> bytes:
    lines = list(top)
    for part in parts:
        lines += [b"--" + boundary, *part]
    if close:
        lines += [b"--" + boundary + b"--", b""]
    return CRLF.join(lines)


# --- 1. a boundary folded inside its quotes ------------------------------------------------------


def folded_boundary() -> Item:
    subject = "【指标7】综合科-行政规范性文件清理"
    name = "行政规范性文件清理结果.doc"
    doc = payload(name, "doc", 2400)
    boundary = b"----=_NextPart _000_0001_01C0A1B2.3C4D5E60"  # what the body uses: the fold's space kept
    top = head(word(subject, "gb2312", "gbk"), b"000001c0a1b2$3c4d5e60$0100a8c0@zhk", b"")
    top[-2] = b"Content-Type: multipart/mixed;"
    top[-1:] = [
        b'\tboundary="----=_NextPart',  # Outlook 2000 folded the header inside the quoted boundary
        b' _000_0001_01C0A1B2.3C4D5E60"',
        b"X-Mailer: Microsoft Outlook IMO, Build 9.0.2416 (9.0.2910.0)",
        b"",
        b"This is a multi-part message in MIME format.",
        b"",
    ]
    raw = assemble(
        top, boundary, text_part("清理结果见附件。\r\n综合科"), encoded_name_part("application/msword", name, doc)
    )
    return Item(
        "issue12_folded_boundary",
        "issue 12 class 1: Outlook 2000 folded the boundary inside its quotes; every part was lost",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            "body_contains": ["清理结果见附件。"],
            "materials": [material(name, doc, content_type="application/msword")],
        },
    )


# --- 2. uuencoded parts ----------------------------------------------------------------------------


def uuencode(data: bytes, name: str) -> bytes:
    lines = [f"begin 644 {name}".encode()]
    lines += [binascii.b2a_uu(data[i : i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
    lines += [b"`", b"end"]
    return CRLF.join(lines)


def uuencoded() -> Item:
    subject = "【37】行政调解材料（旧版扫描仪发送）"
    zip_name = "行政调解材料.zip"
    member = "调解协议书.pdf"
    pdf = payload(member, size=3000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(member, date_time=(2021, 11, 1, 8, 0, 0)), pdf)
    zipped = buffer.getvalue()
    png = payload("scan.png", "png", 1500)
    boundary = b"=====uu_scanner_0001"
    raw = assemble(
        head(word(subject, "gb2312", "gbk"), b"uu-20211101090000@scanner.jzsthjj.gov.cn", boundary),
        boundary,
        text_part("扫描件见附件。"),
        [
            b'Content-Type: application/x-zip-compressed; name="' + word(zip_name, "gb2312", "gbk") + b'"',
            b"Content-Transfer-Encoding: x-uuencode",
            b'Content-Disposition: attachment; filename="' + word(zip_name, "gb2312", "gbk") + b'"',
            b"",
            uuencode(zipped, "material.zip"),
        ],
        [
            b"Content-Type: image/png",  # no name in the headers: the begin line gives it
            b"Content-Transfer-Encoding: uuencode",
            b"",
            uuencode(png, "scan.png"),
        ],
    )
    return Item(
        "issue12_uuencode",
        "issue 12 class 2: x-uuencode parts were stored as uuencode text (a zip never opened)",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            "materials": [
                material(member, pdf, origin="zip", container=zip_name),
                material("scan.png", png, content_type="image/png"),
            ],
        },
    )


# --- 3. text attachments above the spool threshold ------------------------------------------------


def spooled_text() -> Item:
    subject = "【指标21】信息中心-系统日志"
    dump = CRLF.join(
        f"  {offset:04X}: {' '.join(f'{(offset + i) * 7 % 256:02X}' for i in range(16))}  ................".encode()
        for offset in range(0, 16 * 1500, 16)
    )  # an acpidump-like 7bit text file of 100 KB; as attached, it ends without a line break
    notes = "".join(f"第{i}条：状态正常，数值=100%。\r\n" for i in range(2500)).encode()  # a Windows text file
    qp = quopri.encodestring(notes.replace(CRLF, b"\n")).replace(b"\n", CRLF)  # line breaks stay CRLF
    digests = CRLF.join(hashlib.sha256(str(i).encode()).hexdigest().encode() for i in range(400)) + CRLF
    boundary = b"----=_Part_spool_text"
    raw = assemble(
        head(word(subject, "gb2312", "gbk"), b"spool-text-20211101@jzsthjj.gov.cn", boundary),
        boundary,
        text_part("日志见附件。"),
        [
            b'Content-Type: text/plain; charset=us-ascii; name="acpidump.txt"',
            b"Content-Transfer-Encoding: 7bit",
            b'Content-Disposition: attachment; filename="acpidump.txt"',
            b"",
            dump,
        ],
        [
            b'Content-Type: text/plain; charset=utf-8; name="' + word("运行记录.txt", "utf-8") + b'"',
            b"Content-Transfer-Encoding: quoted-printable",
            b"Content-Disposition: attachment",
            b"",
            qp,
        ],
        [
            # only base64-alphabet characters on each line: long runs of such lines bypass the parser
            b'Content-Type: text/plain; charset=us-ascii; name="sha256sums.txt"',
            b"Content-Transfer-Encoding: 7bit",
            b'Content-Disposition: attachment; filename="sha256sums.txt"',
            b"",
            digests.removesuffix(CRLF),
        ],
    )
    return Item(
        "issue12_spooled_text",
        "issue 12 class 3: text attachments above 64 KiB gained the line break before the boundary",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            "materials": [
                material("acpidump.txt", dump, content_type="text/plain"),
                material("运行记录.txt", notes, content_type="text/plain"),
                material("sha256sums.txt", digests.removesuffix(CRLF), content_type="text/plain"),
            ],
        },
    )


# --- 4. base64 past its padding -----------------------------------------------------------------


def base64_epilogue() -> Item:
    subject = "【指标9】办公室-网页公示截图"
    page = "<html>公示</html>\n".encode()
    boundary = b"Epilogue-Boundary-100"
    raw = assemble(
        head(word(subject, "gb2312", "gbk"), b"epilogue-20211101@jzsthjj.gov.cn", boundary),
        boundary,
        [
            b"Content-Type: text/plain; charset=utf-8",
            b"Content-Transfer-Encoding: 7bit",
            b"",
            "公示网页见附件。".encode(),
        ],
        [
            b'Content-Type: text/html; name="gongshi.html"',
            b"Content-Transfer-Encoding: base64",
            b"Content-Disposition: attachment; filename=gongshi.html",
            b"",
            base64.b64encode(page),
            b"",
            b"--" + boundary + b"-->",  # a mistyped close delimiter: what follows is the epilogue
            b"Potentially malicious content",
            b"",
        ],
        close=False,
    )
    return Item(
        "issue12_base64_epilogue",
        "issue 12 class 4: base64 decoding ran past the padding into a malformed epilogue",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            "body_contains": ["公示网页见附件。"],
            "materials": [material("gongshi.html", page, content_type="text/html")],
            "defects": True,
        },
    )


def damaged_base64() -> Item:
    subject = "【指标9】办公室-公示材料（重发）"
    first, glued = payload("公示一.pdf", size=1000), payload("glued", size=500)
    cut = payload("公示二.pdf", size=3000)
    cut_encoded = b64(cut)
    cut_at = 3 * 78 + 41  # inside a line and inside a quantum: the connection dropped here
    boundary = b"----=_Part_damaged"
    raw = assemble(
        head(word(subject, "gb2312", "gbk"), b"damaged-20211101@jzsthjj.gov.cn", boundary),
        boundary,
        text_part("重发公示材料。"),
        # a second encoded body glued after the padding of the first
        [*encoded_name_part("application/pdf", "公示一.pdf", first)[:-1], b64(first) + CRLF + b64(glued)],
        [*encoded_name_part("application/pdf", "公示二.pdf", cut)[:-1], cut_encoded[:cut_at]],
        close=False,
    )
    one = material("公示一.pdf", first) | {"damage": "base64-invalid"}
    two = {"filename": "公示二.pdf", "origin": "attachment", "container": None, "damage": "base64-truncated"}
    return Item(
        "issue12_damaged_base64",
        "issue 12: damaged base64 is kept, decoded as far as it goes, and marked (Material.damage)",
        raw,
        {"subject": subject, "from": "zhk@jzsthjj.gov.cn", "materials": [one, two], "defects": True},
    )


# --- 5. undeclared 8-bit text --------------------------------------------------------------------


def latin1_name() -> Item:
    story = "Die Hasen und die Frösche\r\n\r\nDie Hasen klagten einst über ihre mißliche Lage.\r\n".encode("latin-1")
    boundary = b"=====================_716541962==_"
    raw = assemble(
        [
            b"From: Doug Sauder <doug@example.com>",
            TO,
            b"Subject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr=F6sche?=",
            b"Date: Mon, 01 Nov 2021 10:00:00 +0100",
            b"Message-ID: <4.2.0.58.20211101100000.00a8c2b0@example.com>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"',
            b"",
        ],
        boundary,
        [b'Content-Type: text/plain; charset="us-ascii"', b"", b"The story is attached."],
        [
            b'Content-Type: text/plain; charset="iso-8859-1"',
            b"Content-Transfer-Encoding: quoted-printable",
            b'Content-Disposition: attachment; filename="HasenundFr\xf6sche.txt"',  # raw 8-bit Latin-1
            b"",
            quopri.encodestring(story),
        ],
    )
    return Item(
        "issue12_latin1_name",
        "issue 12 class 5: a raw Latin-1 name became HasenundFr鰏che.txt; the part declares iso-8859-1",
        raw,
        {
            "subject": "Die Hasen und die Frösche",
            "from": "doug@example.com",
            "materials": [material("HasenundFrösche.txt", story, content_type="text/plain")],
        },
    )


def windows1254_name() -> Item:
    name = "Dağıtım listesi.xls"
    sheet = payload(name, "doc", 900)
    boundary = b"----=_NextPart_1254"
    raw = assemble(
        [
            b"From: " + "Ayşe Yılmaz".encode("cp1254") + b" <ayse@example.com.tr>",
            TO,
            b"Subject: Liste",
            b"Date: Mon, 01 Nov 2021 11:00:00 +0300",
            b"Message-ID: <1254-20211101@example.com.tr>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"',
            b"",
        ],
        boundary,
        [b"Content-Type: text/plain; charset=windows-1254", b"", "Dağıtım listesi ektedir.".encode("cp1254")],
        [
            b'Content-Type: application/vnd.ms-excel; name="' + name.encode("cp1254") + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(sheet),
        ],
    )
    return Item(
        "issue12_windows1254_name",
        "issue 12 class 5: a raw windows-1254 name and sender read with the charset the body declares",
        raw,
        {
            "subject": "Liste",
            "from": "ayse@example.com.tr",
            "from_name": "Ayşe Yılmaz",
            "body_contains": ["Dağıtım listesi ektedir."],
            "materials": [material(name, sheet, content_type="application/vnd.ms-excel")],
        },
    )


def big5_subject() -> Item:
    subject = "會議紀錄（第三季）"
    raw = CRLF.join(
        [
            b"From: chen@example.com.tw",
            TO,
            b"Subject: " + subject.encode("big5"),
            b"Date: Mon, 01 Nov 2021 12:00:00 +0800",
            b"Message-ID: <big5-20211101@example.com.tw>",
            b"MIME-Version: 1.0",
            b"Content-Type: text/plain; charset=big5",
            b"Content-Transfer-Encoding: 8bit",
            b"",
            "會議紀錄如下。".encode("big5"),
            b"",
        ]
    )
    return Item(
        "issue12_big5_subject",
        "issue 12 class 5: a raw Big5 subject became private-use characters; the body declares big5",
        raw,
        {"subject": subject, "from": "chen@example.com.tw", "body_contains": ["會議紀錄如下。"], "materials": []},
    )


def undeclared_name() -> Item:
    story = b"Die Hasen und die Fr\xf6sche\r\n"
    letter = payload("letter", "doc", 300)
    japanese = "森鷗外の手紙.txt"  # 鷗 is JIS X 0212: plain ISO-2022-JP cannot carry it
    boundary = b"undeclared_8bit"
    raw = assemble(
        head(b"Two old files", b"undeclared-20211101@example.com", boundary, sender=b"<archive@example.com>"),
        boundary,
        [b"Content-Type: text/plain", b"", b"Two files from the archive."],
        [
            b"Content-Type: application/octet-stream",
            b'Content-Disposition: attachment; filename="Fr\xf6sche.txt"',  # no charset anywhere
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(story),
        ],
        [
            b"Content-Type: application/octet-stream",
            b"Content-Disposition: attachment; filename*=iso-2022-jp''"
            + "".join(f"%{b:02X}" for b in japanese.encode("iso2022_jp_2")).encode(),
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(letter),
        ],
    )
    escaped = material("Fr\\xf6sche.txt", story) | {"filename_raw": "Fr\u00f6sche.txt"}
    return Item(
        "issue12_undeclared_name",
        "issue 12 class 5: 8-bit text no charset explains stays bytes (escaped, with a defect), not "
        "Chinese mojibake; a failed ISO-2022-JP decode tries its supersets instead of keeping escapes",
        raw,
        {
            "subject": "Two old files",
            "from": "archive@example.com",
            "materials": [escaped, material(japanese, letter)],
            "defects": True,
        },
    )


# --- 6. winmail.dat ------------------------------------------------------------------------------


def tnef_attr(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, attr_id, attr_type, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def mapi_value(prop_type: int, prop_id: int, value: bytes) -> bytes:
    """One MAPI property with a counted value (strings, binaries), padded to four bytes (MS-OXTNEF)."""
    return struct.pack("<HHII", prop_type, prop_id, 1, len(value)) + value + b"\x00" * (-len(value) % 4)


def tnef(attachments: list[tuple[bytes, str, bytes]], rtf: bytes | None = None) -> bytes:
    """A winmail.dat: per attachment its title and a MAPI block with the long name and the data as
    ``PR_ATTACH_DATA_OBJ`` (no attAttachData: the file is only in the property)."""
    out = struct.pack("<IH", 0x223E9F78, 0x1E5A)
    out += tnef_attr(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))  # attTnefVersion
    out += tnef_attr(1, 0x9007, 0x0006, struct.pack("<II", 936, 0))  # attOemCodepage
    out += tnef_attr(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    if rtf is not None:
        out += tnef_attr(1, 0x9003, 0x0006, struct.pack("<I", 1) + mapi_value(0x0102, 0x1009, rtf))  # RTF body
    for title, long_name, data in attachments:
        out += tnef_attr(2, 0x9002, 0x0006, struct.pack("<HIIII", 1, 0xFFFFFFFF, 0, 0, 0)[:14])  # attAttachRendData
        out += tnef_attr(2, 0x8010, 0x0001, title + b"\x00")  # attAttachTitle
        props = mapi_value(0x001F, 0x3707, long_name.encode("utf-16-le") + b"\x00\x00")  # PR_ATTACH_LONG_FILENAME
        props += mapi_value(0x0102, 0x3701, data)  # PR_ATTACH_DATA_OBJ
        out += tnef_attr(2, 0x9005, 0x0006, struct.pack("<I", 2) + props)  # attAttachment
    return out


def outlook_rtf(subject: str, message_id: bytes, dat: bytes, boundary: bytes) -> bytes:
    return assemble(
        head(word(subject, "utf-8"), message_id, boundary, sender=b"=?utf-8?B?6ZmI5p2w?= <chenjie@jzsthjj.gov.cn>"),
        boundary,
        [
            b'Content-Type: text/plain; charset="utf-8"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64("见附件。".encode()),
        ],
        [
            b"Content-Type: application/ms-tnef",
            b"Content-Transfer-Encoding: base64",
            b"Content-Disposition: attachment; filename=winmail.dat",
            b"",
            b64(dat),
        ],
    )


def winmail_trailing_zeros() -> Item:
    subject = "【指标5】法制科-执法人员名单"
    name = "执法人员名单.doc"
    # A Word 97 file is whole 512-byte sectors; its last sectors are often all zeros.
    doc = payload(name, "doc", 512 * 6) + bytes(512 * 2)
    raw = outlook_rtf(subject, b"tnef-zeros-20211101@jzsthjj.gov.cn", tnef([(b"ZFRYMD~1.DOC", name, doc)]), b"_tnef_")
    return Item(
        "issue12_winmail_trailing_zeros",
        "issue 12 class 6: winmail.dat members lost their trailing zero bytes (tnefparse strips NULs)",
        raw,
        {
            "subject": subject,
            "from": "chenjie@jzsthjj.gov.cn",
            "materials": [material(name, doc, origin="tnef", container="winmail.dat")],
        },
    )


def winmail_rtf_only() -> Item:
    subject = "【指标5】法制科-说明（正文）"
    rtf = b"LZFu" + bytes(range(48))  # a compressed RTF body; its content does not matter here
    raw = outlook_rtf(subject, b"tnef-rtf-20211101@jzsthjj.gov.cn", tnef([], rtf=rtf), b"_tnef_rtf_")
    return Item(
        "issue12_winmail_rtf_only",
        "issue 12 class 6: a winmail.dat holding only the RTF body was kept as a file",
        raw,
        {
            "subject": subject,
            "from": "chenjie@jzsthjj.gov.cn",
            "body_contains": ["见附件。"],
            "materials": [],
            "skipped": [{"name": "winmail.dat", "reason": "tnef-no-files"}],
        },
    )


# --- 7. files a person sees as attached ----------------------------------------------------------


def photo_with_content_id() -> Item:
    subject = "【指标30】现场照片"
    photo = payload("bluedot.jpg", "jpg", 2000)
    boundary = b"Apple-Mail=_0A1B2C3D"
    raw = assemble(
        head(word(subject, "utf-8"), b"0A1B2C3D-4E5F@jzsthjj.gov.cn", boundary, sender=b"<xczf@jzsthjj.gov.cn>"),
        boundary,
        [
            b'Content-Type: image/jpeg; name="bluedot.jpg"',
            b"Content-Disposition: inline; filename=bluedot.jpg",
            b"Content-Transfer-Encoding: base64",
            b"Content-Id: <5E3F1A2B-0C4D-4E5F-8A9B-0C1D2E3F4A5B>",
            b"",
            b64(photo),
        ],
        [b"Content-Type: text/plain; charset=us-ascii", b"Content-Transfer-Encoding: 7bit", b"", b""],
    )
    return Item(
        "issue12_photo_content_id",
        "issue 12 class 7: a mail that is only a photo with a Content-ID no HTML shows lost the photo",
        raw,
        {
            "subject": subject,
            "from": "xczf@jzsthjj.gov.cn",
            "materials": [material("bluedot.jpg", photo, content_type="image/jpeg")],
        },
    )


def inline_named_text() -> Item:
    subject = "【指标12】支队-情况说明"
    name = "情况说明.txt"
    note = "关于涉企收费清理的情况说明\r\n一、基本情况\r\n".encode("gbk")
    boundary = b"----=_inline_text"
    raw = assemble(
        head(word(subject, "gb2312", "gbk"), b"inline-text-20211101@jzsthjj.gov.cn", boundary),
        boundary,
        text_part("情况说明见附件。"),
        [
            b'Content-Type: text/plain; charset="gb2312"; name="' + word(name, "gb2312", "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b'Content-Disposition: inline; filename="' + word(name, "gb2312", "gbk") + b'"',
            b"",
            b64(note),
        ],
    )
    return Item(
        "issue12_inline_named_text",
        "issue 12 class 7: a named text file with Content-Disposition: inline was merged into the body",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            "body_contains": ["情况说明见附件。"],
            "body_excludes": ["基本情况"],
            "materials": [material(name, note, content_type="text/plain")],
        },
    )


# --- 8. errors that put a whole mail in review -----------------------------------------------------


def simple(subject: str, message_id: bytes, *, first: list[bytes] | None = None, sender: bytes = FROM) -> bytes:
    name = "工作台账.xlsx"
    return assemble(
        (first or [])
        + [
            b"From: " + sender,
            TO,
            b"Subject: " + word(subject, "gb2312", "gbk"),
            b"Date: Mon, 01 Nov 2021 15:00:00 +0800",
            b"Message-ID: <" + message_id + b">",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="simple"',
            b"",
        ],
        b"simple",
        text_part("台账见附件。"),
        encoded_name_part("application/octet-stream", name, payload(name, "doc", 700)),
    )


def bom() -> Item:
    subject = "【指标3】办公室-工作台账"
    raw = b"\xef\xbb\xbf" + simple(subject, b"bom-20211101@jzsthjj.gov.cn")
    name = "工作台账.xlsx"
    return Item(
        "issue12_bom",
        "issue 12 class 8: a UTF-8 byte order mark before the first header lost every header",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            "message_id": "<bom-20211101@jzsthjj.gov.cn>",
            "materials": [material(name, payload(name, "doc", 700))],
            "defects": True,
        },
    )


def obsolete_syntax() -> Item:
    subject = "【指标3】办公室-工作台账（补）"
    raw = simple(subject, b"obsolete-20211101@jzsthjj.gov.cn")
    raw = (
        raw.replace(b"From: ", b"From  : ", 1)
        .replace(b"Subject: ", b"Subject : ", 1)
        .replace(b"Date: ", b"Date\t: ", 1)
    )
    name = "工作台账.xlsx"
    return Item(
        "issue12_obsolete_syntax",
        "issue 12 class 8: obsolete header syntax (white space before the colon, RFC 5322 4.5)",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            "from_name": "综合科",
            "date": "2021-11-01T15:00:00+08:00",
            "materials": [material(name, payload(name, "doc", 700))],
            "defects": True,
        },
    )


def thousand_words() -> Item:
    subject = "【指标3】办公室-工作台账（群发）"
    words = [b"\t=?utf-8?Q?date=3E2021-11-01T15:00:00.617=3C/pr?=" for _ in range(1000)]
    to = b'To: "jzhbjfzk" <jzhbjfzk@163.com>,\r\n' + CRLF.join(words) + b" <list@jzsthjj.gov.cn>"
    raw = simple(subject, b"thousand-20211101@jzsthjj.gov.cn").replace(TO, to, 1)
    name = "工作台账.xlsx"
    return Item(
        "issue12_to_thousand_words",
        "issue 12 class 8: a To: of a thousand encoded words (RecursionError in getaddresses)",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            # bot.mime.sender reads at most 16 KiB of a To: (a header parser is not made for more):
            # the address after the thousand words is left out, the mail itself is read as usual.
            "to": ["jzhbjfzk@163.com"],
            "materials": [material(name, payload(name, "doc", 700))],
        },
    )


# --- 9. many HTML parts --------------------------------------------------------------------------


def many_html_parts() -> Item:
    subject = "【指标13】党组会议纪要（分段）"
    name = "指标13-会议纪要（扫描件）.pdf"
    url = "https://mail.163.com/large-attachment-download/index.html?p=Zx9Lm3&file=a1b2c3"
    pieces = [f"<div>第{i}段：会议纪要正文。</div>" for i in range(400)]
    cloud = (
        f'<div><a href="{url}" download="{name}">{name}</a>'
        '<span style="color:#909090;">(45.2M, 2021年11月10日 18:03 到期)</span></div>'
    )
    boundary = b"----=_many_html"
    parts = [[b"Content-Type: text/html; charset=utf-8", b"", piece.encode()] for piece in pieces]
    parts.insert(200, [b"Content-Type: text/html; charset=utf-8", b"", cloud.encode()])
    raw = assemble(head(word(subject, "utf-8"), b"many-html-20211101@jzsthjj.gov.cn", boundary), boundary, *parts)
    return Item(
        "issue12_many_html_parts",
        "issue 12 class 9: hundreds of HTML parts; only the part that names a cloud service is parsed for links",
        raw,
        {
            "subject": subject,
            "from": "zhk@jzsthjj.gov.cn",
            "html": True,
            "body_contains": ["第399段：会议纪要正文。"],
            "materials": [],
            "cloud_links": [{"filename": name, "provider": "163", "url": url}],
        },
    )


BUILDERS: tuple[Callable[[], Item], ...] = (
    folded_boundary,
    uuencoded,
    spooled_text,
    base64_epilogue,
    damaged_base64,
    latin1_name,
    windows1254_name,
    big5_subject,
    undeclared_name,
    winmail_trailing_zeros,
    winmail_rtf_only,
    photo_with_content_id,
    inline_named_text,
    bom,
    obsolete_syntax,
    thousand_words,
    many_html_parts,
)


def main() -> None:
    for build in BUILDERS:
        item = build()
        (HERE / f"{item.name}.eml").write_bytes(item.raw)
        expect = {"description": item.description, **item.expect}
        text = json.dumps(expect, ensure_ascii=False, indent=2) + "\n"
        (HERE / f"{item.name}.expect.json").write_text(text, encoding="utf-8")
        print(item.name)


if __name__ == "__main__":
    main()
