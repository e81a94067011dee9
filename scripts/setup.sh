#!/usr/bin/env bash
# Set up intake on a fresh Debian machine: system packages (when run as root), a venv, the package.
#   scripts/setup.sh          runtime only (what `intake demo` needs: no servers, no root)
#   scripts/setup.sh --test   also the test servers (Dovecot, PostgreSQL, Chromium) and test extras
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  packages=(python3 python3-venv python3-pip ca-certificates)
  if [ "$want_test" = 1 ]; then
    # The fixtures start private servers on 127.0.0.1; keep apt from starting system ones. Only while
    # this script runs: a policy-rc.d left behind stops Debian from starting any service installed
    # later. So remove it on every way out (success, error, Ctrl-C), and only if we created it.
    policy_rc_d="${INTAKE_POLICY_RC_D:-/usr/sbin/policy-rc.d}"  # tests point this elsewhere
    if [ ! -e "$policy_rc_d" ]; then
      trap 'rm -f "$policy_rc_d"' EXIT
      trap 'exit 130' INT
      trap 'exit 143' TERM
      printf '#!/bin/sh\nexit 101\n' > "$policy_rc_d"
      chmod +x "$policy_rc_d"
    fi
    packages+=(dovecot-imapd postgresql chromium fonts-noto-cjk openssl)
  fi
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "intake 需要 Python 3.11 或更高版本")'
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -U pip
if [ "$want_test" = 1 ]; then
  .venv/bin/pip install -q -e ".[test]"
else
  .venv/bin/pip install -q -e .
fi
