"""Doctor: TCP reachability and the TLS handshake with certificate verification, for IMAP and SMTP."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from bot.doctor.report import FAIL, OK, WARN, Check

# -- network ------------------------------------------------------------------------------------


def tcp_check(area: str, host: str, port: int, timeout: float, service: str) -> Check:
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


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    # The same context the bot uses: system trust store (plus ca_file), hostname checked.
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def tls_check(area: str, host: str, port: int, ca_file: Path | None, timeout: float) -> Check:
    step = "TLS 证书"
    try:
        context = tls_context(ca_file)
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
        return Check(area, step, FAIL, f"服务器证书未通过校验：{exc.verify_message}", cert_fix(ca_file))
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


def cert_fix(ca_file: Path | None) -> str:
    return (
        "不要关闭证书校验。163 的证书由公共 CA 签发，校验失败通常是：本机时间不对（先看下方“时钟”检查）、"
        "系统 CA 证书过旧（Debian：apt-get install --reinstall ca-certificates）、或网络中有 SSL 拦截设备。"
        + (
            "自建或测试服务器：在配置中用 ca_file 指定签发其证书的 CA。"
            if ca_file is None
            else f"当前 ca_file {ca_file} 不是签发该证书的 CA。"
        )
    )


def plain_warning(area: str, port: int) -> Check:
    return Check(
        area,
        "TLS",
        WARN,
        f"ssl = false：连接 {port} 端口不加密，授权码会以明文传输",
        "仅用于本机测试服务器；163 请用 ssl = true（IMAP 993，SMTP 465）。",
    )
