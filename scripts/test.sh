#!/usr/bin/env bash
# The README's second command: install everything the tests need, then run the whole suite.
# Servers (Dovecot, PostgreSQL, Chromium) are required: a missing one fails its tests, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export INTAKE_REQUIRE_SERVERS=1
exec .venv/bin/python -m pytest -q "$@"
