"""The hostile corpus (tests/corpus/hostile, issue 10) through a real Dovecot, the SMTP sink and the CLI
(``intake poll``, ``status --json``, ``digest --html``, ``review``, ``export``), on SQLite and PostgreSQL:
for each attack what was recorded, what was refused, what was sent and to whom."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build
from bot.cli import main
from bot.config import load_config
from db.models import Acceptance, Assignment, Attachment, Declaration, Mail, Outbox, ReturnRecord, ReviewItem
from tests.fixtures.smtpd import SmtpServer
from tests.support.app import SECTIONS

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "hostile"
CASES = sorted(p.name.removesuffix(".eml") for p in CORPUS.glob("*.eml"))
COORDINATOR = "coordinator@example.com"


def write_config(path: Path, dovecot: Any, smtpd: SmtpServer, db_url: str, files: Path) -> None:
    sections = "\n".join(
        f'[[sections]]\nname = "{s["name"]}"\nowners = {json.dumps(s["owners"], ensure_ascii=False)}\n'
        f"senders = {json.dumps(s['senders'])}\n"
        for s in SECTIONS
    )
    path.write_text(
        f"""
[campaign]
name = "测试"
deadline = 2030-10-28

[mailbox]
host = "{dovecot.host}"
port = {dovecot.port}
ssl = false
username = "{dovecot.username}"
password_env = "INTAKE_TEST_IMAP_PASSWORD"

[storage]
database = "{db_url}"
files = "{files}"

[receipts]
max_per_address_per_day = 20

[coordinator]
name = "刘海利"
emails = ["{COORDINATOR}"]
authserv_ids = ["mx*"]

[smtp]
host = "{smtpd.host}"
port = {smtpd.port}
ssl = {str(smtpd.ssl).lower()}
ca_file = "{smtpd.ca_file}"
username = "{smtpd.username}"
from = "{smtpd.username}"
password_env = "INTAKE_TEST_SMTP_PASSWORD"
pace_seconds = 0

