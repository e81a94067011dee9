"""The digest's HTML, rendered by a real browser (headless Debian chromium), is not blank.

Webmail shows HTML much as a browser does once scripts and <style> are stripped; a screenshot with
enough non-white pixels shows the tables and bars render at all. Chromium missing: skip, or fail when
INTAKE_REQUIRE_SERVERS=1 (CI).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from bot.outgoing.render import render
from tests.golden import samples

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def _chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("INTAKE_REQUIRE_SERVERS") == "1":
        pytest.fail("chromium is required (INTAKE_REQUIRE_SERVERS=1) but not installed")
    pytest.skip("chromium not installed")


def _png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Decode an 8-bit non-interlaced RGB/RGBA PNG into rows of raw pixel bytes (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos = 8
    idat = b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, "unsupported PNG layout"
            channels = {2: 3, 6: 4}[colour]
        elif ctype == b"IDAT":
            idat += body
        elif ctype == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = prev[i]
            up_left = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def test_digest_html_renders_in_chromium(tmp_path: Path) -> None:
    chromium = _chromium()
    _, html = render("digest", samples.digest())
    page = tmp_path / "digest.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "digest.png"
    profile = tmp_path / "profile"
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--screenshot={shot}",
        "--window-size=1000,1400",
        page.as_uri(),
    ]
    result = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.exists(), f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]!r}"

    width, height, channels, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 1400)
    non_white = 0
    coloured = 0  # clearly coloured pixels: the title bar and the progress bars
    for row in rows:
        for x in range(0, width * channels, channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r < 235 or g < 235 or b < 235:
                non_white += 1
            if max(r, g, b) - min(r, g, b) > 60:
                coloured += 1
    total = width * height
    assert non_white / total > 0.05, f"screenshot looks blank ({non_white} of {total} pixels not white)"
    assert coloured / total > 0.01, "no coloured title bar or progress bars visible"
