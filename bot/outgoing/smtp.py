"""Send mail over one authenticated SMTP connection, and say whether a failure is worth retrying.

``SmtpSender`` is a context manager: it opens one connection (implicit TLS, or plain upgraded with
STARTTLS when the server offers it), logs in, sends any number of messages, and quits. Certificates
are always verified (``ca_file`` adds a private CA for test servers). The password is never logged
and never part of a repr.

Failures are sorted into three classes the outbox acts on:

- ``SmtpTemporaryError``: connection trouble and every 4xx reply, e.g. 163's ``451 DT:SPM`` (retry
  after ~2 minutes), ``451 MI:SFQ`` (sender quota, 15 minutes), ``421 HL:*`` (IP throttling),
  ``450/451 MI:DMC`` (too many mails on one connection). Retry later.
- ``SmtpPermanentError``: 5xx replies, e.g. ``554 DT:SPM`` (content judged spam) or
  ``553 Mail from must equal authorized user``. Retrying the same bytes will not help.
- ``SmtpAuthError``: ``535`` at login. A configuration problem, not a property of one message.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from types import TracebackType

from bot.outgoing.messages import recipients_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    ssl: bool  # True: implicit TLS (465); False: plain, upgraded with STARTTLS when offered
    from_addr: str  # envelope sender; 163 requires it to equal the logged-in account
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = 30.0
    require_tls: bool = True  # with ssl=False: refuse to log in or send when STARTTLS is not offered


class SmtpError(Exception):
    """A send or connection failure. ``code`` is the SMTP reply code, or None for socket errors."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class SmtpTemporaryError(SmtpError):
    """Worth retrying later. ``connection_lost`` says the batch cannot go on over this connection."""

    def __init__(self, message: str, code: int | None = None, *, connection_lost: bool = False) -> None:
        super().__init__(message, code)
        self.connection_lost = connection_lost


class SmtpPermanentError(SmtpError):
    """Refused for good (5xx): the same message will be refused again."""


class SmtpAuthError(SmtpPermanentError):
    """Login refused (535): wrong account or 授权码."""


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def classify_reply(code: int, text: str, *, stage: str) -> SmtpError:
    """Turn an SMTP reply into the error class the outbox acts on."""
    message = f"{stage}: {code} {text}".strip()
    if code == 535:
        return SmtpAuthError(message, code)
    if 400 <= code < 500:
        # 421 means the server is closing the connection (RFC 5321 §3.8).
        return SmtpTemporaryError(message, code, connection_lost=code == 421)
    return SmtpPermanentError(message, code)


class SmtpSender:
    """One SMTP connection for a batch of messages.

    >>> with SmtpSender(settings) as sender:      # doctest: +SKIP
    ...     sender.send(message)
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    # -- connection ---------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        # create_default_context verifies the certificate chain and the host name.
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def open(self) -> None:
        s = self.settings
        log.info("smtp: connecting to %s:%d (%s)", s.host, s.port, "TLS" if s.ssl else "plain/STARTTLS")
        conn: smtplib.SMTP | None = None
        try:
            if s.ssl:
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls_context())
                conn.ehlo()
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                conn.ehlo()
                if conn.has_extn("starttls"):
                    conn.starttls(context=self._tls_context())
                    conn.ehlo()
                elif s.require_tls:
                    raise SmtpPermanentError(f"{s.host}:{s.port} does not offer STARTTLS")
            if s.username:
                conn.login(s.username, s.password or "")
                log.info("smtp: logged in as %s", s.username)
        except smtplib.SMTPAuthenticationError as exc:
            self._abandon(conn)
            raise SmtpAuthError(f"login as {s.username}: {exc.smtp_code} {_text(exc.smtp_error)}", 535) from exc
        except smtplib.SMTPResponseException as exc:
            self._abandon(conn)
            raise classify_reply(exc.smtp_code, _text(exc.smtp_error), stage="connect") from exc
        except ssl.SSLCertVerificationError as exc:
            self._abandon(conn)
            raise SmtpPermanentError(f"certificate of {s.host} not trusted: {exc.verify_message}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._abandon(conn)
            raise SmtpTemporaryError(
                f"connect to {s.host}:{s.port}: {exc.__class__.__name__}: {exc}", connection_lost=True
            ) from exc
        except SmtpError:
            self._abandon(conn)
            raise
        self._conn = conn

    @staticmethod
    def _abandon(conn: smtplib.SMTP | None) -> None:
        if conn is None:
            return
        with contextlib.suppress(OSError):
            conn.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def __enter__(self) -> SmtpSender:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sending ------------------------------------------------------------------------------

    def send(self, msg: EmailMessage) -> None:
        """Send a message to the addresses of its To, Cc and Bcc headers (Bcc is not transmitted)."""
        recipients = recipients_of(msg)
        if msg["Bcc"] is not None:
            msg = copy.deepcopy(msg)
            del msg["Bcc"]
        self.send_raw(msg.as_bytes(policy=SMTP_POLICY), recipients)

    def send_raw(self, raw: bytes, recipients: Sequence[str]) -> dict[str, str]:
        """Send already serialised RFC 5322 bytes. Returns the recipients the server refused while
        accepting others (address -> reply); raises when nobody accepted the message."""
        if self._conn is None:
            raise SmtpTemporaryError("not connected", connection_lost=True)
        if not recipients:
            raise SmtpPermanentError("no recipients")
        conn = self._conn
        try:
            refused = conn.sendmail(self.settings.from_addr, list(recipients), raw)
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # smtplib has closed the socket (RFC 5321 §3.8)
                self._conn = None
            stage = {smtplib.SMTPSenderRefused: "MAIL FROM", smtplib.SMTPDataError: "DATA"}.get(type(exc), "send")
            raise classify_reply(exc.smtp_code, _text(exc.smtp_error), stage=stage) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            # Every recipient refused: temporary only if every refusal was a 4xx.
            replies = {rcpt: (code, _text(text)) for rcpt, (code, text) in exc.recipients.items()}
            detail = "; ".join(f"{r}: {c} {t}" for r, (c, t) in replies.items())
            if replies and all(400 <= c < 500 for c, _ in replies.values()):
                lost = any(c == 421 for c, _ in replies.values())
                if lost:
                    self._conn = None
                raise SmtpTemporaryError(
                    f"RCPT: {detail}", next(iter(replies.values()))[0], connection_lost=lost
                ) from exc
            code = next((c for c, _ in replies.values() if c >= 500), 550)
            raise SmtpPermanentError(f"RCPT: {detail}", code) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # SMTPServerDisconnected, timeouts, resets: whether the server kept the message is unknown.
            self._conn = None
            self._abandon(conn)
            raise SmtpTemporaryError(f"connection lost: {exc.__class__.__name__}: {exc}", connection_lost=True) from exc
        result = {rcpt: f"{code} {_text(text)}" for rcpt, (code, text) in refused.items()}
        if result:
            log.warning("smtp: some recipients refused: %s", result)
        return result

    @property
    def connected(self) -> bool:
        return self._conn is not None


__all__ = [
    "SmtpAuthError",
    "SmtpError",
    "SmtpPermanentError",
    "SmtpSender",
    "SmtpSettings",
    "SmtpTemporaryError",
    "classify_reply",
]
