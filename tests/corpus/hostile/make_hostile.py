"""Write the hostile corpus: ``NN_name.eml`` + ``NN_name.expect.json``, one attack (or one case that
must keep working) each, from issue 10. Run ``python -m tests.corpus.hostile.make_hostile`` after a
change; the files are committed so that a reader sees exactly the bytes intake is fed.

The mails go into one mailbox in file order (``07`` reuses ``08``'s Message-ID before it, so order
matters); ``tests/integration/test_hostile.py`` polls them through Dovecot, the SMTP sink and the CLI,
then checks each expectation:

- ``kind``, ``from_addr``, ``section``: the recorded mail row;
- ``reviews``: the reasons of its review items (sorted);
- ``assigned``: the (indicator, section) pairs its files count for ("" = no section);
- ``receipt_to``: where its receipt went ([] = none);
- ``exported``: which of its file names are in ``intake export``.

Setting (tests/support/app.py): 支队 = zhidui@example.com, coordinator = coordinator@example.com,
``authserv_ids = ["mx*"]``; our MX stamps ``Authentication-Results: mx19; ...`` at the top.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
DATE = "Wed, 20 Oct 2021 09:30:00 +0800"
OURS = "jzhbjfzk@163.com"
SECTION = "刘建设 <zhidui@example.com>"
COORDINATOR = "刘海利 <coordinator@example.com>"
MX_RECEIVED = "Received: from mail.example.com (unknown [192.0.2.7]) by mx19 (Coremail) with SMTP id AQAAf8Bx; " + DATE


def mx(results: str) -> list[str]:
    """What our receiving MX prepends: its Received line and, below it, its Authentication-Results."""
    return [MX_RECEIVED, f"Authentication-Results: mx19; {results}"]


def verified(address: str) -> list[str]:
    domain = address.rpartition("@")[2]
    return mx(f"spf=pass smtp.mail={address}; dkim=pass header.i=@{domain}")


def encoded(text: str) -> str:
    return text if text.isascii() else f"=?utf-8?B?{base64.b64encode(text.encode()).decode()}?="


def doc(text: str) -> bytes:
    return ("%PDF-1.4\n" + text + "\n%%EOF\n").encode()


def attachment(
    name: str | None, data: bytes, ctype: str = "application/octet-stream", *, body: bytes | None = None
) -> bytes:
    """A base64 attachment; ``name`` in RFC 2231 form (every byte percent-encoded as sent, control
    characters included); ``body`` replaces the encoded payload (damage)."""
    head = [f"Content-Type: {ctype}", "Content-Transfer-Encoding: base64"]
    if name is not None:
        head.append(f"Content-Disposition: attachment; filename*=utf-8''{quote(name, safe='')}")
    payload = body if body is not None else base64.encodebytes(data)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload.replace(b"\n", b"\r\n")


def text_part(text: str, subtype: str = "plain") -> bytes:
    return (
        f"Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode()
        + base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
    )


def eml(
    *,
    frm: str,
    subject: str,
    msgid: str,
    parts: list[bytes] = (),  # type: ignore[assignment]
    body: str = "法规科：\n  附件是我科室的材料，请查收。\n",
    top: list[str] = (),  # type: ignore[assignment]
    to: str = OURS,
    html: str | None = None,
) -> bytes:
    headers = [
        *top,
        f"From: {frm}",
        f"To: {to}",
        f"Subject: {encoded(subject)}",
        f"Date: {DATE}",
        f"Message-ID: {msgid}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="==hostile=="',
    ]
    pieces = [text_part(body), *([text_part(html, "html")] if html else []), *parts]
    out = "\r\n".join(headers).encode() + b"\r\n\r\n"
    for piece in pieces:
        out += b"--==hostile==\r\n" + piece + b"\r\n"
    return out + b"--==hostile==--\r\n"


def zip_of(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2021, 10, 20, 9, 30, 0)), data, compress_type=compression)
    return buf.getvalue()


def encrypted_zip() -> bytes:
    """A zip whose members say "encrypted" (general-purpose flag bit 0), as WinRAR/7-Zip with a password."""
    out = bytearray(zip_of([("监管情况说明.docx", doc("secret"))]))
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            out[start + flag_at] |= 0x01
            start += 4
    return bytes(out)


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("空白.txt", "w") as member:
        for _ in range(4):
            member.write(bytes(1 << 20))  # 4 MiB of zeros in about 4 KiB: a ratio near 1000
    return buf.getvalue()


def too_many_members() -> bytes:
    return zip_of([(f"扫描件/{n:04d}.txt", b"x") for n in range(2001)], zipfile.ZIP_STORED)


def expect(
    attack: str,
    *,
    kind: str = "submission",
    from_addr: str = "",
    section: str | None = None,
    reviews: list[str] = (),  # type: ignore[assignment]
    assigned: list[tuple[str, str]] = (),  # type: ignore[assignment]
    receipt_to: list[str] = (),  # type: ignore[assignment]
    exported: list[str] = (),  # type: ignore[assignment]
) -> dict[str, object]:
    return {
        "attack": attack,
        "kind": kind,
        "from_addr": from_addr,
        "section": section,
        "reviews": sorted(reviews),
        "assigned": sorted([list(a) for a in assigned]),
        "receipt_to": list(receipt_to),
        "exported": sorted(exported),
    }


ZHIDUI = "zhidui@example.com"
CASES: list[tuple[str, bytes, dict[str, object]]] = [
    (
        "00_section_with_display_name",
        eml(
            frm=SECTION,
            subject="指标7-支队-监管情况说明",
            msgid="<h00@example.com>",
            parts=[attachment("监管情况说明.docx", doc("7 original"))],
        ),
        expect(
            "must keep working: a section writing from its registered address with a display name",
            from_addr=ZHIDUI,
            section="支队",
            assigned=[("7", "支队")],
            receipt_to=[ZHIDUI],
            exported=["监管情况说明.docx"],
        ),
    ),
    (
        "01_cve_2023_27043_display_name_command",
        eml(
            frm="coordinator@example.com <evil@evil.example>",
            subject="退回 指标7 支队 原因：材料作废",
            msgid="<h01@evil.example>",
            body="\n",
            top=verified("evil@evil.example"),
        ),
        expect(
            "CVE-2023-27043: the coordinator's address as display name before the real one",
            reviews=["command_refused", "sender_unverified"],
        ),
    ),
    (
        "02_cve_2023_27043_parenthesis_command",
        eml(
            frm="coordinator@example.com)<evil@evil.example>",
            subject="确认 指标7",
            msgid="<h02@evil.example>",
            body="\n",
            top=verified("evil@evil.example"),
        ),
        expect(
            "CVE-2023-27043: 'carol@example.test)<evil@evil.example>'", reviews=["command_refused", "sender_unverified"]
        ),
    ),
    (
        "03_encoded_word_address_command",
        eml(
            frm="=?utf-8?B?" + base64.b64encode(b"coordinator@example.com").decode() + "?=",
            subject="不涉及 指标45 人事科",
            msgid="<h03@evil.example>",
            body="\n",
            top=verified("evil@evil.example"),
        ),
        expect(
            "an RFC 2047 encoded word that decodes to the coordinator's address",
            reviews=["command_refused", "sender_unverified"],
        ),
    ),
    (
        "04_no_authentication_results_command",
        eml(frm=COORDINATOR, subject="确认 指标7", msgid="<h04@example.com>", body="\n"),
        expect(
            "a coordinator command with no Authentication-Results at all: held for the code",
            kind="command",
            from_addr="coordinator@example.com",
            reviews=["command_pending"],
        ),
    ),
    (
        "05_sender_written_results_command",
        eml(
            frm=COORDINATOR,
            subject="退回 指标7 支队 原因：作废",
            msgid="<h05@example.com>",
            body="\n",
            top=["Authentication-Results: evil.example; dkim=pass header.d=example.com; dmarc=pass"],
        ),
        expect(
            "Authentication-Results written by the sender (someone else's authserv-id): held",
            kind="command",
            from_addr="coordinator@example.com",
            reviews=["command_pending"],
        ),
    ),
    (
        "06_forged_pass_below_topmost_none",
        eml(
            frm=COORDINATOR,
            subject="不涉及 指标45 人事科",
            msgid="<h06@example.com>",
            body="\n",
            top=[
                *mx("dkim=none; spf=none smtp.mail=evil@evil.example"),
                "Authentication-Results: mx19; dkim=pass header.i=@example.com; dmarc=pass header.from=example.com",
            ],
        ),
        expect(
            "our MX says dkim=none on top, a forged pass below it: only the topmost counts; held",
            kind="command",
            from_addr="coordinator@example.com",
            reviews=["command_pending"],
        ),
    ),
    (
        "07_stranger_takes_message_id_first",
        eml(
            frm="wangwu@qq.com",
            subject="指标12-支队-情况说明",
            msgid="<shared-h08@example.com>",
            parts=[attachment("情况说明.docx", doc("12 by the section"))],
        ),
        expect(
            "a stranger (a personal QQ address) sends first with the section's Message-ID and files (answered)",
            from_addr="wangwu@qq.com",
            reviews=["unknown_sender"],
            assigned=[("12", "")],
            receipt_to=["wangwu@qq.com"],
        ),
    ),
    (
        "08_section_mail_with_taken_message_id",
        eml(
            frm=SECTION,
            subject="指标12-支队-情况说明",
            msgid="<shared-h08@example.com>",
            parts=[attachment("情况说明.docx", doc("12 by the section"))],
        ),
        expect(
            "the section's genuine mail with that Message-ID is another mail: recorded and answered",
            from_addr=ZHIDUI,
            section="支队",
            assigned=[("12", "支队")],
            receipt_to=[ZHIDUI],
            exported=["情况说明.docx"],
        ),
    ),
    (
        "09_invoice_spam",
        eml(
            frm="财务开票 <fp@invoice-service.example>",
            subject="增值税电子普通发票开具通知",
            msgid="<h09@invoice-service.example>",
            body="您好，您的发票已开具，请查收附件。",
            parts=[attachment("电子发票.pdf", doc("invoice"), "application/pdf")],
        ),
        expect(
            "backscatter: invoice spam from a stranger gets no receipt",
            from_addr="fp@invoice-service.example",
            reviews=["needs_review", "unknown_sender"],
        ),
    ),
    (
        "10_lookalike_domain_phishing",
        eml(
            frm="法规科 <fgk@examp1e.com>",
            subject="指标12 材料补报通知",
            msgid="<h10@examp1e.com>",
            body="请各科室点击附件填写补报表。",
            parts=[attachment("指标12-补报表.docx", doc("phish"))],
        ),
        expect(
            "a look-alike of a section's domain: recorded, never answered",
            from_addr="fgk@examp1e.com",
            reviews=["unknown_sender"],
            assigned=[("12", "")],
        ),
    ),
    (
        "11_another_bureaus_circular",
        eml(
            frm="市直机关工委办公室 <office@jzsw.gov.example>",
            to=", ".join([f"b{n}@bureau{n}.gov.example" for n in range(12)] + [OURS]),
            subject="关于开展2021年度依法行政考核工作的通知",
            msgid="<h11@jzsw.gov.example>",
            body="各单位：现将有关事项通知如下。",
            parts=[attachment("通知.pdf", doc("circular"), "application/pdf")],
        ),
        expect(
            "another bureau's circular to many addresses: no receipt",
            from_addr="office@jzsw.gov.example",
            reviews=["needs_review", "unknown_sender"],
        ),
    ),
    (
        "12_encoded_from_smuggling_three_recipients",
        eml(
            frm="=?utf-8?B?" + base64.b64encode(b"a@x.example, b@y.example, c@z.example").decode() + "?=",
            subject="指标24",
            msgid="<h12@x.example>",
            parts=[attachment("24-移送清单.pdf", doc("24"))],
        ),
        expect(
            "an encoded From that decodes to three addresses: unverified, nobody answered",
            reviews=["sender_unverified"],
            assigned=[("24", "")],
        ),
    ),
    (
        "13_rlo_executable",
        eml(
            frm=SECTION,
            subject="指标26 材料",
            msgid="<h13@example.com>",
            parts=[attachment("26-情况说明\u202ecod.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56) + b"PE\x00\x00")],
        ),
        expect(
            "an executable whose name hides .exe behind a right-to-left override (reads …exe.doc)",
            from_addr=ZHIDUI,
            section="支队",
            reviews=["executable"],
            receipt_to=[ZHIDUI],
        ),
    ),
    (
        "14_zero_width_space_in_number",
        eml(
            frm=SECTION,
            subject="材料",
            msgid="<h14@example.com>",
            parts=[attachment("指标3\u200b4-移送情况说明.docx", doc("34"))],
        ),
        expect(
            "a zero-width space inside 指标3<U+200B>4: read as 34, not 3",
            from_addr=ZHIDUI,
            section="支队",
            assigned=[("34", "支队")],
            receipt_to=[ZHIDUI],
            exported=["指标3\u200b4-移送情况说明.docx"],
        ),
    ),
    (
        "15_nameless_part",
        eml(
            frm=SECTION,
            subject="材料",
            msgid="<h15@example.com>",
            parts=[attachment(None, doc("nameless"), "application/pdf")],
        ),
        expect(
            "a part with no name is 未命名附件.pdf, not indicator 1",
            from_addr=ZHIDUI,
            section="支队",
            reviews=["needs_review"],
            receipt_to=[ZHIDUI],
        ),
    ),
    (
        "16_encrypted_zip",
        eml(
            frm=SECTION,
            subject="指标36",
            msgid="<h16@example.com>",
            parts=[attachment("加密材料.zip", encrypted_zip(), "application/zip")],
        ),
        expect(
            "an encrypted zip: a review item with the reason, never counted for 36 nor exported",
            from_addr=ZHIDUI,
            section="支队",
            reviews=["container_unopened"],
            receipt_to=[ZHIDUI],
        ),
    ),
    (
        "17_zip_bomb",
        eml(
            frm=SECTION,
            subject="指标37",
            msgid="<h17@example.com>",
            parts=[attachment("材料.zip", zip_bomb(), "application/zip")],
        ),
        expect(
            "a zip bomb: kept unopened, reviewed, not counted",
            from_addr=ZHIDUI,
            section="支队",
            reviews=["container_unopened"],
            receipt_to=[ZHIDUI],
        ),
    ),
    (
        "18_zip_over_member_limit",
        eml(
            frm=SECTION,
            subject="指标39",
            msgid="<h18@example.com>",
            parts=[attachment("扫描件.zip", too_many_members(), "application/zip")],
        ),
        expect(
            "a zip over the member limit: kept unopened, reviewed, not counted",
            from_addr=ZHIDUI,
            section="支队",
            reviews=["container_unopened"],
            receipt_to=[ZHIDUI],
        ),
    ),
    (
        "19_truncated_base64",
        eml(
            frm=SECTION,
            subject="指标40",
            msgid="<h19@example.com>",
            parts=[
                attachment("指标40-说明.pdf", b"", "application/pdf", body=base64.encodebytes(doc("40 " * 200))[:-30])
            ],
        ),
        expect(
            "a truncated base64 part is not a good file: reviewed, not counted, not exported",
            from_addr=ZHIDUI,
            section="支队",
            reviews=["damaged_encoding"],
            receipt_to=[ZHIDUI],
        ),
    ),
    (
        "20_javascript_cloud_link",
        eml(
            frm=SECTION,
            subject="指标39 超大附件",
            msgid="<h20@example.com>",
            html='<p>从网易邮箱发来的超大附件</p><div><a download="指标39-台账.zip" '
            'href="javascript://fs.mail.163.com/%0aalert(document.cookie)">指标39-台账.zip</a>'
            "<span>(25.6M, 2021年11月10日 18:02到期)</span></div>",
        ),
        expect(
            "a javascript:// 'cloud link' on the right host is no cloud file (and never an href)",
            from_addr=ZHIDUI,
            section="支队",
            reviews=["no_material"],
            receipt_to=[ZHIDUI],
        ),
    ),
    (
        "21_terminal_escapes_in_name",
        eml(
            frm=SECTION,
            subject="材料",
            msgid="<h21@example.com>",
            parts=[attachment("说明\x1b]0;pwned\x07\x1b[2J\x1b[31m.pdf", doc("escapes"), "application/pdf")],
        ),
        expect(
            "terminal escape sequences in a file name are not printed by intake review",
            from_addr=ZHIDUI,
            section="支队",
            reviews=["needs_review"],
            receipt_to=[ZHIDUI],
        ),
    ),
    (
        "22_cve_section_replaces_current_file",
        eml(
            frm="zhidui@example.com <evil@evil.example>",
            subject="指标7-支队-监管情况说明",
            msgid="<h22@evil.example>",
            parts=[attachment("监管情况说明.docx", doc("7 forged"))],
            top=verified("evil@evil.example"),
        ),
        expect(
            "the display-name trick must not replace a section's current file",
            reviews=["sender_unverified"],
            assigned=[("7", "")],
        ),
    ),
    (
        "23_section_address_failing_dmarc",
        eml(
            frm=SECTION,
            subject="指标24",
            msgid="<h23@evil.example>",
            parts=[attachment("24-移送清单（修改稿）.pdf", doc("24 forged"))],
            top=mx("spf=fail smtp.mail=zhidui@example.com; dkim=none; dmarc=fail header.from=example.com"),
        ),
        expect(
            "the section's exact address, but our MX says the domain failed: not counted, not answered",
            from_addr=ZHIDUI,
            reviews=["sender_unverified"],
            assigned=[("24", "")],
        ),
    ),
    (
        "24_verified_coordinator_command",
        eml(
            frm=COORDINATOR,
            subject="确认 指标12 支队",
            msgid="<h24@example.com>",
            body="\n",
            top=verified("coordinator@example.com"),
        ),
        expect(
            "must keep working: a verified command from the coordinator runs at once",
            kind="command",
            from_addr="coordinator@example.com",
        ),
    ),
]


def main() -> None:
    for old in HERE.glob("*.eml"):
        old.unlink()
    for old in HERE.glob("*.expect.json"):
        old.unlink()
    for name, raw, expectation in CASES:
        (HERE / f"{name}.eml").write_bytes(raw)
        text = json.dumps(expectation, ensure_ascii=False, indent=2) + "\n"
        (HERE / f"{name}.expect.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
