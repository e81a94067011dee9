"""bot.mime.parse: headers, ids, dates, what is a material, bodies, spooling, broken input."""

from __future__ import annotations

import base64
import hashlib
import os
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.mime.archive
import bot.mime.cloudlinks
from bot.mime.mail import CloudLink, Material, Skipped
from bot.mime.parse import SPOOL_THRESHOLD, ParseError, parse_message, parse_message_file

CRLF = b"\r\n"
BASE = [
    b"From: =?GB2312?B?1cWGtA==?= <ZhangZhe@163.COM>",
    b"To: jzhbjfzk@163.com",
    b"Subject: =?GB2312?B?ob7WuLHqMTKhv9LAt6jQ0NX+ssTBzy3pRg==?=",
    b"Date: Wed, 20 Oct 2021 09:12:33 +0800",
    b"Message-ID: <20211020091233@163.com>",
    b"MIME-Version: 1.0",
]


def mail(*lines: bytes, headers: list[bytes] | None = None) -> bytes:
    return CRLF.join([*(BASE if headers is None else headers), *lines, b""])


def multipart(*parts: list[bytes], boundary: bytes = b"b0", headers: list[bytes] | None = None) -> bytes:
    lines: list[bytes] = [b'Content-Type: multipart/mixed; boundary="' + boundary + b'"', b""]
    for part in parts:
        lines += [b"--" + boundary, *part]
    lines.append(b"--" + boundary + b"--")
    return mail(*lines, headers=headers)


def b64lines(data: bytes) -> list[bytes]:
    encoded = base64.b64encode(data)
    return [encoded[i : i + 76] for i in range(0, len(encoded), 76)]


def attachment(name: bytes, data: bytes, ctype: bytes = b"application/pdf", extra: list[bytes] | None = None):
    return [
        b"Content-Type: " + ctype + b'; name="' + name + b'"',
        b'Content-Disposition: attachment; filename="' + name + b'"',
        b"Content-Transfer-Encoding: base64",
        *(extra or []),
        b"",
        *b64lines(data),
    ]


TEXT = [b"Content-Type: text/plain; charset=GB2312", b"Content-Transfer-Encoding: 8bit", b"", b"\xe9F"]
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4


def test_whole_mail(tmp_path: Path) -> None:
    parsed = parse_message(multipart(TEXT, attachment(b"report.pdf", PDF)), tmp_path)
    assert parsed.subject.text == "【指标12】依法行政材料-镕"
    assert parsed.from_addr == "zhangzhe@163.com"
    assert parsed.from_name == "张喆"
    assert parsed.to_addrs == ("jzhbjfzk@163.com",)
    assert parsed.message_id == "<20211020091233@163.com>"
    assert parsed.date == datetime(2021, 10, 20, 9, 12, 33, tzinfo=timezone(timedelta(hours=8)))
    assert parsed.body_text == "镕"
    assert parsed.body_html is None
    assert parsed.content_type == "multipart/mixed"
    assert parsed.defects == []
    [material] = parsed.materials
    assert material.filename.text == "report.pdf"
    assert material.origin == "attachment"
    assert material.content_type == "application/pdf"
    assert material.size == len(PDF)
    assert material.sha256 == hashlib.sha256(PDF).hexdigest()
    assert material.path == tmp_path / material.sha256
    assert material.path.read_bytes() == PDF


