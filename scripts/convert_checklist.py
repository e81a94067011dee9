#!/usr/bin/env python3
"""Regenerate rules/data/checklist.json from the bureau's table text.

Usage: python scripts/convert_checklist.py [SEED.txt] [OUT.json]
(defaults: rules/data/seed/指标体系及责任分工.txt -> rules/data/checklist.json)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rules.catalogue import parse_catalogue  # noqa: E402
from rules.seed_converter import convert_seed  # noqa: E402


def main(argv: list[str]) -> int:
    seed = Path(argv[0]) if argv else ROOT / "rules/data/seed/指标体系及责任分工.txt"
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "rules/data/checklist.json"
    data = convert_seed(seed.read_text(encoding="utf-8"))
    parse_catalogue(data)  # validate before writing
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(data['indicators'])} indicators -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
