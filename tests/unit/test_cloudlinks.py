"""bot.mime.cloudlinks: 超大附件 and cloud-drive links in hand-built 163 / QQ / kdocs / 百度网盘 bodies."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.mime.cloudlinks import TIMEZONE, UNNAMED, find_cloud_links, parse_expiry, parse_size, provider_of
from bot.mime.mail import CloudLink


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TIMEZONE)


U163_A = (
    "https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT"
    "&file=L0hpUm1KaW5nQ2hlbmc&title=%E3%80%90%E6%8C%87%E6%A0%8712%E3%80%91"
)
U163_B = "https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT&file=ZGVmNDU2"


def _netease_item(url: str, name: str, size: str, expiry: str) -> str:
    href = url.replace("&", "&amp;")
    return f"""
    <div style="clear:both;height:36px;padding:6px 4px;">
      <div style="float:left;"><a href="{href}" target="_blank"><img
        src="https://mimg.127.net/xm/all/fj/ico-bfile-6.gif" border="0" title="{name}"></a></div>
      <div style="padding:0 0 0 40px;">
        <div style="line-height:18px;"><a href="{href}" download="{name}" target="_blank"
          style="color:#000;text-decoration:none;">{name}</a><span
          style="color:#bbb;">({size}, {expiry}到期)</span></div>
        <div><a href="{href}" target="_blank" style="color:#1e5494;">下载</a></div>
      </div>
    </div>"""


NETEASE_HTML = f"""<html><head><meta charset="UTF-8"></head><body>
<div style="font-size:14px;">刘科长您好：<br>指标12和指标13的材料较大，用超大附件发送，请查收。<br>服务科 史凤云</div>
<div style="clear:both;height:1px;"></div>
<div id="divNeteaseBigAttach" style="margin:10px 0;border:#cddae9 1px solid;font-size:12px;">
  <div style="height:30px;line-height:30px;background:#eef3f9;font-weight:bold;padding-left:8px;">
    从网易163邮箱发来的超大附件</div>
  {_netease_item(U163_A, "【指标12】依法行政材料.zip", "25.6M", "2021年11月10日 18:02")}
  {_netease_item(U163_B, "指标13 会议纪要（扫描件）.pdf", "812K", "2021年11月10日 18:03")}
</div></body></html>"""

NETEASE_TEXT = f"""刘科长您好：
指标12和指标13的材料较大，用超大附件发送，请查收。
服务科 史凤云

从网易163邮箱发来的超大附件：
【指标12】依法行政材料.zip (25.6M, 2021年11月10日 18:02 到期)
下载: {U163_A}
指标13 会议纪要（扫描件）.pdf (812K, 2021年11月10日 18:03 到期)
下载: {U163_B}
"""

QQ_NEW = "https://wx.mail.qq.com/ftn/download?func=3&k=9f3e2a1b7c&key=9f3e2a1b7c&code=4b2d9e11"
QQ_OLD = (
    "https://mail.qq.com/cgi-bin/ftnExs_download?k=2a6136346ab5e8c6&t=exs_ftn_download&code=7a1d"
)

QQ_HTML = f"""<div id="QQMailBigAttach" style="width:100%;">
<div class="bigatt_bt" style="height:32px;line-height:32px;padding-left:10px;">
  <div style="font-weight:bold;"><span>从QQ邮箱发来的超大附件</span></div></div>
<div class="bigatt_content" style="padding:6px 10px;">
  <div class="bigatt_item" style="height:48px;">
    <div style="float:left;"><a href="{QQ_NEW.replace("&", "&amp;")}" target="_blank"><img
      src="https://rescdn.qqmail.com/zh_CN/htmledition/images/xdisk/ico_mid/fu_rar.gif"></a></div>
    <div class="name_big" style="margin-left:44px;">
      <div><a href="{QQ_NEW.replace("&", "&amp;")}" target="_blank"
        style="color:#000;">服务科-指标3-制度汇编.rar</a></div>
      <div style="color:#a0a0a0;">文件大小：103.52M</div>
      <div style="color:#a0a0a0;">到期时间：2021年11月12日 16:40</div>
    </div>
  </div>
  <div class="bigatt_item" style="height:48px;">
    <div class="name_big" style="margin-left:44px;">
      <div><a href="{QQ_OLD.replace("&", "&amp;")}" target="_blank">指标7 执法案卷（2021）.7z</a></div>
      <div style="color:#a0a0a0;">文件大小：1.2G</div>
      <div style="color:#a0a0a0;">到期时间：2021-11-13 09:05</div>
    </div>
  </div>
