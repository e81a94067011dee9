"""Run the whole bot once against the embedded servers, and say what happened.

``run_demo`` starts the servers (``bot.demo.servers``), writes a real ``config.toml`` (SQLite and the
file store in the demo folder, the 授权码 in a 0600 file as in production), delivers the sample mails,
and then calls the production functions in the order the scheduler does:

    poll_once -> flush_outbox (receipts) -> send_reminders -> send_digest -> export

with a fixed clock inside the campaign window, so reminders and the digest are due. Nothing in the
pipeline knows it runs in a demo: the only differences are the config's values, the clock and no
pause between mails (a local server has no sending quota). The clock is written into the demo's
config (``[campaign] clock``), so commands run later on a kept demo see the same day and not a
deadline years past. Every mail the demo server received is kept under ``mail/`` as the ``.eml``
it was and a ``.txt`` with its headers and text part, so receipts and reminders can be read.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.app import Deps, build
from bot.commands.poll import summary as poll_summary
from bot.commands.status import print_status
from bot.config import load_config
from bot.coordinator.export import export
from bot.coordinator.status import take_snapshot
from bot.demo.samples import COORDINATOR, MAILBOX, SECTIONS, Sample, demo_mails
from bot.demo.servers import ImapServer, SentMail, SmtpServer
from bot.demo.tls import make_tls
from bot.ingest.poll import PollReport, poll_once
from bot.ingest.storage import safe_name
from bot.outgoing.digest import send_digest, write_digest_html
from bot.outgoing.messages import KIND_HEADER
from bot.outgoing.outbox import FlushReport
from bot.outgoing.reminders import send_reminders
from bot.outgoing.sending import flush_outbox, flush_summary

TZ = ZoneInfo("Asia/Shanghai")
# Monday of the last week before the 28 October deadline: the 3-days-before reminder is due at 09:00,
# and the digest of the day before (17:30) has not been sent yet.
DEFAULT_NOW = datetime(2021, 10, 25, 9, 0, tzinfo=TZ)
DEADLINE = "2021-10-28"


@dataclass
class DemoResult:
    folder: Path
    config_path: Path
    delivered: int = 0
    poll: PollReport | None = None
    flushes: list[FlushReport] = field(default_factory=list)
    reminders: list[str] = field(default_factory=list)  # sections reminded
    digest_slot: str | None = None
    digest_html: Path | None = None
    export: Path | None = None
    sent: list[SentMail] = field(default_factory=list)
    mail_folder: Path | None = None  # every sent mail as .eml and .txt


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(
    folder: Path, *, imap: ImapServer, smtp: SmtpServer, ca_file: Path, secret_file: Path, now: datetime
) -> Path:
    """The demo's config.toml: the same keys as config.example.toml, pointing at the demo servers."""
    sections = "\n".join(
        f"[[sections]]\nname = {_toml_str(s.name)}\n"
        f"owners = [{_toml_str(f'{s.owner} <{s.address}>')}]\nsenders = [{_toml_str(s.address)}]\n"
        for s in SECTIONS
    )
    text = f"""\
# intake demo 配置：由 `intake demo` 生成，指向进程内的演示邮件服务器。格式与 config.example.toml 相同。

[campaign]
name = "焦作市生态环境局依法行政示范单位创建（演示）"
deadline = {DEADLINE}
timezone = "Asia/Shanghai"
clock = {now.isoformat()}   # 演示时钟：命令按此时刻计算提醒、汇总和逾期天数（正式配置中不要写这一行）

[mailbox]
host = "{imap.host}"
port = {imap.port}
ssl = true
ca_file = {_toml_str(str(ca_file))}      # 演示服务器的自签名 CA（生产环境不需要）
username = "{MAILBOX}"
password_file = {_toml_str(str(secret_file))}   # 授权码文件（0600），与生产环境相同
folder = "INBOX"
extra_folders = ["垃圾邮件"]
connect_timeout = 10
read_timeout = 30

[storage]
database = "sqlite:///data/intake.db"
files = "data/files"

[coordinator]
name = {_toml_str(COORDINATOR[0])}
emails = [{_toml_str(COORDINATOR[1])}]
digest_at = "17:30"

{sections}
[smtp]
host = "{smtp.host}"
port = {smtp.port}
ssl = true
ca_file = {_toml_str(str(ca_file))}
username = "{MAILBOX}"
password_file = {_toml_str(str(secret_file))}
from = "{MAILBOX}"
timeout = 30
pace_seconds = 0   # 本机演示服务器没有发信频率限制（163 请保持默认 3 秒）

[reminders]
days_before = [7, 3, 1]
overdue_every_days = 1
at = "09:00"

[receipts]
max_per_address_per_day = 10
max_age_hours = 720   # 演示：示例邮件分布在过去几周，仍逐封回执（正式配置默认 72 小时）
"""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _write_secret(folder: Path) -> tuple[Path, str]:
    code = secrets.token_urlsafe(12)
    path = folder / "secrets" / "mailbox.code"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.touch(mode=0o600)
    path.write_text(code + "\n", encoding="utf-8")
    return path, code


