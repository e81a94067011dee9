"""Open containers a sender wraps files in: zip archives and Outlook's winmail.dat (TNEF).

``expand(material, workdir)`` returns the files inside as materials (origin ``"zip"`` / ``"tnef"``),
each spooled into ``workdir`` and hashed while streaming, plus what was deliberately left out.
Anything else (documents, .rar, .7z ...) comes back unchanged.

Zip member names: bit 11 set means UTF-8; otherwise the name bytes are what the sender's Windows
code page made of them, which in this campaign is GBK (Python shows them as CP437 mojibake). We take
the raw bytes back from CP437, then try, in order: an Info-ZIP Unicode Path extra field (0x7075),
UTF-8 (Linux ``zip`` and old macOS write UTF-8 without the flag; real GBK text is practically never
valid multi-byte UTF-8, while GB18030 accepts almost any byte string, so UTF-8 must be tried first),
then GB18030 (a superset of GBK). A name nothing decodes stays as bytes (``DecodedText.raw``).

Safety: member names are labels, never paths (a name that climbs out with ``../`` or is absolute is
reduced to its base name), and all writes go to generated names in ``workdir``. Extraction streams in
chunks and counts what really comes out, so lying headers cannot get past the limits. A limit
crossed anywhere (total size, member size, compression ratio, member count) keeps the outermost
archive as one material with a ``Skipped`` reason; an encrypted, corrupt or too deeply nested
archive is kept as itself wherever it sits.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal

from tnefparse.properties import MAPI_ATTACH_LONG_FILENAME, MAPI_ATTACH_MIME_TAG
from tnefparse.tnef import TNEF

from bot.mime.mail import DecodedText, Material, Skipped

# Skipped reasons (stable codes).
DIRECTORY = "directory"
MACOSX_METADATA = "macosx-metadata"
LOCK_FILE = "lock-file"
SYSTEM_FILE = "system-file"
ZIP_BOMB = "zip-bomb"  # compression ratio beyond the limit
ZIP_TOO_LARGE = "zip-too-large"  # total or per-member uncompressed size beyond the limit
ZIP_TOO_MANY_MEMBERS = "zip-too-many-members"
ZIP_TOO_DEEP = "zip-too-deep"  # an archive nested deeper than allowed: kept unopened
ZIP_ENCRYPTED = "zip-encrypted"
ZIP_CORRUPT = "zip-corrupt"
ZIP_UNSUPPORTED = "zip-unsupported"  # compression method Python cannot read (deflate64, AES ...)
TNEF_CORRUPT = "tnef-corrupt"
TNEF_NO_DATA = "tnef-no-data"  # an attachment entry without a file (an OLE link, say)

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_TNEF_MAGIC = struct.pack("<I", 0x223E9F78)
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
# Zip-based documents: a file, not an archive of files.
_DOCUMENT_EXTENSIONS = frozenset(
    {
        *(".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".pptx", ".pptm", ".ppsx", ".vsdx"),
        *(".odt", ".ods", ".odp", ".odg", ".ofd", ".epub", ".xps", ".oxps", ".3mf", ".kmz"),
        *(".jar", ".apk", ".xpi", ".ipa", ".whl"),
    }
)
_DOCUMENT_MARKERS = frozenset({"[Content_Types].xml", "mimetype", "META-INF/MANIFEST.MF", "AndroidManifest.xml"})
_SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", ".ds_store", "desktop.ini"})
_UNICODE_PATH_EXTRA = 0x7075
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits for one top-level container, nested archives included."""

    max_total_bytes: int = 1 << 30  # everything extracted from one attachment
    max_member_bytes: int = 512 << 20
    max_ratio: float = 250.0  # uncompressed / compressed; deflate tops out near 1000
    ratio_floor_bytes: int = 1 << 20  # small members are not judged by ratio (a blank sheet compresses well)
    max_members: int = 2000
    max_depth: int = 3  # 1 = the attachment itself; a zip inside it is depth 2
    chunk_bytes: int = 64 << 10


DEFAULT_LIMITS = ArchiveLimits()

ContainerKind = Literal["zip", "tnef"]


class _LimitExceeded(Exception):
    """Aborts the whole expansion: the outermost container is kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Unreadable(Exception):
    """This container cannot be opened: it is kept as itself."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Run:
    """Budgets and spooled files of one ``expand`` call."""

    workdir: Path
    limits: ArchiveLimits
    source_size: int
    total: int = 0
    members: int = 0
    created: list[Path] = field(default_factory=list)

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise _LimitExceeded(ZIP_TOO_MANY_MEMBERS)

    def account(self, member_bytes: int, compressed: int, added: int) -> None:
        self.total += added
        limits = self.limits
        if member_bytes > limits.max_member_bytes or self.total > limits.max_total_bytes:
            raise _LimitExceeded(ZIP_TOO_LARGE)
        if member_bytes > limits.ratio_floor_bytes and member_bytes > limits.max_ratio * max(compressed, 1):
            raise _LimitExceeded(ZIP_BOMB)
        if self.total > limits.ratio_floor_bytes and self.total > limits.max_ratio * max(self.source_size, 1):
            raise _LimitExceeded(ZIP_BOMB)

    def new_spool(self, prefix: str) -> tuple[int, Path]:
        fd, name = tempfile.mkstemp(dir=self.workdir, prefix=prefix, suffix=".part")
        self.created.append(Path(name))
        return fd, Path(name)

    def forget(self, path: Path) -> None:
        """Delete a spooled file that did not become a material (an archive that was opened)."""
        self.created.remove(path)
        path.unlink(missing_ok=True)

    def rollback(self, mark: int) -> None:
        for path in self.created[mark:]:
            path.unlink(missing_ok=True)
        del self.created[mark:]


