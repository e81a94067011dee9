"""What every sender of outgoing mail shares: SMTP settings from the config, the From of our mail,
the signature, one ``flush_outbox`` for the CLI and the scheduler, and SMTP errors in Chinese.

Receipts, reminders and digests only *enqueue* (``bot.outgoing.outbox.enqueue``); sending is always this
module's ``flush_outbox``, so retries, pacing and failure handling live in one place (``bot.outgoing.outbox``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from bot.app import Deps
from bot.config import Config, SmtpConfig
from bot.outgoing.outbox import FlushReport, flush
from bot.outgoing.smtp import SmtpAuthError, SmtpError, SmtpPermanentError, SmtpSender, SmtpSettings

log = logging.getLogger(__name__)

_warned_unconfigured = False

def smtp_settings(smtp: SmtpConfig) -> SmtpSettings:
    """Settings for one connection. Reads the 授权码 now (a missing secret raises ``ConfigError``)."""
    return SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        ssl=smtp.ssl,
        from_addr=smtp.from_addr,
        username=smtp.username,
        password=smtp.password.reveal(),
        ca_file=str(smtp.ca_file) if smtp.ca_file is not None else None,
        timeout=smtp.timeout,
    )


def from_addr(config: Config) -> str:
    """The address our mail comes from: ``[smtp] from`` (163 requires it to equal the account), or the
    mailbox itself when ``[smtp]`` is missing (only for dry runs, which send nothing)."""
    return config.smtp.from_addr if config.smtp is not None else config.mailbox.username


def mail_domain(address: str) -> str:
    """The domain part used in our Message-IDs."""
    return address.rpartition("@")[2] or "localhost"


def signature(config: Config) -> str:
    """How our mail is signed: the coordinator's office (the templates name 法规科 as the office that
    checks submissions) and the coordinator's name."""
    return f"法规科 {config.coordinator.name}"


def warn_unconfigured_once(what: str) -> None:
    """Log, once per process, that mail is not produced because ``[smtp]`` is missing."""
    global _warned_unconfigured
    if not _warned_unconfigured:
        _warned_unconfigured = True
        log.info("no [smtp] section in the config: %s are not sent", what)  # the CLI says it in Chinese


def flush_outbox(
    deps: Deps,
    *,
    now: datetime | None = None,
    pace_seconds: float | None = None,
    sleep: Callable[[float], None] | None = None,
) -> FlushReport | None:
    """Send what is due in the outbox over one connection; None when ``[smtp]`` is not configured.

    Paced and batched as ``[smtp] pace_seconds`` and ``batch_size`` say (``pace_seconds`` here
    overrides the pace: the demo's local sink needs none).

    A missing 授权码 ends the flush like a refused login: nothing is sent, everything stays queued.
    """
    smtp = deps.config.smtp
    if smtp is None:
        warn_unconfigured_once("receipts, reminders and digests")
        return None
    when = now or deps.clock()

    def connect() -> SmtpSender:
        return SmtpSender(smtp_settings(smtp))

    def pause(seconds: float) -> None:
        deps.stopping.wait(seconds)  # a stop request ends the pause between two mails at once

    report = flush(
        deps.sessions,
        connect,
        now=when,
        pace_seconds=smtp.pace_seconds if pace_seconds is None else pace_seconds,
        batch_size=smtp.batch_size,
        sleep=sleep or pause,
        should_stop=deps.stopping.is_set,
    )
    if report.attempted or report.error:
        log.info(
            "outbox: sent %d, retry later %d, failed %d, left %d%s",
            report.sent,
            report.retry,
            report.failed,
            report.left,
            f" ({report.error})" if report.error else "",
        )
    return report


# -- errors in Chinese --------------------------------------------------------------------------

# "stage: 451 text" / "login as x: 535 text" (bot.outgoing.smtp's messages); never a port such as "host:465".
_CODE = re.compile(r":\s([245]\d\d)\b")


def explain_smtp_error(error: SmtpError | str, smtp: SmtpConfig | None = None) -> str:
    """A Chinese explanation of an SMTP failure, with what to do about it."""
    text = str(error)
    code = error.code if isinstance(error, SmtpError) else None
    if code is None:
        found = _CODE.search(text)
        code = int(found.group(1)) if found else None
    account = smtp.username if smtp is not None else "发信账号"
    if isinstance(error, SmtpAuthError) or code == 535:
        return (
            f"SMTP 登录失败（535）：{account} 的授权码错误或已失效。163 邮箱须使用“客户端授权码”而不是网页登录密码；"
            "重新生成授权码后旧的即失效，请同时更新环境变量中的授权码。"
        )
    if code == 553:
        return (
            "发信被拒（553）：发件人必须与登录账号一致。请把配置 [smtp] from 设为与 username 相同的地址"
            f"（当前账号：{account}）。"
        )
    if code == 554 and "DT:SPM" in text:
        return (
            "邮件被 163 判定为垃圾邮件（554 DT:SPM）：该邮件不会再自动发送；"
            "请调整内容或联系收件人后，用 intake send --retry-failed 重试。"
        )
    if code is not None and 400 <= code < 500:
        return f"服务器暂时拒收（{code}），稍后自动重试：{text}"
    if isinstance(error, SmtpPermanentError) and "certificate" in text:
        return f"SMTP 服务器证书校验失败：{text}。测试服务器请在 [smtp] ca_file 中指定 CA 证书。"
    if isinstance(error, SmtpPermanentError) and "STARTTLS" in text:
        return f"SMTP 服务器不支持 STARTTLS，为保护授权码已拒绝明文登录：{text}"
    if "refused" in text.lower() or "ConnectionRefused" in text:
        port = smtp.port if smtp is not None else 465
        return (
            f"无法连接 SMTP 服务器（连接被拒绝，端口 {port}）：请检查 [smtp] host/port；"
            "部分网络（如云服务器）封锁 25/465 端口，可向服务商申请解封，或改用 587 端口并设 ssl = false（STARTTLS）。"
        )
    if "timed out" in text.lower() or "Timeout" in text:
        return (
            "连接 SMTP 服务器超时：网络不通或端口被防火墙拦截（云服务器常封锁 465 端口）。"
            "邮件仍在发件队列中，网络恢复后会自动重发。"
        )
    if code is not None and code >= 500:
        return f"服务器拒收（{code}），不再重试，将在汇总中提示：{text}"
    return f"发送失败：{text}（邮件仍在发件队列中，稍后自动重试）"


def flush_summary(report: FlushReport | None) -> str:
    """One Chinese line about a flush, for the CLI."""
    if report is None:
        return "未配置 [smtp]：回执、提醒和汇总不会生成或发送。"
    if not report.attempted and not report.error:
        return "发件队列中没有待发送的邮件。"
    line = f"已发送 {report.sent} 封"
    if report.retry:
        line += f"，{report.retry} 封稍后重试"
    if report.failed:
        line += f"，{report.failed} 封发送失败（将在汇总中提示）"
    if report.left:
        line += f"，{report.left} 封留待下次发送"
    return line + "。"
