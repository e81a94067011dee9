"""intake's parser against mail-parser over every mail in tests/corpus, public mails included.

Each disagreement (tests/support/oracle.py says how files are paired) must be listed in
tests/corpus/oracle_disagreements.toml with the reason intake is right, or as a known intake bug. A
disagreement that is not listed fails, and so does a listed one that no longer occurs: the file stays
an exact account of where the two parsers differ.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.oracle import RANDOM_NAME, Disagreement, ParsedFile, compare, decoded_payload, pair_files, toml_entry

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
REVIEWED = CORPUS / "oracle_disagreements.toml"
MAILS = sorted(path.relative_to(CORPUS).as_posix() for path in CORPUS.rglob("*.eml"))

_FIELDS = {"mail", "differs", "intake", "mailparser", "sha256", "mailparser_sha256", "reason", "note"}
_DIFFERS = {"name", "bytes", "only-intake", "only-mailparser", "error"}


def _load() -> tuple[dict[str, str], list[dict[str, Any]]]:
    data = tomllib.loads(REVIEWED.read_text(encoding="utf-8"))
    return data["reasons"], data["disagreement"]


def _disagreement(entry: dict[str, Any]) -> Disagreement:
    return Disagreement(
        entry["mail"],
        entry["differs"],
        entry.get("intake"),
        entry.get("mailparser"),
        entry.get("sha256"),
        entry.get("mailparser_sha256"),
    )


REASONS, ENTRIES = _load()


def test_reviewed_file_is_well_formed() -> None:
    used = Counter(entry["reason"] for entry in ENTRIES)
    for entry in ENTRIES:
        assert set(entry) <= _FIELDS, entry
        assert entry["differs"] in _DIFFERS, entry
        assert entry["reason"] in REASONS, entry
        assert entry["mail"] in MAILS, f"{entry['mail']} is not in tests/corpus"
        side = {"only-intake": "intake", "only-mailparser": "mailparser"}.get(entry["differs"])
        if side:
            assert entry.get(side) and entry.get("sha256"), entry
        if entry["differs"] in ("name", "bytes"):
            assert entry.get("intake") and entry.get("mailparser") and entry.get("sha256"), entry
        assert ("mailparser_sha256" in entry) == (entry["differs"] == "bytes"), entry
    assert set(REASONS) == set(used), f"reasons nothing uses: {set(REASONS) - set(used)}"
    for code, text in REASONS.items():
        # A known bug says so, in its code and its text; anything else is a reason intake is right.
        assert code.startswith("intake-bug-") == text.startswith("intake bug:"), code


def test_corpus_includes_the_public_mails_with_their_origin() -> None:
    public = [mail for mail in MAILS if mail.startswith("public/")]
    assert len(public) >= 150
    origins = {mail.split("/")[1] for mail in public}
    assert len(origins) >= 6  # several independent libraries' test suites
    readme = (CORPUS / "public" / "README.md").read_text(encoding="utf-8")
    sections = {part.split("/", 1)[0]: part for part in readme.split("\n## ")[1:]}
    assert set(sections) == origins
    for origin, section in sections.items():
        assert (CORPUS / "public" / origin / "LICENSE").is_file(), origin
        assert "- Source: https://github.com/" in section and "- Licence: " in section, origin
    for mail in public:
        _, origin, name = mail.split("/")
        assert f"\n| {name} | " in sections[origin], f"{mail}: no row in public/README.md"


@pytest.mark.parametrize("mail", MAILS)
def test_intake_and_mailparser_agree_or_the_difference_is_reviewed(mail: str, tmp_path: Path) -> None:
    found = compare(CORPUS / mail, mail, tmp_path)
    actual = Counter(item.key for item in found)
    listed = Counter(_disagreement(entry).key for entry in ENTRIES if entry["mail"] == mail)
    new = actual - listed
    gone = listed - actual
    message = []
    if new:
        message.append("Not reviewed (decide who is right, then add to tests/corpus/oracle_disagreements.toml):")
        message.extend(toml_entry(item, "?") for item in found if item.key in new)
    if gone:
        message.append("Listed but no longer seen (delete from the reviewed file):")
        message.extend(repr(key) for key in gone)
    assert not message, "\n\n".join(message)


# The oracle's own pairing, on literal file lists.
_A = ParsedFile("a.pdf", "aaaaaaaaaaaa")
_B = ParsedFile("b.docx", "bbbbbbbbbbbb")


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ([_A, _B], [_B, _A], []),  # order does not matter
        ([_A], [ParsedFile("x.pdf", _A.sha256)], [("name", "a.pdf", "x.pdf", _A.sha256, None)]),
        ([_A], [ParsedFile("a.pdf", "cccccccccccc")], [("bytes", "a.pdf", "a.pdf", _A.sha256, "cccccccccccc")]),
        ([_A, _B], [_A], [("only-intake", "b.docx", None, _B.sha256, None)]),
        ([], [_B], [("only-mailparser", None, "b.docx", _B.sha256, None)]),
        # an exact pair is taken before a same-bytes pair: the renamed copy is the odd one out
        (
            [_A],
            [ParsedFile("inline.pdf", _A.sha256), _A],
            [("only-mailparser", None, "inline.pdf", _A.sha256, None)],
        ),
        # the same file twice on one side only
        ([_A], [_A, _A], [("only-mailparser", None, "a.pdf", _A.sha256, None)]),
    ],
)
def test_pairing(
    ours: list[ParsedFile],
    theirs: list[ParsedFile],
    expected: list[tuple[str, str | None, str | None, str, str | None]],
) -> None:
    found = pair_files("m.eml", ours, theirs)
    assert [(d.differs, d.intake, d.mailparser, d.sha256, d.mailparser_sha256) for d in found] == expected


@pytest.mark.parametrize(
    ("payload", "binary", "expected"),
    [
        ("aGVsbG8=\n", True, b"hello"),
        ("aGVs\nbG8=", True, b"hello"),
        ("AAAAAA\n", True, b"\x00\x00\x00\x00"),  # missing padding, as in zbateson m4009
        ("XXX\n", True, b"]u"),  # as in cpython msg_39: the stdlib's decoder gives the same two bytes
        ("From: a@b\n\nhi\n", False, b"From: a@b\n\nhi\n"),  # an attached message comes as text
    ],
)
def test_mailparser_payloads_are_decoded_like_the_stdlib(payload: str, binary: bool, expected: bytes) -> None:
    assert decoded_payload({"payload": payload, "binary": binary}) == expected


def test_random_names_are_replaced_by_a_marker(tmp_path: Path) -> None:
    found = compare(CORPUS / "forwarded_rfc822.eml", "forwarded_rfc822.eml", tmp_path)
    assert [d.mailparser for d in found] == [f"{RANDOM_NAME}.txt"]
