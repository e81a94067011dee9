"""``intake inspect``: how intake reads .eml files, through the real command line (bot.cli.main and a
subprocess), checked against the corpus expectation files."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MAILS = sorted(CORPUS.glob("*.eml"))
KEYS = {
    "file",
    "error",
    "message_id",
    "from",
    "subject",
    "kind",
    "materials",
    "skipped",
    "cloud_links",
    "defects",
    "decision",
}
MATERIAL_KEYS = {"filename", "size", "sha256", "content_type", "origin", "container"}


def inspect_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["inspect", "--json", *argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, [json.loads(line) for line in out.out.splitlines()]


def test_json_over_the_corpus_agrees_with_the_expectation_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, reports = inspect_json(capsys, *map(str, MAILS))
    assert code == 0
    assert [r["file"] for r in reports] == [str(path) for path in MAILS]  # one line per file, in order
    for path, report in zip(MAILS, reports, strict=True):
        expect = json.loads(path.with_suffix(".expect.json").read_text(encoding="utf-8"))
        assert set(report) == KEYS, path.name
        assert report["error"] is None
        assert report["subject"] == expect["subject"], path.name
        if "from" in expect:
            assert report["from"] == expect["from"]
        if expect.get("message_id") == "synthesized":
            assert report["message_id"] is None
        elif "message_id" in expect:
            assert report["message_id"] == expect["message_id"]
        assert bool(report["defects"]) == expect.get("defects", False), (path.name, report["defects"])
        assert [(s["filename"], s["reason"]) for s in report["skipped"]] == [
            (s["name"], s["reason"]) for s in expect.get("skipped", [])
        ]
        if "cloud_links" in expect:
            assert [(c["filename"], c["provider"], c["url"]) for c in report["cloud_links"]] == [
                (c["filename"], c["provider"], c["url"]) for c in expect["cloud_links"]
            ]
        if "materials" in expect:
            assert len(report["materials"]) == len(expect["materials"]), path.name
            for got, wanted in zip(report["materials"], expect["materials"], strict=True):
                assert set(got) == MATERIAL_KEYS
                assert (got["filename"], got["origin"], got["container"]) == (
                    wanted["filename"],
                    wanted["origin"],
                    wanted["container"],
                )
                for key in ("size", "sha256", "content_type"):
                    if key in wanted:
                        assert got[key] == wanted[key], (path.name, key)
        for container in expect.get("containers", []):
            assert container in {m["container"] for m in report["materials"]}


def test_decision_is_what_intake_match_json_says(capsys: pytest.CaptureFixture[str]) -> None:
    mail = CORPUS / "foxmail_gb2312_gbk_chars.eml"
    _, [report] = inspect_json(capsys, str(mail))
    names = [m["filename"] for m in report["materials"]]
    assert main(["match", "--json", report["subject"], *(arg for name in names for arg in ("-a", name))]) == 0
    assert report["decision"] == json.loads(capsys.readouterr().out)
    assert report["decision"]["attachments"][0]["indicators"] == ["12"]


def test_unreadable_files_give_an_error_and_never_stop_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    noise = tmp_path / "noise.eml"
    noise.write_bytes(b"\r\n\x00\x01\x02 not a mail at all")
    good = CORPUS / "zip_attachment.eml"
    files = [str(tmp_path / "missing.eml"), str(tmp_path), str(empty), str(noise), str(good)]
    code, reports = inspect_json(capsys, *files)
    assert code == 1
    assert [r["file"] for r in reports] == files
    errors = [r["error"] for r in reports]
    assert errors[0] == "无法读取：文件不存在"
    assert errors[1] == "无法读取：这是一个目录，不是邮件文件"
    assert errors[2] == "无法解析：邮件为空"
    assert errors[3] == "无法解析：读不到任何邮件头"
    assert errors[4] is None
    assert all(set(r) == KEYS for r in reports)
    assert reports[0]["materials"] == [] and reports[0]["decision"] is None


def test_readable_output_is_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", str(CORPUS / "issue12_damaged_base64.eml"), str(CORPUS / "inline_signature_image.eml")])
    out = capsys.readouterr().out
    assert code == 0
    assert "主题：【指标9】办公室-公示材料（重发）" in out
    assert "1. 公示一.pdf（1000 字节，application/pdf，来自附件）" in out
    assert "不计入指标：附件的 base64 编码被截断，文件不完整" in out
    assert "logo.png：正文中显示的图片" in out
    assert "公示一.pdf → 指标9（依据：" in out
    assert out.count("文件：") == 2


def test_with_config_the_section_and_what_it_means(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    text = example.read_text(encoding="utf-8").replace('"zhidui@example.com"', '"zhidui_zhang@163.com"', 1)
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    mails = [str(CORPUS / "foxmail_gb2312_gbk_chars.eml"), str(CORPUS / "zip_attachment.eml")]
    code, [known, unknown] = inspect_json(capsys, "--config", str(config), *mails)
    assert code == 0
    assert set(known) == KEYS | {"section", "disposition"}
    assert known["section"] == "支队"
    assert known["disposition"]["assignments"] == [
        {"filename": "指标12-支队-涉企收费清理情况说明-王堃.docx", "indicator": "12", "matched_by": "filename"}
    ]
    assert known["disposition"]["reviews"] == []
    assert unknown["section"] is None
    assert [r["reason"] for r in unknown["disposition"]["reviews"]] == ["unknown_sender"]

    assert main(["inspect", "--config", str(config), mails[0]]) == 0
    assert "发件科室：支队" in capsys.readouterr().out


def test_a_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "--config", str(tmp_path / "nope.toml"), str(MAILS[0])]) == 1
    err = capsys.readouterr().err
    assert "nope.toml" in err and "Traceback" not in err


def test_the_installed_command_line(tmp_path: Path) -> None:
    mail = CORPUS / "issue12_uuencode.eml"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "inspect", "--json", str(mail)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    [report] = [json.loads(line) for line in done.stdout.splitlines()]
    png = next(m for m in report["materials"] if m["filename"] == "scan.png")
    assert png["sha256"] == hashlib.sha256(_uudecoded(mail, "scan.png")).hexdigest()
    assert not list(tmp_path.iterdir())  # nothing written where it ran


def _uudecoded(mail: Path, name: str) -> bytes:
    import binascii

    lines = mail.read_bytes().split(b"\r\n")
    start = lines.index(f"begin 644 {name}".encode()) + 1
    end = lines.index(b"end", start)
    return b"".join(binascii.a2b_uu(line) for line in lines[start:end])


def test_a_strangers_names_cannot_drive_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    hostile = [
        str(CORPUS / "hostile" / "21_terminal_escapes_in_name.eml"),
        str(CORPUS / "hostile" / "13_rlo_executable.eml"),
    ]
    assert main(["inspect", *hostile]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "说明" in out and "不计入指标：文件内容是Windows 可执行文件" in out
    assert main(["inspect", "--json", *hostile]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any(char in line for line in lines for char in "\x1b\x07\u202e")
    assert json.loads(lines[0])["materials"][0]["filename"].startswith("说明\x1b]0;")  # the data is intact
