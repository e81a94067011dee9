"""``intake match``: the parser registered by bot.commands.match, called directly."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bot.commands import match as match_command


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="intake")
    match_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["match", *argv])
    result: int = args.func(args)
    return result


def test_json_output_has_exactly_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--json", "指标12", "--attachment", "涉企收费清理情况说明.docx"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"subject_indicators", "declarations", "attachments", "problems"}
    assert data["subject_indicators"] == ["12"]
    assert data["attachments"] == [
        {
            "filename": "涉企收费清理情况说明.docx",
            "indicators": ["12"],
            "needs_review": False,
            "candidates": [],
            "evidence": "subject-number",
        }
    ]
    assert data["problems"] == []


def test_json_review_and_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--json", "指标12", "-a", "30-情况说明.docx", "-a", "涉密材料.docx"]) == 0
    data = json.loads(capsys.readouterr().out)
    first = data["attachments"][0]
    assert first["needs_review"] is True
    assert first["indicators"] == []
    assert first["candidates"][:2] == ["30", "12"]
    assert first["evidence"] == "review:conflict"
    codes = [p["code"] for p in data["problems"]]
    assert "unmatched_attachment" in codes
    assert "possibly_classified" in codes
    assert all(set(p) == {"code", "detail"} for p in data["problems"])


def test_readable_text_is_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["回复：指标7，12", "-a", "情况说明.docx"]) == 0
    out = capsys.readouterr().out
    assert "主题引用指标：7、12" in out
    assert "情况说明.docx → 指标7、12（依据：邮件主题中的指标编号列表）[subject-list]" in out


def test_readable_review_lists_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["关于报送材料的函", "-a", "行政调解统计分析.docx"]) == 0
    out = capsys.readouterr().out
    assert "待人工确认" in out
    assert "候选指标：37" in out
    assert "[unmatched_attachment]" in out


def test_section_is_used_as_the_poll_uses_it(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--json", "二级指标10 依法决策机制健全", "-a", "法律顾问聘任情况.docx"]
    assert _run(argv) == 0
    without = json.loads(capsys.readouterr().out)["attachments"][0]
    assert without["needs_review"] is True
    assert without["candidates"] == ["21", "19", "20"]
    assert _run([*argv, "--section", "法规科"]) == 0
    with_section = json.loads(capsys.readouterr().out)["attachments"][0]
    assert with_section["indicators"] == ["21"]
    assert with_section["evidence"] == "level2+section"


def test_unknown_section_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["指标12", "--section", "办公司"]) == 2
    err = capsys.readouterr().err
    assert "办公司" in err
    assert "办公室" in err


def test_readable_text_names_the_evidence_and_the_advice(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["指标12-支队", "-a", "24-行刑衔接案件移送清单.xlsx", "-a", "30-情况说明.docx"]) == 0
    out = capsys.readouterr().out
    assert "24-行刑衔接案件移送清单.xlsx → 指标24（依据：文件名中的编号与文件名所述材料一致）" in out
    assert "30-情况说明.docx → 待人工确认（文件名中的编号30与邮件主题中的编号12不一致" in out
    assert "今后请" in out


def test_body_declarations(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--json", "法规科", "--body", "指标13无材料"]) == 0
    assert json.loads(capsys.readouterr().out)["declarations"] == ["13"]


def test_batch_prints_one_decision_per_line_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = [
        {"subject": "指标12", "attachments": ["情况说明.docx"]},
        {"subject": "法规科", "attachments": [], "body": "第45项本部门不涉及"},
        {"subject": "材料", "attachments": ["30.执法监督.docx", "（37）行政调解.docx"], "body": None},
        {"subject": "第34项", "attachments": ["情况说明.docx"], "section": "财审科"},
        {"subject": "第34项", "attachments": ["情况说明.docx"]},
    ]
    batch = tmp_path / "mails.jsonl"
    batch.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n\n", encoding="utf-8")
    assert _run(["--json", "--batch", str(batch)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    decisions = [json.loads(line) for line in lines]
    assert decisions[0]["attachments"][0]["indicators"] == ["12"]
    assert decisions[1]["declarations"] == ["45"]
    assert [a["indicators"] for a in decisions[2]["attachments"]] == [["30"], ["37"]]
    # 财审科 owns 33 but not 34: a likely typo, not a silent assignment; without the section, 34
    assert decisions[3]["attachments"][0]["evidence"] == "review:suspect-number"
    assert decisions[3]["attachments"][0]["candidates"] == ["34", "33"]
    assert decisions[4]["attachments"][0]["indicators"] == ["34"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"subject": "指标12"}\nnot json\n', "第2行"),
        ('{"attachments": []}\n', "subject"),
        ('{"subject": "x", "attachments": "a.docx"}\n', "attachments"),
        ('{"subject": "x", "body": 3}\n', "body"),
        ('{"subject": "x", "section": "办公司"}\n', "section"),
        ('{"subject": "x", "section": 3}\n', "section"),
    ],
)
def test_batch_rejects_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text(content, encoding="utf-8")
    assert _run(["--json", "--batch", str(batch)]) == 1
    assert message in capsys.readouterr().err


def test_batch_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--json", "--batch", str(tmp_path / "missing.jsonl")]) == 1
    assert "无法读取" in capsys.readouterr().err


def test_subject_required_without_batch(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--json"]) == 2
    assert "主题" in capsys.readouterr().err


def test_batch_and_section_are_exclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--batch", str(tmp_path / "x.jsonl"), "--section", "支队"]) == 2
    assert "section" in capsys.readouterr().err


def test_batch_and_subject_are_exclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["指标12", "--batch", str(tmp_path / "x.jsonl")]) == 2
    assert "--batch" in capsys.readouterr().err
