"""One module per CLI subcommand; each exposes ``register(subparsers)`` which sets ``func`` on its parser.

``COMMANDS`` lists every command with the module that implements it and its one-line help, so that
``intake`` imports only the module of the command it runs (start-up stays short for cron and systemd)
while ``intake --help`` still lists them all, in this order.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "演示：在本机启动内置邮件服务器，用示例邮件完整跑一遍（无需邮箱账号）"),
    "init": ("init", "生成配置文件 config.toml（逐项询问，或用参数给出）"),
    "doctor": ("doctor", "检查配置、邮箱（IMAP）、发信（SMTP）、数据库、存储和时钟，并说明如何修复"),
    "catalog": ("catalog", "显示指标清单（可按科室筛选，或输出 JSON）"),
    "match": ("match", "检查邮件主题和附件名会被匹配到哪些指标"),
    "inspect": ("inspect", "查看一封邮件（.eml 文件）会被如何读取：附件、编码问题和匹配结果（不连接邮箱和数据库）"),
    "poll": ("poll", "读取一次邮箱，记录新到的材料"),
    "status": ("status", "查看各指标报送状态和待人工确认事项"),
    "review": ("review", "列出需要人工确认的事项"),
    "assign": ("review", "把待办（R12）或已记录文件（A34）计入指标"),
    "dismiss": ("review", "关闭一条待办（不计入任何指标）"),
    "return": ("coordinator", "退回材料：该项重新列为待报送，并通知报送科室"),
    "accept": ("coordinator", "确认材料已审核"),
    "declare": ("coordinator", "登记某科室某指标不涉及（无材料）"),
    "export": ("export", "导出评估材料：按指标目录整理的文件、汇总表.xlsx 和 manifest.json"),
    "remind": ("remind", "发送到期的催报提醒（同一时点只发一次）"),
    "digest": ("digest", "向协调人发送当日进度汇总（每天只发一次）"),
    "send": ("send", "立即发送发件队列中的邮件"),
    "run": ("run", "常驻运行：定时收取邮件、发送回执、催报提醒和每日汇总"),
    "db": ("db", "数据库维护：upgrade 升级到最新结构，current 查看当前版本"),
}


def help_for(name: str) -> str:
    return COMMANDS[name][1]
