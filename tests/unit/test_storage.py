"""bot.ingest.storage: content-addressed store, raw mail archive, path confinement and safe_name."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.storage import Storage, StorageError, safe_name


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "store")


def _spool(tmp_path: Path, data: bytes, name: str = "spool.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_store_file_is_content_addressed(storage: Storage, tmp_path: Path) -> None:
    data = "依法行政材料".encode() * 1000
    digest = _sha(data)
    rel = storage.store_file(_spool(tmp_path, data), digest)
    assert rel == f"files/{digest[:2]}/{digest[2:4]}/{digest}"
    assert storage.resolve(rel).read_bytes() == data
    with storage.open(rel) as stored:
        assert stored.read() == data


def test_store_file_is_idempotent_and_keeps_the_first_copy(storage: Storage, tmp_path: Path) -> None:
    data = b"%PDF-1.7 report"
    digest = _sha(data)
    rel = storage.store_file(_spool(tmp_path, data), digest)
    stored = storage.resolve(rel)
    mtime = stored.stat().st_mtime_ns
    assert storage.store_file(_spool(tmp_path, data, "again.bin"), digest) == rel
    assert stored.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in stored.parent.iterdir()) == [digest]


def test_store_file_refuses_content_that_does_not_match(storage: Storage, tmp_path: Path) -> None:
    digest = _sha(b"what the parser hashed")
    with pytest.raises(StorageError, match="hashes to"):
        storage.store_file(_spool(tmp_path, b"something else"), digest)
    folder = storage.root / "files" / digest[:2] / digest[2:4]
    assert list(folder.iterdir()) == []  # no temporary file left behind


@pytest.mark.parametrize("bad", ["", "ABC", "0" * 63, "G" * 64, "A" * 64, "../" + "0" * 61])
def test_malformed_hashes_are_refused(storage: Storage, tmp_path: Path, bad: str) -> None:
    with pytest.raises(StorageError):
        storage.store_file(_spool(tmp_path, b"x"), bad)
    with pytest.raises(StorageError):
        storage.store_raw(b"x", bad)


def test_store_raw(storage: Storage) -> None:
    raw = b"From: a@b.cn\r\nSubject: =?GB2312?B?1rjx6jEy?=\r\n\r\nbody\r\n"
    digest = _sha(raw)
    rel = storage.store_raw(raw, digest)
    assert rel == f"mail/{digest[:2]}/{digest}.eml"
    assert storage.resolve(rel).read_bytes() == raw
    assert storage.store_raw(raw, digest) == rel


def test_store_raw_file_matches_store_raw(storage: Storage, tmp_path: Path) -> None:
    raw = b"From: a@b.cn\r\n\r\n" + os.urandom(2 * (1 << 20))
    digest = _sha(raw)
    rel = storage.store_raw_file(_spool(tmp_path, raw, "mail.eml"), digest)
    assert rel == f"mail/{digest[:2]}/{digest}.eml"
    assert storage.resolve(rel).read_bytes() == raw
    assert storage.store_raw(raw, digest) == rel
    with pytest.raises(StorageError, match="hashes to"):
        storage.store_raw_file(_spool(tmp_path, b"other", "other.eml"), _sha(b"not other"))


def test_store_raw_empty_and_large(storage: Storage) -> None:
    for raw in (b"", os.urandom(3 * (1 << 20) + 7)):
        rel = storage.store_raw(raw, _sha(raw))
        assert storage.resolve(rel).read_bytes() == raw


@pytest.mark.parametrize(
    "rel",
    [
        "../outside",
        "files/../../outside",
        "/etc/passwd",
        "\\\\server\\share\\x",
        "C:\\Windows\\win.ini",
        "c:x",
        "files/..\\..\\x",
        "",
        ".",
        "files/\x00x",
    ],
)
def test_resolve_refuses_paths_outside_the_root(storage: Storage, rel: str) -> None:
    with pytest.raises(StorageError):
        storage.resolve(rel)
    with pytest.raises(StorageError):
        storage.open(rel)


def test_resolve_refuses_symlinks_out_of_the_root(storage: Storage, tmp_path: Path) -> None:
    (storage.root / "files").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (storage.root / "files" / "link").symlink_to(outside)
    with pytest.raises(StorageError, match="leaves"):
        storage.resolve("files/link")


def test_resolve_accepts_normal_paths(storage: Storage) -> None:
    assert storage.resolve("files/ab/cd/x") == storage.root / "files" / "ab" / "cd" / "x"
    assert storage.resolve("mail/ab/x.eml").is_relative_to(storage.root)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("【指标12】依法行政材料.docx", "【指标12】依法行政材料.docx"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("/etc/shadow", "shadow"),
        ("C:\\Users\\刘海利\\Desktop\\指标3.pdf", "指标3.pdf"),
        ("C:指标3.pdf", "指标3.pdf"),
        ("材料/子目录/", "子目录"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Aux.tar.gz", "_Aux.tar.gz"),
        ("NUL", "_NUL"),
        ("COM1.docx", "_COM1.docx"),
        ("lpt9", "_lpt9"),
        ("COM¹.txt", "_COM¹.txt"),
        ("CON .txt", "_CON .txt"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("com10.txt", "com10.txt"),
        ("报告.docx. . .", "报告.docx"),
        ("报告   ", "报告"),
        ("a\x00b.txt", "ab.txt"),
        ("line\r\nbreak.txt", "linebreak.txt"),
        ("\x1b[31mred.txt", "[31mred.txt"),
        ("invoice\u202excod.exe", "invoicexcod.exe"),
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("file.txt:secret", "file.txt_secret"),
        ("", "unnamed"),
        ("   ", "unnamed"),
        (".", "unnamed"),
        ("..", "unnamed"),
        ("../", "unnamed"),
        ("...", "unnamed"),
        ("\x00\x01", "unnamed"),
        (".hidden", ".hidden"),
        ("NFD-e\u0301.txt", "NFD-\u00e9.txt"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize(
    ("name", "max_bytes", "expected"),
    [
        ("指" * 100 + ".docx", 200, "指" * 65 + ".docx"),  # 65*3 + 5 = 200 bytes
        ("a" * 300 + ".pdf", 200, "a" * 196 + ".pdf"),
        ("a" * 300, 200, "a" * 200),
        ("指" * 100 + ".docx", 64, "指" * 19 + ".docx"),  # never cut inside a character
        ("a" * 50 + "." + "b" * 40, 64, ("a" * 50 + "." + "b" * 40)[:64]),  # a long "extension" is no extension
        ("a" * 100 + ".   .pdf", 40, "a" * 36 + ".pdf"),
    ],
)
def test_safe_name_truncates_by_utf8_bytes_keeping_the_extension(name: str, max_bytes: int, expected: str) -> None:
    result = safe_name(name, max_bytes)
    assert result == expected
    assert len(result.encode("utf-8")) <= max_bytes


def test_safe_name_refuses_tiny_limits() -> None:
    with pytest.raises(ValueError):
        safe_name("x", max_bytes=5)


@given(st.text(max_size=400))
def test_safe_name_always_yields_one_component_inside_the_root(name: str) -> None:
    result = safe_name(name)
    assert result
    assert "/" not in result and "\\" not in result and "\x00" not in result
    assert result not in (".", "..")
    assert len(result.encode("utf-8")) <= 200
    assert result == result.rstrip(". ")
    assert not any(ord(ch) < 32 for ch in result)
    root = Path("/srv/intake/export").resolve()
    path = (root / result).resolve()
    assert path.parent == root
    assert safe_name(result) == result  # idempotent


@given(st.text(alphabet=st.sampled_from("CONAUXLPTcom1239. \\/:\x00"), max_size=20))
def test_safe_name_never_returns_a_device_name(name: str) -> None:
    result = safe_name(name)
    assert result.split(".", 1)[0].rstrip(" ").lower() not in {"con", "aux", "nul", "prn", "com1", "lpt1"}


# -- deferred durability and torn files (issue 16) ------------------------------------------------------


def _count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_a_deferring_store_writes_without_fsync_and_sync_makes_it_durable(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_fsyncs(monkeypatch)
    deferring = storage.deferring()
    raw = b"Subject: x\r\n\r\nbody\r\n"
    rel = deferring.store_raw(raw, _sha(raw))
    data = b"attachment" * 100
    rel_file = deferring.adopt_file(_spool(tmp_path, data), _sha(data))
    assert calls == []
    assert deferring.open(rel).read() == raw and deferring.open(rel_file).read() == data
    deferring.sync()  # syncfs of the store's file system; raises OSError if the disk failed
    storage.store_raw(b"other", _sha(b"other"))
    assert len(calls) >= 1  # the default store still fsyncs every write


@pytest.mark.parametrize("torn", [b"", b"Subject: x\r\n", b"Subject: y\r\n\r\nbody\r\n"])
def test_a_torn_file_in_the_store_is_written_again(storage: Storage, tmp_path: Path, torn: bytes) -> None:
    """A crash before the batch's sync may leave a file empty, cut short, or (other file systems)
    with the wrong bytes at its hash's path: it is rewritten, never trusted."""
    raw = b"Subject: x\r\n\r\nbody\r\n"
    sha = _sha(raw)
    target = storage.root / "mail" / sha[:2] / f"{sha}.eml"
    target.parent.mkdir(parents=True)
    target.write_bytes(torn)
    assert storage.store_raw(raw, sha) == f"mail/{sha[:2]}/{sha}.eml"
    assert target.read_bytes() == raw

    target.write_bytes(torn)
    assert storage.adopt_raw(_spool(tmp_path, raw, "a.eml"), sha) == f"mail/{sha[:2]}/{sha}.eml"
    assert target.read_bytes() == raw

    data = b"file content"
    fsha = _sha(data)
    ftarget = storage.root / "files" / fsha[:2] / fsha[2:4] / fsha
    ftarget.parent.mkdir(parents=True)
    ftarget.write_bytes(torn)
    storage.adopt_file(_spool(tmp_path, data, "b.bin"), fsha)
    assert ftarget.read_bytes() == data


