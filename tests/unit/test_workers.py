"""How many processes read mails: the configured number, else one per usable core, at most four."""

from __future__ import annotations

import os

import pytest

from bot.ingest import workers
from bot.ingest.workers import MAX_WORKERS, worker_count


def test_a_configured_number_wins() -> None:
    assert worker_count(1) == 1
    assert worker_count(6) == 6


def test_zero_means_one_per_usable_core_at_most_four(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, expected in ((1, 1), (2, 2), (4, 4), (16, MAX_WORKERS)):
        monkeypatch.setattr(workers.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert worker_count(0) == expected
    assert MAX_WORKERS == 4


def test_this_machine() -> None:
    assert 1 <= worker_count() <= min(len(os.sched_getaffinity(0)), MAX_WORKERS)
