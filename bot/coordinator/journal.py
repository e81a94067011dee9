"""The action log: every change a coordinator action makes, recorded so that it can be shown and undone.

An action writes through a ``Journal`` (``add`` / ``update`` / ``delete`` of ORM rows) instead of the
session directly; ``Journal.commit`` stores one ``action_log`` row with who (CLI user or the command
mail's sender), when, the command as typed, what it did, and each row change with its values before
and after. ``undo`` applies the inverse changes in reverse order, but only when every row still holds
the values the action left: a row that a later action or a newly arrived file has changed since is
a conflict, reported with the later action to undo first. Nothing is ever undone halfway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, inspect, select
from sqlalchemy.orm import Session

from bot.coordinator.refs import ActionError
from db.models import (
    Acceptance,
    ActionLog,
    Assignment,
    Attachment,
    Base,
    CloudFile,
    Declaration,
    Mail,
    Outbox,
    Problem,
    ReturnRecord,
    ReviewItem,
    UTCDateTime,
    utcnow,
)
from rules import codes

TRACKED: dict[str, type[Base]] = {
    "assignment": Assignment,
    "review_item": ReviewItem,
    "mail": Mail,
    "declaration": Declaration,
    "acceptance": Acceptance,
    "return_record": ReturnRecord,
    "cloud_file": CloudFile,
    "problem": Problem,
}
_SKIPPED_COLUMNS = {"subject_raw"}  # bytes never change through an action; keep the log JSON-only
# What names a row for a person reading the log (kept with every change, even an update of one column).
_KEYS: dict[str, tuple[str, ...]] = {
    "assignment": ("attachment_id", "indicator_id", "section", "is_current"),
    "review_item": ("status",),
    "mail": ("section",),
    "declaration": ("indicator_id", "section"),
    "acceptance": ("indicator_id", "section"),
    "return_record": ("indicator_id", "section"),
    "cloud_file": ("mail_id", "filename", "status"),
    "problem": ("attachment_id", "code"),
}

Change = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What an action did (Chinese) and its number in the action log (for ``intake undo``)."""

    text: str
    log_id: int


@dataclass(frozen=True)
class Actor:
    """Who acts: ``source`` "cli" or "mail"; ``name`` the CLI user or the command mail's sender."""

    source: str
    name: str
    mail_id: int | None = None  # the command mail

    @property
    def label(self) -> str:
        return f"命令行（{self.name}）" if self.source == "cli" else f"邮件（{self.name}）"


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _decode(model: type[Base], column: str, value: Any) -> Any:
    kind = inspect(model).columns[column].type
    if value is not None and isinstance(kind, UTCDateTime | DateTime):
        return datetime.fromisoformat(value)
    return value


def _values(row: Base, columns: Sequence[str] | None = None) -> dict[str, Any]:
    names = columns or [c.key for c in inspect(type(row)).columns if c.key not in _SKIPPED_COLUMNS]
    return {name: _encode(getattr(row, name)) for name in names}


def _table(row: Base) -> str:
    table = str(type(row).__tablename__)
    if table not in TRACKED:
        raise TypeError(f"{table} is not a tracked table")
    return table


def _change(
    row: Base, op: str, before: dict[str, Any] | None, after: dict[str, Any] | None, key: dict[str, Any]
) -> Change:
    return {"table": _table(row), "id": row.id, "op": op, "key": key, "before": before, "after": after}  # type: ignore[attr-defined]


def _key(row: Base) -> dict[str, Any]:
    return _values(row, _KEYS[_table(row)])


class Journal:
    """Writes an action makes, remembered for the log."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.changes: list[Change] = []

    def add(self, row: Base) -> None:
        self.s.add(row)
        self.s.flush()
        self.inserted(row)

    def inserted(self, row: Base) -> None:
        """Note a row already inserted by other means (an insert-or-ignore)."""
        self.changes.append(_change(row, "insert", None, _values(row), _key(row)))

    def update(self, row: Base, **values: Any) -> None:
        changed = {k: v for k, v in values.items() if _encode(getattr(row, k)) != _encode(v)}
        if not changed:
            return
        before = _values(row, list(changed))
        key = _key(row)
        for name, value in changed.items():
            setattr(row, name, value)
        self.s.flush()
        self.changes.append(_change(row, "update", before, _values(row, list(changed)), key))

    def delete(self, row: Base) -> None:
        self.changes.append(_change(row, "delete", _values(row), None, _key(row)))
        self.s.delete(row)
        self.s.flush()

    def commit(self, actor: Actor, verb: str, command: str, summary: str) -> ActionLog:
        entry = ActionLog(
            source=actor.source,
            actor=actor.name,
            mail_id=actor.mail_id,
            verb=verb,
            command=command,
            summary=summary,
            changes=self.changes,
            created_at=utcnow(),
        )
        self.s.add(entry)
        self.s.flush()
        return entry


# -- undo -----------------------------------------------------------------------------------------


def _current(s: Session, change: Change) -> Base | None:
    return s.get(TRACKED[change["table"]], change["id"])


def _holds(row: Base | None, expected: dict[str, Any] | None) -> bool:
    """Whether ``row`` still has the ``expected`` values (None: the row must be gone)."""
    if expected is None:
        return row is None
    return row is not None and all(_encode(getattr(row, k)) == v for k, v in expected.items())


def _touching(s: Session, entry: ActionLog, change: Change) -> ActionLog | None:
    """A later action, not undone, that changed the same row."""
    later = s.scalars(
        select(ActionLog).where(ActionLog.id > entry.id, ActionLog.undone_at.is_(None), ActionLog.verb != "undo")
    )
    for other in later:
        if any(c["table"] == change["table"] and c["id"] == change["id"] for c in other.changes):
            return other
    return None


def undo(s: Session, entry: ActionLog, actor: Actor) -> tuple[ActionLog, list[str]]:
    """Undo ``entry``; returns the undo's own log entry and notes for the person (Chinese)."""
    if entry.verb == "undo":
        raise ActionError(f"操作 {entry.id} 本身是一次撤销，不能再撤销；请重新执行原来的指令")
    if entry.undone_at is not None:
        raise ActionError(f"操作 {entry.id} 已于此前撤销（见操作 {entry.undone_by}）")
    for change in entry.changes:
        row = _current(s, change)
        if not _holds(row, change["after"]):
            what = describe(s, change)[0]
            later = _touching(s, entry, change)
            if later is not None:
                raise ActionError(
                    f"无法撤销操作 {entry.id}：{what}已被后来的操作 {later.id}（{later.command}）改变，"
                    f"请先撤销操作 {later.id}"
                )
            raise ActionError(f"无法撤销操作 {entry.id}：{what}已被之后收到的邮件或其他处理改变，记录保持不变")
    journal = Journal(s)
    notes: list[str] = []
    for change in reversed(entry.changes):
        model = TRACKED[change["table"]]
        row = _current(s, change)
        if change["op"] == "insert" and row is not None:
            if change["table"] == "return_record":
                notes.extend(_cancel_notice(s, change["id"]))
            journal.delete(row)
        elif change["op"] == "update" and row is not None:
            journal.update(row, **{k: _decode(model, k, v) for k, v in change["before"].items()})
        elif change["op"] == "delete" and _restorable(s, change):
            journal.add(model(**{k: _decode(model, k, v) for k, v in change["before"].items()}))
    notes = list(dict.fromkeys(notes))
    summary = f"已撤销操作 {entry.id}（{entry.command}）"
    undo_entry = journal.commit(actor, "undo", f"撤销 {entry.id}", summary)
    entry.undone_at = undo_entry.created_at
    entry.undone_by = undo_entry.id
    s.flush()
    return undo_entry, notes


