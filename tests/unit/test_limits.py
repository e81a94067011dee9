"""Per-mail limits before parsing (header fields) and after (texts), on literal bytes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.ingest.limits import (
    MAX_FIELD_BYTES,
    MAX_FILENAME_CHARS,
    MAX_SUBJECT_CHARS,
    bound,
    clip_header_fields,
    clip_header_file,
)
from bot.mime.parse import parse_message
from tests.support.mails import doc, submission


def encoded_subject(chars: int, eol: bytes = b"\r\n") -> bytes:
    """A subject of ``chars`` characters as Foxmail folds it: one encoded word per line."""
    text = ("指标12材料" * (chars // 6 + 1))[:chars]
    words = [b"=?utf-8?b?" + base64.b64encode(text[i : i + 15].encode()) + b"?=" for i in range(0, len(text), 15)]
    return b"Subject: " + (eol + b" ").join(words) + eol


def mail(subject_field: bytes, eol: bytes = b"\r\n") -> bytes:
    return (
        b"From: a <zhidui@example.com>" + eol + subject_field + b"Message-ID: <after@x>" + eol
        + b"Content-Type: text/plain; charset=utf-8" + eol + eol + b"body" + eol
    )  # fmt: skip


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_ordinary_mails_pass_unchanged(eol: bytes) -> None:
    raw = mail(encoded_subject(40, eol), eol)
    assert clip_header_fields(raw) is raw


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_a_long_folded_subject_is_cut_between_encoded_words(tmp_path: Path, eol: bytes) -> None:
    raw = mail(encoded_subject(400_000, eol), eol)
    clipped = clip_header_fields(raw)
    assert len(clipped) < MAX_FIELD_BYTES + 200
    parsed = parse_message(clipped, tmp_path)
    assert parsed.subject.text.startswith("指标12材料指标12")
    assert "\ufffd" not in parsed.subject.text and not parsed.subject.undecodable  # whole encoded words
    assert parsed.message_id == "<after@x>" and parsed.body_text == "body"  # what follows survives


def test_one_enormous_unfolded_line_is_cut_at_a_blank(tmp_path: Path) -> None:
    raw = mail(b"Subject: " + "材料 ".encode() * 100_000 + b"\r\n")
    clipped = clip_header_fields(raw)
    parsed = parse_message(clipped, tmp_path)
    assert parsed.subject.text.startswith("材料 材料") and parsed.subject.text.endswith("材料")
    assert parsed.message_id == "<after@x>"


def test_a_spooled_mail_is_clipped_into_a_copy(tmp_path: Path) -> None:
    raw = mail(encoded_subject(400_000)) + b"x" * 100_000
    source = tmp_path / "big.eml"
    source.write_bytes(raw)
    copy = clip_header_file(source, tmp_path)
    assert copy != source and copy.read_bytes() == clip_header_fields(raw)
    small = tmp_path / "small.eml"
    small.write_bytes(mail(encoded_subject(40)))
    assert clip_header_file(small, tmp_path) == small


def test_header_only_mail(tmp_path: Path) -> None:
    raw = b"Subject: " + b"x" * (MAX_FIELD_BYTES * 2)
    assert len(clip_header_fields(raw)) <= MAX_FIELD_BYTES + 2


def test_bound_clips_texts_for_display_and_keeps_extensions(tmp_path: Path) -> None:
    long_name = "情" * 400 + ".docx"
    raw = submission("指标12" + "材料" * 1000, [(long_name, doc("x"))], message_id="<" + "i" * 2000 + "@x>")
    parsed = bound(parse_message(raw, tmp_path))
    assert len(parsed.subject.text) == MAX_SUBJECT_CHARS and parsed.subject.text.endswith("…")
    name = parsed.materials[0].filename.text
    assert len(name) <= MAX_FILENAME_CHARS and name.endswith("….docx")
    assert len(parsed.message_id) == 500


def test_bound_cleans_texts_as_the_database_stores_them(tmp_path: Path) -> None:
    raw = submission("支队\x1b[1m材料", [("12-清理\x07情况.pdf", doc("x"))])
    parsed = bound(parse_message(raw, tmp_path))
    assert parsed.subject.text == "支队[1m材料"
    assert parsed.materials[0].filename.text == "12-清理情况.pdf"
