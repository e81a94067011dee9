"""TOML -> Config: every table and key checked, unknown keys refused, errors in Chinese naming the key."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.model import (
    CampaignConfig,
    Config,
    ConfigError,
    CoordinatorConfig,
    MailboxConfig,
    ReceiptsConfig,
    RemindersConfig,
    Secret,
    SectionConfig,
    SmtpConfig,
    StorageConfig,
    os_reason,
)
from rules.catalogue import CatalogueError, load_catalogue
from rules.suggest import unknown_section

T = TypeVar("T")

_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class _Reader:
    """Typed access to one TOML table, naming ``table.key`` in every error."""

    def __init__(self, path: Path, table: Mapping[str, Any], prefix: str, known: set[str]) -> None:
        self.path, self.table, self.prefix = path, table, prefix
        unknown = sorted(set(table) - known)
        if unknown:
            usable = "、".join(sorted(known - {"password"}))  # "password" is known only to be refused
            raise ConfigError(path, self.key(unknown[0]), f"未知的配置项（可用：{usable}）")

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def err(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), problem)

    def get(self, name: str, kind: type[T], default: T | None = None, *, required: bool = True) -> T:
        if name not in self.table:
            if default is not None or not required:
                return default  # type: ignore[return-value]
            raise self.err(name, "缺少此项")
        value = self.table[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.err(name, f"类型应为 {_TYPE_NAMES.get(kind, kind.__name__)}，实际为 {value!r}")
        return value

    def path_value(self, name: str, *, required: bool = False) -> Path | None:
        raw = self.get(name, str, required=required)
        if raw is None:
            return None
        p = Path(raw).expanduser()
        return p if p.is_absolute() else (self.path.parent / p)

    def email(self, name: str, value: str) -> str:
        addr = parseaddr(value)[1] or value
        if not _EMAIL_RE.match(addr):
            raise self.err(name, f"不是有效的邮箱地址：{value!r}")
        return addr.lower()

    def clock(self, name: str, default: str) -> time:
        raw = self.get(name, str, default)
        try:
            hh, mm = raw.split(":")
            return time(int(hh), int(mm))
        except ValueError:
            raise self.err(name, f"时间格式应为 HH:MM，实际为 {raw!r}") from None

    def secret(self) -> Secret:
        if "password" in self.table:
            raise self.err("password", "不要把授权码写在配置文件里；请用 password_env（环境变量名）或 password_file")
        env = self.get("password_env", str, required=False)
        file = self.path_value("password_file")
        if env is None and file is None:
            raise self.err("password_env", "缺少此项（或改用 password_file）")
        return Secret(str(self.path), self.key("password_env" if env else "password_file"), env=env, file=file)


_TYPE_NAMES = {
    str: "字符串",
    int: "整数",
    float: "数字",
    bool: "true/false",
    list: "列表",
    dict: "表",
    date: "日期（例如 2025-06-30）",
    datetime: "日期时间（例如 2021-10-25T09:00:00+08:00）",
}


def _table(path: Path, data: Mapping[str, Any], name: str, *, required: bool = True) -> Mapping[str, Any]:
    value = data.get(name)
    if value is None:
        if required:
            raise ConfigError(path, f"[{name}]", "缺少此配置段")
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(path, f"[{name}]", "应为配置段（表）")
    return value


def _list_of(r: _Reader, name: str, item: Callable[[str], str], default: list[str] | None = None) -> tuple[str, ...]:
    values = r.get(name, list, default if default is not None else None)
    if values is None:
        return ()
    out = []
    for v in values:
        if not isinstance(v, str):
            raise r.err(name, f"列表中应为字符串，实际为 {v!r}")
        out.append(item(v))
    return tuple(out)


def parse_config(data: Mapping[str, Any], path: Path) -> Config:
    top_known = {"campaign", "mailbox", "storage", "coordinator", "sections", "smtp", "reminders", "receipts"}
    unknown = sorted(set(data) - top_known)
    if unknown:
        raise ConfigError(path, unknown[0], f"未知的配置段（可用：{'、'.join(sorted(top_known))}）")

    c = _Reader(
        path, _table(path, data, "campaign"), "campaign", {"name", "deadline", "timezone", "catalogue", "clock"}
    )
    tz_name = c.get("timezone", str, "Asia/Shanghai")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise c.err("timezone", f"未知时区 {tz_name!r}（例如 Asia/Shanghai）") from None
    deadline = c.get("deadline", date)
    if isinstance(deadline, datetime):
        raise c.err("deadline", f"应为日期（例如 2025-06-30），不带时间，实际为 {deadline}")
    clock = c.get("clock", datetime, required=False)
    if clock is not None and clock.tzinfo is None:
        clock = clock.replace(tzinfo=ZoneInfo(tz_name))
    campaign = CampaignConfig(c.get("name", str), deadline, tz_name, c.path_value("catalogue"), clock)
    responsible = _responsible_sections(path, campaign.catalogue)

    m = _Reader(
        path,
        _table(path, data, "mailbox"),
        "mailbox",
        {
            "host",
            "port",
            "ssl",
            "ca_file",
            "username",
            "password_env",
            "password_file",
            "password",
            "folder",
            "extra_folders",
            "poll_minutes",
            "connect_timeout",
            "read_timeout",
            "workers",
        },
    )
    ssl = m.get("ssl", bool, True)
    mailbox = MailboxConfig(
        host=m.get("host", str),
        port=_port(m, "port", 993 if ssl else 143),
        ssl=ssl,
        ca_file=m.path_value("ca_file"),
        username=m.get("username", str),
        password=m.secret(),
        folder=m.get("folder", str, "INBOX"),
        extra_folders=_list_of(m, "extra_folders", str, []),
        poll_minutes=_positive(m, "poll_minutes", 5),
        connect_timeout=m.get("connect_timeout", float, 20.0),
        read_timeout=m.get("read_timeout", float, 120.0),
        workers=_non_negative(m, "workers", 0),
    )

    s = _Reader(path, _table(path, data, "storage"), "storage", {"database", "files"})
    database = s.get("database", str)
    if database.startswith("sqlite:///") and not database.startswith("sqlite:////"):
        rel = database.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            database = "sqlite:///" + str((path.parent / rel).resolve())
    files = s.path_value("files", required=True)
    assert files is not None
    storage = StorageConfig(database, files)

    co = _Reader(
        path,
        _table(path, data, "coordinator"),
        "coordinator",
        {"name", "emails", "digest_at", "require_auth_pass", "authserv_ids"},
    )
    coordinator = CoordinatorConfig(
        name=co.get("name", str),
        emails=_list_of(co, "emails", lambda v: co.email("emails", v)),
        digest_at=co.clock("digest_at", "17:30"),
        require_auth_pass=co.get("require_auth_pass", bool, True),
        authserv_ids=_list_of(co, "authserv_ids", lambda v: _authserv_id(co, v), []),
    )
    if not coordinator.emails:
        raise co.err("emails", "至少需要一个协调人邮箱")

    raw_sections = data.get("sections", [])
    if not isinstance(raw_sections, list):
        raise ConfigError(path, "[[sections]]", "应为 [[sections]] 数组")
    sections: list[SectionConfig] = []
    seen_senders: dict[str, str] = {}
    for n, raw in enumerate(raw_sections):
        if not isinstance(raw, Mapping):
            raise ConfigError(path, f"sections[{n}]", "应为表")
        r = _Reader(path, raw, f"sections[{n}]", {"name", "owners", "senders"})
        name = r.get("name", str)
        if name not in responsible:
            # A name the checklist does not know would never be owed anything nor reminded.
            raise r.err("name", unknown_section(name, responsible) + "（name 须与指标清单中的责任单位一致）")
        if any(s.name == name for s in sections):
            raise r.err("name", f"科室“{name}”出现了两次；同一科室的多个地址写在同一段的 owners/senders 中")
        owners = tuple(_owner(r, v) for v in r.get("owners", list, []))
        senders = _list_of(r, "senders", lambda v, r=r: r.email("senders", v), [])  # type: ignore[misc]
        for addr in senders:
            if addr in seen_senders:
                raise r.err("senders", f"{addr} 同时属于 {seen_senders[addr]} 和 {name}")
            seen_senders[addr] = name
        sections.append(SectionConfig(name, owners, senders))

    smtp: SmtpConfig | None = None
    if "smtp" in data:
        t = _Reader(
            path,
            _table(path, data, "smtp"),
            "smtp",
            {
                "host",
                "port",
                "ssl",
                "ca_file",
                "username",
                "password_env",
                "password_file",
                "password",
                "from",
                "timeout",
                "pace_seconds",
                "batch_size",
            },
        )
        smtp_ssl = t.get("ssl", bool, True)
        username = t.get("username", str)
        smtp = SmtpConfig(
            host=t.get("host", str),
            port=_port(t, "port", 465 if smtp_ssl else 587),
            ssl=smtp_ssl,
            ca_file=t.path_value("ca_file"),
            username=username,
            password=t.secret(),
            from_addr=t.email("from", t.get("from", str, username)),
            timeout=t.get("timeout", float, 60.0),
            pace_seconds=_non_negative_float(t, "pace_seconds", 3.0),
            batch_size=_positive(t, "batch_size", 40),
        )

    rm = _Reader(
        path, _table(path, data, "reminders", required=False), "reminders", {"days_before", "overdue_every_days", "at"}
    )
    days_before = rm.get("days_before", list, [7, 3, 1])
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in days_before):
        raise rm.err("days_before", f"应为非负整数列表，实际为 {days_before!r}")
    reminders = RemindersConfig(
        days_before=tuple(sorted(set(days_before), reverse=True)),
        overdue_every_days=_positive(rm, "overdue_every_days", 1),
        at=rm.clock("at", "09:00"),
    )
    rc = _Reader(
        path,
        _table(path, data, "receipts", required=False),
        "receipts",
        {"max_per_address_per_day", "max_stranger_receipts_per_day", "max_age_hours"},
    )
    receipts = ReceiptsConfig(
        _positive(rc, "max_per_address_per_day", 10),
        _non_negative(rc, "max_stranger_receipts_per_day", 20),
        _positive(rc, "max_age_hours", 72),
    )
    return Config(path, campaign, mailbox, storage, coordinator, tuple(sections), smtp, reminders, receipts)


def _responsible_sections(path: Path, catalogue: Path | None) -> tuple[str, ...]:
    """The checklist's 责任单位: the only names ``[[sections]]`` may use."""
    try:
        return load_catalogue(catalogue).sections
    except (CatalogueError, OSError) as exc:
        raise ConfigError(path, "campaign.catalogue", f"指标清单无法读取：{exc}") from None


