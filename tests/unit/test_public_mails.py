"""Every mail under tests/corpus (ours and the public test mails of other mail libraries in
tests/corpus/public/, see its README) parses without an uncaught exception, within a time limit per
mail, the same from bytes and from a file, and leaves nothing but its materials behind.

A mail nothing can be read from may raise :class:`ParseError` (the pipeline keeps it as an error row);
anything else escaping the parser would put the whole mail in review as a crash.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.mime.parse import ParseError, parse_message, parse_message_file

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MAILS = sorted(CORPUS.rglob("*.eml"))
SECONDS_PER_MAIL = 30  # a hang guard, not a performance claim: a mail takes well under a second


def test_the_public_mails_are_there() -> None:
    public = [path for path in MAILS if "public" in path.relative_to(CORPUS).parts]
    assert len(public) >= 100
    assert len({path.parent for path in public}) >= 3


@pytest.mark.slow
@pytest.mark.timeout(SECONDS_PER_MAIL)
@pytest.mark.parametrize("eml", MAILS, ids=[str(path.relative_to(CORPUS)) for path in MAILS])
def test_parses_without_an_uncaught_exception(eml: Path, tmp_path: Path) -> None:
    raw = eml.read_bytes()
    try:
        from_bytes = parse_message(raw, tmp_path / "bytes")
    except ParseError:
        with pytest.raises(ParseError):
            parse_message_file(eml, tmp_path / "file")
        return
    from_file = parse_message_file(eml, tmp_path / "file")

    for parsed, workdir in ((from_bytes, tmp_path / "bytes"), (from_file, tmp_path / "file")):
        for material in parsed.materials:
            assert material.path.parent == workdir
            assert material.path.stat().st_size == material.size
        assert not list(workdir.glob(".*"))  # no encoded temporaries left behind
    assert [(m.filename, m.sha256, m.origin, m.damage) for m in from_file.materials] == [
        (m.filename, m.sha256, m.origin, m.damage) for m in from_bytes.materials
    ]
    assert from_file.subject == from_bytes.subject
    assert from_file.body_text == from_bytes.body_text
