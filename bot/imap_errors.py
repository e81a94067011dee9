"""Failures of the mailbox adapter (bot.imap), one class per thing the caller handles differently.

Messages are English and name the host and user, never the password; the wording shown to the
coordinator (Chinese) is chosen by the caller from the class.
"""

from __future__ import annotations


class ImapError(Exception):
    """Any failure talking to the mailbox; ``server_text`` holds the server's words when there are any."""

    def __init__(self, message: str, server_text: str = "") -> None:
        super().__init__(message)
        self.server_text = server_text


class ImapAuthError(ImapError):
    """LOGIN refused: wrong user or 授权码 (IMAP AUTHENTICATIONFAILED, 163 also says 535)."""


class ImapUnsafeLoginError(ImapError):
    """163 refused mailbox access with "Unsafe Login": the ID command was missing or not accepted."""


class ImapConnectionError(ImapError):
    """Connection refused, dropped, timed out, or aborted mid-command; a retry on the next poll may work."""


class ImapTlsError(ImapConnectionError):
    """The TLS handshake failed, typically because the server certificate did not verify."""


class ImapMessageGoneError(ImapError):
    """The UID is no longer in the folder (expunged while we worked)."""

    def __init__(self, uid: int) -> None:
        super().__init__(f"message UID {uid} is no longer in the folder")
        self.uid = uid
