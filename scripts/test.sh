#!/usr/bin/env bash
# The test command the README gives. Run from the repository root inside the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python -m pytest -q "$@"
