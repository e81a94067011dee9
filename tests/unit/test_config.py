"""Config loading: the example file is valid, and every mistake names the key."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_example_config_loads_with_every_section() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.campaign.deadline == date(2021, 10, 28)
    assert cfg.campaign.tz.key == "Asia/Shanghai"
    assert cfg.mailbox.folders == ("INBOX", "垃圾邮件")
    assert cfg.mailbox.port == 993 and cfg.mailbox.ssl
    assert cfg.storage.database == "sqlite:///" + str((ROOT / "var/intake.db").resolve())
    assert cfg.storage.files == ROOT / "var/files"
    assert cfg.coordinator.digest_at == time(17, 30)
    assert cfg.section_of("ZHIDUI2@example.com") == "支队"
    assert cfg.section_of("stranger@example.com") is None
    assert cfg.section("支队") is not None
    assert cfg.section("支队").owners[0] == ("刘建设", "zhidui@example.com")
    assert cfg.smtp is not None and cfg.smtp.from_addr == "jzhbjfzk@163.com"
    assert cfg.reminders.days_before == (7, 3, 1)
    assert cfg.coordinator.require_auth_pass is True
    assert cfg.coordinator.authserv_ids == ("mx*",)  # Coremail stamps its short MX name (MAIL-FACTS)
    assert cfg.receipts.max_stranger_receipts_per_day == 20
    assert cfg.receipts.max_age_hours == 72
    assert (cfg.smtp.pace_seconds, cfg.smtp.batch_size) == (3.0, 40)


def test_sending_pace_and_receipt_age_default_when_left_out(tmp_path: Path) -> None:
    data = example()
    for key in ("pace_seconds", "batch_size"):
        del data["smtp"][key]
    del data["receipts"]["max_age_hours"]
    cfg = parse_config(data, tmp_path / "config.toml")
    assert cfg.smtp is not None and (cfg.smtp.pace_seconds, cfg.smtp.batch_size) == (3.0, 40)
    assert cfg.receipts.max_age_hours == 72
    data["smtp"]["pace_seconds"] = 0  # the test sink and company servers: no pause
    assert parse_config(data, tmp_path / "config.toml").smtp.pace_seconds == 0.0  # type: ignore[union-attr]


def test_authserv_ids_default_to_none_trusted(tmp_path: Path) -> None:
    data = example()
    del data["coordinator"]["authserv_ids"]
    del data["receipts"]["max_stranger_receipts_per_day"]
    cfg = parse_config(data, tmp_path / "config.toml")
    assert cfg.coordinator.authserv_ids == ()  # fail closed: every mailed command needs a code
    assert cfg.receipts.max_stranger_receipts_per_day == 20
    data["coordinator"]["authserv_ids"] = ["MX*", "mx.163.com"]
    assert parse_config(data, tmp_path / "config.toml").coordinator.authserv_ids == ("mx*", "mx.163.com")


def test_secret_comes_from_environment_and_is_not_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(EXAMPLE)
    monkeypatch.setenv("INTAKE_IMAP_PASSWORD", "s3cr3t-code")
    assert cfg.mailbox.password.reveal() == "s3cr3t-code"
    assert "s3cr3t-code" not in repr(cfg)
    monkeypatch.delenv("INTAKE_IMAP_PASSWORD")
    with pytest.raises(ConfigError, match=r"mailbox\.password_env.*INTAKE_IMAP_PASSWORD"):
        cfg.mailbox.password.reveal()


def test_secret_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "imap.secret"
    secret.write_text("code-from-file\n")
    data = example()
    del data["mailbox"]["password_env"]
    data["mailbox"]["password_file"] = str(secret)
    cfg = parse_config(data, tmp_path / "config.toml")
    assert cfg.mailbox.password.reveal() == "code-from-file"
    secret.unlink()
    with pytest.raises(ConfigError, match=r"mailbox\.password_file"):
        cfg.mailbox.password.reveal()


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (lambda d: d["mailbox"].update(password="abc"), "mailbox.password", "不要把授权码写在配置文件里"),
        (lambda d: d["mailbox"].update(port="993"), "mailbox.port", "整数"),
        (lambda d: d["mailbox"].update(port=70000), "mailbox.port", "1–65535"),
        (lambda d: d["mailbox"].pop("host"), "mailbox.host", "缺少此项"),
        (lambda d: d["mailbox"].update(hots="x"), "mailbox.hots", "未知的配置项（可用：ca_file、connect_timeout"),
        (lambda d: d["campaign"].update(deadline="10月28日"), "campaign.deadline", "日期"),
        (lambda d: d["campaign"].update(timezone="Mars/Base"), "campaign.timezone", "未知时区"),
        (lambda d: d["coordinator"].update(emails=["not-an-address"]), "coordinator.emails", "不是有效的邮箱地址"),
        (lambda d: d["coordinator"].update(emails=[]), "coordinator.emails", "至少需要一个"),
        (lambda d: d["coordinator"].update(digest_at="5pm"), "coordinator.digest_at", "HH:MM"),
        (lambda d: d["coordinator"].update(authserv_ids=["*"]), "coordinator.authserv_ids", "通配模式"),
        (lambda d: d["coordinator"].update(authserv_ids=["mx 19"]), "coordinator.authserv_ids", "通配模式"),
        (lambda d: d["coordinator"].update(authserv_ids="mx*"), "coordinator.authserv_ids", "列表"),
        (lambda d: d["coordinator"].update(require_auth_pass="no"), "coordinator.require_auth_pass", "true/false"),
        (
            lambda d: d["receipts"].update(max_stranger_receipts_per_day=-1),
            "receipts.max_stranger_receipts_per_day",
            "非负",
        ),
        (lambda d: d["receipts"].update(max_age_hours=0), "receipts.max_age_hours", "正整数"),
        (lambda d: d["smtp"].update(pace_seconds=-1), "smtp.pace_seconds", "非负数"),
        (lambda d: d["smtp"].update(pace_seconds="3s"), "smtp.pace_seconds", "类型应为"),
        (lambda d: d["smtp"].update(batch_size=0), "smtp.batch_size", "正整数"),
        (lambda d: d["mailbox"].update(workers=-1), "mailbox.workers", "非负整数"),
        (lambda d: d["mailbox"].update(workers="auto"), "mailbox.workers", "类型应为"),
        (lambda d: d["sections"][1].update(senders=["fuwuke@example.com"]), "sections[1].senders", "同时属于"),
        (lambda d: d["reminders"].update(days_before=[7, -1]), "reminders.days_before", "非负整数"),
        (lambda d: d["reminders"].update(overdue_every_days=0), "reminders.overdue_every_days", "正整数"),
        (lambda d: d.pop("storage"), "[storage]", "缺少此配置段"),
        (lambda d: d.update(mailboxx={}), "mailboxx", "未知的配置段"),
        (lambda d: d["smtp"].pop("password_env"), "smtp.password_env", "缺少此项"),
        # A section name must be a 责任单位 of the checklist, with the closest one suggested.
        (lambda d: d["sections"][1].update(name="支對"), "sections[1].name", "没有科室“支對”，是指“支队”吗？"),
        (lambda d: d["sections"][0].update(name="服务"), "sections[0].name", "是指“服务科”吗？"),
        (lambda d: d["sections"][0].update(name="信息科"), "sections[0].name", "没有科室“信息科”。可用的科室：服务科"),
        (lambda d: d["sections"][1].update(name="服务科"), "sections[1].name", "出现了两次"),
        (lambda d: d["campaign"].update(clock="2021-10-25 09:00"), "campaign.clock", "日期时间"),
    ],
)
def test_errors_name_file_and_key(edit, key: str, words: str, tmp_path: Path) -> None:
    data = example()
    edit(data)
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as err:
        parse_config(data, path)
    assert err.value.key == key
    assert words in str(err.value)
    assert str(path) in str(err.value)


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[campaign\nname = 1\n")
    with pytest.raises(ConfigError, match="TOML 语法错误"):
        load_config(bad)
    with pytest.raises(ConfigError, match="无法读取：文件不存在"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[campaign\nname = 1\n", "TOML 语法错误（第1行第10列）：配置段名后面缺少“]”"),
        ("[campaign]\nname = 支队\n", "TOML 语法错误（第2行第8列）：值的格式不对（字符串要加英文双引号"),
        ('[campaign]\nname "支队"\n', "TOML 语法错误（第2行第6列）：键后面缺少“=”"),
        ('[campaign]\nname = "支队\n', "字符串缺少结尾的引号"),
        ("[campaign]\n[campaign]\n", "同一个配置段或键写了两次"),
        ("[campaign]\nextra = [1, 2\n", "列表缺少结尾的“]”"),
    ],
)
def test_toml_syntax_errors_in_chinese(text: str, words: str, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert words in str(err.value)
    assert not any(english in str(err.value) for english in ("Expected", "Invalid", "Unterminated", "line"))


def test_a_fixed_clock_is_read_in_the_campaign_time_zone(tmp_path: Path) -> None:
    data = example()
    data["campaign"]["clock"] = datetime(2021, 10, 25, 9, 0)  # TOML local datetime
    cfg = parse_config(data, tmp_path / "config.toml")
    assert cfg.campaign.clock == datetime(2021, 10, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert load_config(EXAMPLE).campaign.clock is None  # commented out in the example


def test_the_cli_reports_a_bad_section_name_and_a_syntax_error_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    text = EXAMPLE.read_text(encoding="utf-8").replace('name = "支队"', 'name = "支對"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["status", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "sections[1].name：没有科室“支對”，是指“支队”吗？" in err and "须与指标清单中的责任单位一致" in err

    path.write_text(text.replace('name = "支對"', 'name = 支队'), encoding="utf-8")
    assert main(["doctor", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "✗ 读取配置文件" in out and "TOML 语法错误（第" in out and "字符串要加英文双引号" in out
