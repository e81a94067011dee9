"""Build realistic incoming mails for pipeline tests (the odd client encodings live in tests/corpus)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tests.support.zips import make_zip


def submission(
    subject: str,
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    *,
    sender: str = "zhidui@example.com",
    name: str = "刘建设",
    to: str = "jzhbjfzk@163.com",
    body: str = "法规科：\n  附件是我科室的材料，请查收。\n",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
    mx_auth: str | None = None,
    from_header: str | None = None,
) -> bytes:
    """``mx_auth``: the results our receiving MX stamps on top (``spf=pass ...``), as Coremail does
    below its own Received line; ``from_header``: a From written as is (hostile forms)."""
    msg = EmailMessage()
    if mx_auth is not None:
        msg["Received"] = "from mail.example.com (unknown [192.0.2.7]) by mx19 (Coremail) with SMTP id x; Wed"
        msg["Authentication-Results"] = f"mx19; {mx_auth}"
    msg["From"] = from_header if from_header is not None else f"{name} <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2021, 10, 20, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    for filename, data in attachments:
        maintype, subtype = _guess(filename)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def verified(sender: str) -> str:
    """What the MX writes for a mail whose From domain passed SPF and DKIM (Coremail's spelling)."""
    return f"spf=pass smtp.mail={sender}; dkim=pass header.i=@{sender.rpartition('@')[2]}"


def _guess(filename: str) -> tuple[str, str]:
    ext = filename.rsplit(".", 1)[-1].lower()
    return {
        "pdf": ("application", "pdf"),
        "docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "doc": ("application", "msword"),
        "zip": ("application", "zip"),
        "jpg": ("image", "jpeg"),
        "png": ("image", "png"),
        "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    }.get(ext, ("application", "octet-stream"))


def gbk_zip(members: dict[str, bytes]) -> bytes:
    """A zip as Chinese Windows makes it: GBK member names, no UTF-8 flag."""
    return make_zip([(name.encode("gbk"), data) for name, data in members.items()])


def auto_reply(to_subject: str, sender: str = "zhidui@example.com") -> bytes:
    return submission(
        f"自动回复: {to_subject}",
        sender=sender,
        body="您好，我已休假，回来后尽快回复。",
        headers={"Auto-Submitted": "auto-replied"},
    )


def doc(text: str) -> bytes:
    """Stand-in file content (tests compare hashes, not formats)."""
    return ("%PDF-1.4\n" + text + "\n%%EOF\n").encode("utf-8")