def test_adopt_raw_takes_the_spooled_mail_by_a_hard_link(storage: Storage) -> None:
    raw = b"Subject: spooled\r\n\r\nbody\r\n"
    spooled = storage.root / "spool" / "7.eml"
    spooled.parent.mkdir(parents=True)
    spooled.write_bytes(raw)
    rel = storage.adopt_raw(spooled, _sha(raw))
    assert os.stat(storage.resolve(rel)).st_ino == os.stat(spooled).st_ino
    spooled.unlink()  # the poll removes its spool file; the store keeps the mail
    assert storage.open(rel).read() == raw


def test_own_path_accepts_only_paths_the_store_builds(storage: Storage) -> None:
    sha = _sha(b"x")
    assert storage.own_path(f"files/{sha[:2]}/{sha[2:4]}/{sha}") == storage.root / "files" / sha[:2] / sha[2:4] / sha
    assert storage.own_path(f"mail/{sha[:2]}/{sha}.eml").name == f"{sha}.eml"
    for bad in ("files/link", f"files/../{sha}", f"/etc/{sha}", f"mail/{sha[:2]}/{sha}.eml/../x"):
        with pytest.raises(StorageError):
            storage.own_path(bad)


def test_a_store_survives_pickling_into_a_worker(storage: Storage) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(storage.deferring()))
    assert copy.root == storage.root and copy.sync_each is False
    copy.store_raw(b"x", _sha(b"x"))
    assert storage.open(f"mail/{_sha(b'x')[:2]}/{_sha(b'x')}.eml").read() == b"x"
