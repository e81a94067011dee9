"""The outbox against a real SMTP server and a migrated database: dedupe, retries, failures, drops.

Time is injected: ``flush(now=...)`` decides what is due; nothing sleeps (``sleep`` records pacing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.outgoing.messages import LOOP_HEADER, build_message, make_message_id
from bot.outgoing.outbox import FlushReport, enqueue, flush, retry_delay, retry_failed
from bot.outgoing.render import render, subject_for
from bot.outgoing.smtp import SmtpSender, SmtpSettings
from db.models import Outbox
from db.session import make_engine, make_sessionmaker, upgrade
from tests.fixtures.smtpd import SmtpServer
from tests.golden import samples

ACCOUNT = "jzhbjfzk@163.com"
T0 = datetime(2025, 6, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine: Engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def reminder_message(key: str, to: str) -> EmailMessage:
    context = samples.reminder(3)
    text, html = render("reminder", context)
    return build_message(
        "reminder",
        [to],
        subject_for("reminder", context),
        text,
        html,
        from_addr=ACCOUNT,
        message_id=make_message_id(key, "163.com"),
        date=T0,
        auto_submitted="auto-generated",
    )


def add(sessions: sessionmaker[Session], key: str, to: str = "liming@jzhb.gov.cn", now: datetime = T0) -> None:
    with sessions.begin() as s:
        enqueue(s, kind="reminder", dedupe_key=key, message=reminder_message(key, to), now=now)


def factory(server: SmtpServer) -> SmtpSender:
    return SmtpSender(
        SmtpSettings(
            host=server.host,
            port=server.port,
            ssl=server.ssl,
            from_addr=ACCOUNT,
            username=server.username,
            password=server.password,
            ca_file=server.ca_file,
            timeout=10.0,
        )
    )


def run(sessions: sessionmaker[Session], server: SmtpServer, now: datetime, **kwargs: object) -> FlushReport:
    pauses: list[float] = kwargs.pop("pauses", [])  # type: ignore[assignment]
    return flush(sessions, lambda: factory(server), now=now, sleep=pauses.append, **kwargs)  # type: ignore[arg-type]


def rows(sessions: sessionmaker[Session]) -> dict[str, Outbox]:
    with sessions() as s:
        found = s.scalars(select(Outbox).order_by(Outbox.id)).all()
        s.expunge_all()
        return {r.dedupe_key: r for r in found}


def received_ids(server: SmtpServer) -> Counter[str]:
    return Counter(str(m.message["Message-ID"]) for m in server.messages)


def test_queued_mail_is_sent_once_with_its_headers(sessions: sessionmaker[Session], smtpd_tls: SmtpServer) -> None:
    add(sessions, "reminder:水生态环境科:2025-06-27")
    pauses: list[float] = []
    report = run(sessions, smtpd_tls, T0, pauses=pauses)
    assert (report.sent, report.retry, report.failed) == (1, 0, 0)
    [got] = smtpd_tls.messages
    assert got.mail_from == ACCOUNT
    msg = got.message
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg[LOOP_HEADER] == ACCOUNT
    assert msg["Message-ID"] == make_message_id("reminder:水生态环境科:2025-06-27", "163.com")
    assert "距截止3天" in str(msg["Subject"])
    row = rows(sessions)["reminder:水生态环境科:2025-06-27"]
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, T0)
    assert row.recipients == ["liming@jzhb.gov.cn"]
    # a second flush finds nothing to do
    assert run(sessions, smtpd_tls, T0 + timedelta(days=1)).attempted == 0
    assert len(smtpd_tls.messages) == 1


def test_enqueue_twice_with_the_same_key_gives_one_row_and_one_mail(
    migrated_session: sessionmaker[Session], smtpd: SmtpServer
) -> None:
    key = "digest:2025-06-20"
    with migrated_session.begin() as s:
        first = enqueue(s, kind="digest", dedupe_key=key, message=reminder_message(key, "fgk@jzhb.gov.cn"), now=T0)
        assert first is not None and first.status == "queued"
    with migrated_session.begin() as s:
        again = enqueue(s, kind="digest", dedupe_key=key, message=reminder_message(key, "fgk@jzhb.gov.cn"), now=T0)
        assert again is None
    with migrated_session() as s:
        assert len(s.scalars(select(Outbox)).all()) == 1
    settings = SmtpSettings(
        host=smtpd.host, port=smtpd.port, ssl=False, from_addr=ACCOUNT, username=smtpd.username,
        password=smtpd.password, timeout=10.0, require_tls=False,
    )  # fmt: skip
    report = flush(migrated_session, lambda: SmtpSender(settings), now=T0, sleep=lambda _: None)
    assert report.sent == 1
    # enqueue after sending: still nothing new
    with migrated_session.begin() as s:
        assert enqueue(s, kind="digest", dedupe_key=key, message=reminder_message(key, "x@y.cn"), now=T0) is None
    report = flush(migrated_session, lambda: SmtpSender(settings), now=T0 + timedelta(hours=1), sleep=lambda _: None)
    assert report.attempted == 0
    assert len(smtpd.messages) == 1


def test_451_is_retried_after_the_backoff_then_sent(sessions: sessionmaker[Session], smtpd_tls: SmtpServer) -> None:
    add(sessions, "receipt:a")
    smtpd_tls.fail_next(451, "DT:SPM 163 smtp14,try again later")
    report = run(sessions, smtpd_tls, T0)
    assert (report.sent, report.retry, report.failed) == (0, 1, 0)
    row = rows(sessions)["receipt:a"]
    assert row.status == "queued" and row.attempts == 1
    assert row.next_attempt_at == T0 + timedelta(minutes=2)  # 163's advice after DT:SPM
    assert row.last_error is not None and "451" in row.last_error
    # not due yet one minute later
    assert run(sessions, smtpd_tls, T0 + timedelta(minutes=1)).attempted == 0
    report = run(sessions, smtpd_tls, T0 + timedelta(minutes=2))
    assert report.sent == 1
    row = rows(sessions)["receipt:a"]
    assert (row.status, row.attempts) == ("sent", 2)
    assert received_ids(smtpd_tls) == Counter({make_message_id("receipt:a", "163.com"): 1})


def test_554_is_failed_and_never_retried(sessions: sessionmaker[Session], smtpd_tls: SmtpServer) -> None:
    add(sessions, "receipt:spam")
    add(sessions, "receipt:fine", to="wangli@jzhb.gov.cn")
    smtpd_tls.fail_next(554, "DT:SPM 163 smtp14,content rejected")
    report = run(sessions, smtpd_tls, T0)
    assert (report.sent, report.retry, report.failed) == (1, 0, 1)
    spam = rows(sessions)["receipt:spam"]
    assert spam.status == "failed" and spam.last_error is not None and "554 DT:SPM" in spam.last_error
    assert run(sessions, smtpd_tls, T0 + timedelta(days=2)).attempted == 0
    assert len(smtpd_tls.messages) == 1
    # the coordinator fixes the cause and puts it back
    with sessions.begin() as s:
        assert retry_failed(s, [spam.id], now=T0 + timedelta(days=2)) == 1
    assert run(sessions, smtpd_tls, T0 + timedelta(days=2)).sent == 1


def test_dropped_connection_mid_batch_keeps_the_rest_queued_and_sends_each_once(
    sessions: sessionmaker[Session], smtpd_tls: SmtpServer
) -> None:
    keys = [f"reminder:科室{n}:2025-06-27" for n in range(4)]
    for n, key in enumerate(keys):
        add(sessions, key, to=f"owner{n}@jzhb.gov.cn")
    smtpd_tls.drop_next(after=1)  # the first DATA goes through, the connection dies at the second
    pauses: list[float] = []
    report = run(sessions, smtpd_tls, T0, pauses=pauses, pace_seconds=2.5)
    assert (report.sent, report.retry, report.failed, report.left) == (1, 1, 0, 2)
    assert report.error is not None
    assert pauses == [2.5]  # paced between the two mails tried, never slept for real
    after = rows(sessions)
    assert [after[k].status for k in keys] == ["sent", "queued", "queued", "queued"]
    assert [after[k].attempts for k in keys] == [1, 1, 0, 0]  # untried rows untouched

    # the next flush (same moment): the untried rows go out; the interrupted one waits its backoff
    report = run(sessions, smtpd_tls, T0)
    assert (report.sent, report.retry) == (2, 0)
    report = run(sessions, smtpd_tls, T0 + retry_delay(1))
    assert report.sent == 1
    assert all(r.status == "sent" for r in rows(sessions).values())
    assert received_ids(smtpd_tls) == Counter({make_message_id(k, "163.com"): 1 for k in keys})


def test_server_down_leaves_everything_queued(sessions: sessionmaker[Session], smtpd: SmtpServer) -> None:
    add(sessions, "receipt:x")
    settings = SmtpSettings(host="127.0.0.1", port=1, ssl=False, from_addr=ACCOUNT, timeout=5.0, require_tls=False)
    report = flush(sessions, lambda: SmtpSender(settings), now=T0, sleep=lambda _: None)
    assert report.attempted == 0 and report.left == 1 and report.error is not None
    row = rows(sessions)["receipt:x"]
    assert (row.status, row.attempts) == ("queued", 0)


def test_repeated_4xx_gives_up_after_max_attempts(sessions: sessionmaker[Session], smtpd_tls: SmtpServer) -> None:
    add(sessions, "receipt:slow")
    smtpd_tls.fail_next(451, "DT:SPM try again later", times=3)
    now = T0
    for _ in range(2):
        assert run(sessions, smtpd_tls, now, max_attempts=3).retry == 1
        now = rows(sessions)["receipt:slow"].next_attempt_at
    report = run(sessions, smtpd_tls, now, max_attempts=3)
    assert report.failed == 1
    row = rows(sessions)["receipt:slow"]
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error is not None and "gave up after 3 attempts" in row.last_error
    assert smtpd_tls.messages == []


def test_sender_quota_stops_the_batch_for_fifteen_minutes(
    sessions: sessionmaker[Session], smtpd_tls: SmtpServer
) -> None:
    add(sessions, "receipt:1")
    add(sessions, "receipt:2")
    smtpd_tls.fail_next(451, "MI:SFQ 163 smtp14,sender frequency quota exceeded")
    report = run(sessions, smtpd_tls, T0)
    assert (report.sent, report.retry, report.left) == (0, 1, 1)
    after = rows(sessions)
    assert after["receipt:1"].next_attempt_at == T0 + timedelta(minutes=15)
    assert after["receipt:2"].attempts == 0
    assert smtpd_tls.connections == 1


def test_one_connection_per_batch_and_batch_size(sessions: sessionmaker[Session], smtpd_tls: SmtpServer) -> None:
    for n in range(5):
        add(sessions, f"receipt:{n}", to=f"u{n}@jzhb.gov.cn")
    pauses: list[float] = []
    report = run(sessions, smtpd_tls, T0, batch_size=3, pauses=pauses, pace_seconds=1.0)
    assert (report.sent, report.left) == (3, 2)
    assert smtpd_tls.connections == 1
    assert pauses == [1.0, 1.0]
    assert run(sessions, smtpd_tls, T0, batch_size=3).sent == 2
    assert smtpd_tls.connections == 2
