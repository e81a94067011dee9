"""bot.ingest.findings: what a worker finds in a mail is what the recorder would find itself.

Each mail is read by ``prepare`` with the rules' inputs (as a worker does), and its findings are
compared with the rules applied the recorder's way: the sender's verdict and section from the
configuration, the matcher for that section, the commands of the text, the files that are not
material.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import bot.ingest.findings
from bot.config.model import SectionConfig
from bot.ingest.findings import Findings, RuleInputs, known_sections, not_material_files, sender_verdict
from bot.ingest.prepare import Prepared, prepare
from bot.ingest.storage import Storage
from rules.catalogue import load_catalogue
from rules.commands import parse_commands
from rules.mailkind import MailKind
from rules.match import evaluate
from tests.support.mails import auto_reply, doc, gbk_zip, submission

SECTIONS = (
    SectionConfig("支队", (("刘建设", "zhidui@example.com"),), ("zhidui@example.com",)),
    SectionConfig("法规科", (("王", "fagui@example.com"),), ("fagui@example.com",)),
    SectionConfig("未列入清单的科室", (("李", "new@example.com"),), ("new@example.com",)),
)
INPUTS = RuleInputs(load_catalogue(), SECTIONS, ("mx*",))

MAILS = {
    "section's files": submission("指标12-支队-情况说明", [("涉企收费清理情况说明.docx", doc("12"))]),
    "numbers in names only": submission(
        "支队材料", [("24-行刑衔接案件移送清单.pdf", doc("24")), ("（36）行政指导统计分析.docx", doc("36"))]
    ),
    "zip from Chinese Windows": submission(
        "回复：第七项材料", [("材料.zip", gbk_zip({"监管工作情况说明.docx": doc("7")}))]
    ),
    "another section": submission("【５】法规科材料", [("5.pdf", doc("5"))], sender="fagui@example.com"),
    "a section the catalogue does not know": submission("指标5", [("5.pdf", doc("5"))], sender="new@example.com"),
    "stranger": submission("指标12", [("12.pdf", doc("12"))], sender="someone@qq.com"),
    "authentication failed": submission(
        "指标12", [("12.pdf", doc("12"))], mx_auth="dmarc=fail (p=reject) header.from=example.com"
    ),
    "executable": submission("指标40", [("说明.pdf.exe", b"MZ\x90\x00" + b"\x00" * 64)]),
    "commands": submission("退回 指标12", body="原因：材料不全\n", sender="fagui@example.com"),
    "declaration": submission("指标33 无材料", body="我科室本年度无此类事项。\n"),
}


def _prepared(tmp_path: Path, raw: bytes, rules: RuleInputs | None = INPUTS) -> Prepared:
    storage = Storage(tmp_path / "store")
    spool = tmp_path / "store" / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    return prepare(raw, storage, spool, frozenset({"jzhbjfzk@163.com"}), rules=rules)


@pytest.mark.parametrize("name", list(MAILS))
def test_findings_are_the_rules_applied_the_recorders_way(tmp_path: Path, name: str) -> None:
    prepared = _prepared(tmp_path, MAILS[name])
    mail, findings = prepared.mail, prepared.findings
    assert mail is not None and prepared.kind is MailKind.SUBMISSION and findings is not None
    sender = sender_verdict(mail, INPUTS.authserv_ids)
    section = next((s.name for s in SECTIONS if sender.trusted and sender.address in s.senders), None)
    assert findings.section == section
    assert findings.for_section(section) == evaluate(
        mail.subject.text, [m.filename.text for m in mail.materials], INPUTS.catalogue, mail.body_text, section=section
    )
    assert findings.commands == parse_commands(
        mail.subject.text, mail.body_text, known_sections(load_catalogue(), SECTIONS)
    )
    assert findings.refused == not_material_files(mail)


def test_the_cases_say_what_they_are_named_for(tmp_path: Path) -> None:
    """The table above covers what it claims: a trusted section, a stranger, a refused file, commands."""
    found = {name: _prepared(tmp_path / str(i), raw).findings for i, (name, raw) in enumerate(MAILS.items())}
    assert all(f is not None for f in found.values())
    assert found["section's files"].section == "支队"  # type: ignore[union-attr]
    assert found["another section"].section == "法规科"  # type: ignore[union-attr]
    assert found["stranger"].section is None  # type: ignore[union-attr]
    assert found["authentication failed"].section is None  # type: ignore[union-attr]
    assert found["executable"].refused  # type: ignore[union-attr]
    assert found["commands"].commands  # type: ignore[union-attr]
    assert found["declaration"].decision.declarations == ("33",)  # type: ignore[union-attr]
    assert found["numbers in names only"].decision.attachments[0].indicators == ("24",)  # type: ignore[union-attr]


def test_a_decision_for_another_section_is_not_used(tmp_path: Path) -> None:
    findings = _prepared(tmp_path, MAILS["section's files"]).findings
    assert findings is not None and findings.for_section("支队") is findings.decision
    assert findings.for_section("法规科") is None
    assert findings.for_section(None) is None


def test_only_submissions_have_findings(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, auto_reply("指标12"))
    assert prepared.kind is not MailKind.SUBMISSION and prepared.findings is None


def test_without_the_rules_inputs_the_recorder_finds_them(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, MAILS["section's files"], rules=None)
    assert prepared.mail is not None and prepared.findings is None


def test_a_rule_that_fails_in_the_worker_leaves_the_mail_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a rule costs the findings, not the parse: the recorder applies the rule again, where a
    failure is handled as it always was (the mail kept as an error row)."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(bot.ingest.findings, "evaluate", broken)
    prepared = _prepared(tmp_path, MAILS["section's files"])
    assert prepared.mail is not None and prepared.failure is None and prepared.findings is None
    assert prepared.stored  # the file is stored all the same


def test_a_full_disk_while_finding_stops_the_poll(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A transient fault is not a rule's bug: it propagates (the poll stops, the mail is read again)."""
    import errno

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bot.ingest.findings, "not_material_of", full)
    with pytest.raises(OSError, match="No space"):
        _prepared(tmp_path, MAILS["section's files"])


def test_inputs_and_findings_survive_the_trip_to_and_from_a_worker(tmp_path: Path) -> None:
    inputs = pickle.loads(pickle.dumps(INPUTS))
    assert inputs == INPUTS and inputs.known_sections == INPUTS.known_sections
    findings = _prepared(tmp_path, MAILS["numbers in names only"], rules=inputs).findings
    assert isinstance(findings, Findings)
    assert pickle.loads(pickle.dumps(findings)) == findings