def test_headers_rules_look_at(tmp_path: Path) -> None:
    headers = [
        *BASE,
        b"Auto-Submitted: auto-replied",
        b"Precedence: bulk",
        b"X-Autoreply: yes",
        b"X-Autorespond: =?utf-8?B?6Ieq5Yqo5Zue5aSN?=",
        b"X-Auto-Response-Suppress: All",
        b"List-Id: <news.jzsthjj.gov.cn>",
        b"List-Unsubscribe: <mailto:leave@jzsthjj.gov.cn>",
        b"Return-Path: <>",
        b"X-Intake-Loop: jzhbjfzk@163.com",
        b"Authentication-Results: mx.163.com; spf=pass",
        b"X-Mailer: Foxmail 7.2.23.121[cn]",
        b"X-Mailer: second occurrence is ignored",
        b"X-Unrelated: not kept",
    ]
    parsed = parse_message(mail(b"Content-Type: text/plain", b"", b"hi", headers=headers), tmp_path)
    assert parsed.headers["auto-submitted"] == "auto-replied"
    assert parsed.headers["precedence"] == "bulk"
    assert parsed.headers["x-autoreply"] == "yes"
    assert parsed.headers["x-autorespond"] == "自动回复"
    assert parsed.headers["x-auto-response-suppress"] == "All"
    assert parsed.headers["list-id"] == "<news.jzsthjj.gov.cn>"
    assert parsed.headers["list-unsubscribe"] == "<mailto:leave@jzsthjj.gov.cn>"
    assert parsed.headers["return-path"] == "<>"
    assert parsed.headers["x-intake-loop"] == "jzhbjfzk@163.com"
    assert parsed.headers["authentication-results"] == "mx.163.com; spf=pass"
    assert parsed.headers["x-mailer"] == "Foxmail 7.2.23.121[cn]"
    assert parsed.headers["content-type"] == "text/plain"
    assert parsed.headers["subject"] == "【指标12】依法行政材料-镕"
    assert "x-unrelated" not in parsed.headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Message-ID: <abc@163.com>", "<abc@163.com>"),
        (b"Message-Id:   <abc@163.com>  ", "<abc@163.com>"),
        (b"Message-ID:\r\n <tencent_ABC@qq.com>", "<tencent_ABC@qq.com>"),
        (b"Message-ID: abc@163.com", "<abc@163.com>"),
    ],
)
def test_message_id(header: bytes, expected: str, tmp_path: Path) -> None:
    headers = [h for h in BASE if not h.startswith(b"Message-ID")] + [header]
    assert parse_message(mail(b"", b"x", headers=headers), tmp_path).message_id == expected


def test_missing_message_id_is_synthesised_from_the_raw_bytes(tmp_path: Path) -> None:
    raw = mail(b"", b"x", headers=[h for h in BASE if not h.startswith(b"Message-ID")])
    parsed = parse_message(raw, tmp_path)
    assert parsed.message_id == f"<{hashlib.sha256(raw).hexdigest()}.missing@intake>"
    assert parsed.defects == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Date: Wed, 20 Oct 2021 09:12:33 +0800", datetime(2021, 10, 20, 1, 12, 33, tzinfo=UTC)),
        (b"Date: Thu, 21 Oct 2021 15:20:11 +0800 (CST)", datetime(2021, 10, 21, 7, 20, 11, tzinfo=UTC)),
        (b"Date: Fri, 22 Oct 2021 01:05:47 +0000", datetime(2021, 10, 22, 1, 5, 47, tzinfo=UTC)),
        (b"Date: 22 Oct 2021 01:05:47 GMT", datetime(2021, 10, 22, 1, 5, 47, tzinfo=UTC)),
        (b"Date: Fri, 22 Oct 2021 01:05:47 -0000", datetime(2021, 10, 22, 1, 5, 47, tzinfo=UTC)),
        (b"Date: Fri, 22 Oct 21 01:05 +0800", datetime(2021, 10, 21, 17, 5, tzinfo=UTC)),
    ],
)
def test_date_is_aware(header: bytes, expected: datetime, tmp_path: Path) -> None:
    headers = [h for h in BASE if not h.startswith(b"Date")] + [header]
    parsed = parse_message(mail(b"", b"x", headers=headers), tmp_path)
    assert parsed.date == expected
    assert parsed.date is not None and parsed.date.tzinfo is not None
    assert parsed.defects == []


@pytest.mark.parametrize("header", [b"Date: 28 10 2021 kl. 13", b"Date: \xd0\xc7\xc6\xda\xc8\xfd", b"Date: soon"])
def test_unparsable_date_is_none_with_a_defect(header: bytes, tmp_path: Path) -> None:
    headers = [h for h in BASE if not h.startswith(b"Date")] + [header]
    parsed = parse_message(mail(b"", b"x", headers=headers), tmp_path)
    assert parsed.date is None
    assert any("Date" in defect for defect in parsed.defects)


