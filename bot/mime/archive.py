"""Open containers a sender wraps files in: zip archives and Outlook's winmail.dat (TNEF).

``expand(material, workdir)`` returns the files inside as materials (origin ``"zip"`` / ``"tnef"``),
each spooled into ``workdir`` and hashed while streaming, plus what was deliberately left out.
Anything else (documents, .rar, .7z ...) comes back unchanged.

Zip member names: bit 11 set means UTF-8; otherwise the name bytes are what the sender's Windows
code page made of them, which in this campaign is GBK (Python shows them as CP437 mojibake). We take
the raw bytes back from CP437, then try, in order: an Info-ZIP Unicode Path extra field (0x7075),
UTF-8 (Linux ``zip`` and old macOS write UTF-8 without the flag; real GBK text is practically never
valid multi-byte UTF-8, while GB18030 accepts almost any byte string, so UTF-8 must be tried first),
then GB18030 (a superset of GBK) when the result is plausibly Chinese (``bot.mime.charsets``). A name
nothing decodes stays as bytes (``DecodedText.raw``).

Safety: member names are labels, never paths (a name that climbs out with ``../`` or is absolute is
reduced to its base name), and all writes go to generated names in ``workdir``. Extraction streams in
chunks and counts what really comes out, so lying headers cannot get past the limits. A limit
crossed anywhere (total size, member size, compression ratio, member count) keeps the outermost
archive as one material with a ``Skipped`` reason; an encrypted, corrupt or too deeply nested
archive is kept as itself wherever it sits.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path, PurePath
from typing import Literal

from bot.mime.mail import Material, Skipped
from bot.mime.tnef import expand_tnef
from bot.mime.unpacking import DEFAULT_LIMITS, ZIP_TOO_DEEP, ArchiveLimits, LimitExceeded, Run, Unreadable
from bot.mime.zipfiles import expand_zip

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

ContainerKind = Literal["zip", "tnef"]


def expand(
    material: Material, workdir: Path, limits: ArchiveLimits = DEFAULT_LIMITS
) -> tuple[list[Material], list[Skipped]]:
    """The materials inside ``material`` (or ``[material]`` when it is no container) and the members
    that were left out, with the reason."""
    kind = container_kind(material)
    if kind is None:
        return [material], []
    run = Run(workdir, limits, source_size=material.size)
    try:
        return _expand(material, kind, run, depth=1)
    except (LimitExceeded, Unreadable) as exc:
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


def _expand(material: Material, kind: ContainerKind, run: Run, depth: int) -> tuple[list[Material], list[Skipped]]:
    if kind == "zip":
        return expand_zip(material, run, depth, _inner)
    return expand_tnef(material, run, depth, _inner)


def _inner(found: Material, run: Run, depth: int) -> tuple[list[Material], list[Skipped]]:
    """A file found inside a container: itself, or what is inside it when it is a container too."""
    kind = container_kind(found)
    if kind is None:
        return [found], []
    if depth >= run.limits.max_depth:
        return [found], [Skipped(found.filename.text, ZIP_TOO_DEEP)]
    mark = len(run.created)
    try:
        materials, skipped = _expand(found, kind, run, depth + 1)
    except Unreadable as exc:
        run.rollback(mark)
        return [found], [Skipped(found.filename.text, exc.reason)]
    if not any(m is found for m in materials):
        run.forget(found.path)
    return materials, skipped