</div></div>"""


def test_163_huge_attachments_in_html() -> None:
    assert find_cloud_links(NETEASE_HTML, "") == [
        CloudLink("【指标12】依法行政材料.zip", U163_A, "163", "25.6M", at(2021, 11, 10, 18, 2)),
        CloudLink("指标13 会议纪要（扫描件）.pdf", U163_B, "163", "812K", at(2021, 11, 10, 18, 3)),
    ]


def test_163_huge_attachments_in_plain_text() -> None:
    assert find_cloud_links(None, NETEASE_TEXT) == [
        CloudLink("【指标12】依法行政材料.zip", U163_A, "163", "25.6M", at(2021, 11, 10, 18, 2)),
        CloudLink("指标13 会议纪要（扫描件）.pdf", U163_B, "163", "812K", at(2021, 11, 10, 18, 3)),
    ]


def test_html_and_its_text_alternative_give_each_file_once() -> None:
    links = find_cloud_links(NETEASE_HTML, NETEASE_TEXT)
    assert [link.filename for link in links] == ["【指标12】依法行政材料.zip", "指标13 会议纪要（扫描件）.pdf"]


def test_old_163_fs_links() -> None:
    url = "http://fs.mail.163.com/fs/display/?p=X-NETEASE-HUGE-ATTACHMENT&file=cXdlcnR5&title=%E8%87%AA"
    html = (
        f'<div><a href="{url.replace("&", "&amp;")}">自查报告.pdf</a>'
        '<span style="color:#909090"> (1.2G, 2021年11月01日 09:00 到期)</span></div>'
    )
    assert find_cloud_links(html, "") == [CloudLink("自查报告.pdf", url, "163", "1.2G", at(2021, 11, 1, 9, 0))]


def test_qq_huge_attachments_in_html() -> None:
    assert find_cloud_links(QQ_HTML, "") == [
        CloudLink("服务科-指标3-制度汇编.rar", QQ_NEW, "qq", "103.52M", at(2021, 11, 12, 16, 40)),
        CloudLink("指标7 执法案卷（2021）.7z", QQ_OLD, "qq", "1.2G", at(2021, 11, 13, 9, 5)),
    ]


def test_qq_huge_attachment_in_plain_text() -> None:
    text = f"""

从QQ邮箱发来的超大附件

服务科-指标3-制度汇编.rar (103.52M, 2021年11月12日 16:40 到期)
进入下载页面：{QQ_NEW}
"""
    assert find_cloud_links(None, text) == [
        CloudLink("服务科-指标3-制度汇编.rar", QQ_NEW, "qq", "103.52M", at(2021, 11, 12, 16, 40)),
    ]


def test_kdocs_share_in_html_and_text() -> None:
    html = '<p>指标12材料已上传：<a href="https://kdocs.cn/l/cs2VdWlQ0Ab1">【金山文档】 指标12自查报告</a></p>'
    text = "【金山文档】 指标12自查报告\nhttps://kdocs.cn/l/cs2VdWlQ0Ab1"
    expected = [CloudLink("指标12自查报告", "https://kdocs.cn/l/cs2VdWlQ0Ab1", "kdocs")]
    assert find_cloud_links(html, "") == expected
    assert find_cloud_links(None, text) == expected
    assert find_cloud_links(html, text) == expected


def test_wps_share_link_with_a_file_name() -> None:
    text = "请查看 指标5台账.xlsx https://www.kdocs.cn/l/ckT9xq2Rz 谢谢"
    assert find_cloud_links(None, text) == [
        CloudLink("指标5台账.xlsx", "https://www.kdocs.cn/l/ckT9xq2Rz", "kdocs"),
    ]


def test_baidu_pan_share_in_html_gets_its_pickup_code() -> None:
    html = """<div><div>通过百度网盘分享的文件：指标5整改台账.xlsx</div>
