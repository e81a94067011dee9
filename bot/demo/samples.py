"""Sample mails for ``intake demo``: what the bureau's mailbox really receives in a week.

Each sample is assembled the way its client sends it (Foxmail's GB2312 labels on GBK text, 163
webmail's GBK bodies and ``Re:Re:``, QQ Mail's gb18030, Thunderbird's RFC 2231 names, a zip made on
Chinese Windows with GBK member names, a forwarded mail), with the messy subjects people write:
``指标12``, ``第十二项``, ``【37】``, ``24、26项``, full-width ``１～４``. Also an auto-reply, a sender
nobody registered, a ``无材料`` declaration, a file nobody named, and a mail filed as spam.

Addresses are under example.com (RFC 2606); the content of every file is generated.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

CRLF = b"\r\n"
CST = timezone(timedelta(hours=8), "CST")
MAILBOX = "jzhbjfzk@163.com"


@dataclass(frozen=True)
class DemoSection:
    name: str
    owner: str  # display name of the person reminded
    address: str


# The bureau's eight sections (names as in the checklist), each with one owner who also sends.
SECTIONS: tuple[DemoSection, ...] = (
    DemoSection("支队", "刘建设", "zhidui@example.com"),
    DemoSection("法规科", "刘海利", "fagui@example.com"),
    DemoSection("服务科", "史凤云", "fuwuke@example.com"),
    DemoSection("财审科", "薛飘", "caishen@example.com"),
    DemoSection("办公室", "王丽", "bangongshi@example.com"),
    DemoSection("综合科", "王喆", "zonghe@example.com"),
    DemoSection("宣教科", "李玥", "xuanjiao@example.com"),
    DemoSection("人事科", "赵敏", "renshi@example.com"),
)
COORDINATOR = ("刘海利", "coordinator@example.com")
UNKNOWN_SENDER = "zhangsan1988@qq.com"


@dataclass(frozen=True)
class Sample:
    folder: str
    raw: bytes
    received: datetime  # INTERNALDATE: when the server got it
    note: str  # what the sample shows, in Chinese, for the demo's output


def _addr(section: str) -> tuple[str, str]:
    s = next(x for x in SECTIONS if x.name == section)
    return s.owner, s.address


def _payload(label: str, kind: str = "pdf", size: int = 1200) -> bytes:
    heads = {
        "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(24),
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }
    seed = hashlib.sha256(label.encode()).digest()
    return heads[kind] + (seed * (size // 32 + 1))[: max(0, size - len(heads[kind]))]


_SENTENCES = (
    "我科室认真贯彻落实依法行政工作要求，结合工作实际制定了具体措施。",
    "一是健全制度，明确责任分工和工作流程；二是加强培训，提高执法人员的法治素养。",
    "三是强化监督，定期开展案卷评查和专项检查，发现问题及时整改。",
    "通过以上措施，相关工作取得明显成效，群众满意度持续提升。",
)


def _docx(title: str, chars: int) -> bytes:
    """A real Word document of about ``chars`` 字, so validation counts it as WPS/Word would."""
    from docx import Document  # python-docx, a runtime dependency (validation reads .docx)

    doc = Document()
    doc.add_heading(title, level=1)
    written = 0
    n = 0
    while written < chars:
        sentence = _SENTENCES[n % len(_SENTENCES)]
        doc.add_paragraph(sentence)
        written += len(sentence)
        n += 1
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _pdf(label: str) -> bytes:
    """A small valid PDF (one page of Latin text: scanned-style Chinese PDFs carry no text either)."""
    text = f"Demo scan {label}".encode("ascii")
    stream = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(n).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root 1 0 R >>\n"
    out += b"startxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return bytes(out)


def _b64(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def _word(text: str, label: str, codec: str | None = None) -> bytes:
    return b"=?" + label.encode() + b"?B?" + base64.b64encode(text.encode(codec or label)) + b"?="


def _at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2021, 10, day, hour, minute, tzinfo=CST)


def _stdlib(
    section_or_sender: str,
    subject: str,
    files: list[tuple[str, bytes, str]],
    when: datetime,
    body: str,
    *,
    headers: dict[str, str] | None = None,
    name: str | None = None,
) -> bytes:
    """Thunderbird/Apple Mail/Python style: UTF-8, RFC 2231 file names."""
    if "@" in section_or_sender:
        display, address = name or "", section_or_sender
    else:
        display, address = _addr(section_or_sender)
    msg = EmailMessage()
    msg["From"] = f"{display} <{address}>" if display else address
    msg["To"] = MAILBOX
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    digest = hashlib.sha256(f"{address}{subject}{when}".encode()).hexdigest()[:16]
    msg["Message-ID"] = f"<{digest}@{address.split('@')[1]}>"
    msg["User-Agent"] = "Mozilla/5.0 Thunderbird/91.2.0"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    for filename, data, mime in files:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def _foxmail(section: str, subject: str, filename: str, data: bytes, when: datetime, body: str, mid: str) -> bytes:
    """Foxmail: everything labelled GB2312, text encoded as GBK (names like 镕 and 堃 need it)."""
    display, address = _addr(section)
    return CRLF.join(
        [
            b"Date: " + format_datetime(when).encode(),
            b'From: "' + _word(display, "GB2312", "gbk") + b'" <' + address.encode() + b">",
            b'To: "jzhbjfzk" <' + MAILBOX.encode() + b">",
            b"Subject: " + _word(subject, "GB2312", "gbk"),
            b"X-Mailer: Foxmail 7.2.23.121[cn]",
            b"Mime-Version: 1.0",
            b"Message-ID: <" + mid.encode() + b"@example.com>",
            b'Content-Type: multipart/mixed;\r\n\tboundary="----=_001_NextPart_demo_=----"',
            b"",
            b"This is a multi-part message in MIME format.",
            b"",
            b"------=_001_NextPart_demo_=----",
            b'Content-Type: text/plain;\r\n\tcharset="GB2312"',
            b"Content-Transfer-Encoding: base64",
            b"",
            _b64(body.encode("gbk")),
            b"",
            b"------=_001_NextPart_demo_=----",
            b'Content-Type: application/octet-stream;\r\n\tname="' + _word(filename, "GB2312", "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b'Content-Disposition: attachment;\r\n\tfilename="' + _word(filename, "GB2312", "gbk") + b'"',
            b"",
            _b64(data),
            b"",
            b"------=_001_NextPart_demo_=------",
            b"",
        ]
    )


def _coremail(section: str, subject: str, filename: str, data: bytes, when: datetime, body: str, mid: str) -> bytes:
    """163 webmail (Coremail): GBK in base64, ``Re:Re:`` without spaces."""
    display, address = _addr(section)
    gbk = base64.b64encode(filename.encode("gbk"))
    return CRLF.join(
        [
            b"Date: " + format_datetime(when).encode() + b" (CST)",
            b"From: " + _word(display, "GBK", "gbk") + b" <" + address.encode() + b">",
            b"To: " + MAILBOX.encode(),
            b"Subject: " + _word(subject, "GBK", "gbk"),
            b"X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20210622(1d4788a8)",
            b'Content-Type: multipart/mixed; \r\n\tboundary="----=_Part_demo_1634800811432"',
            b"MIME-Version: 1.0",
            b"Message-ID: <" + mid.encode() + b".Coremail.example.com>",
            b"",
            b"------=_Part_demo_1634800811432",
            b"Content-Type: text/plain; charset=GBK",
            b"Content-Transfer-Encoding: base64",
            b"",
            _b64(body.encode("gbk")),
            b"------=_Part_demo_1634800811432",
            b'Content-Type: application/vnd.ms-excel; name="=?GBK?B?' + gbk + b'?="',
            b"Content-Transfer-Encoding: base64",
            b'Content-Disposition: attachment; filename="=?GBK?B?' + gbk + b'?="',
            b"",
            _b64(data),
            b"------=_Part_demo_1634800811432--",
            b"",
        ]
    )


class _GbkZipInfo(zipfile.ZipInfo):
    """A member whose name is written as GBK bytes without the UTF-8 flag (bit 11), as Windows'
    "send to compressed folder" does on a Chinese system; zipfile itself would write UTF-8."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def _gbk_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = _GbkZipInfo(name, date_time=(2021, 10, 21, 16, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def _forwarded(section: str, inner_subject: str, filename: str, data: bytes, when: datetime) -> bytes:
    """A mail forwarded as an attachment (message/rfc822) that carries the material inside."""
    display, address = _addr(section)
    inner = CRLF.join(
        [
            b"Date: " + format_datetime(when - timedelta(days=2)).encode(),
            b'From: "' + _word("财务股", "GB2312", "gbk") + b'" <caiwugu@example.com>',
            b"To: " + address.encode(),
            b"Subject: " + _word(inner_subject, "GB2312", "gbk"),
            b"Message-ID: <inner-demo-forward@example.com>",
            b"Mime-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="----=_inner"',
            b"",
            b"------=_inner",
            b'Content-Type: text/plain; charset="GB2312"',
            b"Content-Transfer-Encoding: base64",
            b"",
            _b64("预算执行情况说明见附件，请转报法规科。".encode("gbk")),
            b"",
            b"------=_inner",
            b'Content-Type: application/pdf; name="' + _word(filename, "GB2312", "gbk") + b'"',
            b'Content-Disposition: attachment; filename="' + _word(filename, "GB2312", "gbk") + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            _b64(data),
            b"",
            b"------=_inner--",
            b"",
        ]
    )
    return CRLF.join(
        [
            b"Date: " + format_datetime(when).encode(),
            b'From: "' + _word(display, "GB2312", "gbk") + b'" <' + address.encode() + b">",
            b"To: " + MAILBOX.encode(),
            b"Subject: " + _word("转发：" + inner_subject, "GB2312", "gbk"),
            b"Message-ID: <demo-forward-outer@example.com>",
            b"X-Mailer: Foxmail 7.2.23.121[cn]",
            b"Mime-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="----=_outer"',
            b"",
            b"------=_outer",
            b'Content-Type: text/plain; charset="GB2312"',
            b"Content-Transfer-Encoding: base64",
            b"",
            _b64("转发财务股的材料，请查收。".encode("gbk")),
            b"",
            b"------=_outer",
            b"Content-Type: message/rfc822",
            b"Content-Disposition: attachment",
            b"",
            inner,
            b"------=_outer--",
            b"",
        ]
    )


