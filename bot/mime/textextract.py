"""Text of a received document (.docx, .pdf, .txt) for counting 字 and reading its title, read in a
child process that cannot take the poll down with it.

A 190 KB .docx can hold 190 MiB of XML that python-docx turns into gigabytes, and a 16 KB PDF can
keep pypdf busy for minutes (issue 11 measured both). So ``extract_text`` never parses in the
calling process: it starts ``python -m bot.mime.textextract``, which caps its own address space
(``RLIMIT_AS``), CPU time (``RLIMIT_CPU``) and file writes (``RLIMIT_FSIZE`` 0) before it reads
anything, runs ``bot.mime.textreaders.read_text`` and answers with a small JSON object: the 字 count
(``rules.wordcount``), the first lines, or why there is no text. The parent kills it after
``wall_seconds``; a child that dies (out of memory, out of CPU time, killed by the kernel's OOM
killer or systemd's ``MemoryMax``) makes the file "over a limit", never the poll.

The answer never carries the whole text, so a huge document costs the parent nothing either.
Never raises for a bad file; ``ExtractionStopped`` only when the caller asked to stop.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import bot
from bot.mime.textreaders import (
    DEFAULT_LIMITS,
    KILLED,
    MEMORY,
    READERS,
    TIME,
    UNSUPPORTED_DOCUMENTS,
    ExtractLimits,
    OverLimit,
    Unreadable,
    extension,
    is_pdf,
)

__all__ = ["DEFAULT_LIMITS", "ExtractLimits", "Extracted", "ExtractionStopped", "extract_text"]

log = logging.getLogger(__name__)

HEAD_LINES = 5
HEAD_CHARS = 200
_POLL_SECONDS = 0.1
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Extracted:
    """What the text of one document says, or why it could not be read."""

    words: int | None  # 字 as WPS/Word count them; None: the text could not be read
    head: str = ""  # the first non-empty lines (the title and its marking)
    reason: str = ""  # Chinese, for the coordinator, when words is None
    limit: str | None = None  # the limit the file went over (``bot.mime.textreaders`` codes)

    @property
    def ok(self) -> bool:
        return self.words is not None


class ExtractionStopped(Exception):
    """The caller asked to stop (``intake run`` received SIGTERM) while a document was being read."""


def head_of(text: str) -> str:
    found = [line.strip() for line in text.splitlines() if line.strip()][:HEAD_LINES]
    return "\n".join(found)[:HEAD_CHARS]


def _quick_verdict(path: Path, filename: str) -> Extracted | None:
    """What can be said without starting a child: unsupported formats, files that are plainly not
    what their extension says."""
    ext = extension(filename)
    if ext not in READERS:
        if ext in UNSUPPORTED_DOCUMENTS:
            return Extracted(None, reason=f".{ext} 格式暂不能自动统计字数，请人工核对篇幅")
        return Extracted(None, reason=f"不支持的文件格式（.{ext or '无扩展名'}）")
    try:
        if ext == "pdf" and not is_pdf(path):
            return Extracted(None, reason="不是有效的 PDF 文件")
        if ext == "docx":
            with path.open("rb") as f:
                if f.read(4) != _ZIP_MAGIC:
                    return Extracted(None, reason="不是有效的 .docx 文件")
    except OSError as exc:
        return Extracted(None, reason=f"无法读取文件：{exc.strerror}")
    return None


def extract_text(
    path: Path,
    filename: str,
    limits: ExtractLimits = DEFAULT_LIMITS,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Extracted:
    """Read the document at ``path`` (format from ``filename``'s extension) in a capped child process.

    ``should_stop`` is asked every 0.1 s while the child runs; when it says yes the child is killed
    and ``ExtractionStopped`` raised (the caller abandons the mail and retries it later).
    """
    quick = _quick_verdict(path, filename)
    if quick is not None:
        return quick
    request = json.dumps({"path": str(path), "filename": filename, "limits": asdict(limits)}).encode()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_package_root(), os.environ.get("PYTHONPATH")]))}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-B", "-m", "bot.mime.textextract"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        out = _wait(proc, request, started + limits.wall_seconds, should_stop)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if out is None:
        return _over(TIME, f"读取文字超过 {limits.wall_seconds:.0f} 秒时限，已中止")
    if proc.returncode != 0:
        return _died(proc.returncode, limits)
    try:
        answer = json.loads(out)
        return Extracted(answer["words"], answer["head"], answer["reason"], answer["limit"])
    except (ValueError, KeyError, TypeError):
        return Extracted(None, reason="读取文字时出错（子进程的回答无法识别）")


def _package_root() -> str:
    # The child imports bot.* and rules.* from where this process found them (an installed package,
    # or a checkout on sys.path).
    return str(Path(bot.__file__).resolve().parent.parent)


def _wait(
    proc: subprocess.Popen[bytes], request: bytes, deadline: float, should_stop: Callable[[], bool] | None
) -> bytes | None:
    """The child's stdout, or None when the deadline passed (the child is killed by the caller)."""
    pending: bytes | None = request
    while True:
        if should_stop is not None and should_stop():
            raise ExtractionStopped
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            out, _ = proc.communicate(pending, timeout=min(_POLL_SECONDS, remaining))
        except subprocess.TimeoutExpired:
            pending = None  # communicate() keeps feeding what it started to send
            continue
        return out


def _over(limit: str, reason: str) -> Extracted:
    return Extracted(None, reason=reason, limit=limit)


def _died(returncode: int, limits: ExtractLimits) -> Extracted:
    if returncode == -signal.SIGXCPU:  # RLIMIT_CPU's soft limit
        return _over(TIME, f"读取文字超过 {limits.cpu_seconds} 秒 CPU 时限，已中止")
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        log.warning("text extraction child killed by %s", name)
        return _over(KILLED, f"读取文字的进程被系统终止（{name}，多为内存不足），已中止")
    return _over(KILLED, f"读取文字的进程异常退出（退出码 {returncode}），已中止")


# -- the child ------------------------------------------------------------------------------------


def _cap(limits: ExtractLimits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    # Soft limit: SIGXCPU ends the child; the hard limit a second later is the kernel's SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    # The child writes nothing but its answer on a pipe; a file write fails instead of leaving litter.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _answer(path: Path, filename: str, limits: ExtractLimits) -> Extracted:
    from bot.mime.textreaders import read_text
    from rules.wordcount import count_words

    try:
        text = read_text(path, filename, limits)
        return Extracted(count_words(text), head_of(text))
    except OverLimit as exc:
        return _over(exc.limit, exc.reason)
    except Unreadable as exc:
        # A C library that runs out of address space reports a parse error, not MemoryError.
        if _peak_address_space() >= 0.9 * limits.memory_bytes:
            return _over(MEMORY, _memory_reason(limits))
        return Extracted(None, reason=exc.reason)
    except MemoryError:
        return _over(MEMORY, _memory_reason(limits))


def _memory_reason(limits: ExtractLimits) -> str:
    return f"读取文字所需内存超过 {limits.memory_bytes >> 20} MB 上限，已中止"


def _peak_address_space() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _child_main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    limits = ExtractLimits(**request["limits"])
    _cap(limits)
    result = _answer(Path(request["path"]), request["filename"], limits)
    sys.stdout.write(json.dumps(asdict(result), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main())
