"""bot.mime.boundaries: the feed parser's boundary lines matched without a regex per boundary, exactly
as the stdlib's compiled pattern matches them."""

from __future__ import annotations

import email.feedparser
import os
import re
from email import message_from_bytes
from email.policy import compat32

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mime import boundaries
from bot.mime.boundaries import BoundaryMatcher, boundary_matcher


def stdlib_pattern(separator: str) -> str:
    # The pattern email.feedparser builds (Python 3.11's _parsegen).
    return "(?P<sep>" + re.escape(separator) + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"


BOUNDARY_CHARS = st.sampled_from([*list("abcXYZ019'()+_,-./:=? \t\\*[]{}|^$&~#\r\n"), "ä", "边", "界"])
LINE_TAILS = st.sampled_from(["", "--", "-", " ", "\t", "  \t", "\r\n", "\n", "\r", "--\r\n", "-- \n", "x", " x\n"])


@settings(max_examples=int(os.environ.get("INTAKE_HYPOTHESIS_EXAMPLES", 500)), deadline=None)
@given(
    boundary=st.text(BOUNDARY_CHARS, min_size=0, max_size=30),
    tails=st.lists(LINE_TAILS, min_size=1, max_size=4),
    prefix=st.sampled_from(["", "-", "--", " --", "x"]),
    cut=st.integers(min_value=0, max_value=40),
)
def test_the_matcher_answers_every_line_as_the_compiled_pattern(
    boundary: str, tails: list[str], prefix: str, cut: int
) -> None:
    separator = "--" + boundary
    compiled = re.compile(stdlib_pattern(separator))
    matcher = boundary_matcher(stdlib_pattern(separator))
    assert isinstance(matcher, BoundaryMatcher)
    whole = prefix + separator + "".join(tails)
    for line in {whole, whole[:cut], separator + "".join(tails), separator}:
        want, got = compiled.match(line), matcher.match(line)
        assert (want is None) == (got is None), line
        if want is not None and got is not None:
            for group in ("end", "ws", "linesep"):
                assert want.group(group) == got.group(group), (line, group)
            assert want.end() == got.end()


def test_other_patterns_are_left_to_re() -> None:
    assert boundary_matcher(r"(\r\n|\r|\n)\Z") is None
    assert boundary_matcher("(?P<sep>--a|b)(?P<end>--)?(?P<ws>[ \\t]*)(?P<linesep>\\r\\n|\\r|\\n)?$") is None
    boundaries.install()
    stand_in = email.feedparser.re  # type: ignore[attr-defined]
    assert isinstance(stand_in.compile(r"(\r\n|\r|\n)\Z"), re.Pattern)
    assert stand_in.escape("a.b") == re.escape("a.b")
    assert isinstance(stand_in.compile(stdlib_pattern("--=_Part_1.2")), BoundaryMatcher)


def test_the_feed_parser_reads_nested_multiparts_the_same_with_it() -> None:
    raw = (
        b"From: a@example.cn\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer (1)"\r\n\r\npreamble\r\n'
        b'--outer (1)\r\nContent-Type: multipart/alternative; boundary="in.ner+2"\r\n\r\n'
        b"--in.ner+2\r\nContent-Type: text/plain\r\n\r\nplain --in.ner+2 not a boundary\r\n"
        b"--in.ner+2  \r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--in.ner+2--\r\n"
        b"--outer (1)\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--outer (1)-- \r\nepilogue\r\n"
    )

    def shape(message: email.message.Message) -> list[tuple[str, object]]:
        return [
            (part.get_content_type(), part.get_payload() if not part.is_multipart() else None)
            for part in message.walk()
        ] + [
            ("preamble", message.preamble),
            ("epilogue", message.epilogue),
            ("defects", [type(d).__name__ for d in message.defects]),
        ]

    email.feedparser.re = re  # type: ignore[attr-defined]
    plain = shape(message_from_bytes(raw, policy=compat32))
    boundaries.install()
    assert not isinstance(email.feedparser.re, type(re))  # type: ignore[attr-defined]
    assert shape(message_from_bytes(raw, policy=compat32)) == plain
    assert len(plain) == 8
