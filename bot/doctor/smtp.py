"""Doctor: SMTP connect, TLS and login through the sender intake uses; no mail is sent."""

from __future__ import annotations

from bot.config import Config, ConfigError
from bot.doctor.network import cert_fix, tcp_check, tls_check
from bot.doctor.report import AUTH_FIX, FAIL, OK, SKIP, WARN, Check, scrub
from bot.outgoing.smtp import SmtpAuthError, SmtpError, SmtpSender, SmtpSettings

# -- SMTP -----------------------------------------------------------------------------------------


def check_smtp(config: Config) -> list[Check]:
    t = config.smtp
    if t is None:
        return [Check("SMTP", "配置", SKIP, "未配置 [smtp]，跳过")]
    area = "SMTP"
    service = "163 的 SMTP 为 smtp.163.com:465（ssl = true）；云服务器常封锁 465 端口。"
    checks = [tcp_check(area, t.host, t.port, t.timeout, service)]
    if checks[-1].failed:
        return checks
    if t.ssl:
        checks.append(tls_check(area, t.host, t.port, t.ca_file, t.timeout))
        if checks[-1].failed:
            return checks
    try:
        password = t.password.reveal()
    except ConfigError as exc:
        return [*checks, Check(area, "登录", SKIP, f"无法读取授权码：{exc.problem}")]
    settings = SmtpSettings(
        host=t.host,
        port=t.port,
        ssl=t.ssl,
        from_addr=t.from_addr,
        username=t.username,
        password=password,
        ca_file=str(t.ca_file) if t.ca_file else None,
        timeout=t.timeout,
    )
    sender = SmtpSender(settings)
    try:
        sender.open()
    except SmtpAuthError as exc:
        checks.append(Check(area, "登录", FAIL, f"{t.username} 登录被拒绝（535）：{exc}", AUTH_FIX))
    except SmtpError as exc:
        checks.append(smtp_failure(str(exc)))
    else:
        sender.close()
        checks.append(Check(area, "登录", OK, f"{t.username} 登录成功（未发送任何邮件）"))
    if t.from_addr.lower() != t.username.lower():
        checks.append(
            Check(
                area,
                "发件人",
                WARN,
                f"from（{t.from_addr}）与登录账号（{t.username}）不同",
                "163 要求发件人与登录账号一致，否则报 553 Mail from must equal authorized user：把 from 改为登录账号。",
            )
        )
    return [Check(c.area, c.step, c.status, scrub(c.detail, [password]), c.fix) for c in checks]


def smtp_failure(text: str) -> Check:
    if "certificate" in text:
        return Check("SMTP", "TLS/登录", FAIL, f"证书校验失败：{text}", cert_fix(None))
    if "STARTTLS" in text:
        return Check(
            "SMTP",
            "TLS/登录",
            FAIL,
            f"服务器不支持 STARTTLS：{text}",
            "为保护授权码，intake 不在明文连接上登录。163 请用 465 端口并设 ssl = true。",
        )
    return Check("SMTP", "TLS/登录", FAIL, f"失败：{text}", "检查 host/port/ssl；若为超时，检查防火墙是否放行该端口。")