@dataclass
class _Run:
    """What each step works with."""

    deps: Deps
    now: datetime
    result: DemoResult
    out: Console

    def say(self, text: str) -> None:
        self.out.print(text, highlight=False)

    def flushed(self, report: FlushReport | None) -> FlushReport | None:
        if report is not None:
            self.result.flushes.append(report)
        return report


Step = Callable[[_Run], None]


def run_demo(folder: Path, *, now: datetime = DEFAULT_NOW, console: Console | None = None) -> DemoResult:
    """Everything ``intake demo`` does, in ``folder`` (created if needed). Servers are stopped and the
    database closed before this returns, also on failure."""
    out = console or Console()
    folder.mkdir(parents=True, exist_ok=True)
    tls = make_tls(folder / "tls")
    secret_file, code = _write_secret(folder)
    result = DemoResult(folder=folder, config_path=folder / "config.toml")
    with (
        ImapServer(MAILBOX, code, tls.server_context, tls.ca_file) as imap,
        SmtpServer(MAILBOX, code, tls.server_context) as smtp,
    ):
        out.print(
            f"[bold]1. 启动内置邮件服务器[/bold]：IMAP {imap.host}:{imap.port}、SMTP {smtp.host}:{smtp.port}"
            "（均为 TLS，证书由演示 CA 签发）"
        )
        write_config(folder, imap=imap, smtp=smtp, ca_file=tls.ca_file, secret_file=secret_file, now=now)
        out.print(f"[bold]2. 写入配置[/bold]：{result.config_path}（SQLite 数据库和文件存储都在该目录下）")
        samples = demo_mails()
        result.delivered = imap.deliver((m.folder, m.raw, m.received) for m in samples)
        _print_samples(out, samples)

        config = load_config(result.config_path)
        deps = build(config, clock=lambda: now)
        try:
            clock = f"{now.astimezone(TZ):%Y-%m-%d %H:%M}"
            out.print(f"[bold]4. 以生产环境的流程运行[/bold]（时钟固定为北京时间 {clock}，截止日期 {DEADLINE}）")
            run = _Run(deps, now, result, out)
            for step in STEPS:
                step(run)
            _print_status(out, deps)
        finally:
            deps.close()
        result.sent = smtp.messages
    result.mail_folder = save_sent(folder / "mail", result.sent)
    _print_sent(out, result.sent, result.mail_folder)
    return result


# -- the steps, in the scheduler's order ----------------------------------------------------------


# A local server has no sending quota: no pause between mails (production waits a few seconds).
PACE_SECONDS = 0.0


def _flush(run: _Run) -> str:
    return flush_summary(run.flushed(flush_outbox(run.deps, now=run.now, pace_seconds=PACE_SECONDS)))


