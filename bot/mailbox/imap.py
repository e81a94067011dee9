"""The mailbox adapter: connect, log in, identify, select read-only, and hand out bytes.

``MailboxClient`` is the only place that speaks IMAP (imapclient underneath). It never changes the
mailbox: the folder is opened with EXAMINE and bodies are read with ``BODY.PEEK``, because people read
the same 163 mailbox in webmail and ``\\Seen`` must stay theirs (RFC 3501 sections 6.3.2 and 6.4.5).
Progress is the caller's business (UIDVALIDITY + last UID); this module reports UIDVALIDITY on every
select and lists UIDs above a given one.

Size-aware reading: ``sizes()`` returns RFC822.SIZE, INTERNALDATE and the BODYSTRUCTURE part list;
``fetch_raw()`` downloads whole mails in bounded batches; ``stream_message_to()`` and
``stream_part_to()`` copy one big mail or one big part to a file in partial fetches, so a 30 MB mail
never sits in memory whole.

Every socket has a connect and a read timeout (imapclient's default is none: a dead peer would hang the
poll forever, imapclient#327). Failures come out as ``ImapError`` subclasses; user-facing (Chinese)
wording is left to the caller. The password is never logged or shown in a repr.

Example::

    settings = ImapSettings(host="imap.163.com", username="jzhbjfzk@163.com", password=code)
    with MailboxClient(settings) as mailbox:
        uids = mailbox.new_uids(after_uid=cursor.last_uid)
        for uid, raw in mailbox.fetch_raw(uids):
            ...
"""

from __future__ import annotations

import contextlib
import functools
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from imapclient import IMAPClient, SocketTimeout

from bot.mailbox.errors import (
    ImapAuthError,
    ImapConnectionError,
    ImapError,
    ImapMessageGoneError,
    ImapTlsError,
    ImapUnsafeLoginError,
    translate,
)
from bot.mailbox.structure import BodyPart, MailInfo, mail_info
from bot.mime.transfer import Sink, writer_for

