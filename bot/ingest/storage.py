"""The file store: every material stored once by SHA-256 under one root, the raw .eml of every mail,
and ``safe_name`` for the day a human-readable name must become a file name.

Layout under the root (paths returned and accepted are root-relative, with ``/``)::

    files/ab/cd/<sha256>     content-addressed materials
    mail/ab/<sha256>.eml     raw mails

Writes are atomic (temporary file in the target folder, fsync, ``os.replace``, fsync of the folder),
so a crash leaves either the whole file or nothing, and storing the same content twice is a no-op.
The poll defers the fsyncs to one ``sync()`` per batch (``Storage.deferring``); a file a crash tore
before that sync is found by its size and hash and written again.
No name from a mail is ever used as a path here: names live in the database.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import itertools
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class StorageError(ValueError):
    """A path outside the root, a malformed hash, or content that does not match its hash."""


def _check_sha256(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):
        raise StorageError(f"not a lower-case hex SHA-256: {sha256!r}")
    return sha256


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is; not every platform can open a folder.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Storage:
    """Content-addressed storage under ``root`` (created on first write).

    ``sync_each`` (the default): every write is fsynced, with its folder, before it returns. A
    ``deferring()`` copy skips those fsyncs: its owner must call ``sync()`` before committing anything
    that refers to what it wrote (the poll does, once per batch: ``bot.ingest.pipeline``). Either
    way a file found already in place is trusted only when it is whole (its size and hash are
    checked), so a file torn by a crash before the sync is written again instead of being kept.
    """

    def __init__(self, root: Path, *, sync_each: bool = True) -> None:
        self.root = Path(root).resolve()
        self.sync_each = sync_each
        self._folders: set[Path] = set()  # folders known to exist (a mkdir per write costs)

    def __getstate__(self) -> dict[str, object]:
        return {"root": self.root, "sync_each": self.sync_each}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.root = Path(str(state["root"]))
        self.sync_each = bool(state["sync_each"])
        self._folders = set()

    def deferring(self) -> Storage:
        """The same store, writing without fsyncs until ``sync()``."""
        return Storage(self.root, sync_each=False)

    def sync(self) -> None:
        """Make everything written under the root durable: one ``syncfs`` of its file system (Linux),
        else ``os.sync``. Raises ``OSError`` when the file system reports a failed write."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _syncfs is None:
                os.sync()
            elif _syncfs(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"syncfs: {os.strerror(err)}", str(self.root))
        finally:
            os.close(fd)

    def store_file(self, src: Path, sha256: str) -> str:
        """Copy ``src`` into the store unless that content is already there; return its relative path.

        The content is hashed while copying; a mismatch with ``sha256`` raises StorageError and
        stores nothing.
        """
        rel = f"files/{_check_sha256(sha256)[:2]}/{sha256[2:4]}/{sha256}"
        with open(src, "rb") as source:
            self._write_once(rel, iter(lambda: source.read(_CHUNK), b""), sha256, os.fstat(source.fileno()).st_size)
        return rel

    def adopt_file(self, src: Path, sha256: str) -> str:
        """Like ``store_file`` for a file the poll spooled under this root and hashed while writing it
        (``Material.sha256``): the store takes it by a hard link instead of a copy, so its bytes are
        neither read nor hashed again. The caller may delete ``src`` afterwards. Falls back to copying
        when the link cannot be made (another file system)."""
        rel = f"files/{_check_sha256(sha256)[:2]}/{sha256[2:4]}/{sha256}"
        return rel if self._adopt(src, rel, sha256) else self.store_file(src, sha256)

    def adopt_raw(self, src: Path, sha256: str) -> str:
        """``store_raw_file`` by a hard link: for a mail the poll downloaded to its spool folder and
        hashed (``sha256`` must be the hash of ``src``; the caller computed it from the file)."""
        rel = f"mail/{_check_sha256(sha256)[:2]}/{sha256}.eml"
        return rel if self._adopt(src, rel, sha256) else self.store_raw_file(src, sha256)

    def _adopt(self, src: Path, rel: str, sha256: str) -> bool:
        """Link ``src`` in as ``rel``; False when only a copy can do it (another file system, or a
        torn file in the way)."""
        target = self.root / rel  # built from a checked hash: no name from a mail
        size = os.stat(src).st_size
        if self._whole(target, size, sha256):
            return True
        self._folder(target.parent)
        if self.sync_each:
            _fsync_file(src)
        try:
            os.link(src, target)
        except FileExistsError:
            # The same content stored meanwhile by another worker, or a torn copy _whole refused
            # (the copy replaces it).
            return self._whole(target, size, sha256)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            return False
        if self.sync_each:
            _fsync_dir(target.parent)
        return True

    def store_raw(self, raw: bytes, sha256: str) -> str:
        """Keep the raw bytes of one mail as ``mail/ab/<sha256>.eml``; return the relative path."""
        rel = f"mail/{_check_sha256(sha256)[:2]}/{sha256}.eml"
        self._write_once(rel, (raw[i : i + _CHUNK] for i in range(0, len(raw), _CHUNK)), sha256, len(raw))
        return rel

    def store_raw_file(self, src: Path, sha256: str) -> str:
        """Like ``store_raw`` for a mail already spooled to disk (large mails are never held whole)."""
        rel = f"mail/{_check_sha256(sha256)[:2]}/{sha256}.eml"
        with open(src, "rb") as source:
            self._write_once(rel, iter(lambda: source.read(_CHUNK), b""), sha256, os.fstat(source.fileno()).st_size)
        return rel

    def resolve(self, rel: str) -> Path:
        """The absolute path of a stored file. Refuses absolute paths, ``..`` and anything that
        (after following symlinks) lies outside the root."""
        pure = PurePosixPath(rel.replace("\\", "/"))
        if not rel or "\x00" in rel or pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", rel):
            raise StorageError(f"not a storage-relative path: {rel!r}")
        path = (self.root / pure).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError(f"path leaves the storage root: {rel!r}")
        return path

    def own_path(self, rel: str) -> Path:
        """The absolute path of a relative path this store returned (``files/…`` or ``mail/…`` built
        from a hash) without resolving symlinks: for the poll, which has just written it."""
        if not _OWN_PATH.fullmatch(rel):
            raise StorageError(f"not a path of this store: {rel!r}")
        return self.root / rel

    def open(self, rel: str) -> BinaryIO:
        """Open a stored file for reading."""
        return open(self.resolve(rel), "rb")

    def _folder(self, folder: Path) -> None:
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def _whole(self, target: Path, size: int, sha256: str) -> bool:
        """Is ``target`` there with exactly this content? A file left torn or empty by a crash before
        its data reached the disk is not (it is then written again)."""
        try:
            if os.stat(target).st_size != size:
                return False
            digest = hashlib.sha256()
            with open(target, "rb") as stored:
                for chunk in iter(lambda: stored.read(_CHUNK), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == sha256

    def _write_once(self, rel: str, chunks: Iterable[bytes], sha256: str, size: int) -> None:
        target = self.root / rel  # built from a checked hash: no name from a mail
        if self._whole(target, size, sha256):
            return  # same name, same content: content addressing makes the write idempotent
        self._folder(target.parent)
        fd, tmp = _create_temp(target.parent)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                if self.sync_each:
                    os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise StorageError(f"content hashes to {digest.hexdigest()}, not {sha256}")
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        if self.sync_each:
            _fsync_dir(target.parent)


# Relative paths this store builds itself (from a checked hash).
_OWN_PATH = re.compile(r"files/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}|mail/[0-9a-f]{2}/[0-9a-f]{64}\.eml")
_temp_names = itertools.count()


def _create_temp(folder: Path) -> tuple[int, Path]:
    """A new, private temporary file in ``folder`` (tempfile.mkstemp's random names cost more than the
    write of a small mail; the process id and a counter are unique enough, O_EXCL makes sure)."""
    while True:
        tmp = folder / f".tmp-{os.getpid()}-{next(_temp_names)}.part"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600), tmp
        except FileExistsError:
            continue  # left by a dead process with the same id


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    if sys.platform != "linux":
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # ctypes releases the GIL during the call
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_syncfs = _load_syncfs()


