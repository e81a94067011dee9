"""Mail servers inside the process for ``intake demo``: IMAP (pymap) and SMTP (aiosmtpd) on 127.0.0.1.

Both speak implicit TLS with a certificate from ``bot.demo.tls`` (like imap.163.com:993 and
smtp.163.com:465), require a login, and run on an event loop in their own thread. Each is a context
manager; leaving it stops the loop and joins the thread, so the demo leaves nothing running.

The IMAP server is pymap's in-memory ``dict`` backend: one account, mailboxes created on demand,
real UIDs/UIDVALIDITY, BODYSTRUCTURE, partial fetches and the RFC 2971 ID command. The SMTP server
records every accepted message and, like 163, refuses an envelope sender other than the logged-in
account (``553 Mail from must equal authorized user``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import warnings
from argparse import Namespace
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from imapclient import IMAPClient

START_TIMEOUT = 15.0
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


class ImapServer:
    """pymap with its in-memory backend, one account, implicit TLS.

    >>> with ImapServer("box@example.com", "code", tls_context, ca_file) as imap:  # doctest: +SKIP
    ...     imap.append("INBOX", raw, when)
    """

    def __init__(self, username: str, password: str, server_context: ssl.SSLContext, ca_file: Path) -> None:
        self.host = HOST
        self.port = 0
        self.username = username
        self._password = password
        self._context = server_context
        self._ca_file = ca_file
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        # pymap hashes passwords on a "CPU subsystem"; give it an executor we own, so it ends with us.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-imap-cpu")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-imap", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise RuntimeError("演示 IMAP 服务器未能启动（超时）")
        if self._failure is not None:
            self.stop()
            raise RuntimeError(f"演示 IMAP 服务器未能启动：{self._failure}") from self._failure

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        # Imported here: pymap registers plugins on import, and only the demo needs it.
        from proxyprotocol.reader import ProxyProtocolReader
        from pymap.backend.dict import DictBackend
        from pymap.concurrent import Subsystem
        from pymap.imap import IMAPServer

        args = Namespace(
            host=self.host, port=0, debug=False, cert=None, key=None, tls=False, passlib_cfg=None,
            demo_data=False, demo_user=self.username, demo_password=self._password,
            inherited_sockets=None, proxy_protocol=None,
        )  # fmt: skip
        backend, config = await DictBackend.init(
            args, secure_auth=False, invalid_user_sleep=0.0, cpu_subsystem=Subsystem.for_executor(self._pool)
        )
        config.apply_context()
        callback = ProxyProtocolReader(config.proxy_protocol).get_callback(IMAPServer(backend.login, config))
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            await backend.start(stack)
            # pymap's own service offers STARTTLS only; 163 uses implicit TLS, so listen with TLS here.
            server = await asyncio.start_server(callback, host=self.host, port=0, ssl=self._context)
            await stack.enter_async_context(server)
            self.port = int(server.sockets[0].getsockname()[1])
            self._ready.set()
            await self._stop.wait()

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(START_TIMEOUT)
            self._thread = None
        self._pool.shutdown(wait=True)

    def client(self) -> IMAPClient:
        """A logged-in read-write client, standing in for the people who send mail."""
        context = ssl.create_default_context(cafile=str(self._ca_file))
        client = IMAPClient(self.host, port=self.port, ssl=True, ssl_context=context, timeout=10)
        client.login(self.username, self._password)
        return client

    def deliver(self, mails: Iterable[tuple[str, bytes, datetime]]) -> int:
        """APPEND each ``(folder, raw, arrival time)``, creating folders as needed; returns the count."""
        client = self.client()
        count = 0
        try:
            existing = {name for _flags, _delim, name in client.list_folders()}
            for folder, raw, when in mails:
                if folder not in existing:
                    client.create_folder(folder)
                    existing.add(folder)
                client.append(folder, raw, msg_time=when)
                count += 1
        finally:
            with contextlib.suppress(Exception):
                client.logout()
        return count

    def __enter__(self) -> ImapServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class SentMail:
    """One message the SMTP server accepted: envelope and exact bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")


class _Recorder:
    """aiosmtpd handler: 163's sender rule, and a list of what was accepted."""

    def __init__(self) -> None:
        self.messages: list[SentMail] = []
        self._lock = threading.Lock()

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        data = session.auth_data
        user = data.login.decode("utf-8") if isinstance(data, LoginPassword) else None
        if user is not None and address.lower() != user.lower():
            return "553 Mail from must equal authorized user"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.messages.append(
                SentMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), envelope.original_content or b"")
            )
        return "250 Message accepted"


class SmtpServer:
    """aiosmtpd with implicit TLS and AUTH, recording every accepted message in ``messages``."""

    def __init__(self, username: str, password: str, server_context: ssl.SSLContext) -> None:
        self.host = HOST
        self.port = free_port()
        self.username = username
        self._password = password
        self._recorder = _Recorder()
        self._controller = Controller(
            self._recorder,
            hostname=self.host,
            port=self.port,
            server_hostname="smtp.demo.invalid",
            ssl_context=server_context,
            authenticator=self._authenticate,
            auth_required=True,
            # The whole session is TLS already (implicit TLS); aiosmtpd only knows about STARTTLS.
            auth_require_tls=False,
            ready_timeout=START_TIMEOUT,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode("utf-8") == self.username
            and auth_data.password.decode("utf-8") == self._password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    @property
    def messages(self) -> list[SentMail]:
        return list(self._recorder.messages)

    def start(self) -> None:
        # aiosmtpd warns about AUTH without STARTTLS on every connection (the session is TLS here)
        # and about its own deprecated attributes: noise in the demo's output.
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self._controller.start()

    def stop(self) -> None:
        with contextlib.suppress(AssertionError):  # stop() before a successful start()
            self._controller.stop()

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
