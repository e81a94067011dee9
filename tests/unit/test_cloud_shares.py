"""Share texts as each service writes them (issue 13): the shared name, size and expiry of every cloud
file, whichever of 金山文档 / WPS / 腾讯文档 / QQ 文件中转站 / 163 超大附件 wrote the text."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.mime.cloudlinks import TIMEZONE, UNNAMED, find_cloud_links, in_zone, provider_of
from bot.mime.mail import CloudLink


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TIMEZONE)


KDOCS = "https://kdocs.cn/l/cfTc8Yw2Kx1Q"
WPS = "https://www.kdocs.cn/l/ckT9xq2RzP4a?f=201"
TENCENT_SHEET = "https://docs.qq.com/sheet/DUkFxWmRjVnBtSWxP"
TENCENT_DOC = "https://docs.qq.com/doc/DVGhpcyBpcyBhIHRlc3Q?u=4f2a9c1d"
QQ_FTN = "https://mail.qq.com/cgi-bin/ftnExs_download?k=5e3f1b2c7d&t=exs_ftn_download&code=91ab"
U163 = "https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT&file=c2hpYmlhbzE"

SHARES = [
    (
        "金山文档: the app's copied share text",
        f"刘科长：\n指标21材料见金山文档。\n\n【金山文档】 指标21 法治宣传教育工作台账\n{KDOCS}\n",
        CloudLink("指标21 法治宣传教育工作台账", KDOCS, "kdocs"),
    ),
    (
        "金山文档: only the title on the line above the link (was 未命名文件)",
        f"刘科长您好：\n\n指标21 法治宣传教育工作台账\n{KDOCS}\n\n法规科 王敏",
        CloudLink("指标21 法治宣传教育工作台账", KDOCS, "kdocs"),
    ),
    (
        "WPS 云文档: the share text with an extension",
        f"【WPS云文档】 指标36 行政执法三项制度落实情况.docx\n{WPS}\n",
        CloudLink("指标36 行政执法三项制度落实情况.docx", WPS, "kdocs"),
    ),
    (
        "WPS: 我分享了「...」 on one line",
        f"我分享了「指标36 执法公示清单」，快来看看吧 {WPS}",
        CloudLink("指标36 执法公示清单", WPS, "kdocs"),
    ),
    (
        "腾讯文档: the copied share text",
        f"【腾讯文档】指标33 财务审计整改台账\n{TENCENT_SHEET}\n",
        CloudLink("指标33 财务审计整改台账", TENCENT_SHEET, "tencent"),
    ),
    (
        "腾讯文档: the title above the link, a greeting above that",
        f"您好，请查看：\n指标33 审计整改落实情况说明\n{TENCENT_DOC}\n",
        CloudLink("指标33 审计整改落实情况说明", TENCENT_DOC, "tencent"),
    ),
    (
        "QQ 文件中转站: name, size and expiry on their own lines",
        "我通过QQ邮箱文件中转站给你发送了文件，请在过期前下载：\n"
        "文件名：指标30 执法记录仪视频（2021年9月）.zip\n文件大小：156.32M\n"
        f"过期时间：2021年11月12日 10:21\n下载地址：{QQ_FTN}\n",
        CloudLink("指标30 执法记录仪视频（2021年9月）.zip", QQ_FTN, "qq", "156.32M", at(2021, 11, 12, 10, 21)),
    ),
    (
        "163 超大附件: the text alternative Coremail writes",
        "从网易163邮箱发来的超大附件：\n\n指标13 党组会议纪要（扫描件）.pdf (86.4M, 2021年11月10日 18:03 到期)\n"
        f"下载: {U163}\n",
        CloudLink("指标13 党组会议纪要（扫描件）.pdf", U163, "163", "86.4M", at(2021, 11, 10, 18, 3)),
    ),
]


@pytest.mark.parametrize(("case", "text", "link"), SHARES, ids=[c for c, _, _ in SHARES])
def test_share_text_names_the_file(case: str, text: str, link: CloudLink) -> None:
    assert find_cloud_links(None, text) == [link], case


def test_document_title_above_a_bare_link_in_html() -> None:
    html = f'<div>刘科长：</div><div>指标21 法治宣传教育工作台账<br><a href="{KDOCS}">{KDOCS}</a></div>'
    assert find_cloud_links(html, "") == [CloudLink("指标21 法治宣传教育工作台账", KDOCS, "kdocs")]


def test_text_alternative_names_what_the_html_left_unnamed() -> None:
    html = f'<p><a href="{KDOCS}">{KDOCS}</a></p>'
    text = f"指标21 法治宣传教育工作台账\n{KDOCS}"
    assert find_cloud_links(html, text) == [CloudLink("指标21 法治宣传教育工作台账", KDOCS, "kdocs")]


@pytest.mark.parametrize(
    "text",
    [
        f"请查收，谢谢。\n{KDOCS}",  # a sentence, not a title
        f"材料如下：\n{TENCENT_DOC}",
        KDOCS,
    ],
)
def test_no_title_means_unnamed_not_a_guess(text: str) -> None:
    assert [link.filename for link in find_cloud_links(None, text)] == [UNNAMED]


def test_a_title_is_never_taken_for_a_huge_attachment() -> None:
    # 163/QQ links always carry their own name; a line above is the sender's prose.
    text = f"指标13 会议纪要\n{U163}"
    assert [link.filename for link in find_cloud_links(None, text)] == [UNNAMED]


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        (TENCENT_SHEET, "tencent"),
        (TENCENT_DOC, "tencent"),
        ("https://docs.qq.com/slide/DAbc", "tencent"),
        ("https://docs.qq.com/desktop/", None),
        ("https://docs.qq.com.evil.example/doc/DAbc", None),
    ],
)
def test_tencent_docs_provider(url: str, provider: str | None) -> None:
    assert provider_of(url) == provider


def test_expiry_wall_clock_read_in_the_campaign_zone() -> None:
    shown = at(2021, 11, 12, 10, 21)
    urumqi = in_zone(shown, ZoneInfo("Asia/Urumqi"))
    assert (urumqi.hour, urumqi.minute) == (10, 21)
    assert urumqi - shown == timedelta(hours=2)  # UTC+6: the same wall clock comes two hours later
    assert in_zone(shown, TIMEZONE) == shown
