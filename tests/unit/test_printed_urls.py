"""Secrets never in printed output: a database URL is shown with its password hidden."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.commands._common import open_app
from db.session import display_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://intake:s3cret@db.example/intake", "postgresql://intake:***@db.example/intake"),
        ("postgresql+psycopg://intake:p%40ss@127.0.0.1:5432/x", "postgresql+psycopg://intake:***@127.0.0.1:5432/x"),
        ("postgresql://intake@/intake", "postgresql://intake@/intake"),
        ("sqlite:////var/lib/intake/intake.db", "sqlite:////var/lib/intake/intake.db"),
        ("not a url://u:pw@host", "not a url://u:***@host"),  # what SQLAlchemy cannot parse, hidden too
    ],
)
def test_display_url(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_open_app_hides_the_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[campaign]\nname = "t"\ndeadline = 2021-10-28\n'
        '[mailbox]\nhost = "127.0.0.1"\nusername = "u"\npassword_env = "X"\n'
        '[storage]\ndatabase = "postgresql://intake:s3cret-pw@127.0.0.1:1/intake"\nfiles = "files"\n'
        '[coordinator]\nname = "刘海利"\nemails = ["c@example.com"]\n'
        '[[sections]]\nname = "支队"\nowners = ["a <a@example.com>"]\nsenders = ["a@example.com"]\n',
        encoding="utf-8",
    )
    assert open_app(argparse.Namespace(config=config)) is None  # nothing listens on port 1
    err = capsys.readouterr().err
    assert "无法打开数据库 postgresql://intake:***@127.0.0.1:1/intake" in err
    assert "s3cret-pw" not in err
