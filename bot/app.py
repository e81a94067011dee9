"""The composition root: build every dependency once from the config (Cosmic Python's bootstrap).

Nothing here connects at import time; ``build`` opens the database (and migrates it to head) and
prepares settings for the mailbox, which ``poll`` connects to afresh on every poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Config
from bot.ingest.storage import Storage
from bot.mailbox.imap import ImapSettings
from db.session import make_engine, make_sessionmaker, upgrade
from rules.catalogue import Catalogue, load_catalogue

log = logging.getLogger(__name__)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    config: Config
    catalogue: Catalogue
    engine: Engine
    sessions: sessionmaker[Session]
    storage: Storage
    clock: Callable[[], datetime] = system_clock
    own_addresses: frozenset[str] = field(default_factory=frozenset)
    # Set when the process is asked to stop (SIGTERM): a poll ends after the current mail, a flush after
    # the current SMTP transaction, and queued jobs do not start (bot.scheduler).
    stopping: threading.Event = field(default_factory=threading.Event)

    def imap_settings(self, folder: str) -> ImapSettings:
        """Settings for one folder. Reads the 授权码 now, so a missing secret fails only the commands
        that need the mailbox."""
        m = self.config.mailbox
        return ImapSettings(
            host=m.host,
            username=m.username,
            password=m.password.reveal(),
            port=m.port,
            ssl=m.ssl,
            ca_file=m.ca_file,
            folder=folder,
            connect_timeout=m.connect_timeout,
            read_timeout=m.read_timeout,
            support_email=self.config.coordinator.emails[0] if self.config.coordinator.emails else None,
        )

    def close(self) -> None:
        self.engine.dispose()


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def build(config: Config, *, clock: Callable[[], datetime] | None = None, migrate: bool = True) -> Deps:
    """``clock`` defaults to the config's fixed ``[campaign] clock`` (a kept demo), else the system's."""
    if clock is None:
        clock = fixed_clock(config.campaign.clock) if config.campaign.clock is not None else system_clock
    catalogue = load_catalogue(config.campaign.catalogue)
    engine = make_engine(config.storage.database)
    if migrate:
        upgrade(engine)
    own = {config.mailbox.username.lower()}
    if config.smtp is not None:
        own |= {config.smtp.from_addr.lower(), config.smtp.username.lower()}
    return Deps(
        config=config,
        catalogue=catalogue,
        engine=engine,
        sessions=make_sessionmaker(engine),
        storage=Storage(config.storage.files),
        clock=clock,
        own_addresses=frozenset(own),
    )


def with_clock(deps: Deps, clock: Callable[[], datetime]) -> Deps:
    return replace(deps, clock=clock)
