"""rules.receipting (whom intake answers), rules.material (what counts as material) and rules.visible
(what a person is shown), as tables of real-looking cases."""

from __future__ import annotations

import pytest

from rules import codes
from rules.material import executable_reason, is_web_link, not_material, real_extension
from rules.receipting import (
    ReceiptFacts,
    ReceiptVerdict,
    bulk_like,
    is_one_address,
    lookalike_domain,
    phishing_like,
    receipt_verdict,
)
from rules.visible import has_bidi_controls, strip_format, visible

# -- rules.receipting -----------------------------------------------------------------------------------


def facts(**changes: object) -> ReceiptFacts:
    base: dict[str, object] = {
        "trusted": True,
        "address": "zhidui@example.com",
        "known_section": True,
        "has_material": True,
        "names_indicator": True,
        "bulk_like": False,
        "phishing_like": False,
        "sent_to_address_today": 0,
        "per_address_cap": 10,
        "stranger_receipts_today": 0,
        "stranger_cap": 20,
    }
    base.update(changes)
    return ReceiptFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ReceiptVerdict.SEND),
        # a section is answered even for a mail with nothing in it (it must learn nothing arrived)
        ({"has_material": False, "names_indicator": False}, ReceiptVerdict.SEND),
        ({"trusted": False}, ReceiptVerdict.UNTRUSTED),
        ({"address": "a@x, b@y, c@z"}, ReceiptVerdict.NOT_ONE_ADDRESS),
        ({"address": ""}, ReceiptVerdict.NOT_ONE_ADDRESS),
        ({"sent_to_address_today": 10}, ReceiptVerdict.ADDRESS_CAPPED),
        # strangers: only plausible submissions, under their own cap
        ({"known_section": False, "address": "new@jz.gov.cn"}, ReceiptVerdict.SEND),
        ({"known_section": False, "names_indicator": False}, ReceiptVerdict.STRANGER_NOT_SUBMISSION),  # invoice
        ({"known_section": False, "has_material": False}, ReceiptVerdict.STRANGER_NOT_SUBMISSION),
        ({"known_section": False, "bulk_like": True}, ReceiptVerdict.STRANGER_BULK),  # a circular
        ({"known_section": False, "phishing_like": True}, ReceiptVerdict.STRANGER_PHISHING),
        ({"known_section": False, "stranger_receipts_today": 20}, ReceiptVerdict.STRANGERS_CAPPED),
        ({"known_section": False, "stranger_cap": 0}, ReceiptVerdict.STRANGERS_CAPPED),
        ({"known_section": True, "stranger_receipts_today": 99}, ReceiptVerdict.SEND),  # not a stranger
        ({"known_section": False, "sent_to_address_today": 10}, ReceiptVerdict.ADDRESS_CAPPED),
    ],
)
def test_receipt_verdict(changes: dict[str, object], expected: ReceiptVerdict) -> None:
    assert receipt_verdict(facts(**changes)) is expected


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("zhidui@example.com", True),
        ("zhang.san+tag@jz.gov.cn", True),
        ("a@x, b@y, c@z", False),
        ("刘建设 <zhidui@example.com>", False),
        ('"a b"@example.com', False),
        ("zhidui@example", False),
        ("zhidui@@example.com", False),
        ("zhidui@example.com\n", False),
        ("", False),
    ],
)
def test_one_plain_address(address: str, ok: bool) -> None:
    assert is_one_address(address) is ok


KNOWN = ["example.com", "jzhbj.gov.cn", "163.com"]


@pytest.mark.parametrize(
    ("domain", "lookalike"),
    [
        ("examp1e.com", True),
        ("exarnple.com", True),
        ("example.co", True),
        ("example.cn", True),
        ("example-com.net", True),
        ("example.com.cn", True),
        ("jzhbj-gov.cn", True),
        ("jzbhj.gov.cn", True),
        ("jzhbj.gov.cn.example.org", True),
        ("mail.example.com", False),  # a subdomain is the same organisation
        ("example.com", False),
        ("126.com", False),  # a public provider that looks like 163.com is just another provider
        ("qq.com", False),
        ("163.com", False),
        ("bureau.gov.cn", False),
        ("", False),
    ],
)
def test_lookalike_domains(domain: str, lookalike: bool) -> None:
    assert lookalike_domain(domain, KNOWN) is lookalike


def test_phishing_and_bulk() -> None:
    assert phishing_like("fgk@examp1e.com", "", KNOWN)
    assert phishing_like("new@jz.gov.cn", "collect@evil.example", KNOWN)  # answers go elsewhere
    assert not phishing_like("new@jz.gov.cn", "new@jz.gov.cn", KNOWN)
    assert not phishing_like("new@jz.gov.cn", "", KNOWN)
    ours = ["jzhbjfzk@163.com"]
    assert bulk_like([f"b{n}@gov.cn" for n in range(11)] + ours, ours)  # a circular to many bureaus
    assert bulk_like(["someone@else.cn"], ours)  # we were Bcc'd
    assert not bulk_like(["jzhbjfzk@163.com", "fgk@example.com"], ours)
    assert not bulk_like(["someone@else.cn"], ["testuser"])  # our login is no address: cannot tell


# -- rules.material -----------------------------------------------------------------------------------

PDF = b"%PDF-1.7"
DOCX = b"PK\x03\x04\x14\x00\x06\x00"


