"""``intake doctor``: check every outside thing the bot depends on, and say in Chinese how to fix each.

The checks, in order (a failed step skips the steps that need it):

- config: the file loads (``bot.config.load_config``), the 授权码 can be read (env var or 0600 file);
- IMAP: TCP connect -> TLS handshake with certificate verification -> LOGIN -> RFC 2971 ID ->
  EXAMINE of every configured folder (read-only, as the poll does);
- SMTP: TCP connect -> TLS -> login through ``bot.outgoing.smtp.SmtpSender``; no mail is sent;
- database: reachable, and migrated to the newest revision;
- storage: the file folder is writable and has free space;
- clock: the machine's time is plausible and synchronised; the campaign's time zone.

Each ``Check`` carries what was found and, when something is wrong, the fix, with what 163 does in
each case (MAIL-FACTS.md): the service switch in the web settings, the 授权码 instead of the web
password, "Unsafe Login" without ID, port 465/993 blocked by a firewall, certificate problems.
Secrets are never printed: messages go through ``_scrub`` and database URLs hide the password.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from imapclient import IMAPClient, SocketTimeout
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Config, ConfigError, Secret, load_config
from bot.mailbox.errors import (
    ImapAuthError,
    ImapConnectionError,
    ImapError,
    ImapTlsError,
    ImapUnsafeLoginError,
    translate,
)
from bot.outgoing.smtp import SmtpAuthError, SmtpError, SmtpSender, SmtpSettings
from db.session import current_revision, head_revision, make_engine

FREE_SPACE_FAIL = 200 * 1024 * 1024  # below this the next big attachment may not fit
FREE_SPACE_WARN = 2 * 1024 * 1024 * 1024

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass(frozen=True)
class Check:
    area: str  # "配置", "IMAP", "SMTP", "数据库", "存储", "时钟"
    step: str  # what was checked, e.g. "登录"
    status: str  # ok | warn | fail | skip
    detail: str  # what was found
    fix: str = ""  # what to do about it (for warn and fail)

    @property
    def failed(self) -> bool:
        return self.status == FAIL


SERVICE_SWITCH = "163 网页版 → 设置 → POP3/SMTP/IMAP：开启“IMAP/SMTP服务”，按提示用手机验证后得到“客户端授权码”"
AUTH_FIX = (
    "1）确认已开启 IMAP/SMTP 服务（" + SERVICE_SWITCH + "）；"
    "2）密码处填写“客户端授权码”，不是网页登录密码；"
    "3）重新生成授权码后旧的立即失效，IMAP 和 SMTP 共用同一个授权码，请同时更新环境变量或密码文件。"
)
UNSAFE_LOGIN_FIX = (
    "163 对未发送 ID 命令（RFC 2971）的客户端拒绝打开文件夹（“Unsafe Login”）。intake 会在登录后发送 ID；"
    "若仍被拒，多为账号被风控：在网页版登录一次、处理安全提醒，必要时联系 kefu@188.com。"
)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


# -- config -----------------------------------------------------------------------------------


def check_config(path: Path) -> tuple[list[Check], Config | None]:
    try:
        config = load_config(path)
    except ConfigError as exc:
        fix = (
            "可用 `intake init` 生成配置文件。"
            if not path.exists()
            else "按提示修改该项；每项的说明见 config.example.toml。"
        )
        return [Check("配置", "读取配置文件", FAIL, str(exc), fix)], None
    checks = [
        Check(
            "配置",
            "读取配置文件",
            OK,
            f"{path.resolve()}：{len(config.sections)} 个科室，截止 {config.campaign.deadline}",
        )
    ]
    secrets = [("mailbox", config.mailbox.password)]
    if config.smtp is not None:
        secrets.append(("smtp", config.smtp.password))
    else:
        checks.append(
            Check(
                "配置",
                "[smtp]",
                WARN,
                "未配置 [smtp]：回执、提醒和汇总不会发出",
                "参照 config.example.toml 添加 [smtp] 段。",
            )
        )
    for table, secret in secrets:
        checks.append(_check_secret(table, secret))
    return checks, config


def _check_secret(table: str, secret: Secret) -> Check:
    step = f"[{table}] 授权码"
    try:
        value = secret.reveal()
    except ConfigError as exc:
        if secret.env is not None:
            fix = (
                f"作为服务运行时在 /etc/intake/intake.env 写入 {secret.env}=授权码"
                "（文件权限 0600，见 docs/DEPLOY.md）；"
                f"命令行下先执行 export {secret.env}=授权码。"
            )
        else:
            fix = f"创建密码文件 {secret.file}，内容为授权码，权限 chmod 600，属主为运行 intake 的用户。"
        return Check("配置", step, FAIL, exc.problem, fix)
    if not value:
        return Check("配置", step, FAIL, "授权码为空", "填入 163 的客户端授权码。")
    where = f"环境变量 {secret.env}" if secret.env else f"文件 {secret.file}"
    if secret.file is not None and secret.value is None:
        mode = secret.file.stat().st_mode & 0o777
        if mode & 0o077:
            return Check(
                "配置", step, WARN, f"已从{where} 读取，但文件权限为 {mode:o}，其他用户可读", f"chmod 600 {secret.file}"
            )
    return Check("配置", step, OK, f"已从{where} 读取（不显示内容）")


# -- network ------------------------------------------------------------------------------------


def _tcp_check(area: str, host: str, port: int, timeout: float, service: str) -> Check:
    """A plain TCP connect, to tell DNS, refusal and timeout apart before any protocol runs."""
    step = f"连接 {host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror as exc:
        return Check(
            area, step, FAIL, f"无法解析主机名 {host}（{exc.strerror}）", f"检查 host 拼写和本机 DNS 设置。{service}"
        )
    except ConnectionRefusedError:
        return Check(
            area,
            step,
            FAIL,
            f"连接被拒绝：{host} 的 {port} 端口没有服务",
            f"检查 host 和 port。{service}",
        )
    except TimeoutError:
        return Check(
            area,
            step,
            FAIL,
            f"连接超时（{timeout:g} 秒）：网络不通，或防火墙拦截了 {port} 端口",
            f"云服务器请在安全组/防火墙放行出站 {port} 端口（不少云厂商默认封锁 25/465）；"
            f"可在本机用 `nc -vz {host} {port}` 验证。{service}",
        )
    except OSError as exc:
        return Check(area, step, FAIL, f"无法连接：{exc.strerror or exc}", f"检查网络和 host/port。{service}")
    return Check(area, step, OK, "TCP 连接成功")


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    # The same context the bot uses: system trust store (plus ca_file), hostname checked.
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def _tls_check(area: str, host: str, port: int, ca_file: Path | None, timeout: float) -> Check:
    step = "TLS 证书"
    try:
        context = _tls_context(ca_file)
    except (OSError, ssl.SSLError) as exc:
        return Check(
            area, step, FAIL, f"无法读取 ca_file {ca_file}：{exc}", "检查 ca_file 路径，文件应为 PEM 格式的 CA 证书。"
        )
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        return Check(area, step, FAIL, f"服务器证书未通过校验：{exc.verify_message}", _cert_fix(ca_file))
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        if "WRONG_VERSION_NUMBER" in reason.upper() or "wrong version" in str(exc).lower():
            return Check(
                area,
                step,
                FAIL,
                f"端口 {port} 不是 TLS 端口（服务器发来的是明文）",
                "163 使用隐式 TLS：IMAP 为 993、SMTP 为 465，并设 ssl = true；"
                "明文端口（143/25/587）不要配 ssl = true。",
            )
        return Check(
            area, step, FAIL, f"TLS 握手失败：{reason}", "检查 port 与 ssl 是否匹配，以及网络中是否有 SSL 拦截设备。"
        )
    except TimeoutError:
        return Check(
            area,
            step,
            FAIL,
            f"TLS 握手超时（{timeout:g} 秒）：端口可连但服务器不应答",
            "检查端口是否正确；网络中的代理或防火墙可能拦截了加密连接。",
        )
    except OSError as exc:
        return Check(area, step, FAIL, f"TLS 连接失败：{exc.strerror or exc}", "稍后重试；若持续失败，检查网络。")
    trust = f"（信任 {ca_file}）" if ca_file else "（系统证书库）"
    return Check(area, step, OK, f"证书校验通过{trust}，{version}")


def _cert_fix(ca_file: Path | None) -> str:
    return (
        "不要关闭证书校验。163 的证书由公共 CA 签发，校验失败通常是：本机时间不对（先看下方“时钟”检查）、"
        "系统 CA 证书过旧（Debian：apt-get install --reinstall ca-certificates）、或网络中有 SSL 拦截设备。"
        + (
            "自建或测试服务器：在配置中用 ca_file 指定签发其证书的 CA。"
            if ca_file is None
            else f"当前 ca_file {ca_file} 不是签发该证书的 CA。"
        )
    )


def _plain_warning(area: str, port: int) -> Check:
    return Check(
        area,
        "TLS",
        WARN,
        f"ssl = false：连接 {port} 端口不加密，授权码会以明文传输",
        "仅用于本机测试服务器；163 请用 ssl = true（IMAP 993，SMTP 465）。",
    )


# -- IMAP -----------------------------------------------------------------------------------------


def check_imap(config: Config) -> list[Check]:
    m = config.mailbox
    area = "IMAP"
    service = "163 的 IMAP 为 imap.163.com:993（ssl = true）；若刚开通，确认网页版已开启 IMAP 服务。"
    checks = [_tcp_check(area, m.host, m.port, m.connect_timeout, service)]
    if checks[-1].failed:
        return checks
    if m.ssl:
        checks.append(_tls_check(area, m.host, m.port, m.ca_file, m.connect_timeout))
        if checks[-1].failed:
            return checks
    else:
        checks.append(_plain_warning(area, m.port))
    try:
        password = m.password.reveal()
    except ConfigError as exc:
        return [*checks, Check(area, "登录", SKIP, f"无法读取授权码：{exc.problem}")]
    checks.extend(_imap_session(config, password))
    return [Check(c.area, c.step, c.status, _scrub(c.detail, [password]), c.fix) for c in checks]


def _imap_session(config: Config, password: str) -> Iterator[Check]:
    m = config.mailbox
    area = "IMAP"
    try:
        client = IMAPClient(
            m.host,
            port=m.port,
            ssl=m.ssl,
            ssl_context=_tls_context(m.ca_file) if m.ssl else None,
            timeout=SocketTimeout(connect=m.connect_timeout, read=m.read_timeout),
        )
    except Exception as exc:
        yield _imap_failure("连接", translate(exc, "connect", m.host, m.username), m.username)
        return
    try:
        try:
            client.login(m.username, password)
        except Exception as exc:
            yield _imap_failure("登录", translate(exc, "login", m.host, m.username), m.username)
            return
        yield Check(area, "登录", OK, f"{m.username} 登录成功")
        if client.has_capability("ID"):
            try:
                client.id_({"name": "intake", "vendor": "intake"})
            except Exception as exc:
                yield _imap_failure("ID 命令", translate(exc, "ID", m.host, m.username), m.username)
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
                    yield _imap_failure(f"打开文件夹 {folder}", error, m.username)
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


def _imap_failure(step: str, error: ImapError, username: str) -> Check:
    text = error.server_text or str(error)
    if isinstance(error, ImapUnsafeLoginError):
        return Check("IMAP", step, FAIL, f"服务器拒绝：Unsafe Login（{text}）", UNSAFE_LOGIN_FIX)
    if isinstance(error, ImapAuthError):
        return Check("IMAP", step, FAIL, f"{username} 登录被拒绝（AUTHENTICATIONFAILED）：{text}", AUTH_FIX)
    if isinstance(error, ImapTlsError):
        return Check("IMAP", step, FAIL, f"证书校验失败：{text}", _cert_fix(None))
    if isinstance(error, ImapConnectionError):
        return Check(
            "IMAP",
            step,
            FAIL,
            f"连接中断：{text}",
            "检查网络；163 偶尔断开空闲连接，重试一次。若反复出现，检查防火墙。",
        )
    return Check("IMAP", step, FAIL, f"失败：{text}", "见服务器给出的原因；如不明白，附上本输出联系维护者。")


# -- SMTP -----------------------------------------------------------------------------------------


def check_smtp(config: Config) -> list[Check]:
    t = config.smtp
    if t is None:
        return [Check("SMTP", "配置", SKIP, "未配置 [smtp]，跳过")]
    area = "SMTP"
    service = "163 的 SMTP 为 smtp.163.com:465（ssl = true）；云服务器常封锁 465 端口。"
    checks = [_tcp_check(area, t.host, t.port, t.timeout, service)]
    if checks[-1].failed:
        return checks
    if t.ssl:
        checks.append(_tls_check(area, t.host, t.port, t.ca_file, t.timeout))
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
        checks.append(_smtp_failure(str(exc)))
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
    return [Check(c.area, c.step, c.status, _scrub(c.detail, [password]), c.fix) for c in checks]


def _smtp_failure(text: str) -> Check:
    if "certificate" in text:
        return Check("SMTP", "TLS/登录", FAIL, f"证书校验失败：{text}", _cert_fix(None))
    if "STARTTLS" in text:
        return Check(
            "SMTP",
            "TLS/登录",
            FAIL,
            f"服务器不支持 STARTTLS：{text}",
            "为保护授权码，intake 不在明文连接上登录。163 请用 465 端口并设 ssl = true。",
        )
    return Check("SMTP", "TLS/登录", FAIL, f"失败：{text}", "检查 host/port/ssl；若为超时，检查防火墙是否放行该端口。")


# -- database, storage, clock ---------------------------------------------------------------------


def check_database(config: Config) -> list[Check]:
    url = config.storage.database
    shown = make_url(url).render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        try:
            revision = current_revision(engine)
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            return [
                Check(
                    "数据库",
                    "连接",
                    FAIL,
                    f"无法连接 {shown}：{reason}",
                    "SQLite：检查文件所在目录存在且可写；PostgreSQL：检查服务已启动、用户名/密码/库名，"
                    "以及已安装 psycopg（pip install 'intake[postgres]'）。",
                )
            ]
    except ModuleNotFoundError as exc:
        return [Check("数据库", "连接", FAIL, f"缺少数据库驱动：{exc.name}", "pip install 'intake[postgres]'")]
    finally:
        engine.dispose()
    checks = [Check("数据库", "连接", OK, f"{shown} 可连接")]
    head = head_revision()
    if revision == head:
        checks.append(Check("数据库", "结构版本", OK, f"已是最新（{head}）"))
    elif revision is None:
        checks.append(Check("数据库", "结构版本", FAIL, "数据库尚未初始化", "运行 intake db upgrade。"))
    else:
        checks.append(
            Check(
                "数据库",
                "结构版本",
                FAIL,
                f"当前 {revision}，程序需要 {head}",
                "先备份数据库（docs/OPERATIONS.md），再运行 intake db upgrade。"
                "若当前版本比程序新，说明程序被降级了：请换回新版本程序。",
            )
        )
    return checks


def check_storage(config: Config) -> list[Check]:
    root = config.storage.files
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-", delete=True) as f:
            f.write(b"intake doctor")
            f.flush()
    except OSError as exc:
        return [
            Check(
                "存储",
                "写入",
                FAIL,
                f"无法在 {root} 写文件：{exc.strerror or exc}",
                f"创建该目录并交给运行 intake 的用户：install -d -o intake -g intake {root}",
            )
        ]
    checks = [Check("存储", "写入", OK, f"{root} 可写")]
    free = shutil.disk_usage(root).free
    text = f"剩余空间 {free / 1024**3:.1f} GiB"
    if free < FREE_SPACE_FAIL:
        checks.append(Check("存储", "剩余空间", FAIL, text, "清理磁盘或把 [storage] files 指向更大的分区。"))
    elif free < FREE_SPACE_WARN:
        checks.append(Check("存储", "剩余空间", WARN, text, "附件和原始邮件会越存越多，建议至少留 2 GiB。"))
    else:
        checks.append(Check("存储", "剩余空间", OK, text))
    return checks


def _ntp_synchronized() -> bool | None:
    if shutil.which("timedatectl") is None:
        return None
    try:
        out = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value)


def check_clock(config: Config, now: datetime, ntp: Callable[[], bool | None] = _ntp_synchronized) -> list[Check]:
    tz = config.campaign.tz
    local = now.astimezone(tz)
    left = (config.campaign.deadline - local.date()).days
    when = f"截止还有 {left} 天" if left >= 0 else f"已过截止日期 {-left} 天"
    checks = [Check("时钟", "当前时间", OK, f"{local:%Y-%m-%d %H:%M}（{config.campaign.timezone}），{when}")]
    if now.year < 2021:
        checks[0] = Check(
            "时钟",
            "当前时间",
            FAIL,
            f"系统时间 {now:%Y-%m-%d} 明显不对",
            "校准系统时间（timedatectl set-ntp true）；时间不对会导致证书校验失败、提醒和汇总时间错乱。",
        )
    synced = ntp()
    if synced is False:
        checks.append(
            Check(
                "时钟",
                "时间同步",
                WARN,
                "系统时间未与 NTP 同步",
                "timedatectl set-ntp true（或安装 systemd-timesyncd / chrony）。",
            )
        )
    elif synced:
        checks.append(Check("时钟", "时间同步", OK, "已与 NTP 同步"))
    system_tz = os.environ.get("TZ") or _system_zone()
    if system_tz and system_tz != config.campaign.timezone:
        checks.append(
            Check(
                "时钟",
                "时区",
                OK,
                f"本机时区为 {system_tz}；intake 的提醒和汇总一律按 {config.campaign.timezone} 计算，不受影响",
            )
        )
    return checks


def _system_zone() -> str | None:
    link = Path("/etc/localtime")
    with contextlib.suppress(OSError):
        target = str(link.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return None


# -- all of it ------------------------------------------------------------------------------------


def run_checks(path: Path, *, now: datetime | None = None) -> list[Check]:
    checks, config = check_config(path)
    if config is None:
        return checks
    for area in (check_imap, check_smtp, check_database, check_storage):
        checks.extend(area(config))
    checks.extend(check_clock(config, now or datetime.now(UTC)))
    return checks