def test_missing_date_is_none_without_defect(tmp_path: Path) -> None:
    parsed = parse_message(mail(b"", b"x", headers=[h for h in BASE if not h.startswith(b"Date")]), tmp_path)
    assert parsed.date is None
    assert parsed.defects == []


def test_addresses_and_threading(tmp_path: Path) -> None:
    headers = [
        b'From: "\xd5\xc5\xc8\xfd" <Zhang.San@JZSTHJJ.gov.cn>',
        b"To: a@163.com, =?utf-8?B?5p2O546l?= <LiYue@163.com>",
        b"Cc: C@qq.com",
        b"Subject: Re:Re:x",
        b"In-Reply-To: <one@163.com>",
        b"References: <zero@163.com>\r\n <one@163.com>",
    ]
    parsed = parse_message(mail(b"", b"x", headers=headers), tmp_path)
    assert parsed.from_addr == "zhang.san@jzsthjj.gov.cn"
    assert parsed.from_name == "张三"
    assert parsed.to_addrs == ("a@163.com", "liyue@163.com", "c@qq.com")
    assert parsed.in_reply_to == "<one@163.com>"
    assert parsed.references == ("<zero@163.com>", "<one@163.com>")


def test_absent_from_gives_empty_address(tmp_path: Path) -> None:
    parsed = parse_message(mail(b"", b"x", headers=[b"Subject: hello"]), tmp_path)
    assert parsed.from_addr == ""
    assert parsed.from_name == ""
    assert parsed.subject.text == "hello"


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"just some text\r\nwithout any header\r\n"])
def test_nothing_readable_raises(raw: bytes, tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        parse_message(raw, tmp_path)


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: only a header",
        b"Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nno boundary parameter at all",
        b"Subject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n",
        b"Subject: x\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!",
        b"Subject: x\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe\x00",
        b"Subject: =?utf-8?B?broken?=\r\nContent-Type: message/rfc822\r\n\r\nnot a mail",
        b"Subject: x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\xff\xfe garbage",
        b"Subject: x\nFrom: <>\nDate: \n\n\x00\x01\x02",
    ],
)
def test_garbage_still_parses(raw: bytes, tmp_path: Path) -> None:
    parsed = parse_message(raw, tmp_path)
    assert parsed.message_id.endswith(".missing@intake>")


def test_broken_structure_is_reported_as_defect(tmp_path: Path) -> None:
    raw = mail(b'Content-Type: multipart/mixed; boundary="declared"', b"", b"--other", b"body")
    parsed = parse_message(raw, tmp_path)
    assert parsed.defects


def test_undecodable_subject_is_kept_as_bytes(tmp_path: Path) -> None:
    headers = [h for h in BASE if not h.startswith(b"Subject")] + [b"Subject: R\xe9sum\xe9"]
    parsed = parse_message(mail(b"", b"x", headers=headers), tmp_path)
    assert parsed.subject.raw == b"R\xe9sum\xe9"
    assert any("主题" in defect for defect in parsed.defects)


def test_image_the_html_shows_is_skipped(tmp_path: Path) -> None:
    html = [b"Content-Type: text/html; charset=utf-8", b"", b'<p>hi</p><img src="cid:logo@foxmail"><img src=CID:sig2>']
    logo = [
        b'Content-Type: image/png; name="logo.png"',
        b"Content-Transfer-Encoding: base64",
        b"Content-ID: <logo@foxmail>",
        b"",
        *b64lines(b"\x89PNG fake"),
    ]
    nameless = [b"Content-Type: image/gif", b"Content-ID: <sig2>", b"Content-Disposition: inline", b"", b"GIF89a"]
    parsed = parse_message(multipart(TEXT, html, logo, nameless), tmp_path)
    assert parsed.materials == []
    assert parsed.skipped == [Skipped("logo.png", "inline-image"), Skipped("sig2", "inline-image")]