def _port(r: _Reader, name: str, default: int) -> int:
    port = r.get(name, int, default)
    if not 0 < port < 65536:
        raise r.err(name, f"端口应在 1–65535 之间，实际为 {port}")
    return port


def _positive(r: _Reader, name: str, default: int) -> int:
    value = r.get(name, int, default)
    if value <= 0:
        raise r.err(name, f"应为正整数，实际为 {value}")
    return value


def _non_negative_float(r: _Reader, name: str, default: float) -> float:
    value = r.get(name, float, default)
    if value < 0:
        raise r.err(name, f"应为非负数（秒），实际为 {value}")
    return value


def _non_negative(r: _Reader, name: str, default: int) -> int:
    value = r.get(name, int, default)
    if value < 0:
        raise r.err(name, f"应为非负整数，实际为 {value}")
    return value


# An authserv-id is a domain-like name (RFC 8601 2.5); "*", "?" and "[...]" make it a glob pattern.
_AUTHSERV = re.compile(r"^[A-Za-z0-9*?\[\]!._-]+$")


def _authserv_id(r: _Reader, value: str) -> str:
    pattern = value.strip().lower()
    if not _AUTHSERV.match(pattern) or pattern.strip("*?.") == "":
        raise r.err("authserv_ids", f"应为收件服务器名称或通配模式（例如 \"mx*\"），实际为 {value!r}")
    return pattern


