"""Run a producer (the IMAP download) in a thread ahead of its consumer (parsing and recording).

Over the internet the download of a mailbox takes as long as processing it, or longer; overlapping
the two makes a poll take about the longer of them instead of their sum. Order is kept (the consumer
sees items in the producer's order, so the cursor still advances in UID order); what waits is
bounded in count and in bytes, so memory does not grow with the backlog; an exception on either side
ends both: the producer's is raised in the consumer, and a consumer that stops early stops the
producer.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class _End:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Prefetcher(Generic[T]):
    def __init__(
        self,
        produce: Callable[[], Iterable[T]],
        *,
        max_items: int,
        max_bytes: int,
        weight: Callable[[T], int],
        discard: Callable[[T], None],
    ) -> None:
        self._produce = produce
        self._max_items, self._max_bytes = max_items, max_bytes
        self._weight, self._discard = weight, discard
        self._waiting: deque[tuple[T, int]] = deque()
        self._bytes = 0
        self._end: _End | None = None
        self._stopped = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="intake-prefetch", daemon=True)

    def _full(self, weight: int) -> bool:
        # One item is always let through, however big, or a large mail could never pass.
        return bool(self._waiting) and (len(self._waiting) >= self._max_items or self._bytes + weight > self._max_bytes)

    def _run(self) -> None:
        end = _End()
        try:
            for item in self._produce():
                weight = self._weight(item)
                with self._cond:
                    while self._full(weight) and not self._stopped:
                        self._cond.wait()
                    if self._stopped:
                        self._discard(item)
                        return
                    self._waiting.append((item, weight))
                    self._bytes += weight
                    self._cond.notify_all()
        except BaseException as exc:  # handed to the consumer, which raises it
            end = _End(exc)
        with self._cond:
            self._end = end
            self._cond.notify_all()

    def __iter__(self) -> Iterator[T]:
        while True:
            with self._cond:
                while not self._waiting and self._end is None:
                    self._cond.wait()
                if self._waiting:
                    item, weight = self._waiting.popleft()
                    self._bytes -= weight
                    self._cond.notify_all()
                else:
                    assert self._end is not None
                    if self._end.error is not None:
                        raise self._end.error
                    return
            yield item

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join()
        for item, _weight in self._waiting:  # fetched but never consumed
            self._discard(item)
        self._waiting.clear()


@contextmanager
def prefetched(
    produce: Callable[[], Iterable[T]],
    *,
    max_items: int,
    max_bytes: int,
    weight: Callable[[T], int] = lambda _item: 0,
    discard: Callable[[T], None] = lambda _item: None,
) -> Iterator[Iterator[T]]:
    """``with prefetched(lambda: fetch(...), max_items=256, max_bytes=64 << 20, weight=len) as items:``

    ``discard`` is called for items produced but never consumed (e.g. to delete a spooled file)."""
    prefetcher = _Prefetcher(produce, max_items=max_items, max_bytes=max_bytes, weight=weight, discard=discard)
    prefetcher.start()
    try:
        yield iter(prefetcher)
    finally:
        prefetcher.close()
