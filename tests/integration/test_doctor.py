"""``intake doctor`` against a real Dovecot and a real SMTP server: good and bad credentials, a closed
port, an untrusted self-signed certificate, a silent port, a missing secret, a missing folder."""

from __future__ import annotations

import argparse
import imaplib
import socket
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.commands import doctor as doctor_command
from bot.doctor import FAIL, OK, Check, imap_failure, run_checks
from bot.mailbox.errors import translate
from db.session import make_engine, upgrade
from tests.fixtures.smtpd import SmtpServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(
    tmp_path: Path,
    *,
    mailbox: dict[str, Any],
    smtp: dict[str, Any] | None,
    migrate: bool = True,
    deadline: date | None = None,
    sections: str = 'name = "支队"\nowners = ["刘建设 <zhidui@example.com>"]\nsenders = ["zhidui@example.com"]',
) -> Path:
    db = tmp_path / "intake.db"
    if migrate:
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        engine.dispose()
    tables: dict[str, dict[str, Any]] = {
        "campaign": {"name": "测试", "timezone": "Asia/Shanghai"},
        "mailbox": {"password_env": "DOCTOR_IMAP_CODE", "connect_timeout": 2, "read_timeout": 30, **mailbox},
        "storage": {"database": f"sqlite:///{db}", "files": str(tmp_path / "files")},
        "coordinator": {"name": "刘海利", "emails": ["coordinator@example.com"]},
    }
    if smtp is not None:
        tables["smtp"] = {"password_env": "DOCTOR_SMTP_CODE", "timeout": 3, **smtp}
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        if name == "campaign":
            lines.append(f"deadline = {(deadline or date.today() + timedelta(days=30)).isoformat()}")
        lines.extend(f"{key} = {_toml(value)}" for key, value in table.items())
        lines.append("")
    lines += ["[[sections]]", sections]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def by_step(checks: list[Check]) -> dict[tuple[str, str], Check]:
    return {(c.area, c.step): c for c in checks}


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == FAIL]