def _owner(r: _Reader, value: object) -> tuple[str, str]:
    if not isinstance(value, str):
        raise r.err("owners", f'应为 "姓名 <邮箱>" 字符串，实际为 {value!r}')
    name, addr = parseaddr(value)
    return name, r.email("owners", addr or value)


def load_config(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, "(文件)", f"无法读取：{os_reason(exc)}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "(文件)", "不是 UTF-8 编码") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(语法)", toml_error(str(exc))) from None
    return parse_config(data, path)


def default_config_path() -> Path:
    return Path(os.environ.get("INTAKE_CONFIG", "config.toml"))


# tomllib's messages (Python 3.11-3.13), in Chinese; the position is kept, an unknown message is
# reported by its position only.
_TOML_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"Expected '=' after a key in a key/value pair", "键后面缺少“=”"),
    (r"Expected ']' at the end of a table declaration", "配置段名后面缺少“]”"),
    (r"Expected ']]' at the end of an array declaration", "[[…]] 后面缺少“]]”"),
    (r"Expected newline or end of document after a statement", "一行只能写一项（值后面有多余的内容）"),
    (r"Invalid date or datetime", "日期或时间格式不对（例如 2025-06-30）"),
    (r"Invalid value", "值的格式不对（字符串要加英文双引号，例如 \"支队\"）"),
    (r"Invalid initial character for a key part", "键名的开头字符不合法"),
    (r"Invalid statement", "无法识别的写法"),
    (r"Unclosed array", "列表缺少结尾的“]”"),
    (r"Unclosed inline table", "内联表缺少结尾的“}”"),
    (r"Unterminated string", "字符串缺少结尾的引号"),
    (r"Cannot declare .* twice", "同一个配置段或键写了两次"),
    (r"Cannot overwrite a value", "同一个键写了两次"),
    (r"Cannot (?:mutate|redefine) .*", "与前面已定义的配置段冲突"),
    (r"Duplicate inline table key .*", "内联表中有重复的键"),
    (r"Illegal character '\\n'", "字符串缺少结尾的引号（一个字符串不能跨行）"),
    (r"Illegal character .*|Found invalid character .*", "有不允许的字符（全角引号、等号或控制字符？）"),
    (r"Unescaped '\\\\' in a string", "字符串中的反斜杠须写成 \\\\"),
    (r"Invalid hex value|Escaped character is not a Unicode scalar value", "字符串中的转义写法不对"),
    (r"Expected .*", "缺少应有的符号"),
)


def toml_error(message: str) -> str:
    """tomllib's English message -> "TOML 语法错误（第3行第5列）：键后面缺少“=”"."""
    where, text = "", message
    position = re.search(r"\((?:at line (\d+), column (\d+)|at end of document)\)$", message)
    if position is not None:
        where = f"（第{position.group(1)}行第{position.group(2)}列）" if position.group(1) else "（文件末尾）"
        text = message[: position.start()].strip()
    for pattern, chinese in _TOML_MESSAGES:
        if re.fullmatch(pattern, text):
            return f"TOML 语法错误{where}：{chinese}"
    return f"TOML 语法错误{where}"
