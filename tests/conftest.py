"""Shared test configuration. Server fixtures live in tests/fixtures/ (one module per server)."""

from __future__ import annotations

import os

from hypothesis import settings

# In CI the property tests replay the same examples every run (a red build must mean a change broke
# something); run them locally, randomised, to keep hunting for new counter-examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

pytest_plugins = [
    "tests.fixtures.dovecot",
    "tests.fixtures.smtpd",
    "tests.fixtures.database",
    "tests.fixtures.tcpproxy",
]
