#!/usr/bin/env bash
# The README's first command: install, then run intake's whole job against an embedded mail server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/intake demo "$@"
