"""The search gate: how many searches run at once and how many may wait for a slot."""

from __future__ import annotations

import threading

from seoga.serve.problems import BusyError


class SearchGate:
    """At most `slots` searches at once and `queue` waiting; beyond that a fast 503, as
    Meilisearch bounds its search queue on small machines."""

    def __init__(self, slots: int, queue: int, seconds: float) -> None:
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._queue = queue
        self._seconds = seconds
        self._waiting = 0
        self._lock = threading.Lock()

    def __enter__(self) -> SearchGate:
        if self._slots.acquire(blocking=False):
            return self
        with self._lock:
            if self._waiting >= self._queue:
                raise BusyError("too many searches are waiting; retry in a moment.")
            self._waiting += 1
        try:
            if not self._slots.acquire(timeout=self._seconds):
                raise BusyError("searches are queued too long; retry in a moment.")
        finally:
            with self._lock:
                self._waiting -= 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()