def _restorable(s: Session, change: Change) -> bool:
    if change["table"] != "acceptance":
        return True
    before = change["before"]
    again = s.scalar(
        select(Acceptance.id).where(
            Acceptance.indicator_id == before["indicator_id"], Acceptance.section == before["section"]
        )
    )
    return again is None


def _cancel_notice(s: Session, record_id: int) -> list[str]:
    """The 材料退回通知 of an undone return: dropped while still queued; once sent, say so."""
    notice = s.scalar(select(Outbox).where(Outbox.dedupe_key == f"return_notice:{record_id}"))
    if notice is None:
        return []
    if notice.status == "sent":
        return [f"退回通知已于此前发给 {'、'.join(notice.recipients)}，撤销不会收回该邮件，请另行告知科室"]
    s.delete(notice)
    return ["尚未发出的退回通知已取消"]


# -- describing changes (intake log) --------------------------------------------------------------

_REVIEW_STATES = {"open": "待处理", "resolved": "已处理", "dismissed": "已关闭"}
_LABELS = {"declaration": "不涉及声明", "acceptance": "确认", "return_record": "退回记录"}


def describe(s: Session, change: Change) -> tuple[str, str, str]:
    """(what, before, after) of one change, in Chinese, e.g. ("文件 A12“x.pdf”→指标50", "无", "计入（办公室）")."""
    key = change["key"]
    before, after = change["before"], change["after"]
    # The key holds the naming columns as they were before the change; each side overrides them.
    before = None if before is None else {**key, **before}
    after = None if after is None else {**key, **after}
    table = change["table"]
    if table == "assignment":
        att = s.get(Attachment, key["attachment_id"])
        name = f"“{att.filename}”" if att is not None else ""

        def state(values: dict[str, Any] | None) -> str:
            if values is None:
                return "无"
            where = values.get("section") or "未定科室"
            return f"计入（{where}）" if values.get("is_current", True) else f"不计入（{where}）"

        return f"文件 A{key['attachment_id']}{name}→指标{key['indicator_id']}", state(before), state(after)
    if table == "review_item":
        return (
            f"待办 R{change['id']}",
            _REVIEW_STATES.get((before or {}).get("status", ""), "无"),
            _REVIEW_STATES.get((after or {}).get("status", ""), "无"),
        )
    if table == "mail":
        return (
            f"邮件 {change['id']} 的科室",
            (before or {}).get("section") or "未登记",
            (after or {}).get("section") or "未登记",
        )
    if table == "cloud_file":
        states = {"pending": "待下载", "fetched": "已下载", "dismissed": "已关闭"}
        return (
            f"云附件 C{change['id']}“{key['filename']}”",
            states.get((before or {}).get("status", ""), "无"),
            states.get((after or {}).get("status", ""), "无"),
        )
    if table == "problem":
        where = f"文件 A{key['attachment_id']}" if key.get("attachment_id") else "邮件"
        return (
            f"{where}的{codes.REVIEW_LABELS.get(key['code'], key['code'])}标记",
            "已解除" if (before or {}).get("cleared_at") else "有",
            "已解除" if (after or {}).get("cleared_at") else "有",
        )
    what = f"指标{key['indicator_id']}（{key['section']}）{_LABELS[table]}"
    return what, "有" if before else "无", "有" if after else "无"


def changes_text(s: Session, changes: Sequence[Change]) -> str:
    """Every change as "what：before → after", joined for one line of output."""
    return "；".join(f"{what}：{before} → {after}" for what, before, after in (describe(s, c) for c in changes))