def run_command(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = doctor_command.run(argparse.Namespace(config=path))
    return code, capsys.readouterr().out


def check_once(path: Path) -> tuple[dict[tuple[str, str], Check], str]:
    """One doctor run (as the command makes it): checks by (area, step), and the printed text."""
    checks = run_checks(path)
    return by_step(checks), doctor_command.render(checks)


@pytest.fixture
def codes(monkeypatch: pytest.MonkeyPatch, dovecot: Any, smtpd_tls: SmtpServer) -> Iterator[tuple[Any, SmtpServer]]:
    monkeypatch.setenv("DOCTOR_IMAP_CODE", dovecot.password)
    monkeypatch.setenv("DOCTOR_SMTP_CODE", smtpd_tls.password)
    yield dovecot, smtpd_tls


def _imap(box: Any, **over: Any) -> dict[str, Any]:
    return {"host": box.host, "port": box.tls_port, "ssl": True, "ca_file": str(box.ca_file), "username": box.username,
            **over}  # fmt: skip


def _smtp(server: SmtpServer, **over: Any) -> dict[str, Any]:
    return {"host": server.host, "port": server.port, "ssl": True, "ca_file": server.ca_file,
            "username": server.username, "from": server.username, **over}  # fmt: skip


def test_all_good(tmp_path: Path, codes: tuple[Any, SmtpServer], capsys: pytest.CaptureFixture[str]) -> None:
    box, smtp = codes
    box.create_folder("垃圾邮件")
    path = write_config(tmp_path, mailbox=_imap(box, extra_folders=["垃圾邮件"]), smtp=_smtp(smtp))
    code, out = run_command(path, capsys)
    assert code == 0, out
    assert "✗" not in out
    expected = ["证书校验通过", f"{box.username} 登录成功", "打开文件夹 INBOX", "打开文件夹 垃圾邮件"]
    expected += ["未发送任何邮件", "已是最新", "可写", "全部通过"]
    for text in expected:
        assert text in out, text
    assert box.password not in out and smtp.password not in out
    assert smtp.messages == []  # doctor never sends
    assert "ID sent: name=intake" in box.log_text()


def test_deadline_in_the_past_and_sections_nobody_can_reach(
    tmp_path: Path, codes: tuple[Any, SmtpServer], capsys: pytest.CaptureFixture[str]
) -> None:
    """The template's 2021 deadline once passed with a ✓; sections without owners or senders were
    noticed only in the digest."""
    box, smtp = codes
    box.create_folder("垃圾邮件")
    mailbox = _imap(box, extra_folders=["垃圾邮件"])
    no_people = 'name = "支队"\nowners = []\nsenders = []'
    stale = write_config(tmp_path, mailbox=mailbox, smtp=_smtp(smtp), deadline=date(2021, 10, 28), sections=no_people)
    code, out = run_command(stale, capsys)
    assert code == 1
    assert "✗ 截止日期：2021-10-28，已过" in out and "多半沿用了模板或往年的日期" in out
    assert "逾期提醒" in out  # the fix says what a past deadline does
    assert "! 科室 支队：没有负责人（owners），收不到催报提醒；没有发件地址（senders）" in out
    assert "! 科室 法规科：没有 [[sections]] 配置段" in out
    assert "✓ 科室" not in out

    # Three days ago in the campaign's zone (Asia/Shanghai), as doctor counts: the machine's own date
    # differs from it for eight hours of each day.
    late = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=3)
    recent = write_config(tmp_path, mailbox=mailbox, smtp=_smtp(smtp), deadline=late)
    code, out = run_command(recent, capsys)
    assert code == 0, out  # a campaign a few days overdue is a warning, not a failure
    assert f"! 截止日期：{late.isoformat()}，已过 3 天" in out

    everyone = "\n\n[[sections]]\n".join(
        f'name = "{name}"\nowners = ["负责人 <s{n}@example.com>"]\nsenders = ["s{n}@example.com"]'
        for n, name in enumerate(("服务科", "人事科", "财审科", "支队", "法规科", "办公室", "综合科", "宣教科"))
    )
    good = write_config(tmp_path, mailbox=mailbox, smtp=_smtp(smtp), sections=everyone)
    code, out = run_command(good, capsys)
    assert code == 0 and "✓ 科室：8 个责任科室都配置了负责人和发件地址" in out
    assert "✓ 截止日期" in out


def test_closed_port(tmp_path: Path, codes: tuple[Any, SmtpServer], capsys: pytest.CaptureFixture[str]) -> None:
    box, smtp = codes
    closed = _free_port()
    path = write_config(tmp_path, mailbox=_imap(box, port=closed), smtp=_smtp(smtp, port=closed))
    code, _ = run_command(path, capsys)
    assert code == 1
    failed = failures(run_checks(path))
    assert [(c.area, c.step) for c in failed] == [
        ("IMAP", f"连接 127.0.0.1:{closed}"),
        ("SMTP", f"连接 127.0.0.1:{closed}"),
    ]
    assert all("连接被拒绝" in c.detail for c in failed)
    assert "imap.163.com:993" in failed[0].fix and "smtp.163.com:465" in failed[1].fix


def test_untrusted_self_signed_certificate(
    tmp_path: Path, codes: tuple[Any, SmtpServer], capsys: pytest.CaptureFixture[str]
) -> None:
    box, smtp = codes
    # IMAP: trust a CA that did not sign the certificate; SMTP: the system store only (self-signed).
    mailbox = _imap(box, ca_file=str(box.server.other_ca_file))
    smtp_table = _smtp(smtp)
    del smtp_table["ca_file"]
    path = write_config(tmp_path, mailbox=mailbox, smtp=smtp_table)
    checks, out = check_once(path)
    for area in ("IMAP", "SMTP"):
        tls = checks[(area, "TLS 证书")]
        assert tls.status == FAIL
        assert "证书未通过校验" in tls.detail
        assert "不要关闭证书校验" in tls.fix
        assert (area, "登录") not in checks  # no password goes to a server we cannot verify
    assert "用 ca_file 指定" in checks[("SMTP", "TLS 证书")].fix
    assert "不是签发该证书的 CA" in checks[("IMAP", "TLS 证书")].fix
    assert "证书未通过校验" in out