def _poll(run: _Run) -> None:
    run.result.poll = poll_once(run.deps)
    run.say(f"   收取邮件（poll）：{poll_summary(run.result.poll)}")
    run.say(f"   发送回执：{_flush(run)}")


def _reminders(run: _Run) -> None:
    queued = send_reminders(run.deps, run.now, flush=False).queued
    run.result.reminders = [r.section for r in queued]
    names = "、".join(run.result.reminders) or "无"
    run.say(f"   催报提醒：{len(queued)} 个科室（{names}）；{_flush(run)}")


def _digest(run: _Run) -> None:
    slot = send_digest(run.deps, run.now, flush=False).slot
    run.result.digest_slot = slot.isoformat() if slot else None
    sent = _flush(run)
    run.result.digest_html = write_digest_html(run.deps, run.result.folder / "digest.html", run.now)
    run.say(f"   每日汇总（{run.result.digest_slot or '今日已发'}）：{sent}")
    run.say(f"   汇总 HTML 已写入：{run.result.digest_html}")


def _export(run: _Run) -> None:
    report = export(run.deps, run.result.folder / "export")
    run.result.export = report.root
    run.say(
        f"   导出（intake export）：{len(report.files)} 个文件、汇总表.xlsx 和 manifest.json 已写入 {report.root}；"
        f"仍缺 {len(report.missing)} 项（指标×科室）"
    )


STEPS: tuple[Step, ...] = (_poll, _reminders, _digest, _export)


# -- output ---------------------------------------------------------------------------------------


def _print_samples(out: Console, samples: list[Sample]) -> None:
    table = Table(title=f"3. 投递 {len(samples)} 封示例邮件到演示邮箱", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("文件夹")
    table.add_column("看点", overflow="fold")
    for n, sample in enumerate(samples, start=1):
        table.add_row(str(n), sample.folder, sample.note)
    out.print(table)


def _print_status(out: Console, deps: Deps) -> None:
    out.print("[bold]5. 报送状态[/bold]（即 `intake status` 的输出）")
    with deps.sessions() as s:
        print_status(take_snapshot(s, deps.catalogue, deps.config.campaign), None, out)


_KIND_NAMES = {
    "receipt": "回执",
    "reminder": "催报提醒",
    "digest": "进度汇总",
    "command_reply": "指令回复",
    "return_notice": "退回通知",
}


_HEADERS = (("发件人", "From"), ("收件人", "To"), ("抄送", "Cc"), ("日期", "Date"), ("主题", "Subject"))


def save_sent(folder: Path, sent: list[SentMail]) -> Path:
    """Each mail as ``NN-种类-收件人.eml`` (the bytes as sent) and ``.txt`` (headers and text part)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, mail in enumerate(sent, start=1):
        message = mail.message
        kind = _KIND_NAMES.get(str(message[KIND_HEADER] or ""), "邮件")
        to = mail.rcpt_tos[0].split("@")[0] if mail.rcpt_tos else "无收件人"
        stem = safe_name(f"{n:02d}-{kind}-{to}", 100)
        (folder / f"{stem}.eml").write_bytes(mail.data)
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        head = "\n".join(f"{label}：{message[name]}" for label, name in _HEADERS if message[name])
        (folder / f"{stem}.txt").write_text(f"{head}\n\n{text}", encoding="utf-8")
    return folder


def _print_sent(out: Console, sent: list[SentMail], folder: Path | None) -> None:
    title = f"6. 演示 SMTP 服务器收到的邮件（{len(sent)} 封）" + (f"，全文见 {folder}" if folder else "")
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("收件人", overflow="fold")
    table.add_column("主题", overflow="fold")
    for n, mail in enumerate(sent, start=1):
        message = mail.message
        shown = [addr for _name, addr in getaddresses([str(message["To"] or ""), str(message["Cc"] or "")]) if addr]
        table.add_row(str(n), "，".join(shown or list(mail.rcpt_tos)), Text(mail.subject))
    out.print(table)
