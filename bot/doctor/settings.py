"""Doctor: the config file loads and the 授权码 can be read (env var or 0600 file), never printed."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config, ConfigError, Secret, load_config
from bot.doctor.report import FAIL, OK, WARN, Check
from rules.catalogue import load_catalogue

# -- config -----------------------------------------------------------------------------------


def check_config(path: Path) -> tuple[list[Check], Config | None]:
    try:
        config = load_config(path)
    except ConfigError as exc:
        fix = (
            "可用 `intake init` 生成配置文件。"
            if not path.exists()
            else "按提示修改该项；每项的说明见 config.example.toml。"
        )
        return [Check("配置", "读取配置文件", FAIL, str(exc), fix)], None
    checks = [
        Check(
            "配置",
            "读取配置文件",
            OK,
            f"{path.resolve()}：{len(config.sections)} 个科室，截止 {config.campaign.deadline}",
        )
    ]
    secrets = [("mailbox", config.mailbox.password)]
    if config.smtp is not None:
        secrets.append(("smtp", config.smtp.password))
    else:
        checks.append(
            Check(
                "配置",
                "[smtp]",
                WARN,
                "未配置 [smtp]：回执、提醒和汇总不会发出",
                "参照 config.example.toml 添加 [smtp] 段。",
            )
        )
    for table, secret in secrets:
        checks.append(_check_secret(table, secret))
    checks.extend(check_sections(config))
    return checks, config


def check_sections(config: Config) -> list[Check]:
    """Every 责任单位 that owes material needs owners (reminders reach them) and senders (its mail
    counts for it); without them the gap shows only later, in the digest."""
    owing = {s for ind in load_catalogue(config.campaign.catalogue) if ind.owes_material for s in ind.sections}
    checks: list[Check] = []
    for name in (s for s in load_catalogue(config.campaign.catalogue).sections if s in owing):
        section = config.section(name)
        missing = []
        if section is None:
            missing.append("没有 [[sections]] 配置段")
        else:
            if not section.owners:
                missing.append("没有负责人（owners），收不到催报提醒")
            if not section.senders:
                missing.append("没有发件地址（senders），来信会被当作未登记发件人")
        if missing:
            checks.append(
                Check(
                    "配置",
                    f"科室 {name}",
                    WARN,
                    "；".join(missing),
                    f"在配置文件中为{name}添加 [[sections]]（name、owners、senders），见 config.example.toml。",
                )
            )
    if not checks:
        checks.append(Check("配置", "科室", OK, f"{len(owing)} 个责任科室都配置了负责人和发件地址"))
    return checks


def _check_secret(table: str, secret: Secret) -> Check:
    step = f"[{table}] 授权码"
    try:
        value = secret.reveal()
    except ConfigError as exc:
        if secret.env is not None:
            fix = (
                f"作为服务运行时在 /etc/intake/intake.env 写入 {secret.env}=授权码"
                "（文件权限 0600，见 docs/DEPLOY.md）；"
                f"命令行下先执行 export {secret.env}=授权码。"
            )
        else:
            fix = f"创建密码文件 {secret.file}，内容为授权码，权限 chmod 600，属主为运行 intake 的用户。"
        return Check("配置", step, FAIL, exc.problem, fix)
    if not value:
        return Check("配置", step, FAIL, "授权码为空", "填入 163 的客户端授权码。")
    where = f"环境变量 {secret.env}" if secret.env else f"文件 {secret.file}"
    if secret.file is not None and secret.value is None:
        mode = secret.file.stat().st_mode & 0o777
        if mode & 0o077:
            return Check(
                "配置", step, WARN, f"已从{where} 读取，但文件权限为 {mode:o}，其他用户可读", f"chmod 600 {secret.file}"
            )
    return Check("配置", step, OK, f"已从{where} 读取（不显示内容）")
