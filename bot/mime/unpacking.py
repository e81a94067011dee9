"""What opening a container may cost and what it leaves out: the limits (size, ratio, members,
depth), the budget of one expansion, the stable reasons for skipped members, and member names as
labels (never paths)."""

from __future__ import annotations

import mimetypes
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.mime.mail import Material, Skipped

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
TNEF_NO_FILES = "tnef-no-files"  # a winmail.dat with no file in it (only the message body, RTF): no material

SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", ".ds_store", "desktop.ini"})


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


class LimitExceeded(Exception):
    """Aborts the whole expansion: the outermost container is kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unreadable(Exception):
    """This container cannot be opened: it is kept as itself."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Run:
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
            raise LimitExceeded(ZIP_TOO_MANY_MEMBERS)

    def account(self, member_bytes: int, compressed: int, added: int) -> None:
        self.total += added
        limits = self.limits
        if member_bytes > limits.max_member_bytes or self.total > limits.max_total_bytes:
            raise LimitExceeded(ZIP_TOO_LARGE)
        if member_bytes > limits.ratio_floor_bytes and member_bytes > limits.max_ratio * max(compressed, 1):
            raise LimitExceeded(ZIP_BOMB)
        if self.total > limits.ratio_floor_bytes and self.total > limits.max_ratio * max(self.source_size, 1):
            raise LimitExceeded(ZIP_BOMB)

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
    if base.lower() in SYSTEM_FILES:
        return SYSTEM_FILE
    return None


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


Inner = Callable[[Material, Run, int], tuple[list[Material], list[Skipped]]]
"""Opens a file found inside a container when it is a container too (``bot.mime.archive``)."""
