"""argparse's own words in Chinese: "usage:", "options", "show this help message and exit", its errors.

argparse looks every message up through gettext at the moment it prints it (``argparse._`` and
``argparse.ngettext``, its module-level names for ``gettext.gettext``/``ngettext``). Shipping a
compiled ``.mo`` catalogue would depend on the machine's locale variables (a server often runs with
``LANG=C``); here the two lookups are pointed at a table keyed by argparse's own English message ids,
so the translation holds whatever the locale. A message missing from the table (a future Python
rewording one) falls back to English, never fails; ``tests/unit/test_cli.py`` compares the table with
the message ids in the running Python's argparse source, so a drift is noticed.
"""

from __future__ import annotations

import argparse

MESSAGES: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "参数",
    "options": "选项",
    "optional arguments": "选项",  # Python < 3.10
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：参数错误：%(message)s\n（用 %(prog)s --help 查看用法）\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必填参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项 %(value)r（可选：%(choices)s）",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多一个值",
    "expected at least one argument": "至少需要一个值",
    "invalid %(type)s value: %(value)r": "不是有效的值：%(value)r",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 中至少要给出一个",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是：%(matches)s",
    "ignored explicit argument %r": "选项不接受值：%r",
    "unexpected option string: %s": "意外的选项：%s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "没有命令 %(parser_name)r（可用：%(choices)s）",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
    "%r is not callable": "%r 不可调用",
    "argument \"-\" with mode %r": "参数“-”不支持模式 %r",
    "invalid option string %(option)r: must start with a character %(prefix_chars)r": (
        "无效的选项写法 %(option)r：须以 %(prefix_chars)r 开头"
    ),
}

PLURALS: dict[tuple[str, str], str] = {
    ("expected %s argument", "expected %s arguments"): "需要 %s 个值",
    ("conflicting option string: %s", "conflicting option strings: %s"): "选项冲突：%s",
}

# Programming errors argparse raises while the parser is being built: never shown to a user.
DEVELOPER_ONLY = frozenset(
    {
        ".__call__() not defined",
        "cannot have multiple subparser arguments",
        "cannot merge actions - two groups are named %r",
        "conflicting subparser alias: %s",
        "conflicting subparser: %s",
        "dest= is required for options like %r",
        "invalid conflict_resolution value: %r",
        "invalid option string %(option)r: ",
        "mutually exclusive arguments must be optional",
        "'required' is an invalid argument for positionals",
    }
)


def _gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return PLURALS.get((singular, plural), singular if n == 1 else plural)


def install() -> None:
    """Make argparse speak Chinese in this process (idempotent)."""
    argparse._ = _gettext  # type: ignore[attr-defined]
    argparse.ngettext = _ngettext  # type: ignore[attr-defined]
