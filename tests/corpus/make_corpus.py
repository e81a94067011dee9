"""Write the parser corpus: one NAME.eml per client form in MAIL-FACTS.md, and NAME.expect.json beside it.

Every mail is assembled byte by byte the way the named client sends it (header encodings, folding,
labels, transfer encodings), never with the stdlib generator, which would normalise exactly what the
corpus is meant to preserve. The expectation files state what a reader of the mail would see: the
subject, the sender, each file's name, origin, size and SHA-256.

Run from the repository root: ``python tests/corpus/make_corpus.py``. The output is deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import quopri
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CRLF = b"\r\n"


def payload(label: str, kind: str = "pdf", size: int = 900) -> bytes:
    """Deterministic, realistic-looking file content."""
    heads = {
        "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(24),
        "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }
    seed = hashlib.sha256(label.encode()).digest()
    body = (seed * (size // 32 + 1))[: max(0, size - len(heads[kind]))]
    return heads[kind] + body


def b64(data: bytes, width: int = 76) -> bytes:
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i : i + width] for i in range(0, len(encoded), width))


def word(text: str, label: str, codec: str | None = None) -> bytes:
    """One RFC 2047 B word, ``text`` encoded with ``codec`` (default: the label itself)."""
    return b"=?" + label.encode() + b"?B?" + base64.b64encode(text.encode(codec or label)) + b"?="


@dataclass
class Item:
    name: str
    description: str
    raw: bytes
    expect: dict[str, Any] = field(default_factory=dict)


def material(
    filename: str,
    data: bytes,
    origin: str = "attachment",
    container: str | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": filename,
        "origin": origin,
        "container": container,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if content_type:
        entry["content_type"] = content_type
    return entry


def foxmail() -> Item:
    subject = "【指标12】依法行政材料-镕"
    name = "指标12-支队-涉企收费清理情况说明-王堃.docx"
    doc = payload(name, "doc", 1500)
    body = "刘科长：\r\n    附件是支队的涉企收费清理情况说明，请查收。\r\n张朱镕\r\n".encode("gbk")
    raw = CRLF.join(
        [
            b"Date: Wed, 20 Oct 2021 09:12:33 +0800",
            b'From: "' + word("张朱镕", "GB2312", "gbk") + b'" <zhidui_zhang@163.com>',
            b'To: "jzhbjfzk" <jzhbjfzk@163.com>',
            b"Subject: " + word(subject, "GB2312", "gbk"),
            b"X-Priority: 3",
            b"X-GUID: 5A1C2E7B-1F0D-4C59-9E44-0D5AF7B4E2C1",
            b"X-Has-Attach: yes",
            b"X-Mailer: Foxmail 7.2.23.121[cn]",
            b"Mime-Version: 1.0",
            b"Message-ID: <202110200912330356212@163.com>",
            b"Content-Type: multipart/mixed;",
            b'\tboundary="----=_001_NextPart270466117481_=----"',
            b"",
            b"This is a multi-part message in MIME format.",
            b"",
            b"------=_001_NextPart270466117481_=----",
            b"Content-Type: text/plain;",
            b'\tcharset="GB2312"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(body),
            b"",
            b"------=_001_NextPart270466117481_=----",
            b"Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;",
            b'\tname="' + word(name, "GB2312", "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b"Content-Disposition: attachment;",
            b'\tfilename="' + word(name, "GB2312", "gbk") + b'"',
            b"",
            b64(doc),
            b"",
            b"------=_001_NextPart270466117481_=------",
            b"",
        ]
    )
    return Item(
        "foxmail_gb2312_gbk_chars",
        "Foxmail: GB2312 labels on text with GBK-only 镕/堃",
        raw,
        {
            "subject": subject,
            "from": "zhidui_zhang@163.com",
            "from_name": "张朱镕",
            "message_id": "<202110200912330356212@163.com>",
            "date": "2021-10-20T09:12:33+08:00",
            "body_contains": ["涉企收费清理情况说明", "张朱镕"],
            "materials": [material(name, doc)],
            "headers": {"x-mailer": "Foxmail 7.2.23.121[cn]"},
        },
    )


def qq() -> Item:
    subject = "【37】行政调解材料"
    name = "第十二项材料-镕.pdf"
    pdf = payload(name)
    text = "各位好，行政调解材料见附件。——刘䶮".encode("gb18030")
    html = "<div>各位好，行政调解材料见附件。</div><div>——刘䶮</div>".encode("gb18030")
    raw = CRLF.join(
        [
            b'From: "' + word("刘䶮", "gb18030") + b'" <1234567890@qq.com>',
            b'To: "jzhbjfzk" <jzhbjfzk@163.com>',
            b"Subject: " + word(subject, "gb18030"),
            b"Mime-Version: 1.0",
            b"Content-Type: multipart/mixed;",
            b'\tboundary="----=_NextPart_616F7C5A_0F3B9E60_2B3C1D4E"',
            b"Content-Transfer-Encoding: 8Bit",
            b"Date: Wed, 20 Oct 2021 10:01:30 +0800",
            b"X-Priority: 3",
            b"Message-ID: <tencent_5B8E6C0F1A2B3C4D5E6F7A8B9C0D1E2F3A05@qq.com>",
            b"X-QQ-MIME: TCMime 1.0 by Tencent",
            b"X-Mailer: QQMail 2.x",
            b"X-QQ-Mailer: QQMail 2.x",
            b"",
            b"This is a multi-part message in MIME format.",
            b"",
            b"------=_NextPart_616F7C5A_0F3B9E60_2B3C1D4E",
            b"Content-Type: multipart/alternative;",
            b'\tboundary="----=_NextPart_616F7C5A_0F3B9E60_5A6B7C8D";',
            b"",
            b"------=_NextPart_616F7C5A_0F3B9E60_5A6B7C8D",
            b"Content-Type: text/plain;",
            b'\tcharset="gb18030"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(text),
            b"",
            b"------=_NextPart_616F7C5A_0F3B9E60_5A6B7C8D",
            b"Content-Type: text/html;",
            b'\tcharset="gb18030"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(html),
            b"",
            b"------=_NextPart_616F7C5A_0F3B9E60_5A6B7C8D--",
            b"",
            b"------=_NextPart_616F7C5A_0F3B9E60_2B3C1D4E",
            b"Content-Type: application/octet-stream;",
            b'\tcharset="gb18030";',
            b'\tname="' + word(name, "gb18030") + b'"',
            b'Content-Disposition: attachment; filename="' + word(name, "gb18030") + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(pdf),
            b"",
            b"------=_NextPart_616F7C5A_0F3B9E60_2B3C1D4E--",
            b"",
        ]
    )
    return Item(
        "qq_gb18030",
        "QQ Mail: gb18030 labels, 䶮 outside GBK",
        raw,
        {
            "subject": subject,
            "from": "1234567890@qq.com",
            "from_name": "刘䶮",
            "date": "2021-10-20T10:01:30+08:00",
            "body_contains": ["行政调解材料见附件", "刘䶮"],
            "html": True,
            "materials": [material(name, pdf, content_type="application/octet-stream")],
        },
    )


def coremail() -> Item:
    subject = "Re:Re:第十二项材料"
    name = "第十二项-综合科-政务公开台账.xls"
    xls = payload(name, "doc", 2000)
    text = "已收到，第十二项材料补充如下。\r\n\r\n综合科 王喆".encode("gbk")
    html = "<p>已收到，第十二项材料补充如下。</p><p>综合科 王喆</p>".encode("gbk")
    raw = CRLF.join(
        [
            b"Received: from wangzhe$163.com ( [223.88.12.34] ) by ajax-webmail-wmsvr41 (Coremail) ; Thu, 21",
            b" Oct 2021 15:20:11 +0800 (CST)",
            b"X-Originating-IP: [223.88.12.34]",
            b"Date: Thu, 21 Oct 2021 15:20:11 +0800 (CST)",
            b"From: " + word("王喆", "GBK", "gbk") + b" <wangzhe_zhk@163.com>",
            b"To: jzhbjfzk@163.com",
            b"Subject: =?GBK?B?" + base64.b64encode(subject.encode("gbk")) + b"?=",
            b"X-Priority: 3",
            b"X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20210622(1d4788a8)",
            b" Copyright (c) 2002-2021 www.mailtech.cn 163com",
            b"In-Reply-To: <6a2b1c3d.4e5f.17c9f0a1b2c.Coremail.jzhbjfzk@163.com>",
            b"References: <202110200912330356212@163.com>",
            b" <6a2b1c3d.4e5f.17c9f0a1b2c.Coremail.jzhbjfzk@163.com>",
            b"Content-Type: multipart/mixed; ",
            b'\tboundary="----=_Part_171263_1532184402.1634800811432"',
            b"MIME-Version: 1.0",
            b"Message-ID: <3f1e2d4c.7a8b.17ca1b2c3d4.Coremail.wangzhe_zhk@163.com>",
            b"X-Coremail-Locale: zh_CN",
            b"",
            b"------=_Part_171263_1532184402.1634800811432",
            b"Content-Type: multipart/alternative; ",
            b'\tboundary="----=_Part_171265_1180443127.1634800811432"',
            b"",
            b"------=_Part_171265_1180443127.1634800811432",
            b"Content-Type: text/plain; charset=GBK",
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(text),
            b"------=_Part_171265_1180443127.1634800811432",
            b"Content-Type: text/html; charset=GBK",
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(html),
            b"------=_Part_171265_1180443127.1634800811432--",
            b"",
            b"------=_Part_171263_1532184402.1634800811432",
            b'Content-Type: application/vnd.ms-excel; name="=?GBK?B?' + base64.b64encode(name.encode("gbk")) + b'?="',
            b"Content-Transfer-Encoding: base64",
            b'Content-Disposition: attachment; filename="=?GBK?B?' + base64.b64encode(name.encode("gbk")) + b'?="',
            b"",
            b64(xls),
            b"------=_Part_171263_1532184402.1634800811432--",
            b"",
        ]
    )
    return Item(
        "coremail_gbk_rere",
        "163 webmail (Coremail): GBK base64 bodies, Re:Re: without spaces",
        raw,
        {
            "subject": subject,
            "from": "wangzhe_zhk@163.com",
            "from_name": "王喆",
            "in_reply_to": "<6a2b1c3d.4e5f.17c9f0a1b2c.Coremail.jzhbjfzk@163.com>",
            "references": ["<202110200912330356212@163.com>", "<6a2b1c3d.4e5f.17c9f0a1b2c.Coremail.jzhbjfzk@163.com>"],
            "body_contains": ["第十二项材料补充如下", "综合科 王喆"],
            "html": True,
            "materials": [material(name, xls, content_type="application/vnd.ms-excel")],
        },
    )


def outlook() -> Item:
    subject = "回复: 【指标5】法制科-行政执法公示制度"
    name = "指标5-法制科-行政执法公示制度（2021年修订）.xlsx"
    xlsx = payload(name, "doc", 1200)
    encoded_name = base64.b64encode(name.encode())
    # Outlook folds long names into several words, each ending on a character boundary
    first, second = base64.b64encode(name[:14].encode()), base64.b64encode(name[14:].encode())
    raw = CRLF.join(
        [
            b"From: =?utf-8?B?6ZmI5p2w?= <chenjie@jzsthjj.gov.cn>",
            b'To: "jzhbjfzk@163.com" <jzhbjfzk@163.com>',
            b"Subject: " + word(subject[:16], "utf-8"),
            b" " + word(subject[16:], "utf-8"),
            b"Thread-Topic: " + word(subject[4:18], "utf-8"),
            b" " + word(subject[18:], "utf-8"),
            b"Thread-Index: AdfGd2Xo0l0QmYhUQ2qk3cM7oT2gRw==",
            b"Date: Fri, 22 Oct 2021 01:05:47 +0000",
            b"Message-ID: <TYAPR01MB5312A1B2C3D4E5F6A7B8C9D0E1F2@TYAPR01MB5312.jpnprd01.prod.outlook.com>",
            b"Accept-Language: zh-CN, en-US",
            b"Content-Language: zh-CN",
            b"X-MS-Has-Attach: yes",
            b"X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply",
            b"Content-Type: multipart/mixed;",
            b'\tboundary="_004_TYAPR01MB5312A1B2C3D4E5F6A7B8C9D0E1F2TYAPR01MB5312jpnp_"',
            b"MIME-Version: 1.0",
            b"",
            b"--_004_TYAPR01MB5312A1B2C3D4E5F6A7B8C9D0E1F2TYAPR01MB5312jpnp_",
            b'Content-Type: text/plain; charset="utf-8"',
            b"Content-Transfer-Encoding: quoted-printable",
            b"",
            b"=E9=99=84=E4=BB=B6=E4=B8=BA=E4=BF=AE=E8=AE=A2=E5=90=8E=E7=9A=84=E5=85=AC=E7=A4=BA=E5=88=B6=",
            b"=E5=BA=A6=E3=80=82",
            b"",
            b"--_004_TYAPR01MB5312A1B2C3D4E5F6A7B8C9D0E1F2TYAPR01MB5312jpnp_",
            b"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;",
            b'\tname="=?utf-8?B?' + first + b"?=",
            b" =?utf-8?B?" + second + b'?="',
            b"Content-Description: =?utf-8?B?" + encoded_name + b"?=",
            b"Content-Disposition: attachment;",
            b'\tfilename="=?utf-8?B?' + first + b"?=",
            b" =?utf-8?B?" + second + b'?="; size=' + str(len(xlsx)).encode() + b";",
            b'\tcreation-date="Fri, 22 Oct 2021 01:05:00 GMT";',
            b'\tmodification-date="Fri, 22 Oct 2021 01:05:00 GMT"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(xlsx),
            b"",
            b"--_004_TYAPR01MB5312A1B2C3D4E5F6A7B8C9D0E1F2TYAPR01MB5312jpnp_--",
            b"",
        ]
    )
    return Item(
        "outlook_rfc2047",
        "Outlook: RFC 2047 names folded across words inside quotes",
        raw,
        {
            "subject": subject,
            "from": "chenjie@jzsthjj.gov.cn",
            "from_name": "陈杰",
            "date": "2021-10-22T01:05:47+00:00",
            "body_contains": ["附件为修订后的公示制度。"],
            "materials": [material(name, xlsx)],
            "headers": {"x-auto-response-suppress": "DR, RN, NRN, OOF, AutoReply"},
        },
    )


def thunderbird() -> Item:
    subject = "指标5-法制科-行政执法公示制度"
    name = "指标5-法制科-行政执法公示制度-执法人员名单及执法证件信息汇总表.pdf"
    pdf = payload(name, size=3000)
    quoted = "".join(f"%{b:02X}" for b in name.encode())
    cut = quoted.index("%", 60)
    cut2 = quoted.index("%", cut + 60)
    raw = CRLF.join(
        [
            b'Content-Type: multipart/mixed; boundary="------------8sEvxRJ2pR0F1n2wIb0Hk3zT"',
            b"Message-ID: <1f0e9d8c-7b6a-5f4e-3d2c-1b0a9f8e7d6c@jzsthjj.gov.cn>",
            b"Date: Sat, 23 Oct 2021 08:30:00 +0800",
            b"MIME-Version: 1.0",
            b"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:91.0) Gecko/20100101",
            b" Thunderbird/91.2.0",
            b"Content-Language: zh-CN",
            b"To: jzhbjfzk@163.com",
            b"From: =?UTF-8?B?6LW15Lqu?= <zhaoliang@jzsthjj.gov.cn>",
            b"Subject: =?UTF-8?B?" + base64.b64encode(subject.encode()) + b"?=",
            b"",
            b"This is a multi-part message in MIME format.",
            b"--------------8sEvxRJ2pR0F1n2wIb0Hk3zT",
            b"Content-Type: text/plain; charset=UTF-8; format=flowed",
            b"Content-Transfer-Encoding: 8bit",
            b"",
            "执法人员名单见附件。".encode(),
            b"",
            b"--------------8sEvxRJ2pR0F1n2wIb0Hk3zT",
            b'Content-Type: application/pdf; name="=?UTF-8?B?' + base64.b64encode(name.encode()[:45]) + b"?=",
            b" =?UTF-8?B?" + base64.b64encode(name.encode()[45:]) + b'?="',
            b"Content-Disposition: attachment;",
            b" filename*0*=UTF-8''" + quoted[:cut].encode() + b";",
            b" filename*1*=" + quoted[cut:cut2].encode() + b";",
            b" filename*2*=" + quoted[cut2:].encode(),
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(pdf, 72),
            b"",
            b"--------------8sEvxRJ2pR0F1n2wIb0Hk3zT--",
            b"",
        ]
    )
    return Item(
        "thunderbird_rfc2231",
        "Thunderbird: RFC 2231 continuations plus RFC 2047 name=",
        raw,
        {
            "subject": subject,
            "from": "zhaoliang@jzsthjj.gov.cn",
            "from_name": "赵亮",
            "body_contains": ["执法人员名单见附件。"],
            "materials": [material(name, pdf)],
            "headers": {
                "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:91.0) Gecko/20100101 Thunderbird/91.2.0"
            },
        },
    )


def python_rfc2231() -> Item:
    subject = "【指标21】督察科-信访事项办理材料"
    name = "信访事项办理台账.docx"
    doc = payload(name, "doc", 800)
    quoted = "".join(f"%{b:02X}" for b in name.encode())
    raw = CRLF.join(
        [
            b"Subject: =?utf-8?b?" + base64.b64encode(subject.encode()) + b"?=",
            b"From: dcke@jzsthjj.gov.cn",
            b"To: jzhbjfzk@163.com",
            b"Date: Sun, 24 Oct 2021 11:00:00 +0800",
            b"Message-ID: <163501440012.4242.98765432101234567@jzsthjj.gov.cn>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="===============4242424242424242424=="',
            b"",
            b"--===============4242424242424242424==",
            b'Content-Type: text/plain; charset="utf-8"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64("信访事项办理材料，详见附件。\n".encode()),
            b"",
            b"--===============4242424242424242424==",
            b"Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"Content-Transfer-Encoding: base64",
            b"Content-Disposition: attachment; filename*=utf-8''" + quoted.encode(),
            b"MIME-Version: 1.0",
            b"",
            b64(doc),
            b"",
            b"--===============4242424242424242424==--",
            b"",
        ]
    )
    return Item(
        "python_rfc2231",
        "Python email / Apple Mail: filename*=utf-8'' in one piece",
        raw,
        {
            "subject": subject,
            "from": "dcke@jzsthjj.gov.cn",
            "from_name": "",
            "body_contains": ["信访事项办理材料"],
            "materials": [material(name, doc)],
        },
    )


def raw_8bit(codec: str) -> Item:
    subject = "指标12-支队-涉企收费清理情况说明"
    name = "指标12-支队-涉企收费清理情况说明（镕）.doc"
    doc = payload(name + codec, "doc", 700)
    raw = CRLF.join(
        [
            b"Date: Mon, 25 Oct 2021 16:45:00 +0800",
            b'From: "' + "支队 王堃".encode(codec) + b'" <zhidui@jzsthjj.gov.cn>',
            b"To: jzhbjfzk@163.com",
            b"Subject: " + subject.encode(codec),
            b"Message-ID: <raw8bit-" + codec.encode() + b"-20211025164500@jzsthjj.gov.cn>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="=_raw8bit_boundary"',
            b"",
            b"--=_raw8bit_boundary",
            b"Content-Type: text/plain; charset=" + (b"gb2312" if codec == "gbk" else b"utf-8"),
            b"Content-Transfer-Encoding: 8bit",
            b"",
            "说明材料已盖章，见附件。".encode(codec),
            b"--=_raw8bit_boundary",
            b'Content-Type: application/msword; name="' + name.encode(codec) + b'"',
            b'Content-Disposition: attachment; filename="' + name.encode(codec) + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(doc),
            b"--=_raw8bit_boundary--",
            b"",
        ]
    )
    return Item(
        f"raw_8bit_{codec.replace('-', '')}",
        f"raw 8-bit {codec} in headers and file name",
        raw,
        {
            "subject": subject,
            "from": "zhidui@jzsthjj.gov.cn",
            "from_name": "支队 王堃",
            "body_contains": ["说明材料已盖章"],
            "materials": [material(name, doc)],
        },
    )


def forwarded() -> Item:
    inner_subject = "【37】行政调解材料"
    name = "行政调解案件登记表.pdf"
    pdf = payload(name, size=1600)
    inner = CRLF.join(
        [
            b"Date: Tue, 19 Oct 2021 17:30:00 +0800",
            b'From: "' + word("审批科", "gbk") + b'" <spk@jzsthjj.gov.cn>',
            b'To: "' + word("李玥", "GB2312", "gbk") + b'" <liyue@163.com>',
            b"Subject: " + word(inner_subject, "GB2312", "gbk"),
            b"Message-ID: <inner-20211019173000@jzsthjj.gov.cn>",
            b"Mime-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="----=_inner_boundary"',
            b"",
            b"------=_inner_boundary",
            b'Content-Type: text/plain; charset="GB2312"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64("请将行政调解材料转交督导组。".encode("gbk")),
            b"",
            b"------=_inner_boundary",
            b'Content-Type: application/pdf; name="' + word(name, "GB2312", "gbk") + b'"',
            b'Content-Disposition: attachment; filename="' + word(name, "GB2312", "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(pdf),
            b"",
            b"------=_inner_boundary--",
            b"",
        ]
    )
    raw = CRLF.join(
        [
            b"Date: Tue, 26 Oct 2021 09:00:00 +0800",
            b'From: "' + word("李玥", "GB2312", "gbk") + b'" <liyue@163.com>',
            b"To: jzhbjfzk@163.com",
            b"Subject: " + word("转发：" + inner_subject, "GB2312", "gbk"),
            b"Message-ID: <202110260900001234567@163.com>",
            b"X-Mailer: Foxmail 7.2.23.121[cn]",
            b"Mime-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="----=_outer_boundary"',
            b"",
            b"------=_outer_boundary",
            b'Content-Type: text/plain; charset="GB2312"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64("转发审批科的材料。".encode("gbk")),
            b"",
            b"------=_outer_boundary",
            b"Content-Type: message/rfc822",
            b"Content-Disposition: attachment",
            b"",
            inner,
            b"------=_outer_boundary--",
            b"",
        ]
    )
    return Item(
        "forwarded_rfc822",
        "a forwarded mail (message/rfc822) with its own attachment",
        raw,
        {
            "subject": "转发：" + inner_subject,
            "from": "liyue@163.com",
            "from_name": "李玥",
            "body_contains": ["转发审批科的材料"],
            "materials": [material(name, pdf, origin="forwarded", container=inner_subject)],
        },
    )


def inline_signature() -> Item:
    subject = "【指标3】办公室-法治政府建设年度报告"
    name = "2021年法治政府建设年度报告.pdf"
    pdf = payload(name)
    logo = payload("logo", "png", 600)
    html = (
        '<div>年度报告见附件。</div><div><img src="cid:_Foxmail.1@qq.com" alt="logo"><br>焦作市生态环境局办公室</div>'
    ).encode("gbk")
    raw = CRLF.join(
        [
            b"Date: Wed, 27 Oct 2021 10:10:10 +0800",
            b'From: "' + word("办公室", "GB2312", "gbk") + b'" <bgs_jz@163.com>',
            b"To: jzhbjfzk@163.com",
            b"Subject: " + word(subject, "GB2312", "gbk"),
            b"Message-ID: <202110271010104418801@163.com>",
            b"X-Mailer: Foxmail 7.2.23.121[cn]",
            b"Mime-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="----=_001_mixed_="',
            b"",
            b"------=_001_mixed_=",
            b'Content-Type: multipart/related; type="multipart/alternative"; boundary="----=_002_related_="',
            b"",
            b"------=_002_related_=",
            b'Content-Type: multipart/alternative; boundary="----=_003_alt_="',
            b"",
            b"------=_003_alt_=",
            b'Content-Type: text/plain; charset="GB2312"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64("年度报告见附件。\r\n焦作市生态环境局办公室".encode("gbk")),
            b"",
            b"------=_003_alt_=",
            b'Content-Type: text/html; charset="GB2312"',
            b"Content-Transfer-Encoding: quoted-printable",
            b"",
            quopri.encodestring(html).replace(b"\n", CRLF),
            b"",
            b"------=_003_alt_=--",
            b"",
            b"------=_002_related_=",
            b'Content-Type: image/png; name="logo.png"',
            b"Content-Transfer-Encoding: base64",
            b"Content-ID: <_Foxmail.1@qq.com>",
            b'Content-Disposition: inline; filename="logo.png"',
            b"",
            b64(logo),
            b"",
            b"------=_002_related_=--",
            b"",
            b"------=_001_mixed_=",
            b'Content-Type: application/pdf; name="' + word(name, "GB2312", "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b'Content-Disposition: attachment; filename="' + word(name, "GB2312", "gbk") + b'"',
            b"",
            b64(pdf),
            b"",
            b"------=_001_mixed_=--",
            b"",
        ]
    )
    return Item(
        "inline_signature_image",
        "a signature logo (inline, Content-ID) is not a material",
        raw,
        {
            "subject": subject,
            "from": "bgs_jz@163.com",
            "from_name": "办公室",
            "body_contains": ["年度报告见附件。"],
            "html": True,
            "materials": [material(name, pdf)],
            "skipped": [{"name": "logo.png", "reason": "inline-image"}],
        },
    )


def html_only() -> Item:
    subject = "回复：第十二项材料"
    html = (
        "<html><head><style>p{margin:0}</style></head><body>"
        "<p>刘科长：</p><p>第十二项&ldquo;无材料&rdquo;，特此说明。</p>"
        '<div style="color:#909090">——政策法规科</div></body></html>'
    ).encode()
    raw = CRLF.join(
        [
            b"Date: Thu, 28 Oct 2021 08:08:08 +0800",
            b"From: zcfgk@jzsthjj.gov.cn",
            b"To: jzhbjfzk@163.com",
            b"Subject: " + word(subject, "utf-8"),
            b"Message-ID: <html-only-20211028080808@jzsthjj.gov.cn>",
            b"MIME-Version: 1.0",
            b"Content-Type: text/html; charset=utf-8",
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(html),
            b"",
        ]
    )
    return Item(
        "html_only",
        "an HTML-only mail: the text comes from the HTML",
        raw,
        {
            "subject": subject,
            "from": "zcfgk@jzsthjj.gov.cn",
            "body_contains": ["刘科长：\n第十二项“无材料”，特此说明。\n——政策法规科"],
            "body_excludes": ["margin", "<p>"],
            "html": True,
            "materials": [],
        },
    )


def no_message_id() -> Item:
    subject = "指标8-监测站-监测数据质量管理制度"
    name = "监测数据质量管理制度.pdf"
    pdf = payload(name)
    raw = CRLF.join(
        [
            b"Date: Thu, 28 Oct 2021 12:00:00 +0800",
            b"From: jcz@jzsthjj.gov.cn",
            b"To: jzhbjfzk@163.com",
            b"Subject: " + word(subject, "gbk"),
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="nomid"',
            b"",
            b"--nomid",
            b"Content-Type: text/plain; charset=gbk",
            b"",
            "见附件".encode("gbk"),
            b"--nomid",
            b'Content-Type: application/pdf; name="' + word(name, "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(pdf),
            b"--nomid--",
            b"",
        ]
    )
    return Item(
        "no_message_id",
        "no Message-ID: one is synthesised from the raw hash",
        raw,
        {
            "subject": subject,
            "from": "jcz@jzsthjj.gov.cn",
            "message_id": "synthesized",
            "body_contains": ["见附件"],
            "materials": [material(name, pdf)],
        },
    )


def broken_mime() -> Item:
    subject = "【指标15】执法支队-双随机一公开"
    name = "双随机抽查记录.pdf"
    pdf = payload(name, size=1000)
    encoded = b64(pdf)
    raw = CRLF.join(
        [
            b"Date: 28 10 2021 kl. 13",
            b'From: "' + word("执法支队", "gbk") + b'" <zfzd@jzsthjj.gov.cn>',
            b"To: jzhbjfzk@163.com",
            b"Subject: " + word(subject, "gbk"),
            b"Message-ID: <broken-20211028@jzsthjj.gov.cn>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="declared-boundary"',
            b"",
            b"--declared-boundary",
            b"Content-Type: text/plain; charset=gbk",
            b"Content-Transfer-Encoding: base64",
            b"",
            b64("双随机一公开材料。".encode("gbk")),
            b"--declared-boundary",
            b'Content-Type: application/pdf; name="' + word(name, "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            encoded[: len(encoded) // 2 + 7],  # the connection dropped: no closing boundary
        ]
    )
    return Item(
        "broken_mime",
        "truncated mail: no closing boundary, garbage Date",
        raw,
        {
            "subject": subject,
            "from": "zfzd@jzsthjj.gov.cn",
            "from_name": "执法支队",
            "date": None,
            "body_contains": ["双随机一公开材料。"],
            "materials": [{"filename": name, "origin": "attachment", "container": None}],
            "defects": True,
        },
    )


def undecodable_name() -> Item:
    subject = "指标12-支队-涉企收费清理情况说明"
    cut = "指标12-支队-涉企收费清理情况说明".encode("gbk")[:-1] + b".docx"  # client cut a character
    doc = payload("cut", "doc", 640)
    raw = CRLF.join(
        [
            b"Date: Thu, 28 Oct 2021 14:00:00 +0800",
            b"From: zhidui@jzsthjj.gov.cn",
            b"To: jzhbjfzk@163.com",
            b"Subject: " + word(subject, "GB2312", "gbk"),
            b"Message-ID: <undecodable-20211028140000@jzsthjj.gov.cn>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="undec"',
            b"",
            b"--undec",
            b"Content-Type: text/plain; charset=us-ascii",
            b"",
            b"See attachment.",
            b"--undec",
            b'Content-Type: application/octet-stream; name="=?GB2312?B?' + base64.b64encode(cut) + b'?="',
            b'Content-Disposition: attachment; filename="=?GB2312?B?' + base64.b64encode(cut) + b'?="',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(doc),
            b"--undec--",
            b"",
        ]
    )
    entry = material(cut.decode("gb18030", "backslashreplace"), doc)  # readable prefix, escaped rest
    entry["filename_raw"] = "=?GB2312?B?" + base64.b64encode(cut).decode() + "?="
    return Item(
        "undecodable_filename",
        "a file name truncated inside a GBK character",
        raw,
        {
            "subject": subject,
            "from": "zhidui@jzsthjj.gov.cn",
            "materials": [entry],
            "defects": True,
        },
    )


def zip_attachment() -> Item:
    subject = "【37】行政调解材料（压缩包）"
    name = "【37】行政调解材料.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("调解协议书.pdf", date_time=(2021, 10, 20, 9, 0, 0))
        archive.writestr(info, payload("调解协议书.pdf"))
    data = buffer.getvalue()
    raw = CRLF.join(
        [
            b"Date: Thu, 28 Oct 2021 15:00:00 +0800",
            b"From: spk@jzsthjj.gov.cn",
            b"To: jzhbjfzk@163.com",
            b"Subject: " + word(subject, "GB2312", "gbk"),
            b"Message-ID: <zip-20211028150000@jzsthjj.gov.cn>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="zipb"',
            b"",
            b"--zipb",
            b'Content-Type: application/x-zip-compressed; name="' + word(name, "GB2312", "gbk") + b'"',
            b'Content-Disposition: attachment; filename="' + word(name, "GB2312", "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(data),
            b"--zipb--",
            b"",
        ]
    )
    # Only the archive's name is this corpus item's business; its members belong to bot/mime/archive.py.
    return Item(
        "zip_attachment",
        "a zip whose GBK-encoded RFC 2047 name must decode",
        raw,
        {
            "subject": subject,
            "from": "spk@jzsthjj.gov.cn",
            "containers": [name],
        },
    )


def cloud_163() -> Item:
    subject = "【指标13】党组会议纪要（超大附件）"
    name = "指标13-会议纪要（扫描件）.pdf"
    url = "https://mail.163.com/large-attachment-download/index.html?p=X4bRkZ3wq8Lm&file=8f2c1d"
    text = f"从网易163邮箱发来的超大附件\r\n\r\n{name} (45.2M, 2021年11月10日 18:03 到期)\r\n下载: {url}\r\n"
    html = (
        '<div style="clear:both;height:36px;"></div><div style="padding:8px;background:#f8f8f8;">'
        '<div style="font-size:14px;">从网易163邮箱发来的超大附件</div>'
        f'<div><a href="{url}" download="{name}" target="_blank">{name}</a>'
        '<span style="color:#909090;">(45.2M, 2021年11月10日 18:03 到期)</span>'
        f'<a href="{url}" target="_blank">下载</a></div></div>'
    )
    raw = CRLF.join(
        [
            b"Date: Fri, 29 Oct 2021 09:30:00 +0800 (CST)",
            b"From: " + word("党办", "GBK", "gbk") + b" <dangban_jz@163.com>",
            b"To: jzhbjfzk@163.com",
            b"Subject: =?GBK?B?" + base64.b64encode(subject.encode("gbk")) + b"?=",
            b"X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20210622(1d4788a8)",
            b" Copyright (c) 2002-2021 www.mailtech.cn 163com",
            b'Content-Type: multipart/alternative; boundary="----=_Part_88_1.1635471000000"',
            b"MIME-Version: 1.0",
            b"Message-ID: <5c6d7e8f.1a2b.17cc9e8f123.Coremail.dangban_jz@163.com>",
            b"",
            b"------=_Part_88_1.1635471000000",
            b"Content-Type: text/plain; charset=GBK",
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(text.encode("gbk")),
            b"------=_Part_88_1.1635471000000",
            b"Content-Type: text/html; charset=GBK",
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(html.encode("gbk")),
            b"------=_Part_88_1.1635471000000--",
            b"",
        ]
    )
    return Item(
        "cloud_163_large_attachment",
        "163 超大附件: no MIME part, a download link with size and expiry in the body",
        raw,
        {
            "subject": subject,
            "from": "dangban_jz@163.com",
            "from_name": "党办",
            "body_contains": [name],
            "html": True,
            "materials": [],
            "cloud_links": [{"filename": name, "provider": "163", "url": url}],
        },
    )


BUILDERS: tuple[Callable[[], Item], ...] = (
    foxmail,
    qq,
    coremail,
    outlook,
    thunderbird,
    python_rfc2231,
    lambda: raw_8bit("gbk"),
    lambda: raw_8bit("utf-8"),
    forwarded,
    inline_signature,
    html_only,
    no_message_id,
    broken_mime,
    undecodable_name,
    zip_attachment,
    cloud_163,
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
