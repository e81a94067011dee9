"""``intake init``: flags and questions -> a config.toml that keeps the template's comments and loads."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import load_config
from bot.init_config import InitError, default_deadline, find_template, parse_deadline, parse_section

DEADLINE = date.today() + timedelta(days=60)
FLAGS = [
    "--mailbox", "jzhbjfzk@163.com",
    "--deadline", DEADLINE.isoformat(),
    "--coordinator-name", "刘海利",
    "--coordinator-email", "liuhl@example.com",
    "--section", "支队=刘建设 <zhidui@example.com>,申军强<zhidui2@example.com>,zhidui3@example.com",
    "--section", "服务科=史凤云 <fuwuke@example.com>",
]  # fmt: skip


def run_init(argv: list[str]) -> int:
    args = build_parser().parse_args(["init", *argv])
    code: int = args.func(args)
    return code


def test_parse_section() -> None:
    s = parse_section("支队=刘建设 <ZhiDui@example.com>, zhidui2@example.com")
    assert s.name == "支队"
    assert s.owners == (("刘建设", "zhidui@example.com"),)
    assert s.senders == ("zhidui@example.com", "zhidui2@example.com")
    with pytest.raises(InitError, match="科室="):
        parse_section("刘建设 <zhidui@example.com>")
    with pytest.raises(InitError, match="有效的邮箱"):
        parse_section("支队=刘建设 <zhidui@example>")


def test_non_interactive_writes_a_valid_config_with_the_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert run_init(["--config", str(path), "--non-interactive", "--database", "sqlite:///data/i.db", *FLAGS]) == 0
    text = path.read_text(encoding="utf-8")
    config = load_config(path)
    assert config.mailbox.username == "jzhbjfzk@163.com"
    assert config.smtp is not None and config.smtp.from_addr == "jzhbjfzk@163.com"
    assert config.coordinator.name == "刘海利" and config.coordinator.emails == ("liuhl@example.com",)
    assert config.campaign.deadline == DEADLINE  # never the template's 2021-10-28
    assert config.campaign.name == "焦作市生态环境局依法行政示范单位创建"
    zhidui = config.section("支队")
    assert zhidui is not None
    assert zhidui.owners == (("刘建设", "zhidui@example.com"), ("申军强", "zhidui2@example.com"))
    assert zhidui.senders == ("zhidui@example.com", "zhidui2@example.com", "zhidui3@example.com")
    assert [s.name for s in config.sections] == ["支队", "服务科"]
    assert config.storage.database == "sqlite:///" + str((tmp_path / "data" / "i.db").resolve())
    # The template's explanations survive, and no secret is written.
    template = find_template()
    assert template is not None
    for comment in ("# 保存 163 客户端授权码的环境变量名", "# 每日汇总发送时间", "# 截止日期"):
        assert comment in template.read_text(encoding="utf-8") and comment in text
    assert "password =" not in text and 'password_env = "INTAKE_IMAP_PASSWORD"' in text
    assert 'example.com"]   # 认作本科室来信的发件地址' in text


def test_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n", encoding="utf-8")
    assert run_init(["--config", str(path), "--non-interactive", *FLAGS]) == 1
    assert "--force" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert run_init(["--config", str(path), "--non-interactive", "--force", *FLAGS]) == 0
    assert (tmp_path / "config.toml.bak").read_text(encoding="utf-8") == "# mine\n"
    load_config(path)


def test_non_interactive_names_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    deadline = ["--deadline", DEADLINE.isoformat()]
    assert run_init(["--config", str(path), "--non-interactive", *deadline, "--coordinator-name", "刘海利"]) == 1
    assert "--coordinator-email" in capsys.readouterr().err
    assert not path.exists()
    bad_section = [*deadline, "--coordinator-name", "刘海利", "--coordinator-email", "a@example.com"]
    bad_section += ["--section", "后勤科=x@example.com"]
    assert run_init(["--config", str(path), "--non-interactive", *bad_section]) == 1
    assert "指标清单中没有科室：后勤科" in capsys.readouterr().err


def test_interactive_questions_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Sections are asked in the checklist's order: 服务科, 人事科, 财审科, 支队, 法规科, 办公室, 综合科, 宣教科.
    answers = [
        "",  # mailbox: keep the default jzhbjfzk@163.com
        "2025年度依法行政示范单位创建",  # campaign name
        "2021-10-28",  # deadline in the past: asked again
        "",  # deadline: the default shown (the checklist's day in the coming year)
        "",  # database: the default shown
        "/srv/intake/files",  # files
        "",  # coordinator name: required, asked again
        "刘海利",
        "not-an-address",  # coordinator email: invalid, asked again
        "liuhl@example.com，fagui@example.com",
        "史凤云 <fuwuke@example.com>",  # 服务科 owners
        "",  # 服务科 other senders
        "",  # 人事科: skipped
        "",  # 财审科: skipped
        "刘建设 <zhidui@example.com>, 申军强 <zhidui2@example.com>",  # 支队
        "zhidui3@example.com",
        "", "", "", "", "",  # 法规科, 办公室, 综合科, 宣教科 ... skipped
    ]  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(answers) + "\n"))
    path = tmp_path / "config.toml"
    assert run_init(["--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "协调人姓名不能为空" in out and "不是有效的邮箱地址" in out
    assert "截止日期 2021-10-28 已经过去" in out
    suggested = default_deadline(10, 28, date.today())
    # Every question shows its default.
    assert f"报送截止日期（例如 2025-06-30）［{suggested.isoformat()}］" in out
    assert "数据库（SQLite 文件或 postgresql://…）［sqlite:///var/intake.db］" in out
    assert "活动名称（出现在回执、提醒和汇总中）［焦作市生态环境局依法行政示范单位创建］" in out
    config = load_config(path)
    assert config.campaign.name == "2025年度依法行政示范单位创建"
    assert config.campaign.deadline == suggested
    assert config.storage.database == "sqlite:///" + str((tmp_path / "var" / "intake.db").resolve())
    assert config.storage.files == Path("/srv/intake/files")
    assert config.mailbox.username == "jzhbjfzk@163.com"
    assert config.coordinator.emails == ("liuhl@example.com", "fagui@example.com")
    assert [s.name for s in config.sections] == ["服务科", "支队"]
    zhidui = config.section("支队")
    assert zhidui is not None and zhidui.senders[-1] == "zhidui3@example.com"
    assert "intake doctor" in out


def test_interactive_input_ending_early_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("jzhbjfzk@163.com\n"))
    path = tmp_path / "config.toml"
    assert run_init(["--config", str(path)]) == 1
    assert not path.exists()


def test_non_interactive_needs_a_deadline_that_has_not_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    without = [f for f in FLAGS if f not in ("--deadline", DEADLINE.isoformat())]
    assert run_init(["--config", str(path), "--non-interactive", *without]) == 1
    assert "缺少截止日期：请加 --deadline" in capsys.readouterr().err
    assert run_init(["--config", str(path), "--non-interactive", *without, "--deadline", "2021-10-28"]) == 1
    assert "截止日期 2021-10-28 已经过去" in capsys.readouterr().err
    assert not path.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-06-30", date(2030, 6, 30)),
        ("2030/6/30", date(2030, 6, 30)),
        ("2030年6月30日", date(2030, 6, 30)),
        (" 2030.06.30 ", date(2030, 6, 30)),
    ],
)
def test_parse_deadline_forms(text: str, expected: date) -> None:
    assert parse_deadline(text, date(2030, 1, 1)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("2030-02-30", "没有这一天"), ("6月30日", "应写成"), ("2029-12-31", "已经过去"), ("", "应写成")],
)
def test_parse_deadline_refuses(text: str, message: str) -> None:
    with pytest.raises(InitError, match=message):
        parse_deadline(text, date(2030, 1, 1))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2030, 1, 1), date(2030, 10, 28)),
        (date(2030, 10, 28), date(2030, 10, 28)),
        (date(2030, 10, 29), date(2031, 10, 28)),
    ],
)
def test_default_deadline_is_the_checklist_day_to_come(today: date, expected: date) -> None:
    assert default_deadline(10, 28, today) == expected