@pytest.mark.parametrize(
    ("name", "head", "reason"),
    [
        ("报告\u202ecod.exe", b"MZ\x90\x00\x03\x00", "Windows 可执行文件"),  # shows as 报告exe.doc
        ("报告\u202ecod.exe", DOCX, "实际扩展名为 .exe"),  # even when the content lies
        ("指标12.pdf", b"MZ\x90\x00", "Windows 可执行文件"),  # even when the name lies
        ("指标12.pdf", b"\x7fELF\x02\x01", "Linux"),
        ("指标12.pdf", b"\xcf\xfa\xed\xfe\x07\x00", "macOS"),
        ("指标12.pdf", b"\xca\xfe\xba\xbe\x00\x00", "macOS 通用"),
        ("run.txt", b"#!/bin/sh", "脚本"),
        ("setup.EXE. . ", PDF, ".exe"),  # Windows drops trailing dots and spaces
        ("update.scr", PDF, ".scr"),
        ("发票.js", b"var a=1;", ".js"),
        ("说明.vbs", b"MsgBox 1", ".vbs"),
        ("a.ps1", b"Write-Host", ".ps1"),
        ("快捷方式.lnk", b"L\x00\x00\x00", ".lnk"),
        ("安装.msi", b"\xd0\xcf\x11\xe0", ".msi"),
        ("批处理.bat", b"@echo off", ".bat"),
        ("x.hta", b"<html>", ".hta"),
        ("指标12.pdf", PDF, None),
        ("指标12.docx", DOCX, None),
        ("exe.doc", b"\xd0\xcf\x11\xe0", None),
        ("mz.txt", b"mz lowercase", None),
        ("未命名附件.bin", b"\x00\x01", None),
        ("README", b"plain", None),
    ],
)
def test_executables(name: str, head: bytes, reason: str | None) -> None:
    got = executable_reason(name, head)
    if reason is None:
        assert got is None
    else:
        assert got is not None and reason in got


def test_not_material_reasons_in_order() -> None:
    exe = not_material("a.exe", b"MZ", damage="base64-truncated", unopened=None)
    assert exe is not None and exe.reason == codes.EXECUTABLE
    damaged = not_material("指标12.pdf", PDF, damage="base64-truncated", unopened=None)
    assert damaged is not None and damaged.reason == codes.DAMAGED_ENCODING and "截断" in damaged.detail
    unknown = not_material("指标12.pdf", PDF, damage="something-new", unopened=None)
    assert unknown is not None and "something-new" in unknown.detail
    for skipped, words in [
        ("zip-encrypted", "密码"),
        ("zip-bomb", "压缩炸弹"),
        ("zip-too-large", "大小上限"),
        ("zip-too-many-members", "文件数"),
        ("zip-corrupt", "损坏"),
        ("tnef-corrupt", "winmail.dat"),
    ]:
        got = not_material("材料.zip", DOCX, damage=None, unopened=skipped)
        assert got is not None and got.reason == codes.CONTAINER_UNOPENED and words in got.detail
    assert not_material("材料.zip", DOCX, damage=None, unopened="lock-file") is None  # a member reason
    assert not_material("指标12.pdf", PDF, damage=None, unopened=None) is None
    assert set(codes.REVIEW_LABELS) >= codes.NOT_MATERIAL


@pytest.mark.parametrize(
    ("name", "ext"),
    [("a.PDF", ".pdf"), ("报告\u202ecod.exe", ".exe"), ("x.tar.gz", ".gz"), (".bashrc", ""), ("noext", ""), ("a.", "")],
)
def test_real_extension(name: str, ext: str) -> None:
    assert real_extension(name) == ext


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://fs.mail.163.com/abc", True),
        ("http://mail.163.com/large-attachment-download/x?file=a.pdf", True),
        ("HTTPS://pan.baidu.com/s/1abc", True),
        ("javascript://fs.mail.163.com/%0aalert(1)", False),
        ("data:text/html,<script>", False),
        ("vbscript://fs.mail.163.com/", False),
        ("file://fs.mail.163.com/etc/passwd", False),
        ("https://user:pw@fs.mail.163.com/", False),
        ("https://fs.mail.163.com/a b", False),
        ("https://fs.mail.163.com/\u202eabc", False),
        ("https:///nohost", False),
        ("https://[::1/", False),
        ("", False),
    ],
)
def test_web_links(url: str, ok: bool) -> None:
    assert is_web_link(url) is ok


# -- rules.visible -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clean", "bidi"),
    [
        ("指标1\u200b2.pdf", "指标12.pdf", False),  # zero-width space
        ("指标\u200d12\u2060.pdf", "指标12.pdf", False),  # joiner, word joiner
        ("\ufeff指标12.pdf", "指标12.pdf", False),  # BOM
        ("情况\u00ad说明.docx", "情况说明.docx", False),  # soft hyphen
        ("报告\u202ecod.exe", "报告cod.exe", True),  # right-to-left override
        ("a\u2066b\u2069.pdf", "ab.pdf", True),  # isolates
        ("a\u200fb.pdf", "ab.pdf", True),  # right-to-left mark
        ("普通文件名.pdf", "普通文件名.pdf", False),
        ("plain.pdf", "plain.pdf", False),
    ],
)
def test_format_characters(text: str, clean: str, bidi: bool) -> None:
    assert strip_format(text) == clean
    assert has_bidi_controls(text) is bidi


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x1b]0;owned\x07b", "ab"),  # set the window title
        ("a\x1b[2J\x1b[Hb", "ab"),  # clear the screen, cursor home
        ("a\x1b[31mred\x1b[0m", "ared"),
        ("a\x9b2Jb", "ab"),  # 8-bit CSI
        ("a\x1bPqdata\x1b\\b", "ab"),  # device control string
        ("a\rb\x08c\x07", "abc"),  # carriage return, backspace, bell
        ("line1\nline2\tx", "line1\nline2\tx"),
        ("报告\u202ecod.exe", "报告cod.exe"),
        ("指标12.pdf", "指标12.pdf"),
        ("\x1b", ""),
    ],
)
def test_terminal_text(text: str, shown: str) -> None:
    assert visible(text) == shown