def expand(
    material: Material, workdir: Path, limits: ArchiveLimits = DEFAULT_LIMITS
) -> tuple[list[Material], list[Skipped]]:
    """The materials inside ``material`` (or ``[material]`` when it is no container) and the members
    that were left out, with the reason."""
    kind = container_kind(material)
    if kind is None:
        return [material], []
    run = _Run(workdir, limits, source_size=material.size)
    try:
        return _expand(material, kind, run, depth=1)
    except (_LimitExceeded, _Unreadable) as exc:
        run.rollback(0)
        return [material], [Skipped(material.filename.text, exc.reason)]


def container_kind(material: Material) -> ContainerKind | None:
    """``"zip"`` or ``"tnef"`` by magic bytes (and name / type for TNEF); zip-based documents such
    as .docx are files, not containers."""
    with open(material.path, "rb") as f:
        magic = f.read(4)
    name = material.filename.text.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if magic == _TNEF_MAGIC or name == "winmail.dat" or material.content_type.lower() in _TNEF_TYPES:
        return "tnef"
    extension = PurePath(name).suffix
    if extension in _DOCUMENT_EXTENSIONS:
        return None
    if extension == ".zip":
        return "zip"
    if magic not in _ZIP_MAGIC:
        return None
    try:
        with zipfile.ZipFile(material.path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    return None if names & _DOCUMENT_MARKERS else "zip"


def _expand(material: Material, kind: ContainerKind, run: _Run, depth: int) -> tuple[list[Material], list[Skipped]]:
    if kind == "zip":
        return _expand_zip(material, run, depth)
    return _expand_tnef(material, run, depth)


def _inner(found: Material, run: _Run, depth: int) -> tuple[list[Material], list[Skipped]]:
    """A file found inside a container: itself, or what is inside it when it is a container too."""
    kind = container_kind(found)
    if kind is None:
        return [found], []
    if depth >= run.limits.max_depth:
        return [found], [Skipped(found.filename.text, ZIP_TOO_DEEP)]
    mark = len(run.created)
    try:
        materials, skipped = _expand(found, kind, run, depth + 1)
    except _Unreadable as exc:
        run.rollback(mark)
        return [found], [Skipped(found.filename.text, exc.reason)]
    if not any(m is found for m in materials):
        run.forget(found.path)
    return materials, skipped


# --- zip -----------------------------------------------------------------------------------------


def decode_member_name(info: zipfile.ZipInfo) -> DecodedText:
    """The member's name as the sender saw it (see the module docstring for the order of tries)."""
    if info.flag_bits & _UTF8_FLAG:
        return DecodedText(info.filename)
    raw = info.filename.encode("cp437")  # zipfile decoded the bytes as CP437 when the flag is unset
    unicode_path = _unicode_path_extra(info.extra, raw)
    if unicode_path is not None:
        return DecodedText(unicode_path)
    for encoding in ("utf-8", "gb18030"):
        try:
            return DecodedText(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    return DecodedText(raw.decode("ascii", errors="backslashreplace"), raw=raw)


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


def member_label(name: str) -> str:
    """A member path as a label: ``/`` separators, no ``.`` parts; reduced to the base name when it
    is absolute, has a drive letter or climbs out with ``..``."""
    unified = name.replace("\\", "/")
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    escapes = unified.startswith("/") or (len(unified) > 1 and unified[1] == ":") or ".." in parts
    if escapes:
        parts = [p for p in parts if p != ".."][-1:]
        if parts and len(parts[0]) > 1 and parts[0][1] == ":":
            parts = [parts[0][2:]] if parts[0][2:] else []
    return "/".join(parts)


def junk_reason(label: str, is_dir: bool) -> str | None:
    """Why a member is no material (folders, macOS metadata, Office lock files, Windows system files)."""
    parts = label.split("/")
    base = parts[-1]
    if "__MACOSX" in parts or base.startswith("._"):
        return MACOSX_METADATA
    if is_dir or not base:
        return DIRECTORY
    if base.startswith(("~$", ".~lock.")):
        return LOCK_FILE
    if base.lower() in _SYSTEM_FILES:
        return SYSTEM_FILE
    return None


def _expand_zip(material: Material, run: _Run, depth: int) -> tuple[list[Material], list[Skipped]]:
    try:
        zf = zipfile.ZipFile(material.path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _Unreadable(ZIP_CORRUPT) from exc
    with zf:
        infos = zf.infolist()
        if run.members + len(infos) > run.limits.max_members:
            raise _LimitExceeded(ZIP_TOO_MANY_MEMBERS)
        # Declared sizes are only a shortcut here; the real guard counts bytes while extracting.
        if sum(i.file_size for i in infos) + run.total > run.limits.max_total_bytes:
            raise _LimitExceeded(ZIP_TOO_LARGE)
        if any(i.flag_bits & _ENCRYPTED_FLAG for i in infos):
            raise _Unreadable(ZIP_ENCRYPTED)
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
            inner_materials, inner_skipped = _inner(found, run, depth)
            materials.extend(inner_materials)
            skipped.extend(inner_skipped)
    if not materials:
        return [material], skipped  # empty, or only folders and metadata: keep what was sent
    return materials, skipped


def _extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: DecodedText, container: str, run: _Run
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
        raise _Unreadable(ZIP_ENCRYPTED) from exc
    except NotImplementedError as exc:  # compression method not supported
        raise _Unreadable(ZIP_UNSUPPORTED) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
        raise _Unreadable(ZIP_CORRUPT) from exc
    return Material(
        filename=name,
        path=path,
        size=size,
        sha256=digest.hexdigest(),
        content_type=_guess_type(name.text),
        origin="zip",
        container=container,
    )


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


# --- winmail.dat ---------------------------------------------------------------------------------


def _expand_tnef(material: Material, run: _Run, depth: int) -> tuple[list[Material], list[Skipped]]:
    # tnefparse parses from memory: the size limits apply before reading.
    if material.size > run.limits.max_member_bytes:
        raise _LimitExceeded(ZIP_TOO_LARGE)
    data = material.path.read_bytes()
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # tnefparse raises assorted errors (struct, index, value) on bad input
        raise _Unreadable(TNEF_CORRUPT) from exc
    materials: list[Material] = []
    skipped: list[Skipped] = []
    for found_or_skip in _tnef_files(tnef, material.filename.text, run, depth):
        if isinstance(found_or_skip, Skipped):
            skipped.append(found_or_skip)
            continue
        inner_materials, inner_skipped = _inner(found_or_skip, run, depth)
        materials.extend(inner_materials)
        skipped.extend(inner_skipped)
    if not materials:
        return [material], skipped  # nothing inside: the file itself is what was sent
    return materials, skipped


def _tnef_files(tnef: Any, container: str, run: _Run, depth: int) -> Iterable[Material | Skipped]:
    for number, attachment in enumerate(tnef.attachments, start=1):
        name = _tnef_name(attachment, number)
        embedded = getattr(attachment, "embed", None)
        if embedded is not None:  # an attached Outlook message: its own files count
            if depth < run.limits.max_depth:
                yield from _tnef_files(embedded, container, run, depth + 1)
            else:
                yield Skipped(name.text, ZIP_TOO_DEEP)
            continue
        data = attachment.data
        if not isinstance(data, bytes) or not data:
            yield Skipped(name.text, TNEF_NO_DATA)
            continue
        run.count_member()
        run.account(len(data), len(data), len(data))
        fd, path = run.new_spool("tnef-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        yield Material(
            filename=name,
            path=path,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=_tnef_mime(attachment) or _guess_type(name.text),
            origin="tnef",
            container=container,
        )


def _tnef_name(attachment: Any, number: int) -> DecodedText:
    for attr in attachment.mapi_attrs:
        if attr.name == MAPI_ATTACH_LONG_FILENAME:
            with contextlib.suppress(Exception):
                value = attr.data
                if isinstance(value, str) and value.strip("\x00"):
                    return DecodedText(member_label(value.strip("\x00")) or value)
    # attAttachTitle holds 8.3 or ANSI-code-page bytes; tnefparse's ``name`` decodes them as UTF-8 and
    # raises on GBK, so read the stored value and decode it like a zip member name.
    title = getattr(attachment, "_name", b"")
    if isinstance(title, str):
        title = title.encode("utf-8")
    title = title.rstrip(b"\x00")
    if not title:
        return DecodedText(f"未命名附件{number}")
    for encoding in ("utf-8", "gb18030"):
        try:
            return DecodedText(member_label(title.decode(encoding)) or f"未命名附件{number}")
        except UnicodeDecodeError:
            continue
    return DecodedText(title.decode("ascii", errors="backslashreplace"), raw=title)


def _tnef_mime(attachment: Any) -> str | None:
    for attr in attachment.mapi_attrs:
        if attr.name == MAPI_ATTACH_MIME_TAG:
            with contextlib.suppress(Exception):
                value = attr.data
                if isinstance(value, str) and "/" in value:
                    return value.strip("\x00").lower()
    return None
