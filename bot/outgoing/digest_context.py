"""The digest's context (进度汇总): where the campaign stands and what the coordinator should do.

Plain frozen values; ``bot.outgoing.digest_blocks`` builds them from the database, the templates
``templates/digest.txt|.html`` read nothing else. Datetimes are shown as given (the campaign's zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rules.material import is_web_link
from rules.progress import percent


@dataclass(frozen=True)
class ProgressLine:
    label: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)  # the rule `intake status` uses too


@dataclass(frozen=True)
class ArrivalLine:
    received_at: datetime
    sender: str
    section: str | None
    subject: str
    files: int
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class ReviewLine:
    id: int
    received_at: datetime
    sender: str
    filename: str | None
    reason: str
    candidates: tuple[str, ...]
    command: str = ""  # the mail command that resolves it, e.g. "指派 R1 办公室 50"


@dataclass(frozen=True)
class OwedItem:
    """An indicator a section still owes: its id and a short name."""

    id: str
    name: str


@dataclass(frozen=True)
class SectionProgress:
    """One section's bar and what it still owes."""

    progress: ProgressLine
    owed: tuple[OwedItem, ...]


@dataclass(frozen=True)
class ContentProblemLine:
    """A problem with a file that currently counts (a 情况说明 over its 字数, a possibly classified
    file, a section sending for an item it does not own), and the command that deals with it."""

    section: str
    indicators: tuple[str, ...]
    filename: str
    attachment_id: int
    detail: str
    command: str


@dataclass(frozen=True)
class ActivityLine:
    """One kind of change since the last digest (新文件, 新版本, 退回, 确认, 催报提醒, 发送失败...)."""

    label: str
    count: int
    lines: tuple[str, ...]  # the first few, as shown


@dataclass(frozen=True)
class DeclarationLine:
    indicator_id: str
    section: str
    source: str  # "mail" | "coordinator"
    created_at: datetime


@dataclass(frozen=True)
class OverdueLine:
    section: str
    outstanding: int
    days_overdue: int


@dataclass(frozen=True)
class CloudFileLine:
    filename: str
    sender: str
    url: str
    expires_at: datetime | None

    @property
    def linkable(self) -> bool:
        """Only http(s) is ever a link: ``javascript://fs.mail.163.com/...`` names the right host too."""
        return is_web_link(self.url)


@dataclass(frozen=True)
class LateLine:
    """An item whose material came after the deadline day ended (no on-time file covers it)."""

    section: str
    indicator_id: str
    name: str  # the indicator's short requirement
    received_at: datetime  # the first current file's arrival
    late: str  # "晚 2 天 3 小时" (rules.lateness.late_text)


@dataclass(frozen=True)
class ExpiredCloudLine:
    """A cloud link that expired before anyone fetched it: said once, with what to ask the section."""

    id: int  # C3
    section: str | None
    sender: str
    filename: str
    indicators: tuple[str, ...]
    expired_at: datetime


KIND_LABELS = {
    "receipt": "回执",
    "reminder": "催报提醒",
    "digest": "进度汇总",
    "command_reply": "指令回复",
    "return_notice": "退回通知",
}


@dataclass(frozen=True)
class FailedSendLine:
    kind: str
    recipients: tuple[str, ...]
    subject: str
    last_error: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class ErrorLine:
    received_at: datetime
    sender: str
    subject: str
    error: str
    where: str = ""  # how to find the mail: error_location()


def error_location(raw_path: str | None, folder: str | None, uid: int | None, message_id: str | None) -> str:
    """Where a mail that failed can be found, for the coordinator and the IT person: the stored .eml
    (``intake inspect`` reads it), and the IMAP folder and UID when it has no Message-ID to search by."""
    parts = [f"原始邮件：{raw_path}"] if raw_path else []
    if not message_id and folder is not None and uid is not None:
        parts.append(f"邮箱文件夹 {folder} 中 UID {uid}")
    elif message_id:
        parts.append(f"Message-ID {message_id}")
    return "；".join(parts)


@dataclass(frozen=True)
class DigestContext:
    """Each field is one block of the digest, built by one function (``bot.outgoing.digest_blocks``)
    and shown under one auto-numbered heading in each template: a new block is a new field, a new
    builder and a heading, with no renumbering."""

    campaign_title: str
    generated_at: datetime
    since: datetime | None  # the previous digest; None for the first one
    deadline: date
    days_left: int
    overall: ProgressLine
    denominator: str  # how the total is made up: "应报 57 = 64 项指标中需要材料的 53 项……"
    by_level1: tuple[ProgressLine, ...]
    by_section: tuple[SectionProgress, ...]
    review_queue: tuple[ReviewLine, ...]
    content_problems: tuple[ContentProblemLine, ...]
    activity: tuple[ActivityLine, ...]  # since the last digest
    arrivals: tuple[ArrivalLine, ...]
    declarations: tuple[DeclarationLine, ...]
    overdue_sections: tuple[OverdueLine, ...]
    cloud_expiring: tuple[CloudFileLine, ...]
    failed_sends: tuple[FailedSendLine, ...]
    errors: tuple[ErrorLine, ...]
    notices: tuple[str, ...] = ()  # configuration problems the coordinator should fix
    late: tuple[LateLine, ...] = ()  # 迟报: items covered only by files that came after the deadline
    cloud_expired: tuple[ExpiredCloudLine, ...] = ()  # expired unfetched since the last digest (once)
