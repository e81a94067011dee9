"""The ``intake`` command line: argparse with one module per subcommand in ``bot/commands``.

No traceback reaches a user: an unexpected error becomes one Chinese line naming the file where the
details (the traceback) were written, for whoever maintains the installation.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.commands import COMMANDS, _argparse_zh


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is one), if any."""
    return next((word for word in argv if word in COMMANDS), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """With ``argv``: the full parser for the command it names, every other command listed with its
    help only, so running one command imports one command module (``bot.commands.COMMANDS``).
    Without: every command registered in full."""
    _argparse_zh.install()
    parser = argparse.ArgumentParser(
        prog="intake",
        description="intake：依法行政示范单位创建材料收集机器人（邮箱收件、匹配指标、回执、提醒、汇总）。",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    subparsers = parser.add_subparsers(dest="command", metavar="命令")
    chosen = _chosen(argv or ())
    for name, (module_name, help_text) in COMMANDS.items():
        if name in subparsers.choices:
            continue  # registered with its module's other commands
        if argv is None or name == chosen or (chosen is not None and COMMANDS[chosen][0] == module_name):
            importlib.import_module(f"bot.commands.{module_name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    args = parser.parse_args(words)
    # The daemon logs its work for journald; one-off commands print their own Chinese summary and
    # show only warnings unless asked (-v).
    quiet = logging.INFO if args.command == "run" else logging.WARNING
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else quiet,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    args.argv = words  # the command as typed, for the action log
    try:
        result: int = func(args)
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as other command-line tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return 0
    except KeyboardInterrupt:
        print("\n已中断。", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one Chinese line, the details in a file
        path = write_error_log(words, exc)
        where = f"详细信息已写入 {path}" if path is not None else "详细信息无法写入文件，见上方日志"
        print(
            f"intake 出错了（{type(exc).__name__}），操作未完成。{where}；请把该文件交给维护人员。",
            file=sys.stderr,
        )
        if args.verbose:
            traceback.print_exc()
        return 70  # EX_SOFTWARE
    return result


def error_log_dir() -> Path:
    """Where unexpected errors are written: ``$INTAKE_LOG_DIR``, else the user's state directory
    (``$XDG_STATE_HOME/intake`` or ``~/.local/state/intake``; the service user's is under /var/lib/intake)."""
    if os.environ.get("INTAKE_LOG_DIR"):
        return Path(os.environ["INTAKE_LOG_DIR"])
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "intake"


def write_error_log(words: Sequence[str], exc: BaseException) -> Path | None:
    """Append the traceback of ``exc`` to ``errors.log`` (0600: paths and names may be private).
    Falls back to the temp directory; None when nothing can be written."""
    text = (
        f"=== {datetime.now().astimezone().isoformat(timespec='seconds')} intake {' '.join(words)}\n"
        + "".join(traceback.format_exception(exc))
    )
    for folder in (error_log_dir(), Path(tempfile.gettempdir()) / f"intake-{os.getuid()}"):
        path = folder / "errors.log"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(text)
        except OSError:
            continue
        return path
    return None


if __name__ == "__main__":
    raise SystemExit(main())
