"""The download of a backlog in its own process (issue 16): ``bot.ingest.downloader``, against the
fixture's real Dovecot."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.ingest.download import runs
from bot.ingest.downloader import GROUP, downloaded
from bot.ingest.poll import poll_once
from bot.ingest.workers import process_context
from bot.mailbox.errors import ImapError
from bot.mailbox.imap import MailboxClient
from db.models import Assignment, Attachment
from tests.support.app import app_for
from tests.support.mails import doc, submission


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot):
    deps = app_for(tmp_path, db_url, dovecot)
    yield deps
    deps.close()


def _plan(app, folder: str = "INBOX"):  # type: ignore[no-untyped-def]
    settings = app.imap_settings(folder)
    with MailboxClient(settings) as box:
        uids = box.new_uids(0)
        sizes = {uid: info.size for uid, info in box.sizes(uids).items()}
        expected = dict(box.fetch_raw(uids, sizes))
        uidvalidity = box.uidvalidity
    return settings, uidvalidity, uids, sizes, expected


def _downloads() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "intake-download"]


def test_the_download_process_hands_every_mail_on_as_a_file_in_uid_order(app, dovecot, tmp_path: Path) -> None:
    dovecot.append_many(
        [submission(f"指标{n}", [(f"{n}.pdf", doc(str(n)))], message_id=f"<d{n}@x>") for n in range(12)]
    )
    settings, uidvalidity, uids, sizes, expected = _plan(app)
    spool = tmp_path / "spool"
    spool.mkdir()
    # Groups of 5 and room for one: the downloader waits for the consumer (back-pressure) twice.
    with downloaded(process_context(), settings, uidvalidity, [(False, uids)], sizes, spool, max_items=3) as items:
        got = list(items)
    assert [uid for uid, _ in got] == uids
    for uid, path in got:
        assert isinstance(path, Path) and path.parent == spool
        assert path.read_bytes() == expected[uid]  # byte for byte what the server holds
    assert _downloads() == []


def test_a_changed_uidvalidity_stops_the_download_with_an_imap_error(app, dovecot, tmp_path: Path) -> None:
    """The poll read its UIDs under one UIDVALIDITY; if the downloader's session sees another, those
    UIDs name other mails, and nothing may be recorded."""
    dovecot.append(submission("指标1", [("1.pdf", doc("1"))]))
    settings, uidvalidity, uids, sizes, _ = _plan(app)
    with (
        pytest.raises(ImapError, match="UIDVALIDITY"),
        downloaded(
            process_context(), settings, uidvalidity + 1, [(False, uids)], sizes, tmp_path, max_items=4
        ) as items,
    ):
        list(items)
    assert _downloads() == []


def test_a_poll_that_leaves_early_ends_its_download_process(app, dovecot, tmp_path: Path) -> None:
    # Three groups of mails (GROUP each), one group's room: the downloader is still waiting for room
    # when the consumer leaves.
    dovecot.append_many([submission(f"指标{n}", [(f"{n}.pdf", doc(str(n)))]) for n in range(3 * GROUP)])
    settings, uidvalidity, uids, sizes, _ = _plan(app)
    with downloaded(process_context(), settings, uidvalidity, [(False, uids)], sizes, tmp_path, max_items=2) as items:
        first = next(iter(items))
        assert first[0] == uids[0]
        assert len(_downloads()) == 1  # still running, waiting for room
    assert _downloads() == []


def test_large_mails_stream_to_files_in_the_download_process_too(app, dovecot, tmp_path: Path) -> None:
    dovecot.append_many([submission(f"指标{n}", [(f"{n}.pdf", doc(str(n) * 1000))]) for n in range(3)])
    settings, uidvalidity, uids, sizes, expected = _plan(app)
    # The middle mail counts as large: fetched alone, by partial fetches, straight to its file.
    planned = list(runs(uids, lambda u: u == uids[1]))
    with downloaded(process_context(), settings, uidvalidity, planned, sizes, tmp_path, max_items=4) as items:
        got = dict(items)
    assert list(got) == uids
    assert all(got[u].read_bytes() == expected[u] for u in uids)


def test_a_batch_keeps_the_version_rule_of_mails_recorded_one_by_one(app, dovecot, caplog) -> None:
    """Issue 16: in a batch, versions come from what the transaction knows instead of a flush and a
    query per file. Re-sending a file under the same name replaces the earlier version even when both
    are in the same batch (the earlier one not yet in the database); the same content counts once."""
    filler = [submission(f"指标{n}", [(f"{n}-其他材料.pdf", doc(f"f{n}"))]) for n in range(30, 50)]
    story = [
        submission("指标12", [("12-情况说明.docx", doc("A"))]),
        submission("指标12", [("12-情况说明.docx", doc("B"))]),  # replaces A
        submission("指标12", [("12-情况说明.docx", doc("A"))]),  # A again: counted already
        submission("指标12", [("12-附件清单.docx", doc("C"))]),  # another file of the item
        submission("指标12", [("12-情况说明.docx", doc("D"))]),  # replaces B
    ]
    dovecot.append_many(filler[:10] + story + filler[10:])
    caplog.set_level("INFO", logger="bot.ingest.pipeline")
    report = poll_once(app)
    assert report.errors == 0 and report.mails == 25
    # Recorded by the batch itself, not by the one-by-one redo that follows a failed batch.
    assert "one by one" not in caplog.text
    with app.sessions() as s:
        rows = s.execute(
            select(Assignment.name_key, Assignment.version, Assignment.is_current, Attachment.sha256)
            .join(Attachment)
            .where(Assignment.indicator_id == "12")
            .order_by(Assignment.name_key, Assignment.version)
        ).all()
    import hashlib

    sha = {k: hashlib.sha256(doc(k)).hexdigest() for k in "ABCD"}
    by_name: dict[str, list[tuple[int, bool, str]]] = {}
    for name_key, version, current, h in rows:
        by_name.setdefault(name_key, []).append((version, current, h))
    assert sorted(by_name.values(), key=len) == [
        [(1, True, sha["C"])],
        [(1, False, sha["A"]), (2, False, sha["B"]), (3, True, sha["D"])],
    ]