def test_image_with_content_id_no_html_shows_is_a_file(tmp_path: Path) -> None:
    # Issue 12 class 7: a mail that is only a photo (Apple Mail gives it a Content-ID) lost the photo.
    html = [b"Content-Type: text/html; charset=utf-8", b"", b'<p>see the photo</p><img src="cid:other">']
    photo = [
        b'Content-Type: image/jpeg; name="bluedot.jpg"',
        b"Content-Transfer-Encoding: base64",
        b"Content-ID: <bluedot@apple>",
        b"Content-Disposition: inline; filename=bluedot.jpg",
        b"",
        *b64lines(b"\xff\xd8\xff photo"),
    ]
    parsed = parse_message(multipart(TEXT, html, photo), tmp_path)
    assert [m.filename.text for m in parsed.materials] == ["bluedot.jpg"]
    assert parsed.materials[0].path.read_bytes() == b"\xff\xd8\xff photo"
    assert parsed.skipped == []


def test_mhtml_image_shown_by_its_location_is_skipped(tmp_path: Path) -> None:
    html = [
        b"Content-Type: text/html",
        b"Content-Location: http://example.com/page.html",
        b"",
        b'<img src="img/a.png">',
    ]
    image = [b"Content-Type: image/png", b"Content-Location: http://example.com/img/a.png", b"", b"PNG"]
    parsed = parse_message(multipart(html, image), tmp_path)
    assert parsed.materials == []
    assert parsed.skipped == [Skipped("http://example.com/img/a.png", "inline-image")]


def test_named_inline_text_file_is_a_file_not_body(tmp_path: Path) -> None:
    # Issue 12 class 7: Content-Disposition: inline on a named text file merged it into the body.
    notes = [b'Content-Type: text/plain; charset=utf-8; name="notes.txt"', b"Content-Disposition: inline", b"", b"line"]
    parsed = parse_message(multipart(TEXT, notes), tmp_path)
    assert [m.filename.text for m in parsed.materials] == ["notes.txt"]
    assert parsed.materials[0].path.read_bytes() == b"line"
    assert parsed.body_text == "镕"


@pytest.mark.parametrize(
    "image",
    [
        # an attached photo that also has a Content-ID (Outlook does this)
        attachment(b"scan.jpg", b"\xff\xd8\xff", b"image/jpeg", [b"Content-ID: <scan@outlook>"]),
        # Apple Mail: inline, named, no Content-ID
        [
            b'Content-Type: image/jpeg; name="scan.jpg"',
            b"Content-Disposition: inline; filename=scan.jpg",
            b"",
            b"\xff\xd8\xff",
        ],
    ],
)
def test_images_that_are_materials(image: list[bytes], tmp_path: Path) -> None:
    parsed = parse_message(multipart(TEXT, image), tmp_path)
    assert [m.filename.text for m in parsed.materials] == ["scan.jpg"]
    assert parsed.skipped == []


def test_signature_part_is_skipped(tmp_path: Path) -> None:
    sig = attachment(b"smime.p7s", b"0\x82", b"application/pkcs7-signature")
    parsed = parse_message(multipart(TEXT, sig), tmp_path)
    assert parsed.materials == []
    assert parsed.skipped == [Skipped("smime.p7s", "signature")]


@pytest.mark.parametrize(
    ("part", "name", "data"),
    [
        # a non-text part without any name still is a file
        ([b"Content-Type: application/pdf", b"", b"%PDF-1.4"], "未命名附件.pdf", b"%PDF-1.4"),
        # text attachments (.txt, .csv) are materials, not bodies
        (
            [
                b"Content-Type: text/csv; charset=gbk",
                b'Content-Disposition: attachment; filename="a.csv"',
                b"",
                b"\xd6\xb8\xb1\xea,1",
            ],
            "a.csv",
            b"\xd6\xb8\xb1\xea,1",
        ),
        # a named text part without disposition
        ([b'Content-Type: text/plain; name="notes.txt"', b"", b"notes"], "notes.txt", b"notes"),
        # quoted-printable payload
        (
            [
                b'Content-Type: application/octet-stream; name="q.bin"',
                b"Content-Transfer-Encoding: quoted-printable",
                b"",
                b"=E9=95=95=3D=\r\nend",
            ],
            "q.bin",
            b"\xe9\x95\x95=end",
        ),
        # 8-bit binary-ish payload is taken as sent
        (
            [
                b'Content-Type: application/octet-stream; name="r.bin"',
                b"Content-Transfer-Encoding: 8bit",
                b"",
                b"\xd6\xb8\xb1\xea",
            ],
            "r.bin",
            b"\xd6\xb8\xb1\xea",
        ),
    ],
)
def test_what_counts_as_material(part: list[bytes], name: str, data: bytes, tmp_path: Path) -> None:
    parsed = parse_message(multipart(TEXT, part), tmp_path)
    [material] = parsed.materials
    assert material.filename.text == name
    assert material.path.read_bytes() == data
    assert material.sha256 == hashlib.sha256(data).hexdigest()
    assert parsed.body_text == "镕"


