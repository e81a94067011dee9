"""``intake export DIR``: the set of materials the evaluators receive, built from the database.

Layout (checklist order; every component through ``bot.ingest.storage.safe_name``)::

    DIR/01-一、政府职能依法全面履行/01-行政审批制度改革全面推行/01-非行政许可审批事项全部取消/服务科-原文件名.docx
    DIR/汇总表.xlsx       the seed table plus status, files, dates, declarations, problems, period
    DIR/manifest.json     {"files": [...], "declarations": [...], "missing": [...], "replaced": [...]}

The export is written into a hidden temporary folder beside ``DIR`` (``.DIR.partial-…``) and renamed
to ``DIR`` only when everything is in it; the zip likewise. A failed or killed export leaves no
half-written ``DIR``: a retry starts afresh (and removes what a killed one left).

Numeric prefixes keep folders in checklist order in Explorer and WPS. Only current files are
exported: never superseded or returned versions (``is_current`` false), files flagged as possibly
classified (rule 4: shown on site, never mailed on), files that are not material (executables,
damaged encodings, archives intake could not open: ``rules.material``), ignored mail, or files of
unknown senders
(section ""). Same names in one folder get -2, -3 (compared case-insensitively, as Windows does).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import Deps
from bot.coordinator.export_xlsx import SummaryRow, write_summary
from bot.coordinator.status import Snapshot, take_snapshot
from bot.ingest.storage import safe_name
from bot.ingest.validate import classified_attachment_ids
from bot.outgoing.messages import short_requirement
from bot.outgoing.render import cn_date
from db.models import Assignment, Problem
from db.queries import attachment_ids_reviewed_for, current_assignments
from rules import codes
from rules.catalogue import Indicator
from rules.lateness import is_late, late_text
from rules.progress import STATE_LABELS, IndicatorProgress, State

SUMMARY_NAME = "汇总表.xlsx"
MANIFEST_NAME = "manifest.json"
SHORT_TITLE_CHARS = 20
COMPONENT_BYTES = 120  # each path component; deep trees must stay under Windows' 260-character paths


class ExportError(ValueError):
    """The export cannot be written; ``str()`` says why, in Chinese."""


@dataclass(frozen=True)
class ExportedFile:
    indicator: str
    section: str
    filename: str  # as it arrived
    sha256: str
    path: str  # relative to the export root, with "/"
    message_id: str | None
    received_at: datetime


@dataclass
class ExportReport:
    root: Path
    files: list[ExportedFile] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    withheld_classified: int = 0
    zip_path: Path | None = None


def item_folder(indicator: Indicator, level1_index: int) -> PurePosixPath:
    """``01-一级指标/01-二级指标/序号-短标题`` for one indicator."""
    number = f"{int(indicator.id):02d}" if indicator.id.isdigit() else indicator.id
    short = short_requirement(indicator.text, SHORT_TITLE_CHARS).rstrip("…")
    return PurePosixPath(
        safe_name(f"{level1_index:02d}-{indicator.level1}", COMPONENT_BYTES),
        safe_name(f"{indicator.level2_no:02d}-{indicator.level2}", COMPONENT_BYTES),
        safe_name(f"{number}-{short}", COMPONENT_BYTES),
    )


def _unique(folder: PurePosixPath, name: str, taken: set[str]) -> PurePosixPath:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, dot, ext = name, "", ""
    candidate, n = name, 1
    while str(folder / candidate).casefold() in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    taken.add(str(folder / candidate).casefold())
    return folder / candidate


def export(deps: Deps, target: Path, *, make_zip: bool = False) -> ExportReport:
    """Write the export into ``target`` (created; must be empty if it exists), all or nothing."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(f"目标目录 {target} 已存在且不为空，请指定一个新的或空的目录")
    target = target.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    for left in target.parent.glob(f".{target.name}.partial-*"):  # what a killed export left behind
        if left.is_dir():
            shutil.rmtree(left, ignore_errors=True)
        else:
            left.unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.partial-"))
    packed = work.with_name(work.name + ".zip")
    try:
        report = _write(deps, work)
        if make_zip:
            _zip(work, target.name, packed)
        if target.exists():
            target.rmdir()  # empty, checked above
        work.rename(target)
        report.root = target
        if make_zip:
            report.zip_path = target.with_name(target.name + ".zip")
            os.replace(packed, report.zip_path)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, OSError):
            where = f"（{exc.filename}）" if exc.filename else ""
            raise ExportError(
                f"导出失败：{exc.strerror or exc}{where}。没有留下不完整的目录；"
                "处理后（如清理磁盘空间）重新运行同一条命令即可"
            ) from exc
        raise
    finally:
        packed.unlink(missing_ok=True)
    return report


