"""Helpers shared by subcommands: the --config option and opening the app with clear errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import OperationalError

from bot.app import Deps, build
from bot.config import Config, ConfigError, default_config_path, load_config
from rules.catalogue import CatalogueError


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
    except OperationalError as exc:
        err(f"无法打开数据库 {config.storage.database}：{exc.orig}")
    except OSError as exc:
        err(f"无法访问存储目录或数据库：{exc}")
    return None
