"""Zip members: names decoded as Chinese Windows writes them (see ``bot.mime.archive``), each member
streamed out under the limits of ``bot.mime.unpacking``."""

from __future__ import annotations

import errno
import hashlib
import os
import struct
import zipfile
import zlib

from bot.mime.charsets import decode_undeclared
from bot.mime.mail import DecodedText, Material, Skipped
from bot.mime.unpacking import (
    ZIP_CORRUPT,
    ZIP_ENCRYPTED,
    ZIP_TOO_LARGE,
    ZIP_TOO_MANY_MEMBERS,
    ZIP_UNSUPPORTED,
    Inner,
    LimitExceeded,
    Run,
    Unreadable,
    guess_type,
    junk_reason,
    member_label,
)

_UNICODE_PATH_EXTRA = 0x7075
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1

# --- zip -----------------------------------------------------------------------------------------


def decode_member_name(info: zipfile.ZipInfo) -> DecodedText:
    """The member's name as the sender saw it (see the module docstring for the order of tries)."""
    if info.flag_bits & _UTF8_FLAG:
        return DecodedText(info.filename)
    raw = info.filename.encode("cp437")  # zipfile decoded the bytes as CP437 when the flag is unset
    unicode_path = _unicode_path_extra(info.extra, raw)
    if unicode_path is not None:
        return DecodedText(unicode_path)
    return decode_undeclared(raw)


def _unicode_path_extra(extra: bytes, raw_name: bytes) -> str | None:
    """APPNOTE 4.6.9: the Info-ZIP Unicode Path field, valid while its CRC matches the header name."""
    offset = 0
    while offset + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4 : offset + 4 + size]
        offset += 4 + size
        if header_id != _UNICODE_PATH_EXTRA or len(body) < 5 or body[0] != 1:
            continue
        if struct.unpack_from("<I", body, 1)[0] != zlib.crc32(raw_name):
            return None
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def expand_zip(material: Material, run: Run, depth: int, inner: Inner) -> tuple[list[Material], list[Skipped]]:
    try:
        zf = zipfile.ZipFile(material.path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Unreadable(ZIP_CORRUPT) from exc
    with zf:
        infos = zf.infolist()
        if run.members + len(infos) > run.limits.max_members:
            raise LimitExceeded(ZIP_TOO_MANY_MEMBERS)
        # Declared sizes are only a shortcut here; the real guard counts bytes while extracting.
        if sum(i.file_size for i in infos) + run.total > run.limits.max_total_bytes:
            raise LimitExceeded(ZIP_TOO_LARGE)
        if any(i.flag_bits & _ENCRYPTED_FLAG for i in infos):
            raise Unreadable(ZIP_ENCRYPTED)
        materials: list[Material] = []
        skipped: list[Skipped] = []
        for info in infos:
            run.count_member()
            decoded = decode_member_name(info)
            if decoded.raw is None:
                label = member_label(decoded.text)
                name = DecodedText(label)
            else:  # judge the path on the bytes; show the escaped bytes of what is left
                label = member_label(decoded.raw.decode("latin-1"))
                name = DecodedText(label.encode("latin-1").decode("ascii", "backslashreplace"), decoded.raw)
            reason = junk_reason(label, info.is_dir())
            if reason is not None:
                skipped.append(Skipped(decoded.text, reason))
                continue
            found = _extract_member(zf, info, name, material.filename.text, run)
            inner_materials, inner_skipped = inner(found, run, depth)
            materials.extend(inner_materials)
            skipped.extend(inner_skipped)
    if not materials:
        return [material], skipped  # empty, or only folders and metadata: keep what was sent
    return materials, skipped


def _extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: DecodedText, container: str, run: Run
) -> Material:
    fd, path = run.new_spool("zip-")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, zf.open(info) as src:
            while chunk := src.read(run.limits.chunk_bytes):
                size += len(chunk)
                run.account(size, info.compress_size, len(chunk))
                digest.update(chunk)
                out.write(chunk)
    except RuntimeError as exc:  # "File is encrypted, password required"
        raise Unreadable(ZIP_ENCRYPTED) from exc
    except NotImplementedError as exc:  # compression method not supported
        raise Unreadable(ZIP_UNSUPPORTED) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise Unreadable(ZIP_CORRUPT) from exc
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, None):  # zipfile seeking to a nonsense offset: a corrupt zip ...
            raise  # ... a full, read-only or failing disk is not: it stops the poll (issue 11)
        raise Unreadable(ZIP_CORRUPT) from exc
    return Material(
        filename=name,
        path=path,
        size=size,
        sha256=digest.hexdigest(),
        content_type=guess_type(name.text),
        origin="zip",
        container=container,
    )
