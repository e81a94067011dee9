"""The decoded form of one incoming mail, as the parser hands it to the pipeline.

Payloads are never held here: every material is already spooled to a file on disk (``path``), so a
large attachment costs disk, not memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

_SYNTHESIZED_SUFFIX = ".missing@intake>"


def synthesized_message_id(raw_sha256: str) -> str:
    """The Message-ID given to a mail that has none: derived from its bytes, so the same mail always
    gets the same one, and recognisable by ``genuine_message_id``."""
    return f"<{raw_sha256}{_SYNTHESIZED_SUFFIX}"


def genuine_message_id(message_id: str | None) -> str | None:
    """The Message-ID the sender's client wrote, or None when the mail had none (the one notion of
    "no Message-ID": a synthesized id is never threaded under nor used as the sender's identity)."""
    if not message_id or message_id.endswith(_SYNTHESIZED_SUFFIX):
        return None
    return message_id


@dataclass(frozen=True)
class DecodedText:
    """A header value after decoding. When no charset fits, ``text`` is a readable placeholder built
    from the escaped bytes and ``raw`` keeps the original bytes, so a later decoder can try again."""

    text: str
    raw: bytes | None = None  # set only when decoding failed

    @property
    def undecodable(self) -> bool:
        return self.raw is not None


@dataclass(frozen=True)
class Material:
    """One file that may be evidence: an attachment, a zip member, a forwarded mail's attachment, or a
    file inside winmail.dat."""

    filename: DecodedText
    path: Path  # spooled payload (temporary, owned by the caller of parse)
    size: int
    sha256: str
    content_type: str
    origin: str  # "attachment" | "zip" | "forwarded" | "tnef"
    container: str | None = None  # name of the zip / forwarded subject / winmail.dat it came from
    # Why the stored bytes may not be the file the sender attached, when the parser knows: a damaged
    # transfer encoding ("base64-truncated", "base64-invalid", "qp-invalid", "uuencode-invalid",
    # "uuencode-truncated"; bot.mime.transfer says what each means).
    # Such a file is kept and shown to the coordinator, never counted as material or exported.
    damage: str | None = None


@dataclass(frozen=True)
class CloudLink:
    """A 超大附件 / cloud-drive file announced in the body instead of attached."""

    filename: str
    url: str
    provider: str  # "163" | "qq" | "kdocs" | "other"
    size_text: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Skipped:
    """A part or archive member that was deliberately not taken as material, and why."""

    name: str
    reason: str  # e.g. "inline-image", "macosx-metadata", "zip-bomb", "lock-file", "path-escape"


@dataclass
class IncomingMail:
    message_id: str  # as in the header, with <>; synthesized "<sha256.missing@intake>" when absent
    subject: DecodedText
    from_addr: str  # lower-cased address, "" when absent or unreliable (see sender_doubt)
    from_name: str  # decoded display name; the whole decoded header when the address is unreliable
    to_addrs: tuple[str, ...]
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    body_text: str  # plain text (HTML converted when there is no text part)
    body_html: str | None
    headers: dict[str, str]  # lower-cased names -> decoded values of the headers the rules look at
    content_type: str  # top-level type, e.g. "multipart/report"
    materials: list[Material] = field(default_factory=list)
    cloud_links: list[CloudLink] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)  # decoding problems worth telling a human
    # Why the From header cannot be relied on (a rules.sender doubt code; from_addr is then ""), or None.
    sender_doubt: str | None = None
