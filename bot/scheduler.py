"""``intake run``: the daemon. APScheduler 3 calls four plain job functions on a timetable.

The job functions take ``deps`` and read the time from ``deps.clock``, so tests call them directly
with an injected clock; the scheduler only decides *when* to call them. Correctness never depends on
the scheduler's memory: every mail a job produces has an outbox key ("reminder:<section>:<slot>",
"digest:<day>"), so a job run twice, late or after a restart does the right thing. That is why the
in-memory job store is enough and why the reminder and digest jobs also run once at start-up (the
catch-up after downtime).

Timetable (job ids are fixed, ``replace_existing=True``; ``coalesce=True`` and
``max_instances=1`` everywhere; one worker thread, so jobs never race each other on SQLite):

========== ================================== ==================
job id     when                               misfire grace
========== ================================== ==================
poll       every ``poll_minutes``, and at start 15 minutes
flush      every minute (retries of the outbox) 5 minutes
reminders  at each reminder slot, and at start      6 hours
digest     daily at ``[coordinator] digest_at``, and at start 6 hours
========== ================================== ==================

Stopping (SIGTERM from ``systemctl stop``, or Ctrl-C) sets ``deps.stopping``: the running job finishes
the mail or the SMTP transaction at hand and returns (a document being read is abandoned, unrecorded,
and read again next time), jobs already queued return at once, and the process exits within
``STOP_SECONDS``. If something hangs past that (a stalled download), the process ends itself; nothing
is lost, as every mail is its own transaction. systemd's ``TimeoutStopSec`` (deploy/intake.service)
leaves a margin above ``STOP_SECONDS``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import Deps
from bot.config import Config
from bot.ingest.faults import PollStopped, transient_message
from bot.ingest.poll import poll_once
from bot.mailbox.errors import ImapError
from bot.outgoing.digest import send_digest
from bot.outgoing.reminders import send_reminders
from bot.outgoing.sending import flush_outbox
from rules.schedule import next_reminder_time

log = logging.getLogger(__name__)

POLL_GRACE_SECONDS = 15 * 60
FLUSH_GRACE_SECONDS = 5 * 60
DAILY_GRACE_SECONDS = 6 * 60 * 60
# The stop contract: after SIGTERM the process is gone within this many seconds.
STOP_SECONDS = 10.0


# -- the jobs -----------------------------------------------------------------------------------


def run_poll_job(deps: Deps) -> None:
    """Poll every folder, then send what the poll queued (receipts). Never raises."""
    if deps.stopping.is_set():
        return  # queued before the stop: not started
    try:
        report = poll_once(deps)
    except PollStopped as exc:
        log.error("poll stopped: %s", exc.message)
    except ImapError as exc:
        log.error("poll failed (the next poll resumes where this one stopped): %s", exc)
    except Exception:
        log.exception("poll failed")
    else:
        log.info(
            "poll: %d new mails (%d duplicates), %d files, %d review items, %d ignored, %d errors",
            report.mails,
            report.duplicates,
            report.files,
            report.reviews,
            report.ignored,
            report.errors,
        )
    run_flush_job(deps)


def run_flush_job(deps: Deps) -> None:
    """Send what is due in the outbox (new mail and retries). Never raises."""
    if deps.stopping.is_set():
        return
    try:
        flush_outbox(deps)
    except Exception as exc:
        _failed("outbox flush", exc)


def run_reminder_job(deps: Deps) -> None:
    """Queue and send the reminders due now, if any. Never raises."""
    if deps.stopping.is_set():
        return
    try:
        run = send_reminders(deps, deps.clock())
    except Exception as exc:
        _failed("reminders", exc)
        return
    if run.queued:
        log.info("reminders: %d queued (%s)", len(run.queued), ", ".join(r.section for r in run.queued))
    upcoming = ReminderSlots(deps.config).get_next_fire_time(None, deps.clock())
    log.info("next reminder slot: %s", upcoming.isoformat() if upcoming else "none left")


def _failed(job: str, exc: Exception) -> None:
    """Log a job's failure: a transient fault (disk, database) as its Chinese cause and fix, since the
    next run simply retries; anything else with its traceback, for the maintainer."""
    message = transient_message(exc)
    if message is not None:
        log.error("%s failed: %s", job, message)
    else:
        log.exception("%s failed", job)


class ReminderSlots(BaseTrigger):  # type: ignore[misc]  # apscheduler ships no types
    """Fires at each reminder slot (``rules.schedule.next_reminder_time``): the days before the
    deadline in ``[reminders] days_before`` and every ``overdue_every_days`` after it, at
    ``[reminders] at`` in the campaign's time zone. None once no slot is left (no overdue reminders)."""

    def __init__(self, config: Config) -> None:
        self.deadline = config.campaign.deadline
        self.days_before = config.reminders.days_before
        self.overdue_every_days = config.reminders.overdue_every_days
        self.at = config.reminders.at
        self.tz = config.campaign.tz

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        after = max(previous_fire_time, now) if previous_fire_time is not None else now
        return next_reminder_time(
            deadline=self.deadline,
            days_before=self.days_before,
            overdue_every_days=self.overdue_every_days,
            at=self.at,
            tz=self.tz,
            now=after,
        )

    def __str__(self) -> str:
        return f"reminder slots (deadline {self.deadline}, at {self.at:%H:%M})"


