"""Shared test configuration. Server fixtures live in tests/fixtures/ (one module per server)."""

from __future__ import annotations

pytest_plugins = [
    "tests.fixtures.dovecot",
    "tests.fixtures.smtpd",
    "tests.fixtures.database",
    "tests.fixtures.tcpproxy",
]
