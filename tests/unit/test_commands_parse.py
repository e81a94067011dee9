"""Parsing the coordinator's commands: subject, body, quoted replies, aliases, authentication."""

from __future__ import annotations

import pytest

from rules.commands import Verb, parse_commands, parse_line, strip_quoted

SECTIONS = ("支队", "法规科", "人事科", "财审科", "服务科")


@pytest.mark.parametrize(
    ("line", "verb", "refs", "indicators", "sections", "reason"),
    [
        ("指派 R12 指标12", Verb.ASSIGN, ("R12",), ("指标12",), (), ""),
        ("指派 A34 12 13", Verb.ASSIGN, ("A34",), ("12", "13"), (), ""),
        ("指派 A34 12、13", Verb.ASSIGN, ("A34",), ("12", "13"), (), ""),
        ("指派 R7 支队", Verb.ASSIGN, ("R7",), (), ("支队",), ""),
        ("退回 A34 原因：缺少盖章页", Verb.RETURN, ("A34",), (), (), "缺少盖章页"),
        ("退回 A34 理由: 未加盖公章，请补充。", Verb.RETURN, ("A34",), (), (), "未加盖公章，请补充。"),
        ("退回 A34 缺少盖章页", Verb.RETURN, ("A34",), (), (), "缺少盖章页"),
        ("退回 指标12 支队 原因：字数超出", Verb.RETURN, (), ("指标12",), ("支队",), "字数超出"),
        ("退回 原因：请补充2020年的数据", Verb.RETURN, (), (), (), "请补充2020年的数据"),
        ("确认 指标12", Verb.ACCEPT, (), ("指标12",), (), ""),
        ("确认 12 支队", Verb.ACCEPT, (), ("12",), ("支队",), ""),
        ("确认指标12", Verb.ACCEPT, (), ("指标12",), (), ""),
        ("确认：指标12支队", Verb.ACCEPT, (), ("指标12",), ("支队",), ""),
        ("确认", Verb.ACCEPT, (), (), (), ""),
        ("不涉及 指标45 人事科", Verb.DECLARE, (), ("指标45",), ("人事科",), ""),
        ("无材料 第四十五项 人事科", Verb.DECLARE, (), ("第四十五项",), ("人事科",), ""),
        ("不涉及 加分项1 法规科", Verb.DECLARE, (), ("加分项1",), ("法规科",), ""),
        ("状态", Verb.STATUS, (), (), (), ""),
        ("帮助", Verb.HELP, (), (), (), ""),
        ("ASSIGN a34 12", Verb.ASSIGN, ("a34",), ("12",), (), ""),
        ("return A34 reason: missing stamp", Verb.RETURN, ("A34",), (), (), "missing stamp"),
        ("accept 12", Verb.ACCEPT, (), ("12",), (), ""),
        ("na 45 人事科", Verb.DECLARE, (), ("45",), ("人事科",), ""),
        ("Status", Verb.STATUS, (), (), (), ""),
        ("help", Verb.HELP, (), (), (), ""),
        ("指派　Ａ３４　１２", Verb.ASSIGN, ("A34",), ("12",), (), ""),  # full-width space and digits
    ],
)
def test_command_forms(line, verb, refs, indicators, sections, reason) -> None:
    command = parse_line(line, SECTIONS)
    assert command is not None
    assert (command.verb, command.refs, command.indicators, command.sections, command.reason) == (
        verb,
        refs,
        indicators,
        sections,
        reason,
    )
    assert command.unknown == ()


@pytest.mark.parametrize(
    "line",
    [
        "确认收到，谢谢",
        "状态不错",
        "退回来的材料已经收到",
        "helpful notes",
        "natural",
        "指标12-支队-情况说明",
        "你好",
        "",
    ],
)
def test_sentences_are_not_commands(line) -> None:
    assert parse_line(line, SECTIONS) is None


def test_unknown_words_are_kept_for_the_error_reply() -> None:
    command = parse_line("确认 指标12 全部", SECTIONS)
    assert command is not None and command.unknown == ("全部",)


def test_subject_with_reply_prefix_and_body_lines() -> None:
    found = parse_commands("回复：指派 R3 指标7", "刘科长：\n确认 12 支队\n不涉及 45 人事科\n\n谢谢\n状态\n", SECTIONS)
    assert [(c.verb, c.text) for c in found.commands] == [
        (Verb.ASSIGN, "指派 R3 指标7"),
        (Verb.ACCEPT, "确认 12 支队"),
        (Verb.DECLARE, "不涉及 45 人事科"),
    ]  # "谢谢" ends the list: the later 状态 is not read


def test_reason_on_the_next_line_and_quoted_original_ignored() -> None:
    body = (
        "退回\n原因：缺少盖章页\n\n"
        "-----原始邮件-----\n发件人：intake\n确认 12\n"
    )
    found = parse_commands("Re: 回执：指标12-支队-情况说明", body, SECTIONS)
    assert len(found.commands) == 1
    command = found.commands[0]
    assert (command.verb, command.refs, command.reason) == (Verb.RETURN, (), "缺少盖章页")


@pytest.mark.parametrize(
    "quote",
    [
        "----- Original Message -----\n确认 12",
        "在 2021年10月20日 09:30，intake 写道：\n确认 12",
        "On Wed, Oct 20, 2021 at 9:30 AM intake wrote:\n确认 12",
        "------------------ 原始邮件 ------------------\n确认 12",
        "> 确认 12\n> 状态",
        "发件人: jzhbjfzk@163.com\n发送时间: 2021年10月20日\n确认 12",
    ],
)
def test_quoted_text_is_stripped(quote) -> None:
    assert "确认" not in strip_quoted("好的\n" + quote)
    assert parse_commands("Re: 回执", "状态\n" + quote, SECTIONS).commands[0].verb is Verb.STATUS
    assert len(parse_commands("Re: 回执", "状态\n" + quote, SECTIONS).commands) == 1


def test_plain_mail_has_no_commands() -> None:
    assert not parse_commands("指标12-法规科-情况说明", "附件是材料，请查收。\n确认 12", SECTIONS)
