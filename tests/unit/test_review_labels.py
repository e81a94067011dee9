"""Every review reason the pipeline can raise is defined once (rules.codes) with a Chinese label."""

from __future__ import annotations

import re
from pathlib import Path

from rules import codes

ROOT = Path(__file__).resolve().parents[2]


def test_every_review_reason_written_by_the_code_is_a_labelled_constant() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot").rglob("*.py"))
    literal = set(re.findall(r'reason="([a-z_]+)"', source))
    assert not literal, f"review reasons written as literals instead of rules.codes: {sorted(literal)}"
    used = {getattr(codes, name) for name in re.findall(r"reason=codes\.([A-Z_]+)", source)}
    assert {codes.POSSIBLY_CLASSIFIED, codes.COMMAND_REFUSED, codes.RECEIPT_CAPPED} <= used
    assert used <= set(codes.REVIEW_LABELS), sorted(used - set(codes.REVIEW_LABELS))


def test_reasons_decided_in_rules_have_labels() -> None:
    source = (ROOT / "rules" / "disposition.py").read_text(encoding="utf-8")
    used = {getattr(codes, name) for name in re.findall(r"codes\.([A-Z_]+)", source)}
    reasons = used - {codes.NOT_OWNER, codes.BIDI_IN_NAME}  # problems, not review reasons
    assert reasons and reasons <= set(codes.REVIEW_LABELS)
