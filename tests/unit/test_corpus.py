"""Every tests/corpus/NAME.eml parsed against NAME.expect.json (see tests/corpus/make_corpus.py).

Keys of an expectation file, all optional except ``subject``:
``subject``, ``from``, ``from_name``, ``to`` (the To/Cc addresses), ``message_id`` ("synthesized" for a
generated one), ``date`` (ISO 8601 or null), ``in_reply_to``, ``references``, ``body_contains`` /
``body_excludes``, ``html`` (an HTML body is present), ``headers`` (name -> decoded value), ``materials``
(in order: filename, origin, container, and when given size, sha256, content_type, filename_raw (the
undecodable bytes, one character per byte), damage (absent: none)), ``containers`` (archive names that
must appear as a material's container), ``cloud_links`` (filename, provider, url), ``skipped`` and
``defects`` (true: non-empty).

The corpus is written by ``make_corpus.py`` (one mail per client form) and ``make_corpus_fidelity.py``
(the regression mails of issue 12, ``issue12_*``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.mime.parse import parse_message, parse_message_file

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
ITEMS = sorted(path.name.removesuffix(".eml") for path in CORPUS.glob("*.eml"))


def test_corpus_is_complete() -> None:
    assert len(ITEMS) >= 16
    for name in ITEMS:
        assert (CORPUS / f"{name}.expect.json").is_file(), name


@pytest.mark.parametrize("name", ITEMS)
def test_corpus_item(name: str, tmp_path: Path) -> None:
    raw = (CORPUS / f"{name}.eml").read_bytes()
    expect: dict[str, Any] = json.loads((CORPUS / f"{name}.expect.json").read_text(encoding="utf-8"))
    mail = parse_message(raw, tmp_path)

    assert mail.subject.text == expect["subject"]
    assert not mail.subject.undecodable
    if "from" in expect:
        assert mail.from_addr == expect["from"]
    if "from_name" in expect:
        assert mail.from_name == expect["from_name"]
    if "to" in expect:
        assert list(mail.to_addrs) == expect["to"]
    if expect.get("message_id") == "synthesized":
        assert mail.message_id == f"<{hashlib.sha256(raw).hexdigest()}.missing@intake>"
    elif "message_id" in expect:
        assert mail.message_id == expect["message_id"]
    else:
        assert mail.message_id.startswith("<") and not mail.message_id.endswith(".missing@intake>")
    if "date" in expect:
        wanted = expect["date"]
        assert mail.date == (datetime.fromisoformat(wanted) if wanted else None)
    if mail.date is not None:
        assert mail.date.tzinfo is not None
    if "in_reply_to" in expect:
        assert mail.in_reply_to == expect["in_reply_to"]
    if "references" in expect:
        assert list(mail.references) == expect["references"]
    for fragment in expect.get("body_contains", []):
        assert fragment in mail.body_text
    for fragment in expect.get("body_excludes", []):
        assert fragment not in mail.body_text
    assert (mail.body_html is not None) == expect.get("html", False)
    for header, value in expect.get("headers", {}).items():
        assert mail.headers[header] == value

    if "materials" in expect:
        assert len(mail.materials) == len(expect["materials"])
        for material, wanted in zip(mail.materials, expect["materials"], strict=True):
            assert material.filename.text == wanted["filename"]
            assert material.origin == wanted["origin"]
            assert material.container == wanted["container"]
            assert material.path.parent == tmp_path
            data = material.path.read_bytes()
            assert material.size == len(data)
            assert material.sha256 == hashlib.sha256(data).hexdigest()
            if "size" in wanted:
                assert material.size == wanted["size"]
            if "sha256" in wanted:
                assert material.sha256 == wanted["sha256"]
            if "content_type" in wanted:
                assert material.content_type == wanted["content_type"]
            if "filename_raw" in wanted:
                assert material.filename.raw == wanted["filename_raw"].encode("latin-1")
            else:
                assert not material.filename.undecodable
            assert material.damage == wanted.get("damage")
    if "cloud_links" in expect:
        assert [(c.filename, c.provider, c.url) for c in mail.cloud_links] == [
            (c["filename"], c["provider"], c["url"]) for c in expect["cloud_links"]
        ]
    for container in expect.get("containers", []):
        assert container in {material.container for material in mail.materials}
    assert [(s.name, s.reason) for s in mail.skipped] == [(s["name"], s["reason"]) for s in expect.get("skipped", [])]
    assert bool(mail.defects) == expect.get("defects", False), mail.defects


@pytest.mark.parametrize("name", ITEMS)
def test_corpus_item_from_file_matches_bytes(name: str, tmp_path: Path) -> None:
    eml = CORPUS / f"{name}.eml"
    from_bytes = parse_message(eml.read_bytes(), tmp_path / "bytes")
    from_file = parse_message_file(eml, tmp_path / "file")
    assert from_file.subject == from_bytes.subject
    assert from_file.message_id == from_bytes.message_id
    assert [(m.filename, m.sha256, m.size, m.origin) for m in from_file.materials] == [
        (m.filename, m.sha256, m.size, m.origin) for m in from_bytes.materials
    ]
    assert from_file.body_text == from_bytes.body_text
    assert from_file.defects == from_bytes.defects
