"""One pass over a parsed MIME tree: which leaves are the body, which are files a person sees as
attached, and which are left out (with the reason).

- Unnamed ``text/plain`` / ``text/html`` leaves not marked as attachments are the body; a named text
  part is a file even when it is shown inline (Thunderbird and Outlook list it as an attachment).
- An image with a Content-ID or Content-Location is a picture of the HTML body only when an HTML part
  of the same message refers to it (``cid:`` or its location); otherwise it is a file the sender
  attached (a mail that is only a photo). The decision waits until the message's HTML is known.
- A uuencoded part is always a file, named by its ``begin`` line when the headers give no name.
- A forwarded mail (``message/rfc822``) is walked on its own, its files marked ``forwarded``.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import unquote

from bot.mime.charsets import decode_filename, decode_header_value, decode_text, decode_undeclared
from bot.mime.mail import DecodedText, Material, Skipped
from bot.mime.payload import Spool, decoded_bytes, feed, header_text, spool_part, transfer_encoding
from bot.mime.transfer import UUENCODE_NAMES

MAX_DEPTH = 100  # MIME nesting deeper than this is not read (hostile mail)

_SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
_ASCII = frozenset({"us-ascii", "ascii"})
_BLANK = 16  # a nameless part of at most this many bytes, all white space, is empty
# The stdlib parser's structural defects (email.errors), as the coordinator reads them.
_STRUCTURE_DEFECTS = {
    "StartBoundaryNotFoundDefect": "找不到分隔线（boundary），该部分未能拆开",
    "CloseBoundaryNotFoundDefect": "缺少结束分隔线，邮件可能被截断",
    "NoBoundaryInMultipartDefect": "声明为多部分（multipart）却没有分隔线",
    "MultipartInvariantViolationDefect": "声明为多部分（multipart）却没有子部分",
    "InvalidMultipartContentTransferEncodingDefect": "多部分（multipart）声明了不允许的传输编码",
    "FirstHeaderLineIsContinuationDefect": "第一行邮件头以空白开头",
    "MisplacedEnvelopeHeaderDefect": "邮件头中间出现了信封行（From ）",
    "MissingHeaderBodySeparatorDefect": "邮件头中有无法识别的行，其后内容按正文读取",
    "InvalidBase64PaddingDefect": "base64 填充错误",
    "InvalidBase64CharactersDefect": "base64 中有非法字符",
}
_CID_REF = re.compile(r"cid:([^\"'\s>)]+)", re.IGNORECASE)
_URL_REF = re.compile(r"""(?:src|background|href)\s*=\s*["']?([^"'\s>]+)|url\(\s*["']?([^"')\s]+)""", re.IGNORECASE)


@dataclass
class _Pending:
    """An image that is either a picture of the HTML body or an attached file."""

    part: Message
    index: int  # where in ``materials`` it goes if it is a file (keeps MIME order)
    name: DecodedText | None
    content_id: str
    location: str
    origin: str
    container: str | None


@dataclass
class Walk:
    """What one pass over one message collects; ``finish()`` once the message has been visited."""

    spool: Spool
    hint: str | None = None  # a charset the mail declares (for undeclared 8-bit names and text)
    materials: list[Material] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    forwarded_bodies: list[tuple[list[str], str]] = field(default_factory=list)  # (html parts, text)
    unnamed: int = 0
    pending: list[_Pending] = field(default_factory=list)

    def visit(self, part: Message, origin: str, container: str | None, depth: int = 0) -> None:
        self._note_defects(part)
        if depth > MAX_DEPTH:
            self.defects.append(f"MIME 结构嵌套超过 {MAX_DEPTH} 层，更深的部分未读取")
            return
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self._forwarded(part, depth)
        elif part.is_multipart():
            # multipart/*, and message/* subtypes other than rfc822 (delivery-status: header blocks).
            # Asked without get_payload(): on a leaf of 8-bit text it decodes with the charset
            # parameter, and a NUL in that raises ValueError where the stdlib expects LookupError.
            if ctype.startswith("multipart/"):
                for sub in part.get_payload():
                    if isinstance(sub, Message):
                        self.visit(sub, origin, container, depth + 1)
                self._epilogue(part, origin, container, depth)
        else:
            try:
                self._leaf(part, ctype, origin, container)
            except (ValueError, LookupError) as exc:  # binascii.Error is a ValueError
                self.defects.append(f"{part.get_content_type()} 部分无法读取：{exc}")

    def finish(self) -> None:
        """Decide the pending images: pictures the HTML shows are skipped, the rest are files."""
        if not self.pending:
            return
        cids, locations = _html_references(self.htmls)
        files: list[tuple[int, Material]] = []
        for pending in self.pending:
            shown = (pending.content_id and pending.content_id.lower() in cids) or (
                pending.location and _location_shown(pending.location, locations)
            )
            if shown:
                label = pending.name.text if pending.name else pending.content_id or pending.location
                self.skipped.append(Skipped(label, "inline-image"))
                continue
            try:
                material = self._spooled(pending.part, pending.name, pending.origin, pending.container)
            except (ValueError, LookupError) as exc:
                self.defects.append(f"{pending.part.get_content_type()} 部分无法读取：{exc}")
                continue
            if material is not None:
                files.append((pending.index, material))
        for index, material in reversed(files):  # from the back, so earlier positions stay valid
            self.materials.insert(index, material)
        self.pending.clear()

    def _epilogue(self, part: Message, origin: str, container: str | None, depth: int) -> None:
        """Parts after the closing delimiter. A nested multipart that reuses its parent's boundary
        (Outlook Express for Mac) closes the parent early, and the parts after it land in the
        epilogue, where no mail client would leave an attachment the sender sees."""
        epilogue = part.epilogue
        if not epilogue or "--" not in epilogue:
            return
        boundary = part.get_boundary()
        if not boundary:
            return
        delimiter = re.compile(rf"^--{re.escape(boundary)}[ \t]*\r?$", re.MULTILINE)
        if not delimiter.search(epilogue):
            return
        header = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        rest = feed([(header + epilogue).encode("ascii", "surrogateescape")], self.spool)
        parts = rest.get_payload()
        if isinstance(parts, list) and parts:
            self.defects.append("结束分隔线之后还有邮件部分（子部分重复使用了外层的分隔线），已一并读取")
            for sub in parts:
                if isinstance(sub, Message):
                    self.visit(sub, origin, container, depth + 1)

    def _note_defects(self, part: Message) -> None:
        for defect in part.defects:
            kind = type(defect).__name__
            self.defects.append(f"{part.get_content_type()} 部分：{_STRUCTURE_DEFECTS.get(kind, kind)}")

    def _forwarded(self, part: Message, depth: int) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        encoding = transfer_encoding(part)
        if isinstance(inner, Message) and encoding in ("base64", "quoted-printable") and not inner.keys():
            # RFC 2046 5.2.1 forbids encoding message/rfc822, some clients do it anyway: the parser then
            # sees a header-less message whose body is the encoded mail.
            inner = feed([decoded_bytes(inner, encoding)], self.spool)
        elif not isinstance(inner, Message):
            inner = feed([decoded_bytes(part)], self.spool)
        subject = decode_header_value(_raw_header(inner, "subject") or "", self.hint).text.strip() or None
        nested = Walk(self.spool, self.hint)
        nested.visit(inner, "forwarded", subject, depth + 1)
        nested.finish()
        self.materials.extend(nested.materials)
        self.skipped.extend(nested.skipped)
        self.defects.extend(nested.defects)
        self.forwarded_bodies.append((nested.htmls, "\n".join(nested.texts)))
        self.forwarded_bodies.extend(nested.forwarded_bodies)

    def _leaf(self, part: Message, ctype: str, origin: str, container: str | None) -> None:
        maintype = ctype.split("/", 1)[0]
        disposition = part.get_content_disposition()
        charset = part.get_content_charset()
        declared = charset if charset and charset not in _ASCII else None
        self.hint = self.hint or declared
        name = decode_filename(part, declared or self.hint)  # the part's own charset first (RFC 2045 5.1)
        encoding = transfer_encoding(part)
        if maintype == "text" and disposition != "attachment" and name is None and encoding not in UUENCODE_NAMES:
            if ctype in ("text/plain", "text/html"):
                text, clean = decode_text(decoded_bytes(part, encoding), charset, self.hint)
                if not clean:
                    label = charset or "未声明"
                    self.defects.append(f"{ctype} 正文不是所声明的字符集（{label}），无法识别的字节已替换")
                (self.texts if ctype == "text/plain" else self.htmls).append(text)
            return
        content_id = header_text(part, "content-id").strip().strip("<>")
        location = header_text(part, "content-location").strip()
        if maintype == "image" and (content_id or location) and disposition != "attachment":
            self.pending.append(_Pending(part, len(self.materials), name, content_id, location, origin, container))
            return
        if ctype in _SIGNATURE_TYPES:
            self.skipped.append(Skipped(name.text if name else content_id or ctype, "signature"))
            return
        material = self._spooled(part, name, origin, container, encoding)
        if material is not None:
            self.materials.append(material)

    def _spooled(
        self, part: Message, name: DecodedText | None, origin: str, container: str | None, encoding: str | None = None
    ) -> Material | None:
        """The part as a material, spooled to its file; None for a nameless part with no bytes."""
        ctype = part.get_content_type()
        spooled = spool_part(part, self.spool.workdir, encoding)
        if name is None and spooled.inner_name:
            name = decode_undeclared(spooled.inner_name, self.hint)
        if name is None and spooled.size <= _BLANK and not spooled.path.read_bytes().strip():
            # Nothing to see: no name and no bytes (a multipart without a body, an empty part). Its
            # file stays: content-addressed, it may be another material's too.
            self.skipped.append(Skipped(ctype, "empty-part"))
            return None
        if name is None:
            self.unnamed += 1
            name = DecodedText(f"未命名附件{_letters(self.unnamed)}{mimetypes.guess_extension(ctype) or '.bin'}")
        elif name.undecodable:
            self.defects.append(f"文件名无法按任何字符集解码，已保留原始字节：{name.text}")
        if spooled.damage:
            self.defects.append(f"附件“{name.text}”的传输编码已损坏（{spooled.damage}），内容可能与原文件不同")
        return Material(name, spooled.path, spooled.size, spooled.sha256, ctype, origin, container, spooled.damage)


def _letters(n: int) -> str:
    """"", "-b", "-c" ... "-aa": a nameless part's name must not read as a number (指标1)."""
    if n <= 1:
        return ""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("a") + rest) + out
    return f"-{out}"


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _html_references(htmls: list[str]) -> tuple[set[str], set[str]]:
    """The Content-IDs (``cid:`` URLs, RFC 2392) and the other URLs the HTML parts refer to."""
    cids: set[str] = set()
    urls: set[str] = set()
    for html in htmls:
        if "cid:" in html or "CID:" in html:
            cids.update(unquote(m).strip("<>").lower() for m in _CID_REF.findall(html))
        for src, css in _URL_REF.findall(html):
            urls.add((src or css).strip())
    return cids, urls


def _location_shown(location: str, urls: set[str]) -> bool:
    """Whether an HTML part refers to ``location`` (RFC 2557: absolute, or relative to the same base)."""
    if location in urls:
        return True
    return any(url and (location.endswith("/" + url) or url.endswith("/" + location)) for url in urls)
