"""Zips as real clients make them, including Chinese Windows' GBK names without the UTF-8 flag."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence


def make_zip(
    members: Sequence[tuple[str | bytes, bytes]],
    compression: int = zipfile.ZIP_DEFLATED,
    extras: dict[int, bytes] | None = None,
) -> bytes:
    """A zip with the given members. A ``bytes`` name is stored as those raw bytes *without* the
    UTF-8 flag, as Windows' "send to compressed folder" does with GBK names: written under an ASCII
    placeholder of the same length, then patched in the local header and the central directory."""
    extras = extras or {}
    raw_names: dict[str, bytes] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for index, (name, data) in enumerate(members):
            if isinstance(name, bytes):
                placeholder = f"#{index}#".ljust(len(name) - 1, "#") + "!"
                assert len(placeholder) == len(name)
                raw_names[placeholder] = name
                name = placeholder
            info = zipfile.ZipInfo(name, date_time=(2021, 10, 20, 9, 30, 0))
            info.compress_type = compression
            info.extra = extras.get(index, b"")
            zf.writestr(info, data)
    out = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(out))) as zf:
        infos, central_start = zf.infolist(), zf.start_dir
    for info in infos:
        raw = raw_names.get(info.filename)
        if raw is not None:
            offset = info.header_offset + 30
            assert out[offset : offset + len(raw)] == info.filename.encode()
            out[offset : offset + len(raw)] = raw
    central = bytes(out[central_start:])
    for placeholder, raw in raw_names.items():
        central = central.replace(placeholder.encode(), raw)
    return bytes(out[:central_start]) + central
