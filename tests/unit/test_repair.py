"""bot.mime.repair: the top header block made readable (BOM, obsolete syntax), nothing else touched."""

from __future__ import annotations

import pytest

from bot.mime.repair import BOM_NOTE, OBSOLETE_NOTE, repair_bytes, repair_chunks

BODY = b"\r\n\r\nbody line\r\nSubject : not a header, body text\r\n"


@pytest.mark.parametrize(
    ("raw", "repaired", "notes"),
    [
        (b"Subject: ok\r\nFrom: a@b.c" + BODY, b"Subject: ok\r\nFrom: a@b.c" + BODY, []),
        (b"\xef\xbb\xbfSubject: ok" + BODY, b"Subject: ok" + BODY, [BOM_NOTE]),
        (b"Subject : obsolete" + BODY, b"Subject: obsolete" + BODY, [OBSOLETE_NOTE]),
        (b"From  : John\r\nTo\t: Mary" + BODY, b"From: John\r\nTo: Mary" + BODY, [OBSOLETE_NOTE]),
        # an mbox "From " line is not a header and has no colon after the white space
        (b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\r\nSubject: x" + BODY, None, []),
        # folded continuation lines are left alone
        (b"Subject: a\r\n  : b" + BODY, None, []),
        (b"\xef\xbb\xbfSubject : both" + BODY, b"Subject: both" + BODY, [BOM_NOTE, OBSOLETE_NOTE]),
        (b"Subject : no body at all", b"Subject: no body at all", [OBSOLETE_NOTE]),
        (b"", b"", []),
    ],
)
def test_repair(raw: bytes, repaired: bytes | None, notes: list[str]) -> None:
    expected = raw if repaired is None else repaired
    found: list[str] = []
    assert repair_bytes(raw, found) == expected
    assert found == notes
    for size in (1, 3, 7, 1 << 20):
        found = []
        chunks = [raw[i : i + size] for i in range(0, len(raw), size)]
        assert b"".join(repair_chunks(chunks, found)) == expected
        assert found == notes


def test_an_unchanged_mail_is_not_copied() -> None:
    raw = b"Subject: ok" + BODY
    assert repair_bytes(raw, []) is raw
