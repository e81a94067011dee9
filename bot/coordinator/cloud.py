"""Cloud files (超大附件, 金山文档, 腾讯文档, QQ 中转站, 网盘) to the end: fetched by hand, or dismissed.

A cloud link is recorded with the mail (``cloud_file``: name, link, expiry, and the indicators the
subject and the shared name give). The coordinator downloads the file and hands it over:
``intake cloud fetched C3 FILE`` or, by mail, ``已下载 C3`` with the file attached. ``fetch`` then does
to it what the poll does to an attached file: containers are opened (``bot.mime.archive.expand``),
``rules.material`` says what is not material, the matcher and ``rules.disposition`` place it, it is
stored content-addressed and validated (word count, 涉密) with its mail, which it joins as an
``attachment`` of origin "cloud": it counts as the section's, arrived when the link arrived. Its
assignments are ``matched_by`` "cloud"; a file the matcher cannot place counts for the link's own
indicators, else it becomes a review item. The link is closed (status "fetched"). ``dismiss`` closes a
link without a file ("dismissed": the section will send it again, or it was not material).

Both run inside the caller's transaction, write through the action log (``intake undo`` reopens the
link and takes the counted files back out; the stored file stays on record) and return an ``Outcome``,
or raise ``ActionError``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.app import Deps
from bot.coordinator.actions import ActionError, place
from bot.coordinator.journal import Actor, Journal, Outcome
from bot.ingest.findings import not_material_of
from bot.ingest.validate import stored_texts, validate_mail
from bot.mime.archive import expand
from bot.mime.mail import DecodedText, Material, Skipped
from db.models import Attachment, CloudFile, Problem, ReviewItem
from db.upserts import ensure_stored_file
from rules import codes
from rules.disposition import disposition
from rules.match import evaluate

ORIGIN = "cloud"


def find_cloud_file(s: Session, ref: str) -> CloudFile:
    m = re.fullmatch(r"[Cc]?(\d+)", ref.strip())
    if m is None:
        raise ActionError(f"云附件编号“{ref}”无效（例如 C3，见 intake cloud）")
    cloud = s.get(CloudFile, int(m.group(1)), options=[joinedload(CloudFile.mail)])
    if cloud is None:
        raise ActionError(f"没有编号为 C{m.group(1)} 的云附件")
    return cloud


def _open(cloud: CloudFile) -> CloudFile:
    if cloud.status == "fetched":
        raise ActionError(f"云附件 C{cloud.id}“{cloud.filename}”已下载登记过（文件 A{cloud.attachment_id}）")
    if cloud.status == "dismissed":
        raise ActionError(f"云附件 C{cloud.id}“{cloud.filename}”已关闭，不再处理")
    return cloud


def cloud_files(s: Session, *, include_closed: bool = False) -> Sequence[CloudFile]:
    """Open links first (soonest expiry first), then closed ones when asked."""
    stmt = select(CloudFile).options(joinedload(CloudFile.mail))
    if not include_closed:
        stmt = stmt.where(CloudFile.status == "pending")
    stmt = stmt.order_by(
        CloudFile.status != "pending", CloudFile.expires_at.is_(None), CloudFile.expires_at, CloudFile.id
    )
    return s.scalars(stmt).all()


def material_from_file(path: Path, workdir: Path, filename: str | None = None) -> tuple[list[Material], list[Skipped]]:
    """A file downloaded by hand as the materials an attachment of that name would give (containers
    opened, members spooled into ``workdir``)."""
    if not path.is_file():
        raise ActionError(f"找不到文件 {path}（请写下载后保存的文件路径）")
    name = filename or path.name
    spooled = workdir / "download"
    with path.open("rb") as src, spooled.open("wb") as out:
        digest = hashlib.sha256()
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
    material = Material(
        filename=DecodedText(name),
        path=spooled,
        size=spooled.stat().st_size,
        sha256=digest.hexdigest(),
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        origin=ORIGIN,
    )
    return expand(material, workdir)


def fetch(
    s: Session,
    deps: Deps,
    ref: str,
    materials: Sequence[Material],
    skipped: Sequence[Skipped] = (),
    *,
    actor: Actor,
    command: str = "",
) -> Outcome:
    """Record the hand-downloaded ``materials`` for cloud file ``ref`` and close the link."""
    cloud = _open(find_cloud_file(s, ref))
    j = Journal(s)
    if not materials:
        raise ActionError(f"没有收到云附件 C{cloud.id} 的文件：请附上下载的文件")
    mail = cloud.mail
    section = mail.section or None
    refused = not_material_of(materials, skipped)
    names = [m.filename.text for m in materials]
    decision = evaluate(mail.subject, names, deps.catalogue, "", section=section)
    plan = disposition(decision, section, deps.catalogue, from_addr=mail.from_addr, not_material=refused)
    attachments: list[Attachment] = []
    for material in materials:
        rel = deps.storage.store_file(material.path, material.sha256)
        ensure_stored_file(s, material.sha256, material.size, rel)
        att = Attachment(
            mail_id=mail.id,
            sha256=material.sha256,
            filename=material.filename.text,
            origin=ORIGIN,
            container=material.container or (cloud.filename if material.origin != ORIGIN else None),
            content_type=material.content_type,
            size=material.size,
        )
        s.add(att)
        attachments.append(att)
    s.flush()
    counted: dict[int, list[str]] = {}
    placed = {a.file for a in plan.assignments}
    for a in plan.assignments:
        counted.setdefault(a.file, []).append(a.indicator_id)
    for review in plan.reviews:
        if review.file is None:
            continue  # about the mail as a whole (an unknown sender): already before the coordinator
        if review.reason == codes.NEEDS_REVIEW and cloud.indicators and review.file not in placed:
            counted[review.file] = list(cloud.indicators)  # the link said which item it is for
            continue
        j.add(
            ReviewItem(
                mail_id=mail.id,
                attachment_id=attachments[review.file].id,
                reason=review.reason,
                detail=f"（云附件 C{cloud.id}）{review.detail}",
                candidates=list(review.candidates),
            )
        )
    for p in plan.problems:
        file_id = attachments[p.file].id if p.file is not None else None
        j.add(Problem(mail_id=mail.id, attachment_id=file_id, code=p.code, detail=p.detail))
    lines = []
    for index, att in enumerate(attachments):
        ids = counted.get(index, [])
        added = [i for i in ids if place(j, att, i, mail.section or "", move=False, matched_by=ORIGIN)]
        if ids:
            lines.append(f"“{att.filename}”计入指标{'、'.join(ids)}" + ("" if added else "（此前已有相同文件）"))
        elif index in refused:
            lines.append(f"“{att.filename}”不算材料：{refused[index].detail}")
        else:
            lines.append(f"“{att.filename}”待人工确认指标（intake review）")
    before = {p.id for p in s.scalars(select(Problem).where(Problem.mail_id == mail.id))}
    validate_mail(s, mail, stored_texts(s, mail, deps.storage), deps.catalogue)
    s.flush()
    attachment_ids = {a.id for a in attachments}
    found = [
        p.detail
        for p in s.scalars(select(Problem).where(Problem.mail_id == mail.id).order_by(Problem.id))
        if p.id not in before and p.attachment_id in attachment_ids
    ]
    j.update(cloud, status="fetched", attachment_id=attachments[0].id, closed_at=deps.clock())
    who = mail.section or mail.from_addr
    text = f"已登记云附件 C{cloud.id}（{who}，{cloud.filename}）：" + "；".join(lines) + "。链接已关闭。"
    if found:
        text += "校验发现：" + "；".join(found) + "。"
    entry = j.commit(actor, "fetched", command or f"已下载 C{cloud.id}", text)
    return Outcome(text, entry.id)


def fetch_path(
    s: Session, deps: Deps, ref: str, path: Path, *, filename: str | None = None, actor: Actor, command: str = ""
) -> Outcome:
    """``intake cloud fetched C3 FILE``: the file on disk, as ``fetch`` takes it."""
    workdir = deps.storage.root / "spool"
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=workdir, prefix="cloud-"))
    try:
        _open(find_cloud_file(s, ref))
        materials, skipped = material_from_file(path, tmp, filename)
        return fetch(s, deps, ref, materials, skipped, actor=actor, command=command)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dismiss(s: Session, deps: Deps, ref: str, *, reason: str = "", actor: Actor, command: str = "") -> Outcome:
    """Close a link without a file: it will not be fetched (the section re-sends, or it is not needed)."""
    cloud = _open(find_cloud_file(s, ref))
    j = Journal(s)
    j.update(cloud, status="dismissed", closed_at=deps.clock())
    text = f"已关闭云附件 C{cloud.id}（{cloud.filename}）" + (f"：{reason}" if reason else "") + "。"
    entry = j.commit(actor, "dismiss", command or f"关闭 C{cloud.id} {reason}".strip(), text)
    return Outcome(text, entry.id)