def test_plain_port_with_ssl_and_a_silent_port(
    tmp_path: Path, codes: tuple[Any, SmtpServer], capsys: pytest.CaptureFixture[str]
) -> None:
    box, smtp = codes
    with socket.socket() as silent:  # accepts connections (kernel backlog) and never answers: a blocked 465
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        path = write_config(tmp_path, mailbox=_imap(box, port=box.port), smtp=_smtp(smtp, port=port))
        checks = by_step(run_checks(path))
    imap_tls, smtp_tls = checks[("IMAP", "TLS 证书")], checks[("SMTP", "TLS 证书")]
    assert imap_tls.status == FAIL and "不是 TLS 端口" in imap_tls.detail and "993" in imap_tls.fix
    assert smtp_tls.status == FAIL and "超时" in smtp_tls.detail


def test_missing_secret_missing_folder_and_unmigrated_database(
    tmp_path: Path, codes: tuple[Any, SmtpServer], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    box, smtp = codes
    monkeypatch.delenv("DOCTOR_SMTP_CODE")
    path = write_config(tmp_path, mailbox=_imap(box, extra_folders=["不存在的文件夹"]), smtp=_smtp(smtp), migrate=False)
    checks, _ = check_once(path)
    secret = checks[("配置", "[smtp] 授权码")]
    assert secret.status == FAIL and "DOCTOR_SMTP_CODE" in secret.detail
    assert "/etc/intake/intake.env" in secret.fix and "0600" in secret.fix
    folder = checks[("IMAP", "打开文件夹 不存在的文件夹")]
    assert folder.status == FAIL and "INBOX" in folder.fix
    assert checks[("IMAP", "打开文件夹 INBOX")].status == OK
    db = checks[("数据库", "结构版本")]
    assert db.status == FAIL and "intake db upgrade" in db.fix


def test_unsafe_login_is_explained() -> None:
    # 163's answer to EXAMINE without ID; Dovecot never refuses, so the wording is checked on the error.
    error = translate(
        imaplib.IMAP4.error("EXAMINE command error: BAD [b'Unsafe Login. Please contact kefu@188.com for help']"),
        "select 'INBOX'",
        "imap.163.com",
        "jzhbjfzk@163.com",
    )
    check = imap_failure("打开文件夹 INBOX", error, "jzhbjfzk@163.com")
    assert check.status == FAIL and "Unsafe Login" in check.detail
    assert "ID" in check.fix and "kefu@188.com" in check.fix


def test_wrong_codes_explain_the_authorization_code(
    tmp_path: Path, codes: tuple[Any, SmtpServer], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    box, smtp = codes
    monkeypatch.setenv("DOCTOR_IMAP_CODE", "web-password-123")
    monkeypatch.setenv("DOCTOR_SMTP_CODE", "web-password-123")
    # Last in this file: Dovecot delays logins from an address after failures (auth penalty).
    path = write_config(tmp_path, mailbox=_imap(box), smtp=_smtp(smtp))
    checks, out = check_once(path)
    imap_login, smtp_login = checks[("IMAP", "登录")], checks[("SMTP", "登录")]
    assert imap_login.status == FAIL and "AUTHENTICATIONFAILED" in imap_login.detail
    assert smtp_login.status == FAIL and "535" in smtp_login.detail
    for check in (imap_login, smtp_login):
        assert "客户端授权码" in check.fix and "不是网页登录密码" in check.fix and "IMAP/SMTP服务" in check.fix
    assert "web-password-123" not in out
