"""The main job end to end: real Dovecot -> parse -> rules -> real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import gc
import hashlib
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.coordinator.status import snapshot_json, take_snapshot
from bot.ingest.poll import poll_once
from db.models import Assignment, Attachment, Mail, MailboxCursor, ReviewItem
from tests.fixtures.tcpproxy import tcp_proxy  # noqa: F401  (fixture)
from tests.support.app import app_for
from tests.support.mails import auto_reply, doc, gbk_zip, submission


def counts(deps) -> dict[str, int]:
    with deps.sessions() as s:
        return {
            "mail": s.scalar(select(func.count()).select_from(Mail)) or 0,
            "attachment": s.scalar(select(func.count()).select_from(Attachment)) or 0,
            "assignment": s.scalar(select(func.count()).select_from(Assignment)) or 0,
            "review": s.scalar(select(func.count()).select_from(ReviewItem)) or 0,
        }


def assigned(deps) -> set[tuple[str, str, str]]:
    with deps.sessions() as s:
        rows = s.execute(
            select(Assignment.indicator_id, Assignment.section, Attachment.filename).join(Attachment)
        ).all()
    return {tuple(r) for r in rows}


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot):
    deps = app_for(tmp_path, db_url, dovecot)
    yield deps
    deps.close()


def test_poll_records_files_under_their_indicators_once(app, dovecot) -> None:
    dovecot.append(submission("指标12-支队-涉企收费清理情况说明", [("涉企收费清理情况说明.docx", doc("12"))]))
    dovecot.append(
        submission(
            "支队材料",
            [("24-行刑衔接案件移送清单.pdf", doc("24")), ("（36）行政指导统计分析.docx", doc("36"))],
        )
    )
    dovecot.append(
        submission(
            "回复：第七项材料", [("材料.zip", gbk_zip({"监管工作情况说明.docx": doc("7"), "__MACOSX/._x": b"x"}))]
        )
    )
    report = poll_once(app)
    assert (report.mails, report.errors) == (3, 0)
    assert assigned(app) == {
        ("12", "支队", "涉企收费清理情况说明.docx"),
        ("24", "支队", "24-行刑衔接案件移送清单.pdf"),
        ("36", "支队", "（36）行政指导统计分析.docx"),
        ("7", "支队", "监管工作情况说明.docx"),
    }
    before = counts(app)
    again = poll_once(app)
    assert (again.mails, again.duplicates) == (0, 0)
    assert counts(app) == before
    # Nothing was marked read: the mailbox is shared with people using webmail.
    assert all(b"\\Seen" not in flags for flags in dovecot.flags().values())


def test_files_are_stored_by_content_with_raw_mail_kept(app, dovecot) -> None:
    data = doc("同一份文件")
    dovecot.append(submission("指标12", [("a.pdf", data)]))
    dovecot.append(submission("指标24", [("../../etc/passwd", data)]))
    poll_once(app)
    digest = hashlib.sha256(data).hexdigest()
    stored = list((app.storage.root / "files").rglob(digest))
    assert len(stored) == 1 and stored[0].read_bytes() == data
    assert len(list((app.storage.root / "mail").rglob("*.eml"))) == 2
    assert not (app.storage.root.parent / "etc").exists()
    assert {f for _, _, f in assigned(app)} == {"a.pdf", "../../etc/passwd"}  # original name kept in the db


def test_unknown_sender_auto_reply_and_empty_mail(app, dovecot) -> None:
    dovecot.append(submission("指标12材料", [("x.pdf", doc("x"))], sender="stranger@qq.com"))
    dovecot.append(auto_reply("指标12材料"))
    dovecot.append(submission("请问指标12需要什么材料", [], sender="fgk@example.com"))
    report = poll_once(app)
    assert (report.mails, report.ignored) == (3, 1)
    with app.sessions() as s:
        kinds = dict(s.execute(select(Mail.from_addr, Mail.kind)).all())
        reasons = sorted(s.scalars(select(ReviewItem.reason)))
    assert kinds["stranger@qq.com"] == "submission"
    assert reasons == ["no_material", "unknown_sender"]
    assert assigned(app) == {("12", "", "x.pdf")}  # recorded, but counted for no section
    with app.sessions() as s:
        snap = snapshot_json(take_snapshot(s, app.catalogue, app.config.campaign))
    item12 = next(i for i in snap["indicators"] if i["id"] == "12")
    assert item12["state"] == "outstanding"
    assert {r["reason"] for r in snap["review"]} == {"no_material", "unknown_sender"}
    assert snap["ignored"] == [{"message_id": snap["ignored"][0]["message_id"], "kind": "auto_reply"}]


def test_resent_file_same_content_is_one_submission_new_content_a_new_version(app, dovecot) -> None:
    dovecot.append(submission("指标12", [("清理情况.docx", doc("v1"))]))
    dovecot.append(submission("Re: 指标12", [("清理情况.docx", doc("v1"))]))
    dovecot.append(submission("指标12 修改后", [("清理情况（修改稿）.docx", doc("v2"))]))
    poll_once(app)
    with app.sessions() as s:
        rows = s.execute(
            select(Assignment.version, Assignment.is_current)
            .where(Assignment.indicator_id == "12")
            .order_by(Assignment.id)
        ).all()
    assert [tuple(r) for r in rows] == [(1, False), (2, True)]


def test_uidvalidity_change_rescans_without_duplicates(app, dovecot) -> None:
    for n in (12, 24, 36):
        dovecot.append(submission(f"指标{n}", [(f"{n}.pdf", doc(str(n)))]))
    poll_once(app)
    before = counts(app)
    with app.sessions.begin() as s:
        s.execute(update(MailboxCursor).values(uidvalidity=MailboxCursor.uidvalidity + 1))
    report = poll_once(app)
    assert (report.mails, report.duplicates) == (0, 3)
    assert counts(app) == before


def test_same_mail_in_inbox_and_junk_is_recorded_once(tmp_path: Path, db_url: str, dovecot) -> None:
    dovecot.create_folder("垃圾邮件")
    raw = submission("指标12", [("a.pdf", doc("a"))])
    dovecot.append(raw)
    dovecot.append(raw, folder="垃圾邮件")
    dovecot.append(submission("指标24", [("b.pdf", doc("b"))]), folder="垃圾邮件")
    deps = app_for(tmp_path, db_url, dovecot, extra_folders=["垃圾邮件"])
    try:
        report = poll_once(deps)
        assert (report.mails, report.duplicates) == (2, 1)
    finally:
        deps.close()


def test_unparseable_mail_is_kept_and_flagged_and_the_poll_goes_on(app, dovecot) -> None:
    dovecot.append(b"\x00\x01\x02 not a mail at all \xff\xfe\r\n")
    dovecot.append(submission("指标12", [("a.pdf", doc("a"))]))
    report = poll_once(app)
    assert report.mails == 2
    with app.sessions() as s:
        statuses = sorted(s.scalars(select(Mail.status)))
        raw_paths = list(s.scalars(select(Mail.raw_path)))
    # Either the parser salvages something (recorded) or it is kept as an error: never dropped.
    assert len(statuses) == 2
    for rel in raw_paths:
        assert app.storage.resolve(rel).exists()


def test_two_pollers_at_once_record_each_mail_once(tmp_path: Path, db_url: str, dovecot) -> None:
    for n in range(1, 21):
        dovecot.append(submission(f"指标{n}", [(f"{n}.pdf", doc(f"file {n}"))]))
    a = app_for(tmp_path / "a", db_url, dovecot)
    b = replace(a, storage=a.storage)  # same database and storage, separate pollers
    errors: list[BaseException] = []

    def run(deps) -> None:
        try:
            poll_once(deps)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        got = counts(a)
        assert got["mail"] == 20
        assert got["attachment"] == 20
        # each file once: assigned, or (a number next to 支队's own, a likely typo) sent to review
        assert got["assignment"] + got["review"] == 20
    finally:
        a.close()


def test_a_mail_that_breaks_processing_is_kept_and_the_poll_goes_on(app, dovecot, monkeypatch) -> None:
    import bot.ingest.findings
    import bot.ingest.poll
    import bot.ingest.settle

    real = bot.ingest.settle.evaluate

    def breaks_on_one(subject, *args, **kwargs):
        if "炸" in subject:
            raise RuntimeError("simulated bug")
        return real(subject, *args, **kwargs)

    # The matcher runs where the mail is read (bot.ingest.findings); a failure there leaves it to the
    # recorder, which runs it again: the bug is met in both places.
    monkeypatch.setattr(bot.ingest.findings, "evaluate", breaks_on_one)
    monkeypatch.setattr(bot.ingest.settle, "evaluate", breaks_on_one)
    dovecot.append(submission("指标12 炸", [("a.pdf", doc("a"))]))
    dovecot.append(submission("指标24", [("b.pdf", doc("b"))]))
    report = poll_once(app)
    assert (report.mails, report.errors) == (2, 1)
    with app.sessions() as s:
        failed = s.scalars(select(Mail).where(Mail.status == "error")).one()
        reasons = list(s.scalars(select(ReviewItem.reason).where(ReviewItem.mail_id == failed.id)))
    assert "simulated bug" in (failed.error or "")
    assert reasons == ["unparseable"]
    assert app.storage.resolve(failed.raw_path).exists()
    assert ("24", "支队", "b.pdf") in assigned(app)
    assert poll_once(app).mails == 0  # not retried forever: the cursor moved past it


def test_poll_over_verified_tls(tmp_path: Path, db_url: str, dovecot) -> None:
    """Production reads 163 over implicit TLS with certificate checks: the same path, end to end."""

    class OverTls:
        host, port = dovecot.host, dovecot.tls_port
        username, password = dovecot.username, dovecot.password

    dovecot.append(submission("【12】清理情况", [("清理情况.docx", doc("tls"))]))
    deps = app_for(tmp_path, db_url, OverTls, ssl=True, ca_file=dovecot.ca_file)
    try:
        assert poll_once(deps).mails == 1
        assert assigned(deps) == {("12", "支队", "清理情况.docx")}
    finally:
        deps.close()


def test_large_mails_are_streamed_to_disk_and_recorded_in_uid_order(app, dovecot, monkeypatch) -> None:
    import bot.ingest.poll
    import bot.ingest.settle

    monkeypatch.setattr(bot.ingest.poll, "LARGE_MAIL_BYTES", 200_000)  # the streaming path, without 8 MB mails
    big = bytes(range(256)) * 2000  # 512 KB
    dovecot.append(submission("指标12", [("小.pdf", doc("small"))]))
    dovecot.append(submission("指标24", [("大文件.pdf", big)]))
    dovecot.append(submission("指标36", [("小二.pdf", doc("small 2"))]))
    report = poll_once(app)
    assert (report.mails, report.errors) == (3, 0)
    assert assigned(app) == {("12", "支队", "小.pdf"), ("24", "支队", "大文件.pdf"), ("36", "支队", "小二.pdf")}
    stored = list((app.storage.root / "files").rglob(hashlib.sha256(big).hexdigest()))
    assert len(stored) == 1 and stored[0].read_bytes() == big
    with app.sessions() as s:
        raw_path = s.scalars(select(Mail.raw_path).where(Mail.subject == "指标24")).one()
    assert app.storage.resolve(raw_path).stat().st_size > len(big)  # the raw .eml is kept whole
    assert [p for p in (app.storage.root / "spool").rglob("*") if p.is_file()] == []


def test_a_poll_asks_the_server_for_sizes_once(tmp_path: Path, db_url: str, dovecot, tcp_proxy, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """RFC822.SIZE comes with INTERNALDATE and BODYSTRUCTURE in one FETCH; neither the batched download
    nor the streamed large mail asks for it again."""
    import bot.ingest.poll
    import bot.ingest.settle

    monkeypatch.setattr(bot.ingest.poll, "LARGE_MAIL_BYTES", 200_000)
    dovecot.append(submission("指标12", [("小.pdf", doc("small"))]))
    dovecot.append(submission("指标24", [("大文件.pdf", bytes(range(256)) * 2000)]))
    dovecot.append(submission("指标36", [("小二.pdf", doc("small 2"))]))
    proxy = tcp_proxy(dovecot.port)

    class ViaProxy:
        host, port = "127.0.0.1", proxy.port
        username, password = dovecot.username, dovecot.password

    deps = app_for(tmp_path, db_url, ViaProxy)
    try:
        assert poll_once(deps).mails == 3
    finally:
        deps.close()
    wire = bytes(proxy.client_transcript).upper()
    assert wire.count(b"RFC822.SIZE") == 1


def test_a_backlog_is_read_by_worker_processes_and_recorded_in_few_transactions(app, dovecot) -> None:
    """Issue 16: a first poll on a full mailbox. Every mail is recorded once, in UID order, by far
    fewer commits than mails (batches carry the cursor), read by a pool of worker processes (on a
    machine with more than one core)."""
    from sqlalchemy import event

    import bot.ingest.settle
    import bot.ingest.workers

    mails = [
        submission(f"指标{n % 60 + 1}", [(f"{n % 60 + 1}-材料{n}.pdf", doc(f"第{n}份"))], message_id=f"<b{n}@x>")
        for n in range(60)
    ]
    uids = dovecot.append_many(mails)
    pooled: set[bool] = set()
    real = bot.ingest.workers.Preparer.submit_many

    def submit(self, raws):  # type: ignore[no-untyped-def]
        pooled.add(self.parallel)
        return real(self, raws)

    commits = 0

    def count(_conn) -> None:  # type: ignore[no-untyped-def]
        nonlocal commits
        commits += 1

    # The rules that need no database ran where the mails were read (bot.ingest.findings): the
    # recording thread, the serial step, matches nothing again.
    matched_here = 0
    real_evaluate, real_refused = bot.ingest.settle.evaluate, bot.ingest.settle.not_material_files

    def evaluate(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal matched_here
        matched_here += 1
        return real_evaluate(*args, **kwargs)

    def refused(mail):  # type: ignore[no-untyped-def]
        nonlocal matched_here
        matched_here += 1
        return real_refused(mail)

    event.listen(app.engine, "commit", count)
    try:
        bot.ingest.workers.Preparer.submit_many = submit  # type: ignore[method-assign]
        bot.ingest.settle.evaluate = evaluate
        bot.ingest.settle.not_material_files = refused
        report = poll_once(app)
    finally:
        bot.ingest.workers.Preparer.submit_many = real  # type: ignore[method-assign]
        bot.ingest.settle.evaluate = real_evaluate
        bot.ingest.settle.not_material_files = real_refused
        event.remove(app.engine, "commit", count)
    assert report.mails == 60 and report.errors == 0
    assert matched_here == 0
    # Each file counts for the indicator its subject and name give, or (another section's indicator
    # sent by 支队) waits for the coordinator: the decisions the recorder would have made.
    assert assigned(app) <= {(str(n % 60 + 1), "支队", f"{n % 60 + 1}-材料{n}.pdf") for n in range(60)}
    assert counts(app)["assignment"] + counts(app)["review"] == 60 and counts(app)["assignment"] > 0
    # The heap frozen for the backlog is handed back to the collector: a scheduler that polls for
    # weeks would otherwise never collect what those objects leave behind.
    assert gc.get_freeze_count() == 0
    assert commits <= 20, commits  # two per mail before issue 16 (the mark, then the mail)
    assert pooled == {bot.ingest.workers.worker_count(app.config.mailbox.workers) > 1}
    with app.sessions() as s:
        assert s.scalar(select(MailboxCursor.last_uid)) == uids[-1]
        recorded = s.execute(select(Mail.uid, Mail.message_id).order_by(Mail.id)).all()
        stored = {p.name for p in (app.storage.root / "files").rglob("*") if p.is_file()}
        shas = set(s.scalars(select(Attachment.sha256)))
    assert [u for u, _ in recorded] == uids  # recorded in UID order
    assert [m for _, m in recorded] == [f"<b{n}@x>" for n in range(60)]
    assert shas == stored  # every file in the store, hashed as recorded
    assert all(
        hashlib.sha256((app.storage.root / "files" / h[:2] / h[2:4] / h).read_bytes()).hexdigest() == h for h in shas
    )


def _dedupe_queries(app, run):  # type: ignore[no-untyped-def]
    """Run ``run()`` and count the per-mail dedupe queries it sends (settle._SAME_MAIL)."""
    from sqlalchemy import event

    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if (
            statement.lstrip().upper().startswith("SELECT")
            and "raw_sha256 =" in statement
            and "dedupe_key =" in statement
        ):
            seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", note)
    try:
        return run(), len(seen)
    finally:
        event.remove(app.engine, "before_cursor_execute", note)


def _backlog_with_rescan(app, dovecot) -> tuple[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    """30 mails recorded, then a rescan (new UIDVALIDITY) that also brings 4 new mails and one that
    reuses a recorded Message-ID with other content (recorded under its variant key)."""
    old = [submission(f"指标{n % 60 + 1}", [(f"{n}.pdf", doc(f"旧{n}"))], message_id=f"<old{n}@x>") for n in range(30)]
    dovecot.append_many(old)
    poll_once(app)
    before = counts(app)
    with app.sessions.begin() as s:
        s.execute(update(MailboxCursor).values(uidvalidity=MailboxCursor.uidvalidity + 1))
    new = [submission(f"指标{n}", [(f"新{n}.pdf", doc(f"新{n}"))], message_id=f"<new{n}@x>") for n in range(1, 5)]
    reused = submission("指标9", [("另一份.pdf", doc("另一份"))], message_id="<old3@x>")
    dovecot.append_many([*new, reused])
    return 30, before


def test_a_backlog_asks_the_database_only_about_mails_it_may_have(app, dovecot) -> None:
    known, before = _backlog_with_rescan(app, dovecot)
    report, queries = _dedupe_queries(app, lambda: poll_once(app))
    assert (report.mails, report.duplicates) == (5, known)
    # The 30 recorded mails and the one reusing a Message-ID are asked about; the 4 new ones are not.
    assert queries == known + 1
    after = counts(app)
    assert after["mail"] == before["mail"] + 5
    with app.sessions() as s:
        keys = set(s.scalars(select(Mail.dedupe_key).where(Mail.message_id == "<old3@x>")))
    assert len(keys) == 2 and any("#sha256:" in k for k in keys)


def test_a_mail_another_writer_recorded_after_the_backlog_read_is_still_recorded_once(app, dovecot) -> None:
    # The index of recorded mails is read at the start of a backlog; a second poller may record the
    # same mails after that. Simulate it with an index that knows nothing: the unique dedupe key
    # refuses the second insert, the batch is redone mail by mail, and each is found a duplicate.
    import bot.ingest.pipeline as pipeline
    from bot.ingest.settle import Recorded

    known, before = _backlog_with_rescan(app, dovecot)
    real = pipeline.Recorded.read
    pipeline.Recorded.read = classmethod(lambda cls, s: Recorded())  # type: ignore[method-assign,assignment]
    try:
        report = poll_once(app)
    finally:
        pipeline.Recorded.read = real  # type: ignore[method-assign]
    assert (report.mails, report.duplicates, report.errors) == (5, known, 0)
    assert counts(app)["mail"] == before["mail"] + 5
    with app.sessions() as s:
        per_key = s.execute(select(Mail.dedupe_key, func.count()).group_by(Mail.dedupe_key)).all()
    assert all(n == 1 for _, n in per_key)
