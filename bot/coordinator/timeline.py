"""Time and history of the record: which file versions were replaced by which, and who is late.

Read from every file version counted for a section (``db.queries.all_assignments``); the rules
are ``rules.lateness`` (late = arrived after the end of the deadline day in the campaign's zone; an
item is late when no on-time delivery covers it) and ``rules.disposition.next_version`` (a file with
the name of an earlier one replaces it). ``intake status --json/--history``, the digest's 迟报 block,
receipts and the export read these.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from itertools import pairwise

from db.models import Assignment
from rules.lateness import Delivery, is_late, item_lateness


@dataclass(frozen=True)
class Deadline:
    """The campaign's deadline day and the zone in which that day ends."""

    day: date
    tz: tzinfo

    def late(self, arrived: datetime) -> bool:
        return is_late(arrived, self.day, self.tz)


@dataclass(frozen=True)
class Replaced:
    """A file version that a later one of the same name replaced."""

    indicator_id: str
    section: str
    filename: str
    sha256: str
    message_id: str | None
    received_at: datetime
    matched_by: str
    version: int
    late: bool
    replaced_by: str  # sha256 of the version that replaced it
    replaced_by_version: int


def _chains(assignments: Sequence[Assignment]) -> dict[tuple[str, str, str], list[Assignment]]:
    chains: dict[tuple[str, str, str], list[Assignment]] = defaultdict(list)
    for a in assignments:
        chains[(a.indicator_id, a.section, a.name_key)].append(a)
    for rows in chains.values():
        rows.sort(key=lambda a: (a.version, a.id))
    return chains


def replaced_versions(assignments: Sequence[Assignment], deadline: Deadline) -> dict[str, list[Replaced]]:
    """Indicator id -> its replaced versions, oldest first. A version that was sent back (退回) and
    never followed by another of its name was not replaced: it is not listed."""
    out: dict[str, list[Replaced]] = defaultdict(list)
    for (indicator_id, section, _), rows in sorted(_chains(assignments).items()):
        for older, newer in pairwise(rows):
            if older.is_current:
                continue
            att, mail = older.attachment, older.attachment.mail
            out[indicator_id].append(
                Replaced(
                    indicator_id=indicator_id,
                    section=section,
                    filename=att.filename,
                    sha256=att.sha256,
                    message_id=mail.message_id,
                    received_at=mail.received_at,
                    matched_by=older.matched_by,
                    version=older.version,
                    late=deadline.late(mail.received_at),
                    replaced_by=newer.attachment.sha256,
                    replaced_by_version=newer.version,
                )
            )
    return dict(out)


def late_items(
    assignments: Sequence[Assignment], returns: Mapping[tuple[str, str], datetime], deadline: Deadline
) -> dict[tuple[str, str], timedelta]:
    """(indicator, section) -> how late, for every item that is late (``rules.lateness.item_lateness``)."""
    by_item: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
    for a in assignments:
        if not a.section:
            continue
        by_item[(a.indicator_id, a.section)].append(
            Delivery(a.name_key, a.attachment.mail.received_at, a.is_current, a.created_at)
        )
    late: dict[tuple[str, str], timedelta] = {}
    for key, deliveries in by_item.items():
        found = item_lateness(deliveries, deadline.day, deadline.tz, returned_at=returns.get(key))
        if found is not None:
            late[key] = found
    return late
