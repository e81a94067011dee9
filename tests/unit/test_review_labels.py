"""Every review reason the pipeline can raise has a Chinese label in ``intake review``."""

from __future__ import annotations

import re
from pathlib import Path

from bot.commands.review import REASONS

ROOT = Path(__file__).resolve().parents[2]


def test_every_review_reason_in_the_code_has_a_label() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot").rglob("*.py"))
    literal = set(re.findall(r'reason="([a-z_]+)"', source))
    constants = set(re.findall(r'^[A-Z_]+(?:_REASON|CLASSIFIED) = "([a-z_]+)"', source, re.MULTILINE))
    found = literal | constants
    assert {"needs_review", "unknown_sender", "possibly_classified", "command_refused"} <= found
    assert found <= set(REASONS), sorted(found - set(REASONS))
