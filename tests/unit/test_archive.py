"""bot.mime.archive: zip members (GBK names, junk, limits, escapes, nesting) and winmail.dat (TNEF).

Every archive is built here in the test, byte by byte where the stdlib cannot write the form that
Chinese Windows produces (GBK names without the UTF-8 flag)."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from bot.mime.archive import expand
from bot.mime.mail import DecodedText, Material, Skipped
from bot.mime.unpacking import ArchiveLimits, junk_reason, member_label
from bot.mime.zipfiles import decode_member_name
from tests.support.zips import make_zip

# --- builders --------------------------------------------------------------------------------------




def patch_headers(data: bytes, *, flag_or: int = 0, file_size: int | None = None) -> bytes:
    """Set general-purpose flag bits and/or lie about the uncompressed size in every header."""
    out = bytearray(data)
    for signature, flag_at, size_at in ((b"PK\x03\x04", 6, 22), (b"PK\x01\x02", 8, 24)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            flags = struct.unpack_from("<H", out, start + flag_at)[0]
            struct.pack_into("<H", out, start + flag_at, flags | flag_or)
            if file_size is not None:
                struct.pack_into("<I", out, start + size_at, file_size)
            start += 4
    return bytes(out)


def tnef_attr(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, attr_id, attr_type, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def mapi_unicode(prop_id: int, text: str) -> bytes:
    raw = text.encode("utf-16-le") + b"\x00\x00"
    return struct.pack("<HHII", 0x001F, prop_id, 1, len(raw)) + raw + b"\x00" * (-len(raw) % 4)


def make_tnef(attachments: Sequence[tuple[bytes, bytes, str | None]], codepage: int = 936) -> bytes:
    """A winmail.dat as Outlook writes it for an RTF mail: per attachment the rendering data, the
    ANSI title (code page bytes), the data, and MAPI properties with the Unicode long file name."""
    out = struct.pack("<IH", 0x223E9F78, 0x5A1E)
    out += tnef_attr(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))  # attTnefVersion
    out += tnef_attr(1, 0x9007, 0x0006, struct.pack("<II", codepage, 0))  # attOemCodepage
    out += tnef_attr(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    for title, data, long_name in attachments:
        out += tnef_attr(2, 0x9002, 0x0006, struct.pack("<HIIII", 1, 0xFFFFFFFF, 0, 0, 0)[:14])
        out += tnef_attr(2, 0x8010, 0x0001, title + b"\x00")  # attAttachTitle
        out += tnef_attr(2, 0x800F, 0x0006, data)  # attAttachData
        if long_name is not None:
            props = mapi_unicode(0x3707, long_name)  # PR_ATTACH_LONG_FILENAME
            out += tnef_attr(2, 0x9005, 0x0006, struct.pack("<I", 1) + props)  # attAttachment
    return out


def material(tmp_path: Path, data: bytes, name: str, content_type: str = "application/octet-stream") -> Material:
    path = tmp_path / "spool" / hashlib.sha256(data + name.encode()).hexdigest()[:16]
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return Material(
        filename=DecodedText(name),
        path=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        origin="attachment",
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def names(materials: Sequence[Material]) -> list[str]:
    return [m.filename.text for m in materials]


# --- member names ------------------------------------------------------------------------------------

CHINESE_NAMES = [
    "【指标12】依法行政材料.docx",
    "附件1：焦作市生态环境局自查报告.pdf",
    "服务科-史凤云-镕堃喆玥.xlsx",  # GBK-only characters (not in GB2312)
    "材料/指标3/情况说明.doc",
    "2021年度法治政府建设工作总结（定稿）.wps",
    "表.txt",
    "中文",
]


@pytest.mark.parametrize("name", CHINESE_NAMES)
def test_gbk_names_without_the_utf8_flag(tmp_path: Path, workdir: Path, name: str) -> None:
    zipped = make_zip([(name.encode("gbk"), b"content")])
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        info = zf.infolist()[0]
    assert not info.flag_bits & 0x800
    assert info.filename != name  # what Python shows: CP437 mojibake
    assert decode_member_name(info) == DecodedText(name)
    materials, skipped = expand(material(tmp_path, zipped, "材料.zip", "application/zip"), workdir)
    assert names(materials) == [name] and skipped == []


@pytest.mark.parametrize("name", CHINESE_NAMES)
def test_names_with_the_utf8_flag(tmp_path: Path, workdir: Path, name: str) -> None:
    zipped = make_zip([(name, b"content")])
    materials, _ = expand(material(tmp_path, zipped, "材料.zip"), workdir)
    assert names(materials) == [name]


@pytest.mark.parametrize("name", ["报告.docx", "依法行政/指标12.pdf", "naïve.txt"])
def test_utf8_names_without_the_flag(name: str) -> None:
    zipped = make_zip([(name.encode("utf-8"), b"x")])
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        assert decode_member_name(zf.infolist()[0]) == DecodedText(name)


def test_gb18030_four_byte_characters() -> None:
    name = "𠀀𪚥报告.txt"  # outside GBK: only GB18030 encodes these
    zipped = make_zip([(name.encode("gb18030"), b"x")])
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        assert decode_member_name(zf.infolist()[0]) == DecodedText(name)


def test_undecodable_names_keep_their_bytes(tmp_path: Path, workdir: Path) -> None:
    raw = b"\xff\xfe\xfd\x80.txt"
    zipped = make_zip([(raw, b"x")])
    materials, _ = expand(material(tmp_path, zipped, "a.zip"), workdir)
    [found] = materials
    assert found.filename.undecodable and found.filename.raw == raw
    assert found.filename.text == "\\xff\\xfe\\xfd\\x80.txt"


def _unicode_path(name: str, header_name: bytes) -> bytes:
    body = b"\x01" + struct.pack("<I", zlib.crc32(header_name)) + name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


@pytest.mark.parametrize(
    ("extra_name", "crc_of", "expected"),
    [
        ("指标12报告.txt", b"????12??.txt", "指标12报告.txt"),
        ("指标12报告.txt", b"stale name", "????12??.txt"),  # CRC mismatch: the field is stale
    ],
)
def test_info_zip_unicode_path_field(extra_name: str, crc_of: bytes, expected: str) -> None:
    zipped = make_zip([("????12??.txt", b"x")], extras={0: _unicode_path(extra_name, crc_of)})
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        assert decode_member_name(zf.infolist()[0]).text == expected


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("材料/指标12.docx", "材料/指标12.docx"),
        ("./材料//指标12.docx", "材料/指标12.docx"),
        ("材料\\指标12.docx", "材料/指标12.docx"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("材料/../../../报告.pdf", "报告.pdf"),
        ("/etc/cron.d/evil", "evil"),
        ("C:\\Users\\刘海利\\报告.pdf", "报告.pdf"),
        ("C:报告.pdf", "报告.pdf"),
        ("..", ""),
        ("材料/", "材料"),
    ],
)
def test_member_label(name: str, label: str) -> None:
    assert member_label(name) == label


@pytest.mark.parametrize(
    ("label", "is_dir", "reason"),
    [
        ("材料", True, "directory"),
        ("", False, "directory"),
        ("__MACOSX/材料/._报告.docx", False, "macosx-metadata"),
        ("__MACOSX", True, "macosx-metadata"),
        ("._报告.docx", False, "macosx-metadata"),
        ("材料/~$报告.docx", False, "lock-file"),
        ("~$自查报告.xlsx", False, "lock-file"),
        (".~lock.报告.odt#", False, "lock-file"),
        ("Thumbs.db", False, "system-file"),
        ("图片/thumbs.db", False, "system-file"),
        (".DS_Store", False, "system-file"),
        ("desktop.ini", False, "system-file"),
        ("报告.docx", False, None),
        ("材料/~报告.docx", False, None),
        ("MACOSX说明.txt", False, None),
    ],
)
def test_junk_reason(label: str, is_dir: bool, reason: str | None) -> None:
    assert junk_reason(label, is_dir) == reason


# --- expansion ---------------------------------------------------------------------------------------


def test_members_become_materials(tmp_path: Path, workdir: Path) -> None:
    report = b"%PDF-1.7\n" + bytes(range(256)) * 40
    sheet = "指标,状态\n12,已交\n".encode()
    zipped = make_zip([("材料/自查报告.pdf".encode("gbk"), report), ("指标12.csv", sheet)])
    materials, skipped = expand(material(tmp_path, zipped, "服务科材料.zip", "application/zip"), workdir)
    assert skipped == []
    pdf, csv = materials
    assert pdf.filename == DecodedText("材料/自查报告.pdf")
    assert (pdf.size, pdf.sha256) == (len(report), hashlib.sha256(report).hexdigest())
    assert pdf.path.read_bytes() == report and pdf.path.parent == workdir
    assert (pdf.origin, pdf.container, pdf.content_type) == ("zip", "服务科材料.zip", "application/pdf")
    assert csv.path.read_bytes() == sheet and csv.origin == "zip"


def test_junk_members_are_skipped_with_reasons(tmp_path: Path, workdir: Path) -> None:
    zipped = make_zip(
        [
            ("材料/", b""),
            ("材料/报告.docx", b"docx"),
            ("__MACOSX/材料/._报告.docx", b"\x00\x05\x16\x07"),
            ("材料/~$报告.docx".encode("gbk"), b"lock"),
            ("材料/Thumbs.db", b"thumbs"),
            (".DS_Store", b"ds"),
            ("desktop.ini", b"[.ShellClassInfo]"),
        ]
    )
    materials, skipped = expand(material(tmp_path, zipped, "a.zip"), workdir)
    assert names(materials) == ["材料/报告.docx"]
    assert [(s.name, s.reason) for s in skipped] == [
        ("材料/", "directory"),
        ("__MACOSX/材料/._报告.docx", "macosx-metadata"),
        ("材料/~$报告.docx", "lock-file"),
        ("材料/Thumbs.db", "system-file"),
        (".DS_Store", "system-file"),
        ("desktop.ini", "system-file"),
    ]
    assert len(list(workdir.iterdir())) == 1


def test_a_zip_of_only_junk_is_kept_as_itself(tmp_path: Path, workdir: Path) -> None:
    zipped = make_zip([("材料/", b""), ("__MACOSX/._a", b"x")])
    original = material(tmp_path, zipped, "材料.zip")
    materials, skipped = expand(original, workdir)
    assert materials == [original] and len(skipped) == 2
    assert list(workdir.iterdir()) == []


def test_escaping_paths_are_flattened_and_never_used(tmp_path: Path, workdir: Path) -> None:
    zipped = make_zip(
        [
            ("../../evil.sh", b"rm -rf /"),
            ("/etc/cron.d/owned", b"* * * * * root x"),
            ("..\\..\\报告.pdf".encode("gbk"), b"pdf"),
            ("C:\\Windows\\system.ini", b"ini"),
        ]
    )
    materials, _ = expand(material(tmp_path, zipped, "a.zip"), workdir)
    assert names(materials) == ["evil.sh", "owned", "报告.pdf", "system.ini"]
    assert all(m.path.parent == workdir for m in materials)
    everything = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*")}
    assert everything == {"spool", "work"}


def test_nested_zips_are_opened(tmp_path: Path, workdir: Path) -> None:
    inner = make_zip([("指标3.pdf".encode("gbk"), b"pdf3")])
    outer = make_zip([("二级/内层.zip", inner), ("指标12.docx", b"docx12")])
    materials, skipped = expand(material(tmp_path, outer, "外层.zip"), workdir)
    assert skipped == []
    assert [(m.filename.text, m.container) for m in materials] == [
        ("指标3.pdf", "二级/内层.zip"),
        ("指标12.docx", "外层.zip"),
    ]
    assert sorted(p.name for p in workdir.iterdir()) == sorted(m.path.name for m in materials)


def test_nesting_deeper_than_the_limit_keeps_the_inner_archive(tmp_path: Path, workdir: Path) -> None:
    level3 = make_zip([("深.txt", b"deep")])
    level2 = make_zip([("l3.zip", level3), ("b.txt", b"b")])
    level1 = make_zip([("l2.zip", level2), ("a.txt", b"a")])
    materials, skipped = expand(material(tmp_path, level1, "l1.zip"), workdir, ArchiveLimits(max_depth=2))
    assert names(materials) == ["l3.zip", "b.txt", "a.txt"]
    assert [(s.name, s.reason) for s in skipped] == [("l3.zip", "zip-too-deep")]
    assert materials[0].path.read_bytes() == level3


def _zeros_zip(megabytes: int, name: str = "空白.txt") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w") as member:
        for _ in range(megabytes):
            member.write(bytes(1 << 20))
    return buf.getvalue()


def test_zip_bomb_by_ratio_keeps_the_zip(tmp_path: Path, workdir: Path) -> None:
    bomb = _zeros_zip(8)
    original = material(tmp_path, bomb, "材料.zip")
    materials, skipped = expand(original, workdir)
    assert materials == [original]
    assert [(s.name, s.reason) for s in skipped] == [("材料.zip", "zip-bomb")]
    assert list(workdir.iterdir()) == []


def test_bomb_nested_inside_keeps_the_outer_zip(tmp_path: Path, workdir: Path) -> None:
    outer = make_zip([("ok.txt", b"fine"), ("inner.zip", _zeros_zip(8))], compression=zipfile.ZIP_STORED)
    original = material(tmp_path, outer, "外层.zip")
    materials, skipped = expand(original, workdir)
    assert materials == [original] and [s.reason for s in skipped] == ["zip-bomb"]
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (ArchiveLimits(max_total_bytes=100_000), "zip-too-large"),
        (ArchiveLimits(max_member_bytes=30_000), "zip-too-large"),
        (ArchiveLimits(max_members=3), "zip-too-many-members"),
        (ArchiveLimits(max_ratio=1.5, ratio_floor_bytes=10_000), "zip-bomb"),
    ],
)
def test_limits(tmp_path: Path, workdir: Path, limits: ArchiveLimits, reason: str) -> None:
    members = [(f"指标{n}.txt", (f"第{n}项材料。" * 3000).encode()) for n in range(5)]  # ~50 KB each
    original = material(tmp_path, make_zip(members), "a.zip")
    materials, skipped = expand(original, workdir, limits)
    assert materials == [original] and [s.reason for s in skipped] == [reason]
    assert list(workdir.iterdir()) == []


def test_within_limits_everything_is_extracted(tmp_path: Path, workdir: Path) -> None:
    members = [(f"指标{n}.txt", (f"第{n}项材料。" * 3000).encode()) for n in range(5)]
    limits = ArchiveLimits(max_total_bytes=300_000, max_member_bytes=60_000, max_members=5)
    materials, skipped = expand(material(tmp_path, make_zip(members), "a.zip"), workdir, limits)
    assert len(materials) == 5 and skipped == []


def test_extraction_stops_as_soon_as_a_limit_is_crossed(
    tmp_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    produced = 0
    real_read = zipfile.ZipExtFile.read

    def counting_read(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        nonlocal produced
        data = real_read(self, n)
        produced += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    limits = ArchiveLimits(max_member_bytes=1 << 20, max_ratio=1e9)
    _, skipped = expand(material(tmp_path, _zeros_zip(64), "a.zip"), workdir, limits)
    assert [s.reason for s in skipped] == ["zip-too-large"]
    assert produced <= (1 << 20) + limits.chunk_bytes


def test_declared_sizes_that_lie_do_not_get_through(tmp_path: Path, workdir: Path) -> None:
    liar = patch_headers(_zeros_zip(4), file_size=10)
    original = material(tmp_path, liar, "a.zip")
    materials, skipped = expand(original, workdir)
    assert materials == [original] and [s.reason for s in skipped] == ["zip-corrupt"]


def test_encrypted_zip_is_kept(tmp_path: Path, workdir: Path) -> None:
    locked = patch_headers(make_zip([("密码.docx", b"secret")]), flag_or=0x1)
    original = material(tmp_path, locked, "加密.zip")
    assert expand(original, workdir) == ([original], [Skipped("加密.zip", "zip-encrypted")])


def test_encrypted_zip_nested_keeps_only_the_inner_zip(tmp_path: Path, workdir: Path) -> None:
    locked = patch_headers(make_zip([("密码.docx", b"secret")]), flag_or=0x1)
    outer = make_zip([("加密.zip", locked), ("公开.txt", b"open")], compression=zipfile.ZIP_STORED)
    materials, skipped = expand(material(tmp_path, outer, "外层.zip"), workdir)
    assert names(materials) == ["加密.zip", "公开.txt"]
    assert materials[0].path.read_bytes() == locked
    assert [(s.name, s.reason) for s in skipped] == [("加密.zip", "zip-encrypted")]


@pytest.mark.parametrize(
    "damage",
    [
        lambda z: z[: len(z) // 2],  # truncated download
        lambda z: z[:40] + bytes(b ^ 0x55 for b in z[40:60]) + z[60:],  # flipped bytes in the data
        lambda z: b"Rar!\x1a\x07\x00" + z[7:],  # renamed .rar
        lambda z: b"",
    ],
)
def test_corrupt_zip_is_kept(tmp_path: Path, workdir: Path, damage: Callable[[bytes], bytes]) -> None:
    data = make_zip([("报告.txt", "依法行政示范单位创建材料".encode() * 50)])
    original = material(tmp_path, damage(data), "材料.zip")
    materials, skipped = expand(original, workdir)
    assert materials == [original] and [s.reason for s in skipped] == ["zip-corrupt"]
    assert list(workdir.iterdir()) == []


def _docx() -> bytes:
    return make_zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")])


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"%PDF-1.7\n%...", "自查报告.pdf", "application/pdf"),
        (_docx(), "指标12.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (_docx(), "指标12.xlsx", "application/octet-stream"),
        (_docx(), "附件", "application/octet-stream"),  # no extension: recognised by its parts
        (make_zip([("mimetype", b"application/vnd.oasis.opendocument.text")]), "报告.odt", "application/zip"),
        (b"Rar!\x1a\x07\x01\x00" + bytes(100), "材料.rar", "application/x-rar-compressed"),
        (b"7z\xbc\xaf\x27\x1c" + bytes(100), "材料.7z", "application/x-7z-compressed"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "报告.doc", "application/msword"),
        (b"", "空.txt", "text/plain"),
    ],
)
def test_non_archives_come_back_unchanged(
    tmp_path: Path, workdir: Path, data: bytes, name: str, content_type: str
) -> None:
    original = material(tmp_path, data, name, content_type)
    assert expand(original, workdir) == ([original], [])


def test_zip_is_recognised_by_magic_bytes_without_a_zip_name(tmp_path: Path, workdir: Path) -> None:
    zipped = make_zip([("报告.pdf", b"pdf")])
    materials, _ = expand(material(tmp_path, zipped, "tcmime.1234.bin"), workdir)
    assert names(materials) == ["报告.pdf"]
    assert materials[0].container == "tcmime.1234.bin"


# --- winmail.dat -------------------------------------------------------------------------------------


def test_tnef_attachments_become_materials(tmp_path: Path, workdir: Path) -> None:
    report = b"%PDF-1.5 report body"
    sheet = b"\xd0\xcf\x11\xe0 sheet"
    dat = make_tnef(
        [
            ("自查报~1.PDF".encode("gbk"), report, "【指标12】自查报告.pdf"),
            ("情况说明.xls".encode("gbk"), sheet, None),  # only the ANSI (GBK) title
        ]
    )
    materials, skipped = expand(material(tmp_path, dat, "winmail.dat", "application/ms-tnef"), workdir)
    assert skipped == []
    assert [(m.filename.text, m.origin, m.container) for m in materials] == [
        ("【指标12】自查报告.pdf", "tnef", "winmail.dat"),
        ("情况说明.xls", "tnef", "winmail.dat"),
    ]
    assert materials[0].path.read_bytes() == report
    assert materials[0].sha256 == hashlib.sha256(report).hexdigest() and materials[0].size == len(report)
    assert materials[0].content_type == "application/pdf"
    assert materials[1].path.read_bytes() == sheet


def test_tnef_recognised_by_content_type_or_magic(tmp_path: Path, workdir: Path) -> None:
    dat = make_tnef([(b"a.txt", b"hello", None)])
    by_type = expand(material(tmp_path, dat, "ATT00001.dat", "application/vnd.ms-tnef"), workdir)[0]
    by_magic = expand(material(tmp_path, dat, "noname"), workdir)[0]
    assert names(by_type) == names(by_magic) == ["a.txt"]


def test_zip_inside_winmail_dat_is_opened(tmp_path: Path, workdir: Path) -> None:
    zipped = make_zip([("指标3.docx".encode("gbk"), b"docx")])
    dat = make_tnef([(b"MATERI~1.ZIP", zipped, "材料.zip")])
    materials, _ = expand(material(tmp_path, dat, "winmail.dat"), workdir)
    assert [(m.filename.text, m.origin, m.container) for m in materials] == [("指标3.docx", "zip", "材料.zip")]


def test_winmail_dat_without_attachments_is_no_file(tmp_path: Path, workdir: Path) -> None:
    # Issue 12 class 6: a winmail.dat holding only the RTF body is not a file the sender attached.
    original = material(tmp_path, make_tnef([]), "winmail.dat", "application/ms-tnef")
    assert expand(original, workdir) == ([], [Skipped("winmail.dat", "tnef-no-files")])


ORPHAN_ATTACHMENT_DATA = struct.pack("<IH", 0x223E9F78, 1) + tnef_attr(2, 0x800F, 0x0006, b"data" * 5)


@pytest.mark.parametrize("data", [b"not tnef at all", ORPHAN_ATTACHMENT_DATA, b""])
def test_corrupt_winmail_dat_is_kept(tmp_path: Path, workdir: Path, data: bytes) -> None:
    original = material(tmp_path, data, "winmail.dat", "application/ms-tnef")
    assert expand(original, workdir) == ([original], [Skipped("winmail.dat", "tnef-corrupt")])


def test_winmail_dat_with_only_a_signature_holds_no_file(tmp_path: Path, workdir: Path) -> None:
    original = material(tmp_path, b"\x78\x9f\x3e\x22\x00\x00", "winmail.dat")
    assert expand(original, workdir) == ([], [Skipped("winmail.dat", "tnef-no-files")])


def mapi_binary(prop_id: int, data: bytes) -> bytes:
    return struct.pack("<HHII", 0x0102, prop_id, 1, len(data)) + data + b"\x00" * (-len(data) % 4)


def tnef_with_data_object(name: str, data: bytes) -> bytes:
    """Outlook's other layout: the file only in PR_ATTACH_DATA_OBJ (0x3701), no attAttachData."""
    out = struct.pack("<IH", 0x223E9F78, 0x5A1E)
    out += tnef_attr(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))
    out += tnef_attr(1, 0x9007, 0x0006, struct.pack("<II", 936, 0))
    out += tnef_attr(2, 0x9002, 0x0006, struct.pack("<HIIII", 1, 0xFFFFFFFF, 0, 0, 0)[:14])
    out += tnef_attr(2, 0x8010, 0x0001, b"DOC~1.DOC\x00")
    props = mapi_unicode(0x3707, name) + mapi_binary(0x3701, data)
    return out + tnef_attr(2, 0x9005, 0x0006, struct.pack("<I", 2) + props)


@pytest.mark.parametrize(
    "data",
    [
        b"\xd0\xcf\x11\xe0" + bytes(range(200)) * 5 + bytes(512 * 2),  # whole zero sectors at the end (Word 97)
        b"\xd0\xcf\x11\xe0abc\x00",  # one zero byte, length not a multiple of four
        b"\xd0\xcf\x11\xe0abcd",  # no zeros: nothing to restore
        b"ab\x00\x00\x00",
    ],
)
def test_winmail_dat_member_keeps_its_trailing_zero_bytes(tmp_path: Path, workdir: Path, data: bytes) -> None:
    # Issue 12 class 6: tnefparse strips every trailing NUL of a binary property (its padding and the
    # file's own zeros alike); a .doc of whole sectors came out hundreds of bytes short.
    dat = tnef_with_data_object("执法人员名单.doc", data)
    [member], skipped = expand(material(tmp_path, dat, "winmail.dat"), workdir)
    assert skipped == []
    assert member.filename.text == "执法人员名单.doc"
    assert member.path.read_bytes() == data
    assert (member.size, member.sha256) == (len(data), hashlib.sha256(data).hexdigest())
