"""The outbox: every outgoing mail is recorded first, then sent, then marked sent.

``enqueue`` stores the rendered bytes under a dedupe key ("receipt:<mail key>",
"reminder:<section>:<slot>", "digest:<date>" ...). A key that exists already is left alone, which
makes every job that produces mail safe to re-run.

``flush`` sends the due rows over ONE connection, paced, each row in three short transactions:

1. claim: ``attempts + 1`` and ``next_attempt_at`` pushed to the retry time, in one conditional UPDATE
   (a second flusher cannot claim the same row);
2. send (no transaction open);
3. record: ``sent``, or ``failed`` for a 5xx, or the retry time for a 4xx / lost connection.

Delivery guarantee, honestly: a crash between step 2 and step 3 leaves the row queued with its claim,
so it is sent again after the retry delay, with the SAME bytes and the same deterministic Message-ID.
Rows are claimed and sent one at a time, so that window holds at most one mail; a stop request
(``should_stop``, SIGTERM) ends the batch between two mails, never inside a transaction.
SMTP gives no way to make "the server accepted it" and "we recorded it" one atomic step, so at
least once is the best available; mail clients and archives collapse duplicates by Message-ID, which
makes that rare repeat harmless. A mail is never lost: it stays queued until sent or failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.outgoing.messages import make_message_id, recipients_of
from bot.outgoing.smtp import SmtpAuthError, SmtpError, SmtpPermanentError, SmtpTemporaryError
from db.models import Outbox
from db.queries import outbox_due
from db.upserts import insert_or_ignore

log = logging.getLogger(__name__)

# Minutes to wait after the 1st, 2nd, 3rd ... failed attempt. 163 asks for about 2 minutes after
# "451 DT:SPM"; the last step repeats.
RETRY_MINUTES = (2, 5, 15, 60)
# 163's per-sender quota (451 MI:SFQ) and IP throttling (421 HL:*) last about 15 minutes.
QUOTA_MINUTES = 15
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_PACE_SECONDS = 3.0
DEFAULT_BATCH_SIZE = 40  # 163 answers "MI:DMC" when one connection carries too many mails


class Sender(Protocol):
    """What ``flush`` needs of a connection; ``bot.outgoing.smtp.SmtpSender`` is one."""

    def __enter__(self) -> Sender: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def send_raw(self, raw: bytes, recipients: Sequence[str]) -> dict[str, str]: ...


SenderFactory = Callable[[], Sender]


@dataclass
class FlushReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    left: int = 0  # due rows not tried in this flush (batch stopped or batch size reached)
    error: str | None = None  # why the batch stopped early (no connection, login refused ...)
    failures: list[str] = field(default_factory=list)  # "<dedupe key>: <error>" for retries and failures

    @property
    def attempted(self) -> int:
        return self.sent + self.retry + self.failed


# -- enqueue ------------------------------------------------------------------------------------


def _message_time(message: EmailMessage) -> datetime | None:
    value = message["Date"]
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def enqueue(
    s: Session,
    *,
    kind: str,
    dedupe_key: str,
    message: EmailMessage,
    now: datetime | None = None,
) -> Outbox | None:
    """Record ``message`` for sending, unless ``dedupe_key`` is queued or sent already (then None).

    The message keeps its Message-ID when it has one (build it with ``make_message_id(dedupe_key,
    ...)``); otherwise one is derived from the key. ``now`` (default: the message's Date) is when the
    row becomes due. Runs inside the caller's transaction: the mail's own rows and its receipt commit
    together.
    """
    if message["Message-ID"] is None:
        domain = str(message["From"] or "intake@localhost").rpartition("@")[2].rstrip(">") or "localhost"
        message["Message-ID"] = make_message_id(dedupe_key, domain)
    recipients = list(recipients_of(message))
    if not recipients:
        raise ValueError(f"{dedupe_key}: message has no recipients")
    if message["Bcc"] is not None:
        del message["Bcc"]
    when = now or _message_time(message) or datetime.now(UTC)
    values: dict[str, Any] = {
        "kind": kind,
        "dedupe_key": dedupe_key,
        "message_id": str(message["Message-ID"]),
        "recipients": recipients,
        "subject": str(message["Subject"] or ""),
        "raw": message.as_bytes(policy=SMTP_POLICY),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": when,
        "created_at": when,
    }
    # RETURNING tells reliably whether the row was inserted (rowcount after ON CONFLICT is not
    # reliable across drivers).
    inserted = insert_or_ignore(s, Outbox.__table__, values, ["dedupe_key"], "id")
    if inserted is None:
        log.debug("outbox: %s exists already, not enqueued again", dedupe_key)
        return None
    return s.get_one(Outbox, inserted)


# -- retry policy -------------------------------------------------------------------------------


def retry_delay(attempts: int, error: SmtpError | None = None) -> timedelta:
    """How long to wait after ``attempts`` failed attempts (1 = the first one failed)."""
    step = RETRY_MINUTES[min(max(attempts, 1), len(RETRY_MINUTES)) - 1]
    if error is not None and _is_quota(error):
        step = max(step, QUOTA_MINUTES)
    return timedelta(minutes=step)


def _is_quota(error: SmtpError) -> bool:
    text = str(error)
    return error.code == 421 or "MI:SFQ" in text or "HL:" in text or "MI:DMC" in text


def _stops_batch(error: SmtpTemporaryError) -> bool:
    """A lost connection or a sender-wide limit ends the batch; a 4xx about one message does not."""
    return error.connection_lost or _is_quota(error)


# -- flush --------------------------------------------------------------------------------------


def _due_ids(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    with sessions.begin() as s:
        return [row.id for row in outbox_due(s, now)]


def _claim(sessions: sessionmaker[Session], row_id: int, now: datetime) -> tuple[bytes, list[str], int, str] | None:
    """Step 1: take the row for this attempt, or None when another flusher has it (or it is done)."""
    with sessions.begin() as s:
        attempts = s.scalar(select(Outbox.attempts).where(Outbox.id == row_id))
        if attempts is None:
            return None
        result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(Outbox)
            .where(
                Outbox.id == row_id,
                Outbox.status == "queued",
                Outbox.attempts == attempts,
                Outbox.next_attempt_at <= now,
            )
            .values(attempts=attempts + 1, next_attempt_at=now + retry_delay(attempts + 1))
        )
        if result.rowcount != 1:
            return None
        row = s.get_one(Outbox, row_id)
        return bytes(row.raw), list(row.recipients), row.attempts, row.dedupe_key


def _record(sessions: sessionmaker[Session], row_id: int, **values: Any) -> None:
    with sessions.begin() as s:
        s.execute(update(Outbox).where(Outbox.id == row_id).values(**values))


def flush(
    sessions: sessionmaker[Session],
    sender_factory: SenderFactory,
    *,
    now: datetime,
    pace_seconds: float = DEFAULT_PACE_SECONDS,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] | None = None,
) -> FlushReport:
    """Send the rows due at ``now`` over one connection; see the module docstring for the steps.

    Temporary failures (4xx, lost connection) are retried after ``retry_delay`` until
    ``max_attempts``; permanent ones (5xx) are marked failed at once. A lost connection, a sender
    quota or a refused login ends the batch; the rows not tried stay queued, untouched. When
    ``should_stop`` says so the batch ends after the current SMTP transaction, so at most one mail is
    ever in the window between the server's 250 and our record of it.
    """
    report = FlushReport()
    due = _due_ids(sessions, now)
    if not due:
        return report
    batch, report.left = due[:batch_size], max(0, len(due) - batch_size)
    try:
        sender = sender_factory()
        sender.__enter__()
    except SmtpError as exc:
        report.error = f"connect: {exc}"
        report.left = len(due)
        log.warning("outbox: cannot connect, %d mails stay queued: %s", len(due), exc)
        return report
    try:
        for position, row_id in enumerate(batch):
            if position and pace_seconds > 0:
                sleep(pace_seconds)
            if should_stop is not None and should_stop():
                report.left += len(batch) - position
                break
            claimed = _claim(sessions, row_id, now)
            if claimed is None:
                continue
            raw, recipients, attempts, key = claimed
            try:
                refused = sender.send_raw(raw, recipients)
            except SmtpAuthError as exc:  # login expired mid-batch: a configuration problem
                _record(sessions, row_id, last_error=str(exc))
                report.retry += 1
                report.error = str(exc)
                report.left += len(batch) - position - 1
                break
            except SmtpTemporaryError as exc:
                if attempts >= max_attempts:
                    _record(sessions, row_id, status="failed", last_error=f"gave up after {attempts} attempts: {exc}")
                    report.failed += 1
                else:
                    _record(sessions, row_id, last_error=str(exc), next_attempt_at=now + retry_delay(attempts, exc))
                    report.retry += 1
                report.failures.append(f"{key}: {exc}")
                log.warning("outbox: %s not sent (attempt %d), will retry: %s", key, attempts, exc)
                if _stops_batch(exc):
                    report.error = str(exc)
                    report.left += len(batch) - position - 1
                    break
            except SmtpPermanentError as exc:
                _record(sessions, row_id, status="failed", last_error=str(exc))
                report.failed += 1
                report.failures.append(f"{key}: {exc}")
                log.error("outbox: %s refused permanently: %s", key, exc)
            else:
                note = "; ".join(f"{rcpt}: {reply}" for rcpt, reply in refused.items()) or None
                _record(sessions, row_id, status="sent", sent_at=now, last_error=note)
                report.sent += 1
                log.info("outbox: %s sent to %s", key, ", ".join(recipients))
    finally:
        sender.__exit__(None, None, None)
    return report


def retry_failed(s: Session, outbox_ids: Sequence[int], *, now: datetime) -> int:
    """Put failed rows back in the queue (after the coordinator changed what caused the refusal)."""
    result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
        update(Outbox)
        .where(Outbox.id.in_(list(outbox_ids)), Outbox.status == "failed")
        .values(status="queued", attempts=0, next_attempt_at=now)
    )
    return int(result.rowcount)
