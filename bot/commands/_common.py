"""Helpers shared by subcommands: the --config option, opening the app with clear errors, and text
from mail (names, subjects, addresses) made safe to print on a terminal (``rules.visible``)."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

from rich.text import Text
from sqlalchemy.exc import ArgumentError, OperationalError

from bot.app import Deps, build
from bot.config import Config, ConfigError, default_config_path, load_config
from db.errors import describe
from db.session import display_url
from rules.catalogue import CatalogueError
from rules.visible import visible


def shown(text: str | None) -> str:
    """Text a stranger wrote, as a terminal may print it: no escape sequences, control or format
    characters (a file name must not rewrite the screen or set the window title)."""
    return visible(text or "")


def cell(text: str | None) -> Text:
    """A table cell from mail text: ``shown``, and never read as rich markup ("[12]材料" stays as sent)."""
    return Text(shown(text))


def _escaped(char: str) -> str:
    # json.dumps already escapes C0 controls; DEL, C1 and format characters pass through it raw.
    code = ord(char)
    hidden = 0x7F <= code <= 0x9F or unicodedata.category(char) == "Cf"
    return f"\\u{code:04x}" if hidden else char


def terminal_json(data: object, *, indent: int | None = 2) -> str:
    """``data`` as JSON (indented, or on one line with ``indent=None``) with Chinese readable, and every
    control or format character written as a ``\\uXXXX`` escape: the same data for a program, nothing a
    terminal would act on."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return text if text.isascii() else "".join(_escaped(c) for c in text)


def add_config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="文件",
        help="配置文件（默认：环境变量 INTAKE_CONFIG 或 ./config.toml）",
    )


def err(message: str) -> None:
    print(message, file=sys.stderr)


def load(args: argparse.Namespace) -> Config | None:
    path: Path = args.config or default_config_path()
    try:
        return load_config(path)
    except ConfigError as exc:
        err(str(exc))
        if not path.exists():
            err("提示：可用 `intake init` 生成配置文件，或参考 config.example.toml。")
        return None


def open_app(args: argparse.Namespace) -> Deps | None:
    config = load(args)
    if config is None:
        return None
    try:
        return build(config)
    except CatalogueError as exc:
        err(f"指标清单有误：{exc}")
    except ArgumentError:
        err(f"数据库地址格式有误：{display_url(config.storage.database)}")
    except OperationalError as exc:
        err(f"无法打开数据库 {display_url(config.storage.database)}：{describe(exc)}")
    except OSError as exc:
        err(f"无法访问存储目录或数据库：{exc}")
    return None
