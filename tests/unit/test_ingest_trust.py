"""The files of a parsed mail that are not material (``bot.ingest.findings``), read from their spooled
bytes, the parser's ``Material.damage`` and its ``Skipped`` entries; whether a mail names an indicator
(``bot.ingest.trust``)."""

from __future__ import annotations

from pathlib import Path

from bot.ingest.findings import not_material_files
from bot.ingest.trust import names_indicator
from bot.mime.mail import DecodedText, IncomingMail, Material, Skipped
from rules import codes
from rules.decision import AttachmentDecision, Decision
from rules.material import NotMaterial


def material(
    tmp_path: Path, name: str, data: bytes, *, damage: str | None = None, origin: str = "attachment"
) -> Material:
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}.bin"
    path.write_bytes(data)
    return Material(DecodedText(name), path, len(data), "0" * 64, "application/octet-stream", origin, damage=damage)


def incoming(materials: list[Material], skipped: list[Skipped]) -> IncomingMail:
    return IncomingMail(
        message_id="<t@example.com>",
        subject=DecodedText("指标40"),
        from_addr="zhidui@example.com",
        from_name="",
        to_addrs=(),
        date=None,
        in_reply_to=None,
        references=(),
        body_text="",
        body_html=None,
        headers={},
        content_type="multipart/mixed",
        materials=materials,
        skipped=skipped,
    )


def test_not_material_files(tmp_path: Path) -> None:
    mail = incoming(
        [
            material(tmp_path, "指标40-说明.pdf", b"%PDF-1.4 cut", damage="base64-truncated"),
            material(tmp_path, "指标40-台账.xlsx", b"PK\x03\x04 fine"),
            material(tmp_path, "加密.zip", b"PK\x03\x04 locked"),
            material(tmp_path, "说明\u202ecod.exe", b"MZ\x90\x00"),
            material(tmp_path, "内层.zip", b"PK\x03\x04 inner", origin="zip"),
            material(tmp_path, "图片.png", b"\x89PNG"),
        ],
        [Skipped("加密.zip", "zip-encrypted"), Skipped("内层.zip", "zip-too-deep"), Skipped("logo", "inline-image")],
    )
    found = not_material_files(mail)
    assert {i: n.reason for i, n in found.items()} == {
        0: codes.DAMAGED_ENCODING,
        2: codes.CONTAINER_UNOPENED,
        3: codes.EXECUTABLE,
        4: codes.CONTAINER_UNOPENED,
    }


def test_an_indicator_named_only_by_a_refused_file_is_not_named() -> None:
    files = (AttachmentDecision("40.exe", ("40",), False, matched_by="filename"),)
    refused = {0: NotMaterial(codes.EXECUTABLE, "文件实际扩展名为 .exe")}
    assert not names_indicator(Decision((), (), files), refused)
    assert names_indicator(Decision((), (), files), {})
    assert names_indicator(Decision(("40",), (), files), refused)  # the subject named it
