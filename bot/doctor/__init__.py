"""``intake doctor``: check every outside thing the bot depends on, and say in Chinese how to fix each.

The checks, in order (a failed step skips the steps that need it):

- config: the file loads (``bot.config.load_config``), the 授权码 can be read (env var or 0600 file);
- IMAP: TCP connect -> TLS handshake with certificate verification -> LOGIN -> RFC 2971 ID ->
  EXAMINE of every configured folder (read-only, as the poll does);
- SMTP: TCP connect -> TLS -> login through ``bot.outgoing.smtp.SmtpSender``; no mail is sent;
- database: reachable, and migrated to the newest revision;
- storage: the file folder is writable and has free space;
- clock: the machine's time is plausible and synchronised; the campaign's time zone.

Each ``Check`` carries what was found and, when something is wrong, the fix, with what 163 does in
each case (MAIL-FACTS.md): the service switch in the web settings, the 授权码 instead of the web
password, "Unsafe Login" without ID, port 465/993 blocked by a firewall, certificate problems.
Secrets are never printed: messages go through ``scrub`` and database URLs hide the password.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.doctor.host import check_clock, check_database, check_storage
from bot.doctor.mailbox import check_imap, imap_failure
from bot.doctor.report import FAIL, OK, SKIP, WARN, Check
from bot.doctor.settings import check_config
from bot.doctor.smtp import check_smtp

__all__ = ["FAIL", "OK", "SKIP", "WARN", "Check", "imap_failure", "run_checks"]


def run_checks(path: Path, *, now: datetime | None = None) -> list[Check]:
    checks, config = check_config(path)
    if config is None:
        return checks
    for area in (check_imap, check_smtp, check_database, check_storage):
        checks.extend(area(config))
    checks.extend(check_clock(config, now or datetime.now(UTC)))
    return checks
