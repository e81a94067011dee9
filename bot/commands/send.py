"""``intake send``: send what waits in the outbox now (``--retry-failed`` first re-queues failed mail)."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from bot.commands import help_for
from bot.commands._common import add_config_option, err, open_app
from bot.commands.remind import print_flush
from bot.config import ConfigError
from bot.outgoing.outbox import retry_failed
from bot.outgoing.sending import flush_outbox
from db.models import Outbox


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("send", help=help_for("send"))
    add_config_option(p)
    p.add_argument("--retry-failed", action="store_true", help="先把发送失败的邮件重新放回队列")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    try:
        if deps.config.smtp is None:
            err("配置文件中没有 [smtp] 段，无法发送邮件。")
            return 1
        now = deps.clock()
        if args.retry_failed:
            with deps.sessions.begin() as s:
                ids = list(s.scalars(select(Outbox.id).where(Outbox.status == "failed")))
                count = retry_failed(s, ids, now=now) if ids else 0
            print(f"已将 {count} 封发送失败的邮件重新放回队列。")
        return 0 if print_flush(flush_outbox(deps, now=now), deps.config.smtp) else 1
    except ConfigError as exc:
        err(str(exc))
        return 1
    finally:
        deps.close()