# --- safe_name ---------------------------------------------------------------------------------

# Windows device names, also with an extension ("CON.txt") and the superscript-digit forms.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"}
    | {f"{dev}{n}" for dev in ("com", "lpt") for n in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")}
    | {f"{dev}{n}" for dev in ("com", "lpt") for n in ("¹", "²", "³")}
)
_FORBIDDEN = re.compile(r'[<>:"|?*]')  # not allowed in Windows names; ':' also opens NTFS streams
_MAX_EXTENSION_BYTES = 16


def _is_unsafe_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Cc: NUL and control characters; Cf: bidi overrides that disguise extensions ("txt.exe");
    # Zl/Zp: line and paragraph separators.
    return category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")


def _truncate_utf8(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def safe_name(name: str, max_bytes: int = 200) -> str:
    """Turn any name into one safe file-name component for export.

    Keeps only the last path component (``../``, absolute paths and drive letters go), drops control
    and format characters, replaces characters Windows forbids, defuses device names (``CON``,
    ``com1.txt``), strips trailing dots and spaces, and truncates to ``max_bytes`` of UTF-8 while
    keeping the extension. Returns ``"unnamed"`` when nothing is left.

    >>> safe_name("../../etc/passwd"), safe_name("CON.txt"), safe_name("C:\\\\材料\\\\指标12.docx")
    ('passwd', '_CON.txt', '指标12.docx')
    """
    if max_bytes < 2 * _MAX_EXTENSION_BYTES:
        raise ValueError(f"max_bytes too small: {max_bytes}")
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if not _is_unsafe_char(ch))
    text = text.replace("\\", "/").rstrip("/ ")
    text = text.rsplit("/", 1)[-1]
    text = re.sub(r"^[A-Za-z]:", "", text)
    text = _FORBIDDEN.sub("_", text).strip().rstrip(". ")
    if text in ("", ".", ".."):
        return "unnamed"

    stem, dot, extension = text.rpartition(".")
    if not dot or not stem or len(extension.encode("utf-8")) > _MAX_EXTENSION_BYTES or " " in extension:
        stem, dot, extension = text, "", ""
    if stem.split(".", 1)[0].rstrip(" ").lower() in _RESERVED:
        stem = "_" + stem

    suffix = dot + extension
    if len((stem + suffix).encode("utf-8")) > max_bytes:
        stem = _truncate_utf8(stem, max_bytes - len(suffix.encode("utf-8"))).rstrip(". ")
    result = (stem + suffix).rstrip(". ")
    return result or "unnamed"
