"""The configuration as frozen dataclasses, and the error that names the file and the key."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo


class ConfigError(ValueError):
    """A configuration problem; ``str()`` is a Chinese message naming file and key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        super().__init__(f"配置文件 {path}：{key}：{problem}")


@dataclass(frozen=True)
class Secret:
    """Where a password comes from. ``repr`` never shows the value."""

    config_path: str
    key: str  # e.g. "mailbox.password_env"
    env: str | None = None
    file: Path | None = None
    value: str | None = field(default=None, repr=False)  # only for programmatic use (demo, tests)

    def reveal(self) -> str:
        if self.value is not None:
            return self.value
        if self.env is not None:
            got = os.environ.get(self.env)
            if not got:
                raise ConfigError(self.config_path, self.key, f"环境变量 {self.env} 未设置或为空（应填写邮箱授权码）")
            return got
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    self.config_path, self.key, f"无法读取密码文件 {self.file}：{os_reason(exc)}"
                ) from exc
        raise ConfigError(self.config_path, self.key, "未配置密码来源（password_env 或 password_file）")


@dataclass(frozen=True)
class CampaignConfig:
    name: str
    deadline: date
    timezone: str
    catalogue: Path | None
    clock: datetime | None = None  # a fixed "now" for demos and training (`intake demo --keep`); never in production

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    ssl: bool
    ca_file: Path | None
    username: str
    password: Secret
    folder: str
    extra_folders: tuple[str, ...]
    poll_minutes: int
    connect_timeout: float
    read_timeout: float
    workers: int = 0  # processes that read mails in parallel; 0: one per core, at most 4

    @property
    def folders(self) -> tuple[str, ...]:
        return (self.folder, *self.extra_folders)


@dataclass(frozen=True)
class StorageConfig:
    database: str
    files: Path


@dataclass(frozen=True)
class CoordinatorConfig:
    name: str
    emails: tuple[str, ...]
    digest_at: time
    # true: a mailed command runs at once only when our receiving server verified the From domain, else
    # the coordinator confirms it with a mailed one-time code; false: the address alone (unsafe).
    require_auth_pass: bool = True
    # Which Authentication-Results are our receiving server's (names or glob patterns, e.g. "mx*" on 163).
    authserv_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectionConfig:
    name: str
    owners: tuple[tuple[str, str], ...]  # (display name, address)
    senders: tuple[str, ...]  # lower-cased addresses


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    ssl: bool
    ca_file: Path | None
    username: str
    password: Secret
    from_addr: str
    timeout: float
    pace_seconds: float = 3.0  # pause between two mails of one connection (163 throttles fast senders)
    batch_size: int = 40  # mails per connection and flush (163: "MI:DMC" when one carries too many)


@dataclass(frozen=True)
class RemindersConfig:
    days_before: tuple[int, ...]
    overdue_every_days: int
    at: time


@dataclass(frozen=True)
class ReceiptsConfig:
    max_per_address_per_day: int
    max_stranger_receipts_per_day: int = 20  # receipts a day, all together, to addresses in no section
    max_age_hours: int = 72  # mail that arrived longer ago gets no receipt (a backlog on the first poll)


@dataclass(frozen=True)
class Config:
    path: Path
    campaign: CampaignConfig
    mailbox: MailboxConfig
    storage: StorageConfig
    coordinator: CoordinatorConfig
    sections: tuple[SectionConfig, ...]
    smtp: SmtpConfig | None
    reminders: RemindersConfig
    receipts: ReceiptsConfig

    def section_of(self, address: str) -> str | None:
        """The section whose ``senders`` include ``address`` (case-insensitive), else None."""
        return section_of(self.sections, address)

    def section(self, name: str) -> SectionConfig | None:
        return next((s for s in self.sections if s.name == name), None)


def section_of(sections: Iterable[SectionConfig], address: str) -> str | None:
    """The first of ``sections`` whose ``senders`` include ``address`` (case-insensitive), else None."""
    addr = address.strip().lower()
    for s in sections:
        if addr in s.senders:
            return s.name
    return None


def os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    if isinstance(exc, PermissionError):
        return "没有读取权限（配置文件须对运行 intake 的用户可读）"
    if isinstance(exc, IsADirectoryError):
        return "这是一个目录，不是文件"
    return exc.strerror or str(exc)
