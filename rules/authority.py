"""Whether a mailed command may run, fail closed; and the one-time confirmation code that lets the
coordinator run one that could not be verified.

``command_authority`` reads as a table, first match wins:

1. the sender's address could not be read reliably -> refuse (we cannot tell who wrote it);
2. not an address in ``[coordinator] emails`` -> refuse;
3. the mail carries files -> refuse the commands, record the files (the coordinator is also a
   section's sender, and files are never dropped for the sake of a command);
4. ``require_auth_pass = false`` -> run: the configuration trusts the address alone (unsafe: anyone
   can write any ``From:``);
5. the receiving server verified the From domain (``rules.authresults``) -> run;
6. anything else (no result, someone else's result, none, fail) -> ask for confirmation: a code is
   mailed to the coordinator's *configured* address, and a reply quoting it within
   :data:`CONFIRM_WINDOW` runs the command.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rules.sender import SenderVerdict

CONFIRM_WINDOW = timedelta(hours=24)
CONFIRMATIONS_PER_DAY = 20  # confirmation mails a day at most: forged commands must not flood her inbox
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read back from a phone screen
CODE_LENGTH = 8  # 32**8 = 2**40 codes: guessing one by mail is hopeless
CODE_LABEL = "确认码"

_CODE = re.compile(rf"{CODE_LABEL}\s*[:：]?\s*([{CODE_ALPHABET}]{{{CODE_LENGTH}}})(?![0-9A-Z])")


class Authority(StrEnum):
    RUN = "run"
    CONFIRM = "confirm"
    REFUSE = "refuse"


@dataclass(frozen=True)
class CommandAuthority:
    decision: Authority
    reason: str  # Chinese: why it runs, or why not


def command_authority(
    sender: SenderVerdict, *, is_coordinator: bool, require_auth_pass: bool, has_files: bool
) -> CommandAuthority:
    """What to do with the commands in one mail (see the module docstring for the table)."""
    if not sender.address:
        return CommandAuthority(Authority.REFUSE, f"发件人地址无法可靠识别（{sender.doubt}），指令未执行")
    if not is_coordinator:
        return CommandAuthority(Authority.REFUSE, f"发件人 {sender.address} 不是协调人，邮件中的指令未执行")
    if has_files:
        return CommandAuthority(
            Authority.REFUSE,
            "邮件带有附件，已按报送材料处理，其中的指令未执行；下指令请单独发送不带附件的邮件",
        )
    if not require_auth_pass:
        return CommandAuthority(Authority.RUN, "按配置仅凭发件地址执行（require_auth_pass = false）")
    if sender.authenticated:
        return CommandAuthority(Authority.RUN, f"收件服务器已验证发件人（{sender.auth.detail}）")
    why = sender.doubt or sender.auth.detail
    return CommandAuthority(Authority.CONFIRM, f"无法确认该邮件确由协调人发出：{why}")


# -- the confirmation code ---------------------------------------------------------------------------


def new_code() -> str:
    """A fresh one-time code (``secrets``: unpredictable, unlike ``random``)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def codes_in(*texts: str) -> tuple[str, ...]:
    """The confirmation codes quoted in a reply's subject or body (``确认码 7KQ2M9XD``), in order.

    >>> codes_in("Re: 【待确认指令】确认码 7KQ2M9XD：确认 指标7", "")
    ('7KQ2M9XD',)
    """
    found: dict[str, None] = {}
    for text in texts:
        for match in _CODE.finditer(text.upper()):
            found.setdefault(match.group(1), None)
    return tuple(found)


class CodeState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"


def code_state(status: str, expires_at: datetime, now: datetime) -> CodeState:
    """A pending confirmation's state at ``now``: used once, valid until ``expires_at``."""
    if status != "pending":
        return CodeState.USED
    return CodeState.VALID if now < expires_at else CodeState.EXPIRED


def may_send_confirmation(sent_today: int) -> bool:
    return sent_today < CONFIRMATIONS_PER_DAY