{sections}
""",
        encoding="utf-8",
    )


@pytest.fixture
def config(tmp_path: Path, dovecot: Any, smtpd_tls: SmtpServer, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", smtpd_tls.password)
    path = tmp_path / "config.toml"
    write_config(path, dovecot, smtpd_tls, db_url, tmp_path / "files")
    return str(path)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expectations() -> dict[str, dict[str, Any]]:
    return {name: json.loads((CORPUS / f"{name}.expect.json").read_text(encoding="utf-8")) for name in CASES}


def test_corpus_is_complete() -> None:
    assert len(CASES) >= 25
    for name in CASES:
        assert (CORPUS / f"{name}.expect.json").exists(), name


def test_hostile_corpus(
    config: str, dovecot: Any, smtpd_tls: SmtpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raws = {name: (CORPUS / f"{name}.eml").read_bytes() for name in CASES}
    for name in CASES:
        dovecot.append(raws[name])
    assert main(["poll", "--config", config]) == 0
    assert f"新邮件 {len(CASES)} 封" in capsys.readouterr().out
    assert main(["poll", "--config", config]) == 0  # nothing is recorded twice
    capsys.readouterr()

    deps = build(load_config(Path(config)))
    try:
        with deps.sessions() as s:
            rows = {name: s.scalars(select(Mail).where(Mail.raw_sha256 == sha256(raws[name]))).one() for name in CASES}
            assert len(s.scalars(select(Mail)).all()) == len(CASES)
            wrong: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
            for name, want in expectations().items():
                row = rows[name]
                got_reviews = sorted(
                    r.reason for r in s.scalars(select(ReviewItem).where(ReviewItem.mail_id == row.id))
                )
                got_assigned = sorted(
                    [a.indicator_id, a.section]
                    for a in s.scalars(select(Assignment).join(Attachment).where(Attachment.mail_id == row.id))
                )
                receipts = s.scalars(select(Outbox).where(Outbox.dedupe_key == f"receipt:{row.dedupe_key}")).all()
                got = {
                    "kind": row.kind,
                    "from_addr": row.from_addr,
                    "section": row.section,
                    "reviews": got_reviews,
                    "assigned": got_assigned,
                    "receipt_to": [a for r in receipts for a in r.recipients],
                }
                if got != {k: want[k] for k in got}:
                    wrong[f"{name}: {want['attack']}"] = (got, {k: want[k] for k in got})
            assert wrong == {}, json.dumps(wrong, ensure_ascii=False, indent=1)

            # Refused and held commands changed nothing; the verified one ran.
            returns = s.scalars(select(ReturnRecord)).all()
            accepts = {(a.indicator_id, a.section): a.mail_id for a in s.scalars(select(Acceptance))}
            assert returns == []
            assert accepts == {("12", "支队"): rows["24_verified_coordinator_command"].id}
            assert s.scalars(select(Declaration)).all() == []
            # The section's current file for 7 is still its own (the display-name trick replaced nothing).
            current7 = s.scalars(
                select(Attachment)
                .join(Assignment)
                .where(Assignment.indicator_id == "7", Assignment.section == "支队", Assignment.is_current.is_(True))
            ).one()
            assert current7.mail_id == rows["00_section_with_display_name"].id
            # The nameless part was not read as indicator 1.
            nameless = s.scalars(select(Attachment).where(Attachment.mail_id == rows["15_nameless_part"].id)).one()
            assert nameless.filename == "未命名附件.pdf"
            assert s.scalars(select(Assignment).where(Assignment.indicator_id == "1")).all() == []
            # The javascript: link is no cloud file.
            assert rows["20_javascript_cloud_link"].cloud_files == []
    finally:
        deps.close()

    # What was sent, and to whom: the sections' and the one plausible stranger's receipts, three
    # confirmation requests and one command answer to the coordinator's configured address. Nothing
    # to the forged, smuggled or look-alike addresses.
    sent = Counter(rcpt for m in smtpd_tls.messages for rcpt in m.rcpt_tos)
    assert set(sent) == {"zhidui@example.com", "wangwu@qq.com", COORDINATOR}
    assert all(len(m.rcpt_tos) == 1 for m in smtpd_tls.messages)
    to_coordinator = sorted(str(m.message["Subject"]) for m in smtpd_tls.messages if COORDINATOR in m.rcpt_tos)
    assert len(to_coordinator) == 4
    assert sum(s.startswith("【待确认指令】确认码 ") for s in to_coordinator) == 3
    assert any(s.startswith("指令已执行：确认 指标12 支队") for s in to_coordinator)
    assert sent["zhidui@example.com"] == 11
    for m in smtpd_tls.messages:
        assert "\u202e" not in m.data.decode("utf-8", "replace")  # names shown without bidi controls

    # intake status --json: parseable, terminal-safe, and the counted files are the honest ones.
    assert main(["status", "--json", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\u200b" not in out
    snap = json.loads(out)
    counted = {(f["section"], i["id"], f["filename"]) for i in snap["indicators"] for f in i["files"] if f["section"]}
    assert counted == {
        ("支队", "7", "监管情况说明.docx"),
        ("支队", "12", "情况说明.docx"),
        ("支队", "34", "指标3\u200b4-移送情况说明.docx"),
    }
    reasons = Counter(r["reason"] for r in snap["review"])
    assert reasons["executable"] == reasons["damaged_encoding"] == 1
    assert reasons["container_unopened"] == 3 and reasons["command_pending"] == 3
    # Control characters never reach the database (issue 11, db.hygiene); the stored .eml keeps them.
    assert any(r["filename"] == "说明]0;pwned[2J[31m.pdf" for r in snap["review"])

    # intake review: the terminal gets no escape sequences, and the reasons in Chinese.
    assert main(["review", "--config", config]) == 0
    listing = capsys.readouterr().out
    assert "\x1b" not in listing and "\u202e" not in listing and "\x07" not in listing
    for label in ("可执行文件", "附件编码损坏", "压缩包未打开", "发件人未验证", "指令待确认", "发件人未登记"):
        assert label in listing
    assert "26-情况说明cod.exe" in listing  # the real extension in plain sight

    # intake digest --html: no javascript: href, no invisible characters in what it shows.
    html_path = tmp_path / "digest.html"
    assert main(["digest", "--html", str(html_path), "--config", config]) == 0
    capsys.readouterr()
    html = html_path.read_text(encoding="utf-8")
    assert "javascript:" not in html and "\u202e" not in html and "\u200b" not in html and "\x1b" not in html
    assert "26-情况说明cod.exe" in html

    # intake export: only material from trusted senders.
    target = tmp_path / "export"
    assert main(["export", str(target), "--config", config]) == 0
    capsys.readouterr()
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    exported = sorted(f["filename"] for f in manifest["files"])
    wanted = sorted(n for e in expectations().values() for n in e["exported"])
    assert exported == wanted
    on_disk = sorted(p.name for p in target.rglob("*") if p.is_file() and p.suffix not in (".json", ".xlsx"))
    assert len(on_disk) == len(wanted)
    assert not any(p.endswith((".exe", ".zip")) for p in on_disk)