def test_html_only_body_becomes_text(tmp_path: Path) -> None:
    html = (
        "<html><head><title>t</title><style>.a{color:red}</style></head><body>"
        "<script>alert(1)</script><p>第一行</p><div>第二行<br>第三行</div></body></html>"
    ).encode("gbk")
    raw = mail(b"Content-Type: text/html; charset=gb2312", b"Content-Transfer-Encoding: 8bit", b"", html)
    parsed = parse_message(raw, tmp_path)
    assert parsed.body_text == "第一行\n第二行\n第三行"
    assert parsed.body_html is not None and "<p>第一行</p>" in parsed.body_html
    assert parsed.materials == []


def test_plain_text_is_preferred_over_html(tmp_path: Path) -> None:
    alternative = [
        b'Content-Type: multipart/alternative; boundary="alt"',
        b"",
        b"--alt",
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        b"plain version",
        b"--alt",
        b"Content-Type: text/html; charset=utf-8",
        b"",
        b"<p>html version</p>",
        b"--alt--",
    ]
    parsed = parse_message(multipart(alternative), tmp_path)
    assert parsed.body_text == "plain version"
    assert parsed.body_html == "<p>html version</p>"


def forwarded_part(subject: bytes, inner_parts: list[list[bytes]], encoding: bytes | None = None) -> list[bytes]:
    inner = multipart(
        *inner_parts,
        boundary=b"inner" + subject[:2].hex().encode(),
        headers=[b"From: a@b.c", b"Subject: " + subject, b"Message-ID: <inner@b.c>"],
    )
    if encoding == b"base64":
        return [b"Content-Type: message/rfc822", b"Content-Transfer-Encoding: base64", b"", *b64lines(inner)]
    return [b"Content-Type: message/rfc822", b"Content-Disposition: attachment", b"", inner]


def test_forwarded_attachments_are_materials(tmp_path: Path) -> None:
    fwd = forwarded_part(b"=?gbk?B?ob4zN6G/0NDV/rX3veKyxMHP?=", [TEXT, attachment(b"x.pdf", PDF)])
    parsed = parse_message(multipart(TEXT, fwd), tmp_path)
    [material] = parsed.materials
    assert material.origin == "forwarded"
    assert material.container == "【37】行政调解材料"
    assert material.filename.text == "x.pdf"
    assert parsed.body_text == "镕"  # the forwarded mail's text is not the body


def test_forwarded_inside_forwarded_and_encoded_forward(tmp_path: Path) -> None:
    innermost = forwarded_part(b"deep", [attachment(b"deep.pdf", b"%PDF deep")])
    middle = forwarded_part(b"middle", [attachment(b"mid.pdf", b"%PDF mid"), innermost])
    encoded = forwarded_part(b"encoded", [attachment(b"enc.pdf", b"%PDF enc")], encoding=b"base64")
    parsed = parse_message(multipart(TEXT, attachment(b"top.pdf", b"%PDF top"), middle, encoded), tmp_path)
    assert [(m.filename.text, m.origin, m.container) for m in parsed.materials] == [
        ("top.pdf", "attachment", None),
        ("mid.pdf", "forwarded", "middle"),
        ("deep.pdf", "forwarded", "deep"),
        ("enc.pdf", "forwarded", "encoded"),
    ]