__all__ = [
    "BodyPart",
    "FolderInfo",
    "ImapAuthError",
    "ImapConnectionError",
    "ImapError",
    "ImapMessageGoneError",
    "ImapSettings",
    "ImapTlsError",
    "ImapUnsafeLoginError",
    "MailInfo",
    "MailboxClient",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
_Pick = Callable[[int, Mapping[bytes, Any]], T | None]

MIB = 1024 * 1024
_SECTION = re.compile(r"\d+(\.\d+)*\Z")


@dataclass(frozen=True)
class ImapSettings:
    """Everything needed to reach one mailbox; built by bot.config from ``[mailbox]``."""

    host: str
    username: str
    password: str = field(repr=False)  # the 163 授权码; never logged
    port: int = 993
    ssl: bool = True  # implicit TLS (RFC 8314); False only for local test servers
    ca_file: Path | None = None  # extra CA bundle to trust; None = the system store
    folder: str = "INBOX"
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    fetch_batch: int = 100  # at most this many UIDs per whole-mail FETCH
    fetch_budget: int = 32 * MIB  # and at most about this many bytes per FETCH
    support_email: str | None = None  # sent in the RFC 2971 ID


@dataclass(frozen=True)
class FolderInfo:
    name: str  # decoded from modified UTF-7 (RFC 3501 5.1.3): "垃圾邮件"
    delimiter: str | None
    flags: tuple[str, ...]  # e.g. ("\\HasNoChildren", "\\Junk")


def _client_version() -> str:
    try:
        return metadata.version("intake")
    except metadata.PackageNotFoundError:
        return "0"


def _quiet_imaplib(client: IMAPClient) -> None:
    """Turn off imaplib's protocol trace, which imapclient turns on (``debug = 5``) to route it to
    its logger. At that level imaplib formats the repr of every literal it reads, and of the whole
    list of a FETCH's answers, before the logger decides to drop the line: for a mail of N bytes that
    is a string of up to 4N characters, built and thrown away twice. On a backlog it was 60% of the
    download's CPU (a large mail, streamed in 1 MiB pieces, paid it per piece).
    imapclient offers no switch for it, hence the private attribute (pinned by a test)."""
    client._imap.debug = 0


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _size_of(_uid: int, data: Mapping[bytes, Any]) -> int | None:
    size = data.get(b"RFC822.SIZE")
    return size if isinstance(size, int) else None


def _body_of(data: Mapping[bytes, Any], section: str) -> bytes | None:
    """The literal of ``BODY[section]`` or ``BODY[section]<origin>`` in one FETCH answer, by prefix,
    since servers echo partial fetches with their origin (RFC 3501 7.4.2) and may add other keys."""
    prefix = f"BODY[{section}]".encode()
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(prefix):
            # NIL means the content is unavailable (Dovecot answers so for a mail expunged by another
            # session); an existing but empty section, or a partial beyond the end, is "" instead.
            return None if value is None else bytes(value)
    return None


class MailboxClient:
    """One IMAP session on one mailbox. Open with ``with MailboxClient(settings) as m:`` (or
    ``connect()``/``close()``); make a new one per poll rather than keeping it idle."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._client: IMAPClient | None = None
        self._folder: str | None = None
        self._uidvalidity: int | None = None

    # -- session -------------------------------------------------------------------------------

    def __enter__(self) -> MailboxClient:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> int:
        """Connect, LOGIN, send ID, and EXAMINE ``settings.folder``; returns its UIDVALIDITY."""
        s = self.settings
        self.close()
        context: ssl.SSLContext | None = None
        if s.ssl:
            # Verified TLS: hostname and chain (create_default_context sets CERT_REQUIRED).
            try:
                context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
            except (OSError, ssl.SSLError) as exc:
                raise ImapError(f"cannot load CA file {s.ca_file}: {exc}") from exc
        log.info("IMAP connect %s:%s (tls=%s) as %s", s.host, s.port, s.ssl, s.username)
        try:
            with self._guard("connect"):
                self._client = IMAPClient(
                    s.host,
                    port=s.port,
                    ssl=s.ssl,
                    ssl_context=context,
                    timeout=SocketTimeout(connect=s.connect_timeout, read=s.read_timeout),
                )
                # Keep INTERNALDATE timezone-aware instead of imapclient's local naive times.
                self._client.normalise_times = False
                _quiet_imaplib(self._client)
            with self._guard("login"):
                self._client.login(s.username, s.password)
            self._identify()
            return self.select(s.folder)
        except BaseException:
            # __exit__ does not run when __enter__ fails: never leave a half-open session behind.
            self._drop()
            raise

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # logout on a broken link is best effort; the socket is closed below
            with contextlib.suppress(Exception):
                client.shutdown()

    def _identify(self) -> None:
        # RFC 2971 ID before any SELECT: 163 answers SELECT/EXAMINE with "NO ... Unsafe Login" otherwise.
        client = self._require()
        params = {"name": "intake", "version": _client_version(), "vendor": "intake"}
        if self.settings.support_email:
            params["support-email"] = self.settings.support_email
        with self._guard("ID"):
            if client.has_capability("ID"):
                client.id_(params)
            else:
                log.warning("server does not announce ID (RFC 2971); sending nothing")

    def select(self, folder: str) -> int:
        """EXAMINE ``folder`` (read-only, RFC 3501 6.3.2) and return its UIDVALIDITY."""
        client = self._require()
        with self._guard(f"select {folder!r}"):
            info = client.select_folder(folder, readonly=True)
        uidvalidity = info.get(b"UIDVALIDITY")
        if not isinstance(uidvalidity, int):
            raise ImapError(f"server reported no UIDVALIDITY for {folder!r}")
        self._folder, self._uidvalidity = folder, uidvalidity
        return uidvalidity

    @property
    def folder(self) -> str:
        if self._folder is None:
            raise ImapError("no folder selected")
        return self._folder

    @property
    def uidvalidity(self) -> int:
        if self._uidvalidity is None:
            raise ImapError("no folder selected")
        return self._uidvalidity

    def list_folders(self) -> list[FolderInfo]:
        client = self._require()
        with self._guard("list"):
            rows = client.list_folders()
        result = []
        for flags, delimiter, name in rows:
            result.append(
                FolderInfo(
                    name=name if isinstance(name, str) else bytes(name).decode("utf-8", "replace"),
                    delimiter=delimiter.decode() if isinstance(delimiter, bytes) else delimiter,
                    flags=tuple(f.decode() if isinstance(f, bytes) else str(f) for f in flags),
                )
            )
        return result

    # -- reading -------------------------------------------------------------------------------

    def new_uids(self, after_uid: int) -> list[int]:
        """UIDs above ``after_uid`` in the selected folder, ascending."""
        client = self._require()
        with self._guard("search"):
            found = client.search(["UID", f"{after_uid + 1}:*"])
        # RFC 3501 6.4.4/9: "n:*" always includes the highest UID, even when it is below n, so the
        # answer to "after the last one" is that last one again: filter on our side.
        return sorted(uid for uid in set(found) if uid > after_uid)

    def sizes(self, uids: Iterable[int], *, with_parts: bool = False) -> dict[int, MailInfo]:
        """RFC822.SIZE and INTERNALDATE per UID, and with ``with_parts`` each mail's parts from its
        BODYSTRUCTURE; UIDs no longer present are absent. A poll asks only sizes and dates:
        parsing 2,000 BODYSTRUCTUREs took a third of a second before the first mail was read."""
        items = [b"RFC822.SIZE", b"INTERNALDATE"] + ([b"BODYSTRUCTURE"] if with_parts else [])
        return self._fetch_each(sorted(set(uids)), items, functools.partial(mail_info, with_parts=with_parts), 500)

    def fetch_raw(self, uids: Iterable[int], sizes: Mapping[int, int] | None = None) -> Iterator[tuple[int, bytes]]:
        """Whole mails as ``(uid, raw bytes)`` in UID order, fetched in batches of at most
        ``fetch_batch`` UIDs and about ``fetch_budget`` bytes. UIDs expunged meanwhile are skipped.
        ``sizes`` (RFC822.SIZE by UID, as ``sizes()`` gave them) saves asking the server again."""
        wanted = sorted(set(uids))
        if sizes is None:
            sizes = self._fetch_each(wanted, [b"RFC822.SIZE"], _size_of, 500)
        batch: list[int] = []
        batch_bytes = 0
        for uid in (u for u in wanted if u in sizes):
            size = int(sizes[uid])
            full = len(batch) >= self.settings.fetch_batch or batch_bytes + size > self.settings.fetch_budget
            if batch and full:
                yield from self._fetch_bodies(batch)
                batch, batch_bytes = [], 0
            batch.append(uid)
            batch_bytes += size
        if batch:
            yield from self._fetch_bodies(batch)

    def _fetch_bodies(self, batch: list[int]) -> Iterator[tuple[int, bytes]]:
        bodies = self._fetch_each(batch, [b"BODY.PEEK[]"], lambda _uid, d: _body_of(d, ""), len(batch))
        for uid in batch:
            body = bodies.get(uid)
            if body is not None:
                yield uid, body

    def stream_message_to(self, uid: int, dest: Sink, chunk: int = MIB, *, size: int | None = None) -> int:
        """Copy the whole raw mail to ``dest`` in ``BODY.PEEK[]<offset.chunk>`` partial fetches
        (RFC 3501 6.4.5); returns the number of bytes written, checked against RFC822.SIZE (``size``
        when the caller already has it) so a truncated copy is never taken for the mail."""
        expected = size if size is not None else self._fetch_each([uid], [b"RFC822.SIZE"], _size_of, 1).get(uid)
        if expected is None:
            raise ImapMessageGoneError(uid)
        written = self._stream(uid, "", dest, chunk, None)
        if written != expected:
            raise ImapError(f"UID {uid}: got {written} bytes, RFC822.SIZE says {expected}")
        return written

    def stream_part_to(
        self, uid: int, part: str, dest: Sink, chunk: int = MIB, *, transfer_encoding: str | None = None
    ) -> int:
        """Copy body part ``part`` ("2", "1.3", as in ``BodyPart.part``) to ``dest`` by partial fetches.
        With ``transfer_encoding`` ("base64", "quoted-printable") the bytes are decoded on the way;
        without it they are written as the server holds them. Returns the bytes written."""
        if not _SECTION.match(part):
            raise ValueError(f"not an IMAP part number: {part!r}")
        return self._stream(uid, part, dest, chunk, transfer_encoding)

    def _stream(self, uid: int, section: str, dest: Sink, chunk: int, encoding: str | None) -> int:
        if chunk <= 0:
            raise ValueError("chunk must be positive")
        writer = writer_for(encoding, dest)
        offset = 0
        while True:
            item = f"BODY.PEEK[{section}]<{offset}.{chunk}>".encode()
            got = self._fetch_each([uid], [item], lambda _uid, d: _body_of(d, section), 1)
            data = got.get(uid)
            if data is None:
                raise ImapMessageGoneError(uid)
            writer.write(data)
            offset += len(data)
            if len(data) < chunk:  # the server returns fewer octets only at the end
                break
        writer.finish()
        return writer.written

    def _fetch_each(self, uids: list[int], items: list[bytes], pick: _Pick[T], batch: int) -> dict[int, T]:
        """FETCH ``items`` for ``uids`` in batches; ``pick(uid, data)`` extracts the value or None.
        A UID missing from the answer (or lacking the item) is asked for once more, then given up as
        expunged: servers may omit UIDs and add unsolicited keys (imapclient#334, #564)."""
        client = self._require()
        result: dict[int, T] = {}
        for attempt in (1, 2):
            missing: list[int] = []
            for part in _chunks(uids, max(1, batch)):
                with self._guard("fetch"):
                    answer = client.fetch(part, items)
                for uid in part:
                    value = pick(uid, answer.get(uid) or {})
                    if value is None:
                        missing.append(uid)
                    else:
                        result[uid] = value
            if not missing:
                break
            if attempt == 2:
                log.warning("UIDs %s vanished from %r during fetch", missing, self._folder)
            uids = missing
        return result

    # -- plumbing ------------------------------------------------------------------------------

    def _require(self) -> IMAPClient:
        if self._client is None:
            raise ImapConnectionError("not connected")
        return self._client

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Translate library and socket failures into ImapError subclasses."""
        try:
            yield
        except ImapError:
            raise
        except (imaplib.IMAP4.error, OSError, EOFError) as exc:
            error = translate(exc, action, self.settings.host, self.settings.username)
            if isinstance(error, ImapConnectionError):
                self._drop()  # the stream is in an unknown state: never reuse it
            raise error from exc

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()