def _write(deps: Deps, target: Path) -> ExportReport:
    report = ExportReport(target)
    tz = deps.config.campaign.tz
    with deps.sessions() as s:
        snap = take_snapshot(s, deps.catalogue, deps.config.campaign)
        withheld = classified_attachment_ids(s)
        not_material = attachment_ids_reviewed_for(s, codes.NOT_MATERIAL)  # even if assigned by hand later
        by_indicator: dict[str, list[Assignment]] = defaultdict(list)
        for a in current_assignments(s):
            if not a.section or a.attachment.mail.status != "recorded" or a.attachment_id in not_material:
                continue
            if a.attachment_id in withheld:
                report.withheld_classified += 1
                continue
            by_indicator[a.indicator_id].append(a)
        problems = _problems(s, [a for rows in by_indicator.values() for a in rows], withheld)
        withheld_names = _withheld_names(s, withheld)

        level1_order: dict[str, int] = {}
        taken: set[str] = set()
        rows: list[SummaryRow] = []
        declared = {(d.indicator_id, d.section): d for d in snap.declarations}
        for item in snap.items:
            ind = item.indicator
            index = level1_order.setdefault(ind.level1, len(level1_order) + 1)
            folder = item_folder(ind, index)
            exported: list[ExportedFile] = []
            for a in sorted(
                by_indicator.get(ind.id, []),
                key=lambda a: (ind.sections.index(a.section) if a.section in ind.sections else 99, a.id),
            ):
                att = a.attachment
                # The base name first: a zip member's "服务科材料/1 …docx" must not lose the 科室- prefix.
                name = f"{a.section}-{safe_name(att.filename, COMPONENT_BYTES)}"
                rel = _unique(folder, safe_name(name, COMPONENT_BYTES), taken)
                dest = target / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                with deps.storage.open(att.stored_file.path) as src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                exported.append(
                    ExportedFile(ind.id, a.section, att.filename, att.sha256, str(rel), att.mail.message_id,
                                 att.mail.received_at)
                )  # fmt: skip
            report.files.extend(exported)
            report.missing.extend((ind.id, o.section) for o in item.owners if o.state is State.OUTSTANDING)
            rows.append(
                _summary_row(
                    item, folder, exported, declared, problems.get(ind.id, []), withheld_names.get(ind.id, []),
                    _default_period(deps), tz, snap.late,
                )
            )  # fmt: skip
        manifest = _manifest(report, snap.declarations, deps.config.campaign.deadline, tz)
        manifest["replaced"] = _replaced(snap)

    write_summary(target / SUMMARY_NAME, rows, deps.catalogue.campaign.title)
    (target / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def _problems(s: Session, assignments: list[Assignment], withheld: set[int]) -> dict[str, list[str]]:
    """Problem details per indicator, for the files exported under it."""
    by_attachment: dict[int, list[str]] = defaultdict(list)
    ids = {a.attachment_id for a in assignments}
    if ids:
        for p in s.scalars(select(Problem).where(Problem.attachment_id.in_(ids)).order_by(Problem.id)):
            if p.attachment_id is not None:
                by_attachment[p.attachment_id].append(p.detail)
    out: dict[str, list[str]] = defaultdict(list)
    for a in assignments:
        for detail in by_attachment.get(a.attachment_id, []):
            if detail not in out[a.indicator_id]:
                out[a.indicator_id].append(detail)
    return out


def _withheld_names(s: Session, withheld: set[int]) -> dict[str, list[str]]:
    if not withheld:
        return {}
    out: dict[str, list[str]] = defaultdict(list)
    rows = s.scalars(select(Assignment).where(Assignment.attachment_id.in_(withheld), Assignment.is_current.is_(True)))
    for a in rows:
        if a.section:
            out[a.indicator_id].append(f"{a.section}-{a.attachment.filename}")
    return out


def _default_period(deps: Deps) -> str:
    """The campaign's period for items without their own (rule 1 of the table's preamble)."""
    c = deps.catalogue.campaign
    start, end = date.fromisoformat(c.default_period_start), date.fromisoformat(c.default_period_end)
    return f"{cn_date(start)}至{cn_date(end)}（未明确时间的指标）"


def _owners(ind: Indicator) -> str:
    return "\n".join(f"{o.section}：{'、'.join(o.persons)}" if o.persons else o.section for o in ind.owners)


def _summary_row(
    item: IndicatorProgress,
    folder: PurePosixPath,
    exported: list[ExportedFile],
    declared: dict[tuple[str, str], Any],
    problems: list[str],
    withheld: list[str],
    default_period: str,
    tz: Any,
    late: dict[tuple[str, str], timedelta],
) -> SummaryRow:
    ind = item.indicator

    def state(section: str, label: str) -> str:
        by = late.get((ind.id, section))
        return f"{label}（迟报，{late_text(by)}）" if by is not None else label

    if len(item.owners) > 1:
        status = "\n".join(f"{o.section}：{state(o.section, STATE_LABELS[o.state])}" for o in item.owners)
        status = f"{STATE_LABELS[item.state]}\n{status}"
    else:
        status = state(item.owners[0].section, STATE_LABELS[item.state]) if item.owners else STATE_LABELS[item.state]
    dates = sorted({f.received_at.astimezone(tz).date().isoformat() for f in exported})
    declarations = [
        f"{sec}：不涉及（{'协调人登记' if d.source == 'coordinator' else '邮件声明'}）"
        for (i, sec), d in declared.items()
        if i == ind.id
    ]
    notes = list(problems)
    notes.extend(f"《{name}》可能涉密，未导出（实地核验时提供）" for name in withheld)
    link = None
    if len(exported) == 1:
        link = exported[0].path
    elif exported:
        link = str(folder) + "/"
    return SummaryRow(
        level1=ind.level1,
        level2=f"{ind.level2_no}. {ind.level2}",
        number=ind.id,
        text=ind.text,
        methods="、".join(ind.methods),
        materials=ind.materials or "不需提供材料",
        owners=_owners(ind),
        status=status,
        files="\n".join(PurePosixPath(f.path).name for f in exported),
        files_link=link,
        received="\n".join(dates),
        declarations="\n".join(declarations),
        problems="\n".join(notes),
        period=ind.period_hint or default_period,
    )


def _replaced(snap: Snapshot) -> list[dict[str, Any]]:
    """Versions a later file of the same name replaced: listed (what replaced what), never exported."""
    return [
        {
            "indicator": r.indicator_id,
            "section": r.section,
            "filename": r.filename,
            "sha256": r.sha256,
            "message_id": r.message_id,
            "received_at": r.received_at.isoformat(),
            "version": r.version,
            "late": r.late,
            "replaced_by": r.replaced_by,
        }
        for versions in snap.replaced.values()
        for r in versions
        if r.section
    ]


def _manifest(report: ExportReport, declarations: list[Any], deadline: date, tz: Any) -> dict[str, Any]:
    return {
        "files": [
            {
                "indicator": f.indicator,
                "section": f.section,
                "filename": f.filename,
                "sha256": f.sha256,
                "path": f.path,
                "message_id": f.message_id,
                "received_at": f.received_at.isoformat(),
                "late": is_late(f.received_at, deadline, tz),
            }
            for f in report.files
        ],
        "declarations": [
            {
                "indicator": d.indicator_id,
                "section": d.section,
                "source": d.source,
                "message_id": d.mail.message_id if d.mail else None,
                "created_at": d.created_at.isoformat(),
            }
            for d in declarations
        ],
        "missing": [{"indicator": i, "section": sec} for i, sec in report.missing],
    }


def _zip(root: Path, name: str, path: Path) -> None:
    """The files under ``root`` as ``path``, inside a folder ``name``, with UTF-8 names (flag bit 11
    set, which WPS, 7-Zip, Windows 10+ read)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(root.rglob("*")):
            if file.is_file():
                zf.write(file, str(PurePosixPath(name) / file.relative_to(root).as_posix()))