def run_digest_job(deps: Deps) -> None:
    """Queue and send today's digest once its time has come. Never raises."""
    if deps.stopping.is_set():
        return
    try:
        run = send_digest(deps, deps.clock())
    except Exception as exc:
        _failed("digest", exc)
        return
    if run.queued:
        log.info("digest for %s queued", run.slot)


# -- the timetable ------------------------------------------------------------------------------


def configure(scheduler: BaseScheduler, deps: Deps, *, start_now: datetime | None = None) -> None:
    """Add intake's jobs to ``scheduler`` (which must use the campaign time zone).

    ``start_now`` is when the start-up runs happen (default: the clock), for poll, reminders and digest.
    """
    cfg = deps.config
    tz = cfg.campaign.tz
    first = (start_now or deps.clock()).astimezone(tz)
    common = {"replace_existing": True, "coalesce": True, "max_instances": 1}
    scheduler.add_job(
        run_poll_job,
        IntervalTrigger(minutes=cfg.mailbox.poll_minutes, timezone=tz),
        args=(deps,),
        id="poll",
        name="收取邮件",
        misfire_grace_time=POLL_GRACE_SECONDS,
        next_run_time=first,
        **common,
    )
    scheduler.add_job(
        run_flush_job,
        IntervalTrigger(minutes=1, timezone=tz),
        args=(deps,),
        id="flush",
        name="发送发件队列",
        misfire_grace_time=FLUSH_GRACE_SECONDS,
        **common,
    )
    scheduler.add_job(
        run_reminder_job,
        ReminderSlots(cfg),
        args=(deps,),
        id="reminders",
        name="催报提醒",
        misfire_grace_time=DAILY_GRACE_SECONDS,
        next_run_time=first,
        **common,
    )
    digest_at = cfg.coordinator.digest_at
    scheduler.add_job(
        run_digest_job,
        CronTrigger(hour=digest_at.hour, minute=digest_at.minute, timezone=tz),
        args=(deps,),
        id="digest",
        name="进度汇总",
        misfire_grace_time=DAILY_GRACE_SECONDS,
        next_run_time=first,
        **common,
    )


def build_scheduler(deps: Deps) -> BlockingScheduler:
    """A blocking scheduler in the campaign's time zone with intake's jobs and the in-memory store."""
    scheduler = BlockingScheduler(
        timezone=deps.config.campaign.tz,
        executors={"default": ThreadPoolExecutor(max_workers=1)},
    )
    configure(scheduler, deps)
    return scheduler


def install_signal_handlers(scheduler: BaseScheduler, stopping: threading.Event | None = None) -> None:
    """SIGTERM (systemd stop) and SIGINT (Ctrl-C) set ``stopping`` and stop the scheduler: the running
    job ends after its current mail or SMTP transaction, queued jobs return without work."""

    def shut_down() -> None:
        if scheduler.running:
            # Waits for the running job in the worker thread (it sees ``stopping``); queued jobs
            # return at once; the main loop then returns.
            scheduler.shutdown(wait=True)

    stop_on_signals(stopping if stopping is not None else threading.Event(), shut_down)


def stop_on_signals(stopping: threading.Event, then: Callable[[], None] | None = None) -> None:
    """On SIGTERM or SIGINT: set ``stopping`` and run ``then``. A watchdog ends the process if it is
    still running ``STOP_SECONDS`` later; a second signal ends it at once. Main thread only."""
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            _die(signum)
        stopping.set()
        name = signal.Signals(signum).name
        log.info("received %s: finishing the current mail or SMTP transaction, then stopping", name)
        threading.Thread(target=_watchdog, args=(done, signum), name="intake-stop-watchdog", daemon=True).start()
        try:
            if then is not None:
                then()
        finally:
            done.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


def _watchdog(done: threading.Event, signum: int) -> None:
    if done.wait(STOP_SECONDS):
        return
    log.error("not stopped %.0f s after the signal (a transfer hangs?): exiting now", STOP_SECONDS)
    os.kill(os.getpid(), signum)  # the handler, in the main thread, ends the process by that signal
    time.sleep(1.0)
    os._exit(128 + signum)  # the main thread is stuck in C code: end without it


def _die(signum: int) -> None:
    """End the process by the signal it received (systemd counts that as a clean stop). Whatever was
    not committed is done again by the next start, which also cleans the spool."""
    log.warning("exiting now; work not committed is redone at the next start")
    logging.shutdown()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def run_forever(deps: Deps) -> None:
    """Start the daemon; returns after SIGTERM/SIGINT once the running job has finished."""
    scheduler = build_scheduler(deps)
    install_signal_handlers(scheduler, deps.stopping)
    cfg = deps.config
    log.info(
        "intake run: polling %s every %d min, reminders at %s, digest at %s (%s)",
        ", ".join(cfg.mailbox.folders),
        cfg.mailbox.poll_minutes,
        cfg.reminders.at.strftime("%H:%M"),
        cfg.coordinator.digest_at.strftime("%H:%M"),
        cfg.campaign.timezone,
    )
    scheduler.start()
    log.info("intake run: stopped")