def test_bounce_report_parts_are_not_materials(tmp_path: Path) -> None:
    raw = mail(
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        b"",
        b"--r",
        b"Content-Type: text/plain",
        b"",
        b"Delivery failed",
        b"--r",
        b"Content-Type: message/delivery-status",
        b"",
        b"Reporting-MTA: dns; mx.163.com",
        b"",
        b"Final-Recipient: rfc822; nobody@163.com",
        b"Action: failed",
        b"--r",
        b"Content-Type: text/rfc822-headers",
        b"",
        b"Subject: original",
        b"--r--",
    )
    parsed = parse_message(raw, tmp_path)
    assert parsed.content_type == "multipart/report"
    assert parsed.materials == []
    assert parsed.body_text == "Delivery failed"


def test_identical_attachments_share_one_file(tmp_path: Path) -> None:
    parsed = parse_message(multipart(attachment(b"a.pdf", PDF), attachment(b"b.pdf", PDF)), tmp_path)
    assert [m.filename.text for m in parsed.materials] == ["a.pdf", "b.pdf"]
    assert parsed.materials[0].path == parsed.materials[1].path
    assert sorted(p.name for p in tmp_path.iterdir()) == [hashlib.sha256(PDF).hexdigest()]


def test_every_material_goes_through_archive_expand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def fake_expand(material: Material, workdir: Path) -> tuple[list[Material], list[Skipped]]:
        seen.append(material.filename.text)
        assert workdir == tmp_path
        return [], [Skipped(material.filename.text, "zip-bomb")]

    monkeypatch.setattr(bot.mime.archive, "expand", fake_expand)
    parsed = parse_message(multipart(attachment(b"a.zip", b"PK\x03\x04"), attachment(b"b.pdf", PDF)), tmp_path)
    assert seen == ["a.zip", "b.pdf"]
    assert parsed.materials == []
    assert parsed.skipped == [Skipped("a.zip", "zip-bomb"), Skipped("b.pdf", "zip-bomb")]


def test_cloud_links_get_the_bodies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str | None, str]] = []
    link = CloudLink("大文件.zip", "https://mail.163.com/large-attachment-download/x", "163")

    def fake_find(html: str | None, text: str) -> list[CloudLink]:
        calls.append((html, text))
        return [link]

    monkeypatch.setattr(bot.mime.cloudlinks, "find_cloud_links", fake_find)
    html = '<a href="https://mail.163.com/large-attachment-download/x" download>大文件.zip</a>'
    raw = mail(b"Content-Type: text/html; charset=utf-8", b"", html.encode())
    parsed = parse_message(raw, tmp_path)
    assert calls == [(html + "\r\n", "大文件.zip")]
    assert parsed.cloud_links == [link]


def test_html_that_names_no_cloud_service_is_not_parsed_for_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 12 class 9: thousands of HTML parts were joined and parsed whole to look for links.
    calls: list[tuple[str | None, str]] = []
    monkeypatch.setattr(bot.mime.cloudlinks, "find_cloud_links", lambda html, text: calls.append((html, text)) or [])
    html = [b"Content-Type: text/html; charset=utf-8", b"", b'<a href="https://example.com/a.zip">a.zip</a>']
    parse_message(multipart(TEXT, html, html), tmp_path)
    assert calls == [(None, "镕")]


