"""What counts as material: a file intake can vouch for as the document the sender attached.

Not material, each kept and put before the coordinator with the reason, never counted nor exported:

- executables and scripts, by content (``MZ`` PE/DOS, ``\\x7fELF``, Mach-O and fat binaries, ``#!``)
  and by their *real* extension: the name with format characters removed (a right-to-left override
  makes ``报告\\u202ecod.exe`` look like ``报告exe.doc``) and with the trailing dots and spaces Windows
  ignores;
- a part whose transfer encoding was damaged (``Material.damage`` from the parser): the stored bytes
  may not be the sender's file;
- a container intake could not open (encrypted, over a limit, corrupt): the files inside were never
  seen, so the container stands for nothing.

Also here: ``is_web_link``, the scheme check for links shown as clickable (cloud files in the digest).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rules import codes
from rules.visible import strip_format

# Windows runs these on a double click (or through an installer, a shortcut or the script hosts);
# the Unix ones run from a file manager or a terminal.
EXECUTABLE_EXTENSIONS = frozenset(
    {
        *(".exe", ".com", ".scr", ".pif", ".cpl", ".dll", ".sys", ".msi", ".msp", ".msc", ".lnk", ".url"),
        *(".bat", ".cmd", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".ps1", ".psm1", ".hta", ".reg"),
        *(".jar", ".gadget", ".inf", ".chm", ".application", ".appref-ms", ".scf", ".iso", ".img", ".vhd"),
        *(".sh", ".bash", ".command", ".run", ".app", ".apk", ".ipa", ".deb", ".rpm", ".dmg"),
        *(".py", ".pyw", ".pl", ".rb", ".elf"),
    }
)
# Leading bytes of native executables.
_MAGIC = (
    (b"MZ", "Windows 可执行文件"),
    (b"\x7fELF", "Linux 可执行文件"),
    (b"\xfe\xed\xfa\xce", "macOS 可执行文件"),
    (b"\xfe\xed\xfa\xcf", "macOS 可执行文件"),
    (b"\xce\xfa\xed\xfe", "macOS 可执行文件"),
    (b"\xcf\xfa\xed\xfe", "macOS 可执行文件"),
    (b"\xca\xfe\xba\xbe", "macOS 通用可执行文件或 Java 类文件"),
    (b"#!", "脚本"),
)
HEAD_BYTES = 8  # how much of a file ``executable_reason`` needs

# The reasons bot.mime.unpacking gives for a container it kept unopened, in words for the coordinator.
UNOPENED_CONTAINERS: dict[str, str] = {
    "zip-encrypted": "压缩包设有密码，无法打开",
    "zip-bomb": "压缩比异常（疑似“压缩炸弹”），未解压",
    "zip-too-large": "解压后的内容超过大小上限，未解压",
    "zip-too-many-members": "压缩包内文件数超过上限，未解压",
    "zip-too-deep": "压缩包嵌套层数过多，内层未打开",
    "zip-corrupt": "压缩包已损坏，无法打开",
    "zip-unsupported": "压缩方式不受支持，无法打开",
    "tnef-corrupt": "Outlook 附件包 winmail.dat 已损坏，无法打开",
}
# ``Material.damage`` values, in words.
DAMAGE_LABELS: dict[str, str] = {
    "base64-truncated": "附件的 base64 编码被截断，文件不完整",
    "base64-invalid": "附件的 base64 编码有误，文件可能已损坏",
    "qp-invalid": "附件的 quoted-printable 编码有误，文件可能已损坏",
    "uuencode-invalid": "附件的 uuencode 编码有误，文件可能已损坏",
    "uuencode-truncated": "附件的 uuencode 编码缺少结尾，文件可能不完整",
}


@dataclass(frozen=True)
class NotMaterial:
    """Why a file is not material: a review reason (``rules.codes``) and a Chinese detail."""

    reason: str
    detail: str


def real_extension(filename: str) -> str:
    """The extension Windows would act on: format characters removed, trailing dots and spaces
    ignored, lower-cased (``""`` when there is none).

    >>> real_extension("报告\\u202ecod.exe")
    '.exe'
    >>> real_extension("setup.EXE. . ")
    '.exe'
    """
    name = strip_format(filename).replace("\\", "/").rsplit("/", 1)[-1].rstrip(". ")
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem and ext else ""


def executable_reason(filename: str, head: bytes) -> str | None:
    """Why the file is an executable or a script (Chinese), or None."""
    for magic, label in _MAGIC:
        if head.startswith(magic):
            return f"文件内容是{label}"
    ext = real_extension(filename)
    if ext in EXECUTABLE_EXTENSIONS:
        return f"文件实际扩展名为 {ext}（可执行文件或脚本）"
    return None


def not_material(filename: str, head: bytes, *, damage: str | None, unopened: str | None) -> NotMaterial | None:
    """Why this file does not count as material, or None when it may.

    ``head``: the file's first :data:`HEAD_BYTES` bytes; ``damage``: ``Material.damage``;
    ``unopened``: the skipped reason of a container intake kept unopened (``UNOPENED_CONTAINERS``).
    """
    executable = executable_reason(filename, head)
    if executable is not None:
        return NotMaterial(codes.EXECUTABLE, f"{executable}，不作为报送材料，也不会导出；如确有需要请联系报送人。")
    if damage is not None:
        label = DAMAGE_LABELS.get(damage, f"附件编码损坏（{damage}）")
        return NotMaterial(codes.DAMAGED_ENCODING, f"{label}；已保存收到的内容，不计入指标，请联系报送人重新发送。")
    if unopened is not None and unopened in UNOPENED_CONTAINERS:
        return NotMaterial(
            codes.CONTAINER_UNOPENED,
            f"{UNOPENED_CONTAINERS[unopened]}；其中的文件未登记，不计入指标、不导出，请联系报送人解压后重新发送。",
        )
    return None


def is_web_link(url: str) -> bool:
    """Whether ``url`` may be shown as a clickable link: http(s), a host, no credentials, nothing hidden.

    >>> is_web_link("https://fs.mail.163.com/x")
    True
    >>> is_web_link("javascript://fs.mail.163.com/%0aalert(1)")
    False
    """
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url) or strip_format(url) != url:
        return False
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and not parts.username and port_ok
