"""Doctor: IMAP login, the RFC 2971 ID 163 requires, and a read-only EXAMINE of every folder."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from imapclient import IMAPClient, SocketTimeout

from bot.config import Config, ConfigError
from bot.doctor.network import cert_fix, plain_warning, tcp_check, tls_check, tls_context
from bot.doctor.report import AUTH_FIX, FAIL, OK, SKIP, UNSAFE_LOGIN_FIX, WARN, Check, scrub
from bot.mailbox.errors import (
    ImapAuthError,
    ImapConnectionError,
    ImapError,
    ImapTlsError,
    ImapUnsafeLoginError,
    translate,
)

# -- IMAP -----------------------------------------------------------------------------------------


def check_imap(config: Config) -> list[Check]:
    m = config.mailbox
    area = "IMAP"
    service = "163 的 IMAP 为 imap.163.com:993（ssl = true）；若刚开通，确认网页版已开启 IMAP 服务。"
    checks = [tcp_check(area, m.host, m.port, m.connect_timeout, service)]
    if checks[-1].failed:
        return checks
    if m.ssl:
        checks.append(tls_check(area, m.host, m.port, m.ca_file, m.connect_timeout))
        if checks[-1].failed:
            return checks
    else:
        checks.append(plain_warning(area, m.port))
    try:
        password = m.password.reveal()
    except ConfigError as exc:
        return [*checks, Check(area, "登录", SKIP, f"无法读取授权码：{exc.problem}")]
    checks.extend(_imap_session(config, password))
    return [Check(c.area, c.step, c.status, scrub(c.detail, [password]), c.fix) for c in checks]


def _imap_session(config: Config, password: str) -> Iterator[Check]:
    m = config.mailbox
    area = "IMAP"
    try:
        client = IMAPClient(
            m.host,
            port=m.port,
            ssl=m.ssl,
            ssl_context=tls_context(m.ca_file) if m.ssl else None,
            timeout=SocketTimeout(connect=m.connect_timeout, read=m.read_timeout),
        )
    except Exception as exc:
        yield imap_failure("连接", translate(exc, "connect", m.host, m.username), m.username)
        return
    try:
        try:
            client.login(m.username, password)
        except Exception as exc:
            yield imap_failure("登录", translate(exc, "login", m.host, m.username), m.username)
            return
        yield Check(area, "登录", OK, f"{m.username} 登录成功")
        if client.has_capability("ID"):
            try:
                client.id_({"name": "intake", "vendor": "intake"})
            except Exception as exc:
                yield imap_failure("ID 命令", translate(exc, "ID", m.host, m.username), m.username)
                return
            yield Check(area, "ID 命令（RFC 2971）", OK, "已发送客户端标识（163 要求，否则报 Unsafe Login）")
        else:
            yield Check(area, "ID 命令（RFC 2971）", WARN, "服务器未声明 ID 能力，未发送", "163 以外的服务器可忽略。")
        for folder in m.folders:
            try:
                info = client.select_folder(folder, readonly=True)
            except Exception as exc:
                error = translate(exc, f"select {folder!r}", m.host, m.username)
                if isinstance(error, ImapUnsafeLoginError | ImapConnectionError):
                    yield imap_failure(f"打开文件夹 {folder}", error, m.username)
                    return
                yield Check(
                    area,
                    f"打开文件夹 {folder}",
                    FAIL,
                    f"无法打开：{error.server_text or error}",
                    _folder_fix(client, folder),
                )
                continue
            exists = info.get(b"EXISTS", "?")
            yield Check(
                area,
                f"打开文件夹 {folder}",
                OK,
                f"只读打开成功，{exists} 封邮件，UIDVALIDITY {info.get(b'UIDVALIDITY')}",
            )
    finally:
        with contextlib.suppress(Exception):
            client.logout()
        with contextlib.suppress(Exception):
            client.shutdown()


def _folder_fix(client: IMAPClient, folder: str) -> str:
    try:
        names = [name for _flags, _delim, name in client.list_folders()]
    except Exception:
        names = []
    listed = f"服务器上的文件夹：{'、'.join(str(n) for n in names)}。" if names else ""
    return f"检查 [mailbox] folder / extra_folders 中的“{folder}”是否写对。{listed}"


def imap_failure(step: str, error: ImapError, username: str) -> Check:
    text = error.server_text or str(error)
    if isinstance(error, ImapUnsafeLoginError):
        return Check("IMAP", step, FAIL, f"服务器拒绝：Unsafe Login（{text}）", UNSAFE_LOGIN_FIX)
    if isinstance(error, ImapAuthError):
        return Check("IMAP", step, FAIL, f"{username} 登录被拒绝（AUTHENTICATIONFAILED）：{text}", AUTH_FIX)
    if isinstance(error, ImapTlsError):
        return Check("IMAP", step, FAIL, f"证书校验失败：{text}", cert_fix(None))
    if isinstance(error, ImapConnectionError):
        return Check(
            "IMAP",
            step,
            FAIL,
            f"连接中断：{text}",
            "检查网络；163 偶尔断开空闲连接，重试一次。若反复出现，检查防火墙。",
        )
    return Check("IMAP", step, FAIL, f"失败：{text}", "见服务器给出的原因；如不明白，附上本输出联系维护者。")