def big_mail(size: int) -> tuple[bytes, bytes]:
    data = hashlib.sha256(b"seed").digest() * (size // 32)
    return multipart(TEXT, attachment(b"big.pdf", data)), data


def test_large_part_is_spooled_and_temporaries_removed(tmp_path: Path) -> None:
    raw, data = big_mail(SPOOL_THRESHOLD * 4)
    eml = tmp_path / "in.eml"
    eml.write_bytes(raw)
    work = tmp_path / "work"
    parsed = parse_message_file(eml, work)
    [material] = parsed.materials
    assert material.sha256 == hashlib.sha256(data).hexdigest()
    assert material.size == len(data)
    assert [p.name for p in work.iterdir()] == [material.sha256]


def test_file_parse_memory_stays_near_one_encoded_part(tmp_path: Path) -> None:
    raw, data = big_mail(8 * 1024 * 1024)
    eml = tmp_path / "big.eml"
    eml.write_bytes(raw)
    del raw
    tracemalloc.start()
    try:
        parsed = parse_message_file(eml, tmp_path / "work")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parsed.materials[0].sha256 == hashlib.sha256(data).hexdigest()
    # The stdlib parser holds one encoded part (as a list of lines, then joined): about 2.8x the mail,
    # where parsing in memory costs about 8x (MAIL-FACTS.md). Nothing else may grow with the mail.
    assert peak < 3.5 * eml.stat().st_size


def test_workdir_holds_only_payloads_after_an_unreadable_mail(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        parse_message(b"\r\n" + b"A" * (SPOOL_THRESHOLD * 2), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("lines", "data", "damage"),
    [
        # the padding ends the data (binascii, mail clients); more encoded lines after it were glued on
        ([b"QUJD", b"RA==", b"RUY="], b"ABCD", "base64-invalid"),
        # a line that is not a multiple of four characters
        ([b"QUJ", b"DRA=="], b"ABCD", None),
        # a stray "=" and junk characters
        ([b"QU=JD!!", b"RA=="], b"ABCD", "base64-invalid"),
        # missing final padding: the mail was cut inside a quantum
        ([b"QUJDRA"], b"ABCD", "base64-truncated"),
        ([b"QUJDR"], b"ABC", "base64-truncated"),
        # a text epilogue after the padding (the closing boundary was mistyped) is no damage
        ([b"PGh0bWw+Cg==", b"", b"--b0-->", b"Potentially malicious content"], b"<html>\n", None),
    ],
)
def test_damaged_base64_never_raises(lines: list[bytes], data: bytes, damage: str | None, tmp_path: Path) -> None:
    part = [b'Content-Type: application/pdf; name="a.pdf"', b"Content-Transfer-Encoding: base64", b"", *lines]
    parsed = parse_message(multipart(part), tmp_path)
    [material] = parsed.materials
    assert material.path.read_bytes() == data
    assert material.damage == damage
    assert bool(damage) == any("传输编码已损坏" in defect for defect in parsed.defects)


def test_eight_bit_junk_in_structural_headers(tmp_path: Path) -> None:
    part = [
        b'Content-Type: image/png; name="a.png"',
        b"Content-Transfer-Encoding: base64\xa1\xa1",
        b"Content-ID: <\xd6\xb8@foxmail>",
        b"",
        b"iVBORw==",
    ]
    parsed = parse_message(multipart(TEXT, part), tmp_path)
    # no HTML shows the image, so it is a file; the junk after "base64" does not hide the encoding
    [image] = parsed.materials
    assert (image.filename.text, image.path.read_bytes()) == ("a.png", b"\x89PNG")


_CORPUS = [path.read_bytes() for path in sorted((Path(__file__).parents[1] / "corpus").glob("*.eml"))]
_DAMAGE = [b"\r\n", b"=?", b"?=", b";", b'"', b"--", b"\r\n\r\n", b"*0*=", b"%", b"\xff", b"=", b"\x00"]


@settings(
    max_examples=int(os.environ.get("INTAKE_HYPOTHESIS_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    index=st.integers(0, len(_CORPUS) - 1),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(_DAMAGE), st.integers(0, 200))),
    cut=st.floats(0, 1),
)
def test_damaged_corpus_mails_parse_or_raise_parse_error(
    index: int, edits: list[tuple[float, bytes, int]], cut: float, tmp_path_factory: pytest.TempPathFactory
) -> None:
    raw = bytearray(_CORPUS[index])
    for where, insert, delete in edits:
        at = int(where * len(raw))
        raw[at : at + delete] = insert
    raw = raw[: max(1, int(cut * len(raw)))]
    workdir = tmp_path_factory.mktemp("fuzz")
    try:
        parsed = parse_message(bytes(raw), workdir)
    except ParseError:
        return
    for material in parsed.materials:
        assert material.path.stat().st_size == material.size
    assert not list(workdir.glob(".*"))  # no encoded temporaries left behind


@pytest.mark.parametrize("header", [b"base64;", b"Base64 ", b'"base64"', b"base64 charset=x", b"BASE64\xa1"])
def test_transfer_encoding_token_is_read_past_junk(header: bytes, tmp_path: Path) -> None:
    part = [
        b'Content-Type: application/pdf; name="a.pdf"',
        b"Content-Transfer-Encoding: " + header,
        b"",
        *b64lines(PDF),
    ]
    [material] = parse_message(multipart(TEXT, part), tmp_path).materials
    assert material.path.read_bytes() == PDF


def test_raw_8bit_subject_read_with_the_charset_of_an_encoded_word(tmp_path: Path) -> None:
    # No part declares a charset; the sender's client wrote From: in windows-1252, so that is its charset.
    headers = [b"From: =?Windows-1252?B?Rm9ybWHn428=?= <info@example.com>", b"Subject: Forma\xe7\xe3o Ver\xe3o"]
    parsed = parse_message(mail(b"", b"TEST", headers=headers), tmp_path)
    assert parsed.subject.text == "Formação Verão"
    assert parsed.from_name == "Formação"


def nested(depth: int) -> bytes:
    lines = [b"Content-Type: multipart/mixed; boundary=b0", b""]
    for level in range(1, depth):
        lines += [b"--b%d" % (level - 1), b"Content-Type: multipart/mixed; boundary=b%d" % level, b""]
    lines += [b"--b%d" % (depth - 1), b"Content-Type: text/plain", b"", b"deep"]
    lines += [b"--b%d--" % level for level in reversed(range(depth))]
    return mail(*lines)


def test_deep_nesting_is_read_to_a_limit(tmp_path: Path) -> None:
    parsed = parse_message(nested(150), tmp_path)
    assert parsed.body_text == ""
    assert any("嵌套超过" in defect for defect in parsed.defects)
    assert parse_message(nested(20), tmp_path).body_text == "deep"


def test_nesting_the_feed_parser_cannot_follow_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        parse_message(nested(3000), tmp_path)


def test_a_nameless_empty_part_is_no_file(tmp_path: Path) -> None:
    empty = [b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: base64", b"", b""]
    named_empty = [b'Content-Type: text/html; name="file.html"', b"Content-Disposition: attachment", b"", b""]
    parsed = parse_message(multipart(TEXT, empty, named_empty), tmp_path)
    assert [(m.filename.text, m.size) for m in parsed.materials] == [("file.html", 0)]
    assert parsed.materials[0].path.is_file()
    assert parsed.skipped == [Skipped("application/octet-stream", "empty-part")]


def test_parts_after_a_reused_boundary_are_read(tmp_path: Path) -> None:
    # Outlook Express for Mac: the multipart/alternative reuses the outer boundary, which closes the
    # outer multipart early; the attachment after it landed in the epilogue and was lost.
    b = b"MS_Mac_OE_3071477847_720252_MIME_Part"
    raw = mail(
        b'Content-Type: multipart/mixed; boundary="' + b + b'"',
        b"",
        b"--" + b,
        b'Content-Type: multipart/alternative; boundary="' + b + b'"',
        b"",
        b"--" + b,
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        "见附件。".encode(),
        b"--" + b + b"--",
        b"",
        b"--" + b,
        b'Content-Type: image/gif; name="xx.gif"',
        b"Content-Disposition: attachment",
        b"Content-Transfer-Encoding: base64",
        b"",
        *b64lines(b"GIF89a picture"),
        b"--" + b + b"--",
    )
    parsed = parse_message(raw, tmp_path)
    assert [(m.filename.text, m.path.read_bytes()) for m in parsed.materials] == [("xx.gif", b"GIF89a picture")]
    assert parsed.body_text == "见附件。"
    assert parsed.skipped == [Skipped("multipart/alternative", "empty-part")]
    assert any("结束分隔线之后" in defect for defect in parsed.defects)


def test_a_nul_in_a_charset_name_is_an_unknown_charset_not_a_crash(tmp_path: Path) -> None:
    # codecs.lookup and bytes.decode raise ValueError, not LookupError, for a name with a NUL: found
    # by the damaged-corpus property (a NUL written over a charset parameter / encoded-word label).
    raw = (
        b"From: a@example.cn\r\nSubject: =?gb\x002312?B?1rix6jEy?=\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b'--b\r\nContent-Type: text/plain; charset="gb\x00k"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        + "材料见附件".encode("gbk")
        + b"\r\n--b--\r\n"
    )
    parsed = parse_message(raw, tmp_path)
    assert parsed.from_addr == "a@example.cn"
    assert parsed.body_text  # read with a fallback, not lost
