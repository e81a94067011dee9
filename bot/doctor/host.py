"""Doctor: the database (reachable, migrated), the storage folder (writable, free space), the clock."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Config
from bot.doctor.report import FAIL, OK, WARN, Check
from db.session import current_revision, head_revision, make_engine

FREE_SPACE_FAIL = 200 * 1024 * 1024  # below this the next big attachment may not fit
FREE_SPACE_WARN = 2 * 1024 * 1024 * 1024


# -- database, storage, clock ---------------------------------------------------------------------


def check_database(config: Config) -> list[Check]:
    url = config.storage.database
    shown = make_url(url).render_as_string(hide_password=True)
    engine = make_engine(url)
    try:
        try:
            revision = current_revision(engine)
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            return [
                Check(
                    "数据库",
                    "连接",
                    FAIL,
                    f"无法连接 {shown}：{reason}",
                    "SQLite：检查文件所在目录存在且可写；PostgreSQL：检查服务已启动、用户名/密码/库名，"
                    "以及已安装 psycopg（pip install 'intake[postgres]'）。",
                )
            ]
    except ModuleNotFoundError as exc:
        return [Check("数据库", "连接", FAIL, f"缺少数据库驱动：{exc.name}", "pip install 'intake[postgres]'")]
    finally:
        engine.dispose()
    checks = [Check("数据库", "连接", OK, f"{shown} 可连接")]
    head = head_revision()
    if revision == head:
        checks.append(Check("数据库", "结构版本", OK, f"已是最新（{head}）"))
    elif revision is None:
        checks.append(Check("数据库", "结构版本", FAIL, "数据库尚未初始化", "运行 intake db upgrade。"))
    else:
        checks.append(
            Check(
                "数据库",
                "结构版本",
                FAIL,
                f"当前 {revision}，程序需要 {head}",
                "先备份数据库（docs/OPERATIONS.md），再运行 intake db upgrade。"
                "若当前版本比程序新，说明程序被降级了：请换回新版本程序。",
            )
        )
    return checks


def check_storage(config: Config) -> list[Check]:
    root = config.storage.files
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-", delete=True) as f:
            f.write(b"intake doctor")
            f.flush()
    except OSError as exc:
        return [
            Check(
                "存储",
                "写入",
                FAIL,
                f"无法在 {root} 写文件：{exc.strerror or exc}",
                f"创建该目录并交给运行 intake 的用户：install -d -o intake -g intake {root}",
            )
        ]
    checks = [Check("存储", "写入", OK, f"{root} 可写")]
    free = shutil.disk_usage(root).free
    text = f"剩余空间 {free / 1024**3:.1f} GiB"
    if free < FREE_SPACE_FAIL:
        checks.append(Check("存储", "剩余空间", FAIL, text, "清理磁盘或把 [storage] files 指向更大的分区。"))
    elif free < FREE_SPACE_WARN:
        checks.append(Check("存储", "剩余空间", WARN, text, "附件和原始邮件会越存越多，建议至少留 2 GiB。"))
    else:
        checks.append(Check("存储", "剩余空间", OK, text))
    return checks


def _ntp_synchronized() -> bool | None:
    if shutil.which("timedatectl") is None:
        return None
    try:
        out = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return {"yes": True, "no": False}.get(value)


def check_clock(config: Config, now: datetime, ntp: Callable[[], bool | None] = _ntp_synchronized) -> list[Check]:
    tz = config.campaign.tz
    local = now.astimezone(tz)
    checks = [Check("时钟", "当前时间", OK, f"{local:%Y-%m-%d %H:%M}（{config.campaign.timezone}）")]
    checks.append(check_deadline(config, config.campaign.clock or now))
    if now.year < 2021:
        checks[0] = Check(
            "时钟",
            "当前时间",
            FAIL,
            f"系统时间 {now:%Y-%m-%d} 明显不对",
            "校准系统时间（timedatectl set-ntp true）；时间不对会导致证书校验失败、提醒和汇总时间错乱。",
        )
    synced = ntp()
    if synced is False:
        checks.append(
            Check(
                "时钟",
                "时间同步",
                WARN,
                "系统时间未与 NTP 同步",
                "timedatectl set-ntp true（或安装 systemd-timesyncd / chrony）。",
            )
        )
    elif synced:
        checks.append(Check("时钟", "时间同步", OK, "已与 NTP 同步"))
    system_tz = os.environ.get("TZ") or _system_zone()
    if system_tz and system_tz != config.campaign.timezone:
        checks.append(
            Check(
                "时钟",
                "时区",
                OK,
                f"本机时区为 {system_tz}；intake 的提醒和汇总一律按 {config.campaign.timezone} 计算，不受影响",
            )
        )
    return checks


STALE_DEADLINE_DAYS = 365  # a deadline this far back is a template's or last year's, not a late campaign


def check_deadline(config: Config, now: datetime) -> Check:
    """A deadline in the past makes ``intake run`` send every section an overdue reminder at once."""
    today = now.astimezone(config.campaign.tz).date()
    deadline = config.campaign.deadline
    left = (deadline - today).days
    clock = "（按配置中的演示时钟 [campaign] clock）" if config.campaign.clock is not None else ""
    if left >= 0:
        return Check("时钟", "截止日期", OK, f"{deadline}，还有 {left} 天{clock}")
    fix = (
        "核对 [campaign] deadline。截止日期已过时，intake run 一启动就会给每个未报齐的科室发逾期提醒"
        "（此后每隔 overdue_every_days 天一次）；活动确已逾期才保留。"
    )
    status = FAIL if -left > STALE_DEADLINE_DAYS else WARN
    detail = f"{deadline}，已过 {-left} 天{clock}"
    if status == FAIL:
        detail += "：多半沿用了模板或往年的日期"
    return Check("时钟", "截止日期", status, detail, fix)


def _system_zone() -> str | None:
    link = Path("/etc/localtime")
    with contextlib.suppress(OSError):
        target = str(link.resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return None
