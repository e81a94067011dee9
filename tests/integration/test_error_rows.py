"""A mail intake could not process can be found again (issue 12): its stored .eml and, when it has no
Message-ID, its IMAP folder and UID, in ``intake status --json`` and in the daily digest. Real Dovecot,
real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import Deps
from bot.cli import main
from bot.coordinator.status import snapshot_json, take_snapshot
from bot.ingest.poll import poll_once
from bot.outgoing.digest import build_digest
from bot.outgoing.render import render
from tests.support.app import app_for
from tests.support.mails import doc, submission

NOT_A_MAIL = b"\r\nnot a mail at all: no header before the empty line \xff\xfe\r\n"


@pytest.fixture
def app(tmp_path: Path, db_url: str, dovecot: Any) -> Iterator[Deps]:
    deps = app_for(tmp_path, db_url, dovecot)
    yield deps
    deps.close()


def test_error_rows_say_where_the_mail_is(
    app: Deps, dovecot: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.ingest.findings
    import bot.ingest.poll
    import bot.ingest.settle

    real = bot.ingest.settle.evaluate

    def breaks_on_one(subject: str, *args: Any, **kwargs: Any) -> Any:
        if "炸" in subject:
            raise RuntimeError("simulated bug")
        return real(subject, *args, **kwargs)

    # The matcher runs where the mail is read (bot.ingest.findings); a failure there leaves it to the
    # recorder, which runs it again: the bug is met in both places.
    monkeypatch.setattr(bot.ingest.findings, "evaluate", breaks_on_one)
    monkeypatch.setattr(bot.ingest.settle, "evaluate", breaks_on_one)
    garbage_uid = dovecot.append(NOT_A_MAIL)
    broken_uid = dovecot.append(submission("指标12 炸", [("a.pdf", doc("a"))]))
    dovecot.append(submission("指标24", [("b.pdf", doc("b"))]))
    assert poll_once(app).errors == 2

    with app.sessions() as s:
        errors = snapshot_json(take_snapshot(s, app.catalogue, app.config.campaign))["errors"]
    by_uid = {e["uid"]: e for e in errors}
    assert set(by_uid) == {garbage_uid, broken_uid}
    for row in errors:
        assert row["message_id"] is None  # neither row has one: the folder and UID find it
        assert row["folder"] == "INBOX"
        assert isinstance(row["uidvalidity"], int)
        assert app.storage.resolve(row["raw_path"]).is_file()

    garbage = app.storage.resolve(by_uid[garbage_uid]["raw_path"])
    assert garbage.read_bytes() == NOT_A_MAIL
    assert json.loads(json.dumps(errors)) == errors  # plain JSON values

    context = build_digest(app, datetime(2021, 10, 20, 9, tzinfo=UTC))
    text, html = render("digest", context)
    for row in errors:
        where = f"原始邮件：{app.storage.root / row['raw_path']}；邮箱文件夹 INBOX 中 UID {row['uid']}"
        assert where in text
        assert where in html

    # The path the coordinator reads in the digest is what `intake inspect` takes.
    assert main(["inspect", "--json", str(garbage)]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "无法解析：读不到任何邮件头"
