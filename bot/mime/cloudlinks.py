"""Files announced in the body instead of attached: 163 / QQ 超大附件, kdocs (金山文档 / WPS) shares and
cloud-drive shares (百度网盘 and friends), found in the HTML body and in the plain text.

Such a mail has no MIME part for the file, so it must not look empty: each link becomes a
``CloudLink`` with the file name, size and expiry the mail shows, so the coordinator can fetch the
file before the link expires.

HTML: links are grouped by URL (the icon, the name and the 下载 button of one file share a URL); the
text around a group, up to the nearest element that also holds another file's link, supplies the
size ("25.6M") and the expiry ("2021年11月10日 18:02到期", "到期时间：..."). Plain text: each URL's
record runs from the previous link (or the start of its paragraph) to the end of its line.

Parsing HTML is the expensive step of reading a mail: ``link_html`` picks the HTML worth parsing (a part
that names a cloud service at all) and, for a large part, only the text around those names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag

from bot.mime.mail import CloudLink
from rules.material import is_web_link

TIMEZONE = ZoneInfo("Asia/Shanghai")
UNNAMED = "未命名文件"

_NETEASE_MAIL_HOSTS = ("mail.163.com", "mail.126.com", "mail.yeah.net", "mail.188.com", "vip.163.com")
_OTHER_SHARE_HOSTS = ("pan.baidu.com", "share.weiyun.com", "www.aliyundrive.com", "www.alipan.com")
_MAX_LEVELS = 6  # how far up from a link we look for its size and expiry
LINK_HTML_CAP = 256 * 1024  # HTML parts larger than this are parsed only around cloud-service names
_WINDOW = 8 * 1024  # characters kept on each side of such a name: a 163/QQ file block is ~1 KB
_MAX_WINDOWS = 200
# Every host provider_of accepts, as lower-case substrings (a false hit only costs a parse).
_SERVICE_NAMES = (
    *("fs.mail.", "large-attachment-download", "mail.qq.com", "kdocs.cn", "docs.wps.cn"),
    *_OTHER_SHARE_HOSTS,
)
_SERVICE_NAME = re.compile("|".join(re.escape(name) for name in _SERVICE_NAMES))

_URL = re.compile(r"https?://[^\s<>\"'，。；、）)】\]」]+", re.IGNORECASE)
_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?\s*(?:[KMGT]i?B|[KMGT]|B|字节))(?![A-Za-z0-9])", re.IGNORECASE)
_DATE = re.compile(
    r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?|[-/.](\d{1,2})[-/.](\d{1,2}))"
    r"(?:\s*(\d{1,2})\s*[:：]\s*(\d{2}))?"
)
_EXPIRY_BEFORE = re.compile(r"(?:到期时间|到期日期|有效期至|有效期|过期时间|截止|expires?)\s*[:：]?\s*$", re.IGNORECASE)
_EXPIRY_AFTER = re.compile(r"^\s*(?:到期|过期|失效)")
_EXTENSIONS = (
    "docx|docm|doc|wps|wpt|xlsx|xlsm|xls|et|csv|pptx|ppt|dps|pdf|ofd|txt|rtf|zip|rar|7z|tar|gz"
    "|jpg|jpeg|png|gif|bmp|tiff?|mp4|mov|avi|wmv|mp3|wav|dwg"
)
# A file name inside running text: no spaces, so it does not swallow the words before it.
_FILENAME = re.compile(rf"[^\s/\\:*?\"<>|，,：;；(（]+?\.(?:{_EXTENSIONS})(?![A-Za-z0-9])", re.IGNORECASE)
# A whole string that is a file name (link text, download attribute): spaces and brackets allowed.
_WHOLE_FILENAME = re.compile(rf"[^\n/\\:*?\"<>|]+\.(?:{_EXTENSIONS})", re.IGNORECASE)
_NAMED = (
    # 163 / QQ text part: "指标13 会议纪要（扫描件）.pdf (812K, 2021年11月10日 18:03 到期)"
    re.compile(rf"^\s*([^\n:：/\\*?\"<>|]+?\.(?:{_EXTENSIONS}))\s*[(（]\s*\d", re.IGNORECASE | re.MULTILINE),
    re.compile(r"分享的文件\s*[:：]\s*([^\n]+?)\s*(?:\n|$|链接)"),  # 百度网盘 "通过百度网盘分享的文件：材料.zip"
    re.compile(r"分享了\s*「([^」\n]+)」"),  # 百度网盘 "我用百度网盘分享了「材料.zip」"
    re.compile(r"【(?:金山文档|WPS文档|WPS云文档)】\s*([^\n]+?)\s*(?:\n|$|https?://)"),  # kdocs share text
)
_PICKUP_CODE = re.compile(r"(?:提取码|密码)\s*[:：]?\s*([A-Za-z0-9]{4})(?![A-Za-z0-9])")
_NAME_PARAMS = ("file", "filename", "name", "title", "fn")
_GENERIC_LINK_TEXT = frozenset(
    {"下载", "点击下载", "预览", "在线预览", "打开", "查看", "点击查看", "保存到网盘", "转存"}
)

def provider_of(url: str) -> str | None:
    """``"163"``, ``"qq"``, ``"kdocs"``, ``"other"`` (cloud drives) or None for any other link, and for
    anything but http(s): ``javascript://fs.mail.163.com/...`` has the right host (rules.material)."""
    if not is_web_link(url.strip()):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host, path = (parts.hostname or "").lower(), parts.path.lower()
    if host.startswith("fs.mail.") or (host in _NETEASE_MAIL_HOSTS and "large-attachment-download" in path):
        return "163"
    if host.endswith(("mail.qq.com", "exmail.qq.com")) and ("/ftn/download" in path or "ftnexs_download" in path):
        return "qq"
    if host in ("kdocs.cn", "www.kdocs.cn", "docs.wps.cn") and path.startswith("/l/"):
        return "kdocs"
    if host in _OTHER_SHARE_HOSTS and (path.startswith(("/s/", "/share/")) or host == "share.weiyun.com"):
        return "other"
    return None


