"""Running one coordinator action from the command line: one transaction, the outcome, how to undo it.

``--dry-run`` runs the action in a transaction that is rolled back and prints every change it would
have made, so the coordinator sees what a command will do before doing it.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.app import Deps
from bot.commands._common import err, open_app
from bot.coordinator.actions import ActionError, Actor, Outcome
from bot.coordinator.journal import changes_text
from db.models import ActionLog

Action = Callable[[Deps, Session, Actor, str], Outcome]


def add_dry_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="试运行：只显示将要做的改动，不修改任何记录")


def cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        user = "未知用户"
    return Actor("cli", user)


def command_text(args: argparse.Namespace) -> str:
    """The command as typed, for the action log (without --config and its value)."""
    words: list[str] = list(getattr(args, "argv", []) or [])
    shown: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "--config":
            skip = True
        elif not word.startswith("--config="):
            shown.append(word)
    return " ".join(["intake", *shown])


def run_logged(args: argparse.Namespace, action: Action, after: Callable[[Deps, Outcome], int] | None = None) -> int:
    """Open the app, run ``action`` in one transaction (rolled back with ``--dry-run``), say what it
    did and how to undo it; ``after`` runs once the transaction is committed (sending, say)."""
    deps = open_app(args)
    if deps is None:
        return 1
    actor = cli_actor()
    try:
        if getattr(args, "dry_run", False):
            with deps.sessions() as s:
                outcome = action(deps, s, actor, command_text(args))
                entry = s.get_one(ActionLog, outcome.log_id)
                changes = changes_text(s, entry.changes) or "无"
                s.rollback()
            print(f"试运行（未修改任何记录）：{outcome.text}")
            print(f"将会改动：{changes}")
            return 0
        with deps.sessions.begin() as s:
            outcome = action(deps, s, actor, command_text(args))
        print(outcome.text)
        if not outcome.text.startswith("已撤销"):
            print(f"（已记入操作日志，编号 {outcome.log_id}；如需撤销：intake undo {outcome.log_id}）")
        return after(deps, outcome) if after is not None else 0
    except ActionError as exc:
        err(str(exc))
        return 1
    finally:
        deps.close()
