"""The database-free half of reading one mail: parse, store, read documents, apply the pure rules.

``prepare`` does everything about a mail that costs CPU or disk and needs no database: hash and keep
the raw .eml, parse it (header fields clipped first, ``bot.ingest.limits``), classify it
(``rules.mailkind``), store the files of a submission in the content-addressed store, read its
documents in capped child processes (``bot.ingest.documents.extract_texts``), and, given the rules'
inputs, find what the rules say of it (``bot.ingest.findings``). The answer, ``Prepared``,
is a plain picklable value: ``bot.ingest.workers`` runs ``prepare`` in a small process pool, and the
poll records the answers one by one, in UID order, in its single writer.

Everything written here is content-addressed and durable before the transaction that refers to it
commits (fsynced here, or with a deferring store synced by the poll once per batch: ``Storage.sync``),
so a crash in between leaves at most files nobody refers to yet; the next poll finds them in place
(same hash, same path; a torn one is rewritten) and writes nothing twice.

A material's ``path`` in the answer points into the store (``Storage.resolve``): the worker's
temporary folder is gone by the time the poll reads the answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.ingest.documents import extract_texts
from bot.ingest.download import sha256_of
from bot.ingest.faults import describe, is_transient
from bot.ingest.findings import Findings, RuleInputs, find
from bot.ingest.limits import bound, parse_within_limits
from bot.ingest.storage import Storage
from bot.mime.mail import IncomingMail
from bot.mime.parse import ParseError
from bot.mime.textextract import Extracted, ExtractionStopped
from rules.mailkind import MailKind, classify

log = logging.getLogger(__name__)

# A spooled mail up to this size is read into memory to be parsed (the poll's download holds mails of
# this size in memory anyway: ``bot.ingest.poll.LARGE_MAIL_BYTES``); a larger one is parsed from its file.
IN_MEMORY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Prepared:
    """One mail read and stored, ready to be recorded."""

    raw_sha: str
    raw_path: str  # the kept .eml, storage-relative
    mail: IncomingMail | None = None  # None: nothing could be read (``error``) or reading failed (``failure``)
    kind: MailKind | None = None
    stored: tuple[str, ...] = ()  # storage-relative path of each material of a submission, in order
    texts: dict[str, Extracted] = field(default_factory=dict)  # sha256 -> what its document says
    error: str | None = None  # ParseError: the mail is not a mail any library reads
    failure: str | None = None  # an unexpected exception (a bug): ``describe()`` of it
    failure_trace: str = ""  # its traceback, for the log of the process that records it
    out_of_memory: bool = False  # MemoryError while reading it: counts like dying on it
    findings: Findings | None = None  # what the rules find in a submission (None: the recorder finds it)


def prepare(
    raw: bytes | Path,
    storage: Storage,
    spool: Path,
    own_addresses: frozenset[str],
    *,
    should_stop: Callable[[], bool] | None = None,
    raw_sha: str | None = None,
    rules: RuleInputs | None = None,
) -> Prepared:
    """Read one mail (bytes, or a spooled .eml) and store what it brings; with ``rules``, also find
    what the rules say of it (``Prepared.findings``).

    Raises only what must stop the poll: a transient fault (disk, memory: ``bot.ingest.faults``) as
    ``OSError``, and ``ExtractionStopped`` when ``should_stop`` said so while a document was read.
    """
    if isinstance(raw, Path):
        # A spooled mail (downloaded to a file under the store's root) is taken by a hard link; one
        # small enough to be held in memory is parsed from bytes, the parser's faster way.
        data = raw.read_bytes() if raw.stat().st_size <= IN_MEMORY_BYTES else None
        raw_sha = raw_sha or sha256_of(data if data is not None else raw)
        raw_path = storage.adopt_raw(raw, raw_sha)
    else:
        data = raw
        raw_sha = raw_sha or sha256_of(raw)
        raw_path = storage.store_raw(raw, raw_sha)
    workdir = _workdir(spool)
    try:
        prepared = _read(
            data if data is not None else raw, raw_sha, raw_path, storage, workdir, own_addresses, should_stop
        )
        return _with_findings(prepared, rules) if rules is not None else prepared
    except MemoryError:
        return Prepared(raw_sha, raw_path, out_of_memory=True)
    except Exception as exc:
        if is_transient(exc) or isinstance(exc, ExtractionStopped):
            raise
        # A bug, or a file no library could read: the poll keeps the raw mail with the error for the
        # coordinator (the same mail would fail on every poll).
        return Prepared(raw_sha, raw_path, failure=describe(exc), failure_trace=traceback.format_exc())
    finally:
        _empty(workdir)


def _with_findings(prepared: Prepared, rules: RuleInputs) -> Prepared:
    if prepared.mail is None or prepared.kind is None:
        return prepared
    try:
        return replace(prepared, findings=find(prepared.mail, prepared.kind, rules))
    except Exception as exc:
        if isinstance(exc, MemoryError) or is_transient(exc):
            raise
        # A bug in a rule, or a file gone: the recorder applies the same rules again, where such a
        # failure is handled as it always was (the mail is kept as an error row), with the parse kept.
        log.debug("findings of mail %s failed; the recorder finds them", prepared.raw_sha, exc_info=True)
        return prepared


def _workdir(spool: Path) -> Path:
    """This thread's scratch folder in ``spool``, kept from mail to mail (creating and removing a
    folder per mail costs more than the parse on some file systems) and emptied after each."""
    workdir = spool / f"mail-{os.getpid()}-{threading.get_ident()}"
    workdir.mkdir(exist_ok=True)
    return workdir


def _empty(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


def _read(
    raw: bytes | Path,
    raw_sha: str,
    raw_path: str,
    storage: Storage,
    workdir: Path,
    own_addresses: frozenset[str],
    should_stop: Callable[[], bool] | None,
) -> Prepared:
    try:
        mail = bound(parse_within_limits(raw, workdir))
    except ParseError as exc:
        return Prepared(raw_sha, raw_path, error=str(exc))
    kind = classify(mail.headers, mail.content_type, mail.from_addr, mail.subject.text, mail.body_text, own_addresses)
    if kind is not MailKind.SUBMISSION:
        # Auto-replies, bounces, lists: their files are never material and never stored.
        return Prepared(raw_sha, raw_path, replace(mail, materials=[]), kind)
    stored = tuple(storage.adopt_file(m.path, m.sha256) for m in mail.materials)
    # Documents are read while the files are still in the worker's folder; the answer then points at
    # the store, which outlives the folder.
    texts = extract_texts([(m.sha256, m.path, m.filename.text) for m in mail.materials], should_stop=should_stop)
    materials = [replace(m, path=storage.own_path(rel)) for m, rel in zip(mail.materials, stored, strict=True)]
    return Prepared(raw_sha, raw_path, replace(mail, materials=materials), kind, stored, texts)
