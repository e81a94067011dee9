"""The command line: every command is listed, and running one imports only its own module."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.cli import build_parser, main
from bot.commands import COMMANDS


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name, (_module, help_text) in COMMANDS.items():
        assert name in out and help_text in out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_has_its_full_parser(name: str) -> None:
    parser = build_parser([name])
    sub = parser._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
    assert sub.get_default("func") is not None, f"{name} is registered without a handler"


def test_running_one_command_does_not_import_the_others() -> None:
    code = (
        "import sys; from bot.cli import main; main(['catalog', '--json']);"
        "heavy = [m for m in ('bot.ingest.poll', 'bot.coordinator.export', 'bot.demo', 'sqlalchemy', 'openpyxl')"
        " if m in sys.modules];"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stderr


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "命令" in capsys.readouterr().out


def _argparse_message_ids() -> tuple[set[str], set[tuple[str, str]]]:
    """The message ids argparse of this Python passes to gettext, read from its source."""
    import argparse
    import ast
    import inspect

    singles: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(inspect.getsource(argparse))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if node.func.id == "_" and args:
            singles.add(args[0])
        elif node.func.id == "ngettext" and len(args) >= 2:
            plurals.add((args[0], args[1]))
    return singles, plurals


def test_every_argparse_message_is_translated() -> None:
    """A new Python that rewords one of argparse's messages shows here, not as English to a user."""
    from bot.commands._argparse_zh import DEVELOPER_ONLY, MESSAGES, PLURALS

    singles, plurals = _argparse_message_ids()
    assert len(singles) > 20
    assert singles - set(MESSAGES) - DEVELOPER_ONLY == set()
    assert plurals <= set(PLURALS)


def _intake(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LANGUAGE")} | {"LANG": "C"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, check=False, env=env
    )


def test_argparse_speaks_chinese_through_the_real_command_whatever_the_locale() -> None:
    shown = _intake("assign", "--help")
    assert shown.returncode == 0
    for text in ("用法：intake assign", "选项", "-h, --help    显示本帮助并退出", "--dry-run", "试运行"):
        assert text in shown.stdout, text
    for english in ("usage:", "options:", "positional arguments", "show this help"):
        assert english not in shown.stdout, english

    missing = _intake("assign")
    assert missing.returncode == 2
    assert "intake assign：参数错误：缺少必填参数：编号" in missing.stderr
    assert "用 intake assign --help 查看用法" in missing.stderr

    typo = _intake("assgn", "R1")
    assert typo.returncode == 2 and "无效的选项 'assgn'" in typo.stderr and "'assign'" in typo.stderr
    bad_number = _intake("log", "--limit", "ten")
    assert bad_number.returncode == 2 and "参数 --limit：不是有效的值：'ten'" in bad_number.stderr
    unknown = _intake("status", "--colour")
    assert unknown.returncode == 2 and "无法识别的参数：--colour" in unknown.stderr
    for done in (missing, typo, bad_number, unknown):
        assert "error:" not in done.stderr and "usage:" not in done.stderr