PDF, DOCX, XLSX, ZIP, PNG = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/zip",
    "image/png",
)


def demo_mails() -> list[Sample]:
    """The demo mailbox, in arrival order (= UID order)."""
    f12 = "指标12-涉企收费清理情况说明.docx"
    fuwuke_zip = _gbk_zip(
        {
            "服务科材料/1 取消非行政许可审批事项情况说明.docx": _docx("取消非行政许可审批事项情况说明", 380),
            "服务科材料/2 网上可办率情况说明.docx": _docx("政务服务事项网上可办率情况说明", 640),
            "服务科材料/3 证明事项清单.xlsx": _payload("3", "doc"),
            "服务科材料/4 告知承诺制清单截图.png": _payload("4", "png"),
        }
    )
    return [
        Sample("INBOX", _stdlib("支队", "指标12 涉企收费清理情况",
                                [(f12, _docx("涉企收费、摊派事项和评比达标活动清理情况说明", 400), DOCX)],
                                _at(18, 9, 12),
                                "刘科长：\n  支队指标12的材料见附件。\n刘建设\n"),
               _at(18, 9, 12), "主题“指标12”，文件名也带编号"),
        Sample("INBOX", _foxmail("支队", "【37】行政调解统计-王堃", "行政调解统计分析.docx",
                                 _docx("行政调解统计分析", 300), _at(19, 10, 5),
                                 "附件是行政调解的统计分析。\r\n王堃\r\n", "20211019100500123"),
               _at(19, 10, 5), "Foxmail：GB2312 标注的 GBK 文字（堃），主题“【37】”"),
        Sample("INBOX", _stdlib("支队", "24、26项材料",
                                [("24 行刑衔接案件移送清单.xlsx", _payload("24", "doc"), XLSX),
                                 ("26 执法决定公示情况.pdf", _pdf("26"), PDF)], _at(19, 15, 40),
                                "两项材料，文件名前是指标编号。\n"),
               _at(19, 15, 40), "一封信两项“24、26项”，按文件名分开"),
        Sample("INBOX", _stdlib("服务科", "指标１～４材料（服务科）", [("服务科材料.zip", fuwuke_zip, ZIP)],
                                _at(20, 11, 2), "四项材料打包在压缩包里。\n史凤云\n"),
               _at(20, 11, 2), "全角数字“１～４”；中文 Windows 打的 GBK 压缩包"),
        Sample("INBOX", _forwarded("财审科", "指标6 2020年度预算执行情况", "指标6 2020年度预算情况说明.pdf",
                                   _pdf("6"), _at(20, 16, 30)),
               _at(20, 16, 30), "转发的邮件（message/rfc822），材料在被转发的信里"),
        Sample("INBOX", _stdlib("支队", "指标39 无材料", [], _at(21, 8, 50),
                                "法规科：\n  指标39 本部门不涉及，无材料。\n"),
               _at(21, 8, 50), "“无材料”声明"),
        Sample("INBOX", _stdlib("办公室", "自动回复: 关于报送依法行政示范创建材料的通知", [], _at(21, 9, 0),
                                "您好，我已休假，10月25日返回，回来后尽快回复。\n",
                                headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}),
               _at(21, 9, 0), "自动回复：不回执，不计入"),
        Sample("INBOX", _coremail("综合科", "Re:Re:第十九项 重大行政决策事项目录", "第十九项-重大行政决策事项目录.xls",
                                  _docx("重大行政决策事项目录", 200), _at(21, 15, 20),
                                  "第十九项材料见附件。\r\n\r\n综合科 王喆", "3f1e2d4c.7a8b.17ca1b2c3d4"),
               _at(21, 15, 20), "163 网页版：GBK 正文，“Re:Re:第十九项”"),
        Sample("INBOX", _stdlib(UNKNOWN_SENDER, "指标50 政务公开",
                                [("依申请公开统计.xlsx", _payload("50", "doc"), XLSX)], _at(22, 10, 15),
                                "帮办公室转一下材料。\n", name="张三"),
               _at(22, 10, 15), "未登记的发件人：文件收下，交协调人确认科室"),
        Sample("INBOX", _stdlib("法规科", "材料", [("新建 Microsoft Word 文档.docx", _docx("说明", 120), DOCX)],
                                _at(22, 14, 0), "材料见附件。\n"),
               _at(22, 14, 0), "主题和文件名都没写指标：待人工确认"),
        Sample("INBOX", _stdlib("法规科", "42、43项材料",
                                [("42 建议提案办理情况.docx", _docx("建议提案办理情况说明", 420), DOCX),
                                 ("43 行政诉讼情况.docx", _docx("行政诉讼情况说明", 350), DOCX)], _at(22, 16, 45),
                                "42、43两项材料。\n"),
               _at(22, 16, 45), "“42、43项”，中文文件名"),
        Sample("垃圾邮件", _stdlib("宣教科", "【47】媒体曝光核实情况",
                                [("媒体曝光核实情况说明.docx", _docx("媒体曝光违法行政行为核实情况说明", 330), DOCX)],
                                _at(23, 9, 30),
                                "材料见附件。\n李玥\n"),
               _at(23, 9, 30), "被 163 判为垃圾邮件的科室来信（也读“垃圾邮件”文件夹）"),
        Sample("INBOX", _stdlib("支队", "第十二项（修改稿）",
                                [(f12, _docx("涉企收费、摊派事项和评比达标活动清理情况说明（修改稿）", 420), DOCX)],
                                _at(24, 17, 5),
                                "指标12材料有修改，以此为准。\n"),
               _at(24, 17, 5), "“第十二项”：同名文件重发，记为第 2 版"),
    ]  # fmt: skip