<div>链接：<a href="https://pan.baidu.com/s/1AbCdEfGhIjKlMnOp">https://pan.baidu.com/s/1AbCdEfGhIjKlMnOp</a>
提取码：x7k9<br>--来自百度网盘超级会员V5的分享</div></div>"""
    assert find_cloud_links(html, "") == [
        CloudLink("指标5整改台账.xlsx", "https://pan.baidu.com/s/1AbCdEfGhIjKlMnOp?pwd=x7k9", "other"),
    ]


@pytest.mark.parametrize(
    ("text", "filename", "url"),
    [
        (
            "通过百度网盘分享的文件：指标5整改台账.xlsx\n链接：https://pan.baidu.com/s/1AbCdEfGhIjKlMnOp \n"
            "提取码：x7k9 \n--来自百度网盘超级会员V5的分享",
            "指标5整改台账.xlsx",
            "https://pan.baidu.com/s/1AbCdEfGhIjKlMnOp?pwd=x7k9",
        ),
        (
            "我用百度网盘分享了「指标8照片」，你也快来看看吧。链接：https://pan.baidu.com/s/1Zz9Yy8Xx?pwd=ab12",
            "指标8照片",
            "https://pan.baidu.com/s/1Zz9Yy8Xx?pwd=ab12",
        ),
        (
            "材料在网盘 https://pan.baidu.com/s/1Qq2Ww3Ee 密码: 9k8j",
            UNNAMED,
            "https://pan.baidu.com/s/1Qq2Ww3Ee?pwd=9k8j",
        ),
    ],
)
def test_baidu_pan_share_texts(text: str, filename: str, url: str) -> None:
    assert find_cloud_links(None, text) == [CloudLink(filename, url, "other")]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "刘科长您好，材料见附件。请于2021年10月28日前报送。",
        "政策原文：https://www.mee.gov.cn/zcwj/202110/W020211020.pdf",
        "登录 https://mail.163.com/js6/main.jsp 查看",
        "搜索 https://www.baidu.com/s?wd=依法行政",
        "https://kdocs.cn/latest",
    ],
)
def test_ordinary_bodies_have_no_cloud_links(body: str) -> None:
    html = f"<p>{body}</p><a href='https://www.mee.gov.cn/'>生态环境部</a>"
    assert find_cloud_links(html, body) == []


def test_only_the_text_can_add_links_the_html_lacks() -> None:
    text = NETEASE_TEXT + "\n另有 https://kdocs.cn/l/cExtra001 指标20说明.docx\n"
    links = find_cloud_links(NETEASE_HTML, text)
    assert [(link.provider, link.filename) for link in links] == [
        ("163", "【指标12】依法行政材料.zip"),
        ("163", "指标13 会议纪要（扫描件）.pdf"),
        ("kdocs", "指标20说明.docx"),
    ]


def test_link_without_size_or_expiry() -> None:
    html = f'<p><a href="{QQ_NEW.replace("&", "&amp;")}">下载</a></p>'
    assert find_cloud_links(html, "") == [CloudLink(UNNAMED, QQ_NEW, "qq")]


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        (U163_A, "163"),
        ("https://mail.126.com/large-attachment-download/index.html?file=x", "163"),
        ("http://fs.mail.163.com/fs/display/?p=X-NETEASE-HUGE-ATTACHMENT&file=x", "163"),
        ("https://mail.163.com/js6/main.jsp?sid=x", None),
        (QQ_NEW, "qq"),
        (QQ_OLD, "qq"),
        ("https://exmail.qq.com/cgi-bin/ftnExs_download?k=x", "qq"),
        ("https://mail.qq.com/cgi-bin/frame_html", None),
        ("https://kdocs.cn/l/cs2VdWlQ0Ab1", "kdocs"),
        ("https://www.kdocs.cn/l/cs2VdWlQ0Ab1?f=201", "kdocs"),
        ("https://docs.wps.cn/l/abc", "kdocs"),
        ("https://www.kdocs.cn/latest", None),
        ("https://pan.baidu.com/s/1AbC", "other"),
        ("https://pan.baidu.com/share/init?surl=AbC", "other"),
        ("https://www.baidu.com/s?wd=pan", None),
        ("https://share.weiyun.com/AbCdEf", "other"),
        ("https://www.aliyundrive.com/s/AbCdEf", "other"),
        ("https://evil.example/mail.163.com/large-attachment-download", None),
        ("not a url", None),
        ("http://[::1", None),
    ],
)
def test_provider_of(url: str, provider: str | None) -> None:
    assert provider_of(url) == provider


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("(25.6M, 2021年11月10日 18:02到期)", "25.6M"),
        ("文件大小：103.52M", "103.52M"),
        ("(812K, 2021年11月10日 18:03到期)", "812K"),
        ("1.2 GB", "1.2GB"),
        ("大小 356 KB", "356KB"),
        ("2021年11月10日 18:02到期", None),
        ("指标12.zip", None),
        ("", None),
    ],
)
def test_parse_size(text: str, size: str | None) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(25.6M, 2021年11月10日 18:02到期)", at(2021, 11, 10, 18, 2)),
        ("(25.6M, 2021年11月10日 18:02 到期)", at(2021, 11, 10, 18, 2)),
        ("到期时间：2021年11月12日 16:40", at(2021, 11, 12, 16, 40)),
        ("到期时间: 2021-11-13 09:05", at(2021, 11, 13, 9, 5)),
        ("有效期至2021/12/01", at(2021, 12, 1)),
        ("2021年1月5日 8:07到期", at(2021, 1, 5, 8, 7)),
        ("发送时间：2021年10月20日 09:30，到期时间：2021年11月03日 09:30", at(2021, 11, 3, 9, 30)),
        ("请于2021年10月28日前报送", None),
        ("2021年13月40日到期", None),
        ("永久有效", None),
        ("", None),
    ],
)
def test_parse_expiry(text: str, expected: datetime | None) -> None:
    assert parse_expiry(text) == expected
    if expected is not None:
        assert expected.utcoffset() is not None
