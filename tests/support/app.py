"""Build a real app (config, database, storage) around a test mailbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from bot.app import Deps, build
from bot.config import Config, Secret, parse_config

SECTIONS = [
    {"name": "支队", "owners": ["刘建设 <zhidui@example.com>"], "senders": ["zhidui@example.com", "sjq@example.com"]},
    {"name": "法规科", "owners": ["刘海利 <fgk@example.com>"], "senders": ["fgk@example.com"]},
    {"name": "服务科", "owners": ["史凤云 <fwk@example.com>"], "senders": ["fwk@example.com"]},
    {"name": "财审科", "owners": ["薛飘 <csk@example.com>"], "senders": ["csk@example.com"]},
]


def config_for(
    tmp_path: Path,
    db_url: str,
    *,
    host: str,
    port: int,
    username: str,
    password: str,
    ssl: bool = False,
    ca_file: Path | None = None,
    extra_folders: list[str] | None = None,
    smtp: dict[str, Any] | None = None,
) -> Config:
    data: dict[str, Any] = {
        "campaign": {"name": "焦作市生态环境局依法行政示范单位创建", "deadline": date(2021, 10, 28)},
        "mailbox": {
            "host": host,
            "port": port,
            "ssl": ssl,
            "username": username,
            "password_env": "UNUSED_IN_TESTS",
            "extra_folders": extra_folders or [],
            "connect_timeout": 5,
            "read_timeout": 10,
        },
        "storage": {"database": db_url, "files": str(tmp_path / "files")},
        "coordinator": {"name": "刘海利", "emails": ["coordinator@example.com"], "authserv_ids": ["mx*"]},
        "sections": SECTIONS,
    }
    if ca_file is not None:
        data["mailbox"]["ca_file"] = str(ca_file)
    smtp_password = ""
    if smtp is not None:
        smtp = dict(smtp)
        smtp_password = smtp.pop("_password", "")
        data["smtp"] = {"password_env": "UNUSED_IN_TESTS", **smtp}
    cfg = parse_config(data, tmp_path / "config.toml")
    cfg = replace(cfg, mailbox=replace(cfg.mailbox, password=Secret("test", "mailbox.password_env", value=password)))
    if cfg.smtp is not None and smtp is not None:
        cfg = replace(cfg, smtp=replace(cfg.smtp, password=Secret("test", "smtp.password_env", value=smtp_password)))
    return cfg


def app_for(tmp_path: Path, db_url: str, mailbox: Any, **kw: Any) -> Deps:
    """``mailbox`` is the dovecot fixture's per-test account."""
    cfg = config_for(
        tmp_path,
        db_url,
        host=mailbox.host,
        port=mailbox.port,
        username=mailbox.username,
        password=mailbox.password,
        **kw,
    )
    return build(cfg)


def write_config_file(path: Path, dovecot: Any, files: Path, db: Path) -> None:
    """A real config.toml for subprocess/CLI tests; the password comes from INTAKE_TEST_IMAP_PASSWORD."""
    sections = "\n".join(
        f'[[sections]]\nname = "{s["name"]}"\nowners = {s["owners"]!r}\nsenders = {s["senders"]!r}\n'.replace("'", '"')
        for s in SECTIONS
    )
    path.write_text(
        f"""
[campaign]
name = "测试"
deadline = 2021-10-28

[mailbox]
host = "{dovecot.host}"
port = {dovecot.port}
ssl = false
username = "{dovecot.username}"
password_env = "INTAKE_TEST_IMAP_PASSWORD"

[storage]
database = "sqlite:///{db}"
files = "{files}"

[coordinator]
name = "刘海利"
emails = ["coordinator@example.com"]

{sections}
""",
        encoding="utf-8",
    )
