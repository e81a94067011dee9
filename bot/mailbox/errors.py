"""Failures of the mailbox adapter (bot.mailbox.imap), one class per thing the caller handles differently.

Messages are English and name the host and user, never the password; the wording shown to the
coordinator (Chinese) is chosen by the caller from the class.
"""

from __future__ import annotations

import imaplib
import ssl

from imapclient.exceptions import LoginError


class ImapError(Exception):
    """Any failure talking to the mailbox; ``server_text`` holds the server's words when there are any."""

    def __init__(self, message: str, server_text: str = "") -> None:
        super().__init__(message)
        self.server_text = server_text

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled whole (the download process hands its errors to the poll): every subclass keeps
        # its class, message and fields, whatever its __init__ takes.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[ImapError], args: tuple[object, ...], state: dict[str, object]) -> ImapError:
    exc = Exception.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


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


def translate(exc: BaseException, action: str, host: str, username: str) -> ImapError:
    """The ImapError for a failure of imaplib/imapclient or of the socket during ``action``."""
    if isinstance(exc, ImapError):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ImapTlsError(f"TLS with {host} failed: {exc}", str(exc))
    if isinstance(exc, imaplib.IMAP4.abort | OSError | EOFError):
        # abort: the server closed or the stream broke mid-response (it subclasses IMAP4.error, so it
        # is tested first); OSError covers refused connections and socket timeouts (TimeoutError).
        return ImapConnectionError(f"{action}: connection to {host} lost: {exc}", str(exc))
    text = str(exc)  # a tagged NO/BAD, LoginError included
    lower = text.lower()
    if "unsafe login" in lower:
        return ImapUnsafeLoginError(f"{action} refused: Unsafe Login", text)
    if "[unavailable]" in lower:
        # RFC 5530: a temporary server-side failure, not a wrong password; retry on the next poll.
        return ImapConnectionError(f"{action}: server unavailable", text)
    # RFC 5530 AUTHENTICATIONFAILED; 163 words it "535 Error: authentication failed".
    if isinstance(exc, LoginError) or "authenticationfailed" in lower or "authentication failed" in lower:
        return ImapAuthError(f"{action} refused for {username}", text)
    return ImapError(f"{action} failed: {text}", text)