def link_html(html: str) -> str | None:
    """The part of one HTML body that can hold a cloud link: None when it names no cloud service, the
    whole body when it is small, else the text around each name (:data:`LINK_HTML_CAP`)."""
    lowered = html.lower()
    if not any(name in lowered for name in _SERVICE_NAMES):
        return None
    if len(html) <= LINK_HTML_CAP:
        return html
    spans: list[tuple[int, int]] = []
    for match in _SERVICE_NAME.finditer(lowered):
        start, end = max(0, match.start() - _WINDOW), match.end() + _WINDOW
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        elif len(spans) < _MAX_WINDOWS:
            spans.append((start, end))
        else:
            break
    return "\n".join(html[start:end] for start, end in spans)


def find_cloud_links(html: str | None, text: str) -> list[CloudLink]:
    """Every cloud file the mail announces, HTML first, then what only the plain text has."""
    links = list(_from_html(html)) if html else []
    seen_urls = {link.url for link in links}
    seen_names = {(link.provider, link.filename) for link in links if link.filename != UNNAMED}
    for link in _from_text(text):
        if link.url in seen_urls or (link.provider, link.filename) in seen_names:
            continue
        links.append(link)
        seen_urls.add(link.url)
    return links


# --- pieces shared by HTML and text -----------------------------------------------------------------


def parse_size(text: str) -> str | None:
    """``"(25.6M, 2021年11月10日 18:02到期)"`` -> ``"25.6M"``."""
    match = _SIZE.search(text)
    return re.sub(r"\s+", "", match.group(1)) if match else None


def parse_expiry(text: str) -> datetime | None:
    """The first date marked as an expiry (到期 / 到期时间 / 有效期至 ...), in Asia/Shanghai. A date
    without a time counts from 00:00, the earlier and safer reading."""
    for match in _DATE.finditer(text):
        before, after = text[max(0, match.start() - 12) : match.start()], text[match.end() : match.end() + 6]
        if not (_EXPIRY_BEFORE.search(before) or _EXPIRY_AFTER.match(after)):
            continue
        year, month1, day1, month2, day2, hour, minute = match.groups()
        try:
            return datetime(
                int(year),
                int(month1 or month2),
                int(day1 or day2),
                int(hour or 0),
                int(minute or 0),
                tzinfo=TIMEZONE,
            )
        except ValueError:
            continue
    return None


def _name_from_text(text: str) -> str | None:
    without_urls = _URL.sub(" ", text)
    for pattern in _NAMED:
        match = pattern.search(without_urls)
        if match and match.group(1).strip():
            return match.group(1).strip()
    match = _FILENAME.search(without_urls)
    return match.group(0) if match else None


def _name_from_url(url: str) -> str | None:
    query = parse_qs(urlsplit(url).query)
    for key in _NAME_PARAMS:
        for value in query.get(key, []):
            if _WHOLE_FILENAME.fullmatch(value.strip()):
                return value.strip()
    return None


