"""The download-ahead thread keeps order, bounds what waits, and passes failures both ways."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.mailbox.prefetch import prefetched


def test_items_arrive_in_order() -> None:
    with prefetched(lambda: iter(range(1000)), max_items=7, max_bytes=1 << 20) as items:
        assert list(items) == list(range(1000))


def test_producer_never_runs_more_than_max_items_ahead() -> None:
    produced: list[int] = []
    lead: list[int] = []
    consumed = 0
    lock = threading.Lock()

    def produce() -> Iterator[int]:
        for n in range(200):
            with lock:
                lead.append(n - consumed)
            produced.append(n)
            yield n

    with prefetched(produce, max_items=5, max_bytes=1 << 30) as items:
        for _ in items:
            with lock:
                consumed += 1
    # Item n is produced only when at most 5 wait: the producer can be 5 queued + 1 in hand ahead.
    assert max(lead) <= 6


def test_byte_budget_lets_one_big_item_through() -> None:
    sizes = [10, 10, 1000, 10]
    with prefetched(lambda: iter(sizes), max_items=100, max_bytes=50, weight=lambda n: n) as items:
        assert list(items) == sizes


def test_producer_failure_is_raised_after_the_items_before_it() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionResetError("cut mid-FETCH")

    got = []
    with pytest.raises(ConnectionResetError), prefetched(produce, max_items=10, max_bytes=100) as items:
        for item in items:
            got.append(item)
    assert got == [1, 2]


def test_consumer_stopping_early_stops_the_producer_and_discards_the_rest() -> None:
    discarded: list[int] = []
    produced: list[int] = []

    def produce() -> Iterator[int]:
        for n in range(10_000):
            produced.append(n)
            yield n

    with (
        pytest.raises(RuntimeError),
        prefetched(produce, max_items=8, max_bytes=1 << 20, discard=discarded.append) as items,
    ):
        for item in items:
            if item == 3:
                raise RuntimeError("database went away")
    assert len(produced) < 100  # stopped, not run to the end
    # Everything fetched and not processed is handed to discard (e.g. spooled files deleted).
    assert sorted(discarded) == produced[4:]
