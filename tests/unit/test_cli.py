"""The command line: every command is listed, and running one imports only its own module."""

from __future__ import annotations

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