def _with_pickup_code(url: str, provider: str, text: str) -> str:
    """百度网盘: a share link and its 提取码 travel separately; ``?pwd=`` joins them, as Baidu's own
    "copy link with code" does."""
    if provider != "other" or "pan.baidu.com" not in url or "pwd=" in url:
        return url
    match = _PICKUP_CODE.search(_URL.sub(" ", text))
    if not match:
        return url
    return f"{url}{'&' if '?' in url else '?'}pwd={match.group(1)}"


# --- HTML ---------------------------------------------------------------------------------------------


def _from_html(html: str) -> Iterator[CloudLink]:
    soup = BeautifulSoup(html, "html.parser")
    groups: dict[str, list[Tag]] = {}
    for anchor in soup.find_all("a", href=True):
        href = anchor.get("href")
        url = href.strip() if isinstance(href, str) else ""
        if provider_of(url) is not None:
            groups.setdefault(url, []).append(anchor)
    emitted: set[tuple[str, str, str | None]] = set()
    for url, anchors in groups.items():
        provider = provider_of(url) or "other"
        levels = [level.get_text(" ", strip=True) for level in _blocks(anchors[0], url)]
        filename = _html_name(anchors, url, levels)
        size_text = next((size for size in map(parse_size, levels) if size), None)
        expires_at = next((when for when in map(parse_expiry, levels) if when), None)
        key = (provider, filename, size_text)
        if filename != UNNAMED and key in emitted:
            continue  # a 预览 link beside the 下载 link of the same file
        emitted.add(key)
        yield CloudLink(
            filename=filename,
            url=_with_pickup_code(url, provider, levels[-1] if levels else ""),
            provider=provider,
            size_text=size_text,
            expires_at=expires_at,
        )


def _blocks(anchor: Tag, url: str) -> list[Tag]:
    """The anchor's ancestors, nearest first, that hold no other file's link."""
    found: list[Tag] = []
    node = anchor.parent
    while isinstance(node, Tag) and node.name not in ("body", "html", "[document]") and len(found) < _MAX_LEVELS:
        hrefs = {a.get("href") for a in node.find_all("a", href=True)}
        others = {h.strip() for h in hrefs if isinstance(h, str)} - {url}
        if any(provider_of(h) is not None for h in others):
            break
        found.append(node)
        node = node.parent
    return found or [anchor]


def _html_name(anchors: list[Tag], url: str, levels: list[str]) -> str:
    for anchor in anchors:
        download = anchor.get("download")
        if isinstance(download, str) and download.strip():
            return download.strip()
    for anchor in anchors:
        text = anchor.get_text(" ", strip=True)
        if _WHOLE_FILENAME.fullmatch(text):
            return text
        title = anchor.get("title")
        if isinstance(title, str) and _WHOLE_FILENAME.fullmatch(title.strip()):
            return title.strip()
    from_url = _name_from_url(url)
    if from_url:
        return from_url
    for level in levels:
        name = _name_from_text(level)
        if name:
            return name
    for anchor in anchors:  # a kdocs document title has no extension
        text = anchor.get_text(" ", strip=True)
        if text and text not in _GENERIC_LINK_TEXT and not _URL.match(text):
            return text
    return UNNAMED


# --- plain text -----------------------------------------------------------------------------------------


def _from_text(text: str) -> Iterator[CloudLink]:
    matches = [m for m in _URL.finditer(text) if provider_of(m.group(0).rstrip(".,;:!")) is not None]
    previous_end = 0
    for index, match in enumerate(matches):
        url = match.group(0).rstrip(".,;:!")
        provider = provider_of(url) or "other"
        start = max(previous_end, _paragraph_start(text, match.start()))
        line_end = text.find("\n", match.end())
        line_end = len(text) if line_end == -1 else line_end
        record = text[start:line_end]
        following_end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        blank = text.find("\n\n", line_end)
        tail = text[line_end : following_end if blank == -1 else min(blank, following_end)]
        previous_end = line_end
        yield CloudLink(
            filename=_name_from_text(record) or _name_from_url(url) or UNNAMED,
            url=_with_pickup_code(url, provider, record + tail),
            provider=provider,
            size_text=parse_size(_URL.sub(" ", record)),
            expires_at=parse_expiry(record + tail),
        )


def _paragraph_start(text: str, position: int) -> int:
    blank = text.rfind("\n\n", 0, position)
    return 0 if blank == -1 else blank + 2
