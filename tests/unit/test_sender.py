"""Who sent a mail: bot.mime.sender reads From without guessing; rules.sender turns that and the MX's
verdict into the one trust verdict; rules.authority decides what a command may do."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from bot.mime.sender import parse_recipients, parse_sender
from rules.authority import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Authority,
    CodeState,
    code_state,
    codes_in,
    command_authority,
    may_send_confirmation,
    new_code,
)
from rules.authresults import Auth, AuthVerdict
from rules.sender import (
    ENCODED_ADDRESS,
    GUESSED_ADDRESS,
    NO_ADDRESS,
    SEVERAL_FROM,
    SEVERAL_MAILBOXES,
    verdict,
)


def b64(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


GBK_NAME = b64("刘镕", "gbk").replace("?gbk?", "?gb2312?")  # Foxmail labels GBK text gb2312

READABLE = [
    ("刘建设 <zhidui@example.com>", "zhidui@example.com", "刘建设"),
    (f"{b64('刘建设')} <Zhidui@Example.COM>", "zhidui@example.com", "刘建设"),
    (f'"{GBK_NAME}" <zhidui@example.com>', "zhidui@example.com", "刘镕"),  # Foxmail's quoted encoded word
    (f'"{GBK_NAME}"<zhidui@example.com>', "zhidui@example.com", "刘镕"),
    ("\udcc1\udcf5\udcbd\udca8\udcc9\udce8 <zhidui@example.com>", "zhidui@example.com", "刘建设"),  # raw GBK
    ('"Liu, Jian" <zhidui@example.com>', "zhidui@example.com", "Liu, Jian"),
    ("J. Smith <js@example.com>", "js@example.com", "J. Smith"),
    ("zhidui@example.com", "zhidui@example.com", ""),
    ("<zhidui@example.com>", "zhidui@example.com", ""),
    ("zhidui@example.com (刘建设)", "zhidui@example.com", ""),
    ('"zhidui@example.com" <zhidui@example.com>', "zhidui@example.com", "zhidui@example.com"),
    # an encoded word that decodes to an address in the *display name* is only a name
    (f"{b64('carol@example.test')} <evil@evil.example>", "evil@evil.example", "carol@example.test"),
    (f'"{b64("a@x, b@y, c@z")}" <a@x.example>', "a@x.example", "a@x, b@y, c@z"),  # one address, a long name
]


@pytest.mark.parametrize(("raw", "address", "name"), READABLE)
def test_readable_from(raw: str, address: str, name: str) -> None:
    parsed = parse_sender([raw])
    assert (parsed.address, parsed.name, parsed.doubt) == (address, name, None)


DOUBTFUL = [
    # CVE-2023-27043: parseaddr took the display name for the address
    ("carol@example.test <evil@evil.example>", GUESSED_ADDRESS),
    ("carol@example.test)<evil@evil.example>", GUESSED_ADDRESS),
    ("Carol <carol@example.test> <evil@evil.example>", GUESSED_ADDRESS),
    ("carol@example.test@evil.example", GUESSED_ADDRESS),
    # an encoded word inside the address (RFC 2047 section 5 forbids it)
    (b64("carol@example.test"), ENCODED_ADDRESS),
    (f"<{b64('carol@example.test')}>", ENCODED_ADDRESS),
    (f"carol@{b64('example.test')}", ENCODED_ADDRESS),  # the stdlib decodes this one silently
    (f"<{b64('carol')}@example.test>", ENCODED_ADDRESS),
    (b64("a@x.example, b@y.example, c@z.example"), ENCODED_ADDRESS),  # three recipients smuggled in
    (f'"{b64("a@x, b@y")}" <a@x.example', GUESSED_ADDRESS),
    ("a@x.example, b@y.example", SEVERAL_MAILBOXES),
    ("group: a@x.example;", SEVERAL_MAILBOXES),
    ("Carol <carol@example.test", GUESSED_ADDRESS),  # unterminated
    ("carol", GUESSED_ADDRESS),
    ("a@b.example\x00", GUESSED_ADDRESS),
    ("张三@例子.中国", GUESSED_ADDRESS),  # not ASCII: not something our SMTP can answer anyway
    ("undisclosed-recipients:;", SEVERAL_MAILBOXES),
]


@pytest.mark.parametrize(("raw", "doubt"), DOUBTFUL)
def test_doubtful_from_has_no_address(raw: str, doubt: str) -> None:
    parsed = parse_sender([raw])
    assert parsed.doubt == doubt
    assert parsed.address == ""  # never the address it pretends to be
    assert parsed.name  # what it claimed, for the coordinator to read


def test_no_from_and_two_froms() -> None:
    assert parse_sender([]).doubt == NO_ADDRESS
    assert parse_sender(["  "]).doubt == NO_ADDRESS
    two = parse_sender(["zhidui@example.com", "evil@evil.example"])
    assert (two.address, two.doubt) == ("", SEVERAL_FROM)


def test_recipients_are_read_as_written() -> None:
    assert parse_recipients(["a@x.example, 刘 <B@Y.example>", "c@z.example, a@x.example"]) == (
        "a@x.example",
        "b@y.example",
        "c@z.example",
    )
    assert parse_recipients([b64("a@x.example, b@y.example")]) == ()  # no address made by decoding
    assert parse_recipients(["undisclosed-recipients:;"]) == ()


# -- rules.sender -----------------------------------------------------------------------------------

PASS = AuthVerdict(Auth.PASS, "dkim=pass (example.com)")
NONE = AuthVerdict(Auth.NONE, "邮件没有 Authentication-Results（收件服务器未给出验证结果）")
FAIL = AuthVerdict(Auth.FAIL, "dmarc=fail (example.com)")


@pytest.mark.parametrize(
    ("address", "doubt", "auth", "trusted", "authenticated"),
    [
        ("a@example.com", None, PASS, True, True),
        ("a@example.com", None, NONE, True, False),  # most section mail: trusted for material, not commands
        ("a@example.com", None, FAIL, False, False),  # the MX says the domain failed: a forgery
        ("", GUESSED_ADDRESS, PASS, False, False),  # a pass is about some other address then
        ("", ENCODED_ADDRESS, NONE, False, False),
        ("", None, NONE, False, False),
    ],
)
def test_sender_verdict(address: str, doubt: str | None, auth: AuthVerdict, trusted: bool, authenticated: bool) -> None:
    v = verdict(address, doubt, auth)
    assert (v.trusted, v.authenticated) == (trusted, authenticated)
    assert (v.doubt is None) == trusted
    if not trusted:
        assert v.doubt  # Chinese, for the review item


# -- rules.authority ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "coordinator", "require_pass", "files", "decision", "words"),
    [
        (verdict("c@example.com", None, PASS), True, True, False, Authority.RUN, "已验证"),
        (verdict("c@example.com", None, NONE), True, True, False, Authority.CONFIRM, "没有 Authentication-Results"),
        (verdict("c@example.com", None, FAIL), True, True, False, Authority.CONFIRM, "dmarc=fail"),
        (verdict("c@example.com", None, NONE), True, False, False, Authority.RUN, "require_auth_pass = false"),
        (verdict("c@example.com", None, FAIL), True, False, False, Authority.RUN, "仅凭发件地址"),
        (verdict("c@example.com", None, PASS), True, True, True, Authority.REFUSE, "带有附件"),
        (verdict("x@example.com", None, PASS), False, True, False, Authority.REFUSE, "不是协调人"),
        (verdict("", GUESSED_ADDRESS, PASS), False, False, False, Authority.REFUSE, "无法可靠识别"),
        (verdict("", ENCODED_ADDRESS, NONE), False, True, False, Authority.REFUSE, "编码字"),
    ],
)
def test_command_authority(sender, coordinator: bool, require_pass: bool, files: bool, decision, words: str) -> None:
    got = command_authority(sender, is_coordinator=coordinator, require_auth_pass=require_pass, has_files=files)
    assert got.decision is decision
    assert words in got.reason


def test_codes_are_fresh_and_quoted_back() -> None:
    made = {new_code() for _ in range(200)}
    assert len(made) == 200
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in made)
    code = sorted(made)[0]
    assert codes_in(f"Re: 【待确认指令】确认码 {code}：确认 指标7", "") == (code,)
    assert codes_in("回复：x", f"> 确认码：{code.lower()}\n") == (code,)  # typed back in lower case
    assert codes_in("", f"确认码{code}X") == ()  # not a code: too long
    assert codes_in("确认码 0OIL1234", "") == ()  # not our alphabet
    assert codes_in("确认 指标7", "请查收 7KQ2M9XD") == ()  # a code needs its label


def test_code_state_and_daily_requests() -> None:
    now = datetime(2021, 10, 20, 10, tzinfo=UTC)
    assert code_state("pending", now + timedelta(seconds=1), now) is CodeState.VALID
    assert code_state("pending", now, now) is CodeState.EXPIRED
    assert code_state("done", now + timedelta(hours=1), now) is CodeState.USED
    assert may_send_confirmation(0) and not may_send_confirmation(20)
