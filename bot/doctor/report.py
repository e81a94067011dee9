"""What every doctor check reports: its status, what was found and the fix; the fix texts for 163."""

from __future__ import annotations

from dataclasses import dataclass

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


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text
