"""``intake run``: the daemon (poll, send, remind, digest on a timetable) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse

from bot.commands import help_for
from bot.commands._common import add_config_option, err, open_app
from bot.config import ConfigError
from bot.scheduler import run_forever


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("run", help=help_for("run"))
    add_config_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deps = open_app(args)
    if deps is None:
        return 1
    try:
        if deps.config.campaign.clock is not None:
            err(
                f"配置中设置了 [campaign] clock = {deps.config.campaign.clock.isoformat()}（演示用的固定时钟），"
                "不能常驻运行；正式运行请删除这一行。"
            )
            return 1
        # Fail at start-up, not at the first job, when a secret is missing.
        deps.config.mailbox.password.reveal()
        if deps.config.smtp is not None:
            deps.config.smtp.password.reveal()
        else:
            err("注意：配置中没有 [smtp] 段，回执、提醒和汇总不会发送。")
        run_forever(deps)
    except ConfigError as exc:
        err(str(exc))
        return 1
    finally:
        deps.close()
    return 0
