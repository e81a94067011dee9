"""``intake db upgrade`` / ``intake db current``: database migrations (Alembic)."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import OperationalError

from bot.commands import help_for
from bot.commands._common import add_config_option, err, load
from db.session import current_revision, display_url, head_revision, make_engine, upgrade


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("db", help=help_for("db"))
    add_config_option(p)
    p.add_argument("action", choices=["upgrade", "current"], help="upgrade 或 current")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load(args)
    if config is None:
        return 1
    engine = make_engine(config.storage.database)
    try:
        if args.action == "upgrade":
            upgrade(engine)
            print(f"数据库已升级到最新版本 {head_revision()}。")
        else:
            rev = current_revision(engine)
            state = "（最新）" if rev == head_revision() else f"（最新为 {head_revision()}，请运行 intake db upgrade）"
            print(f"当前数据库版本：{rev or '未初始化'}{state}")
    except OperationalError as exc:
        err(f"无法连接数据库 {display_url(config.storage.database)}：{exc.orig}")
        return 1
    finally:
        engine.dispose()
    return 0
