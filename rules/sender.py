"""Who sent a mail, as far as intake may rely on it: the one verdict every trust decision starts from.

Two things can make the address in ``From:`` unreliable:

- the header itself (``bot.mime.sender`` reads it with ``email.headerregistry`` and reports a
  *doubt*): an RFC 2047 encoded word inside the address (forbidden by RFC 2047 section 5, and what the
  receiving server checked was another address), more than one mailbox or more than one ``From:``,
  an address the parser had to guess at (the CVE-2023-27043 forms ``carol@example.test
  <evil@evil.example>``), or no address at all. Such a mail's address is not even read: it is "";
- the receiving server: its topmost ``Authentication-Results`` says the From domain failed
  (``rules.authresults``).

A mail whose sender is not *trusted* counts for no section, gets no receipt and runs no command; its
files are recorded and put before the coordinator. Commands need more than trust
(``rules.authority``): a pass, not just the absence of a fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.authresults import Auth, AuthVerdict

# Doubts about the From header (``bot.mime.sender`` sets them on the parsed mail).
ENCODED_ADDRESS = "encoded-address"
SEVERAL_MAILBOXES = "several-mailboxes"
SEVERAL_FROM = "several-from-headers"
GUESSED_ADDRESS = "guessed-address"
NO_ADDRESS = "no-address"

DOUBT_LABELS: dict[str, str] = {
    ENCODED_ADDRESS: "发件地址中含有编码字（RFC 2047 禁止），实际地址与显示的不同",
    SEVERAL_MAILBOXES: "From 中有多个地址",
    SEVERAL_FROM: "邮件有多个 From 头",
    GUESSED_ADDRESS: "From 格式不规范，地址无法可靠识别",
    NO_ADDRESS: "没有可识别的发件地址",
}


@dataclass(frozen=True)
class SenderVerdict:
    address: str  # the parsed address, lower-cased; "" when the header could not be read reliably
    trusted: bool  # may count for a section and be answered
    authenticated: bool  # the receiving server verified the From domain (what a command needs)
    auth: AuthVerdict
    doubt: str | None = None  # Chinese: why the sender is not trusted; None when trusted

    @property
    def auth_failed(self) -> bool:
        return self.auth.result is Auth.FAIL


def verdict(address: str, header_doubt: str | None, auth: AuthVerdict) -> SenderVerdict:
    """The sender verdict from the parsed address, the parser's doubt and the receiving server's
    ``Authentication-Results`` verdict.

    >>> from rules.authresults import AuthVerdict, Auth
    >>> verdict("a@example.com", None, AuthVerdict(Auth.NONE, "")).trusted
    True
    >>> verdict("", "guessed-address", AuthVerdict(Auth.NONE, "")).doubt
    'From 格式不规范，地址无法可靠识别'
    """
    if header_doubt is not None or not address:
        reason = DOUBT_LABELS.get(header_doubt or NO_ADDRESS, header_doubt or "")
        return SenderVerdict("", False, False, auth, reason)
    if auth.result is Auth.FAIL:
        return SenderVerdict(address, False, False, auth, f"收件服务器验证发件域失败（{auth.detail}），可能是冒名邮件")
    return SenderVerdict(address, True, auth.result is Auth.PASS, auth)
