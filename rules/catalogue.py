"""The checklist as data: typed, validated, loaded once.

The data file ``rules/data/checklist.json`` is produced from the bureau's table by
``rules.seed_converter`` (``intake catalog convert``); a campaign or another bureau brings its own file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

INDICATOR_KEYS = (
    "id",
    "level1",
    "level2_no",
    "level2",
    "text",
    "methods",
    "materials",
    "no_materials_needed",
    "owners",
    "word_limit",
    "period_hint",
)


class CatalogueError(ValueError):
    """The catalogue data is inconsistent; the message says which entry and field."""


@dataclass(frozen=True)
class Owner:
    section: str
    persons: tuple[str, ...]


@dataclass(frozen=True)
class Indicator:
    id: str  # "1".."60", "加1", "加2", "减1", "减2"
    level1: str
    level2_no: int
    level2: str
    text: str
    methods: tuple[str, ...]
    materials: str | None
    no_materials_needed: bool
    owners: tuple[Owner, ...]
    word_limit: int | None
    period_hint: str | None

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(o.section for o in self.owners)

    @property
    def owes_material(self) -> bool:
        return not self.no_materials_needed

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level1": self.level1,
            "level2_no": self.level2_no,
            "level2": self.level2,
            "text": self.text,
            "methods": list(self.methods),
            "materials": self.materials,
            "no_materials_needed": self.no_materials_needed,
            "owners": [{"section": o.section, "persons": list(o.persons)} for o in self.owners],
            "word_limit": self.word_limit,
            "period_hint": self.period_hint,
        }


@dataclass(frozen=True)
class Campaign:
    """The campaign facts of the table's preamble."""

    title: str
    mailbox: str
    deadline_month: int
    deadline_day: int
    default_period_start: str  # ISO date
    default_period_end: str  # ISO date
    default_word_limit: int
    rules: tuple[str, ...]  # the preamble's numbered rules, as written
    classified_rule: str
    no_material_rule: str

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "mailbox": self.mailbox,
            "deadline_month": self.deadline_month,
            "deadline_day": self.deadline_day,
            "default_period_start": self.default_period_start,
            "default_period_end": self.default_period_end,
            "default_word_limit": self.default_word_limit,
            "rules": list(self.rules),
            "classified_rule": self.classified_rule,
            "no_material_rule": self.no_material_rule,
        }


@dataclass(frozen=True)
class Catalogue:
    campaign: Campaign
    indicators: tuple[Indicator, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {i.id: i for i in self.indicators})

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._by_id  # type: ignore[attr-defined]

    def get(self, indicator_id: str) -> Indicator | None:
        by_id: dict[str, Indicator] = self._by_id  # type: ignore[attr-defined]
        return by_id.get(indicator_id)

    def __getitem__(self, indicator_id: str) -> Indicator:
        found = self.get(indicator_id)
        if found is None:
            raise KeyError(indicator_id)
        return found

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.indicators)

    @property
    def sections(self) -> tuple[str, ...]:
        """Every responsible section, in order of first appearance."""
        seen: dict[str, None] = {}
        for ind in self.indicators:
            for o in ind.owners:
                seen.setdefault(o.section, None)
        return tuple(seen)

    def for_section(self, section: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if section in i.sections)


def _require(entry: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in entry:
        raise CatalogueError(f"{where}: missing field {key!r}")
    value = entry[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CatalogueError(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _indicator(entry: Mapping[str, Any], index: int) -> Indicator:
    where = f"indicator #{index + 1}"
    if not isinstance(entry, Mapping):
        raise CatalogueError(f"{where}: not an object")
    extra = set(entry) - set(INDICATOR_KEYS)
    if extra:
        raise CatalogueError(f"{where}: unknown fields {sorted(extra)}")
    ind_id = _require(entry, "id", str, where)
    where = f"indicator {ind_id!r}"
    owners_raw = _require(entry, "owners", list, where)
    owners = []
    for o in owners_raw:
        section = _require(o, "section", str, where + " owner")
        persons = _require(o, "persons", list, where + " owner")
        if not section or not all(isinstance(p, str) and p for p in persons):
            raise CatalogueError(f"{where}: owner with empty section or person")
        owners.append(Owner(section=section, persons=tuple(persons)))
    if not owners:
        raise CatalogueError(f"{where}: no responsible section")
    materials = entry.get("materials")
    if materials is not None and not isinstance(materials, str):
        raise CatalogueError(f"{where}: field 'materials' must be a string or null")
    no_materials = _require(entry, "no_materials_needed", bool, where)
    if no_materials != (materials is None):
        raise CatalogueError(f"{where}: no_materials_needed must be true exactly when materials is null")
    word_limit = entry.get("word_limit")
    if word_limit is not None and (not isinstance(word_limit, int) or word_limit <= 0):
        raise CatalogueError(f"{where}: word_limit must be a positive integer or null")
    period = entry.get("period_hint")
    if period is not None and not isinstance(period, str):
        raise CatalogueError(f"{where}: period_hint must be a string or null")
    methods = _require(entry, "methods", list, where)
    return Indicator(
        id=ind_id,
        level1=_require(entry, "level1", str, where),
        level2_no=_require(entry, "level2_no", int, where),
        level2=_require(entry, "level2", str, where),
        text=_require(entry, "text", str, where),
        methods=tuple(str(m) for m in methods),
        materials=materials,
        no_materials_needed=no_materials,
        owners=tuple(owners),
        word_limit=word_limit,
        period_hint=period,
    )


def _campaign(entry: Any) -> Campaign:
    where = "campaign"
    if not isinstance(entry, Mapping):
        raise CatalogueError("campaign: not an object")
    return Campaign(
        title=_require(entry, "title", str, where),
        mailbox=_require(entry, "mailbox", str, where),
        deadline_month=_require(entry, "deadline_month", int, where),
        deadline_day=_require(entry, "deadline_day", int, where),
        default_period_start=_require(entry, "default_period_start", str, where),
        default_period_end=_require(entry, "default_period_end", str, where),
        default_word_limit=_require(entry, "default_word_limit", int, where),
        rules=tuple(_require(entry, "rules", list, where)),
        classified_rule=_require(entry, "classified_rule", str, where),
        no_material_rule=_require(entry, "no_material_rule", str, where),
    )


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """Validate decoded JSON data and build a :class:`Catalogue`."""
    if not isinstance(data, Mapping):
        raise CatalogueError("catalogue: top level must be an object")
    raw = data.get("indicators")
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise CatalogueError("catalogue: 'indicators' must be a list")
    indicators = tuple(_indicator(e, n) for n, e in enumerate(raw))
    seen: set[str] = set()
    for ind in indicators:
        if ind.id in seen:
            raise CatalogueError(f"indicator {ind.id!r}: duplicate id")
        seen.add(ind.id)
    if not indicators:
        raise CatalogueError("catalogue: no indicators")
    return Catalogue(campaign=_campaign(data.get("campaign", {})), indicators=indicators)


def default_catalogue_text() -> str:
    return resources.files("rules").joinpath("data/checklist.json").read_text(encoding="utf-8")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load the built-in checklist, or the one at ``path``."""
    text = path.read_text(encoding="utf-8") if path is not None else default_catalogue_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"catalogue {path or 'built-in'}: not valid JSON ({exc})") from exc
    return parse_catalogue(data)
