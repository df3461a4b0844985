"""Limits: how many connections and for how long (`ConnectionLimits`, which the guarded server
of seoga.serve.server applies), and a rate per client (a key id, or an address for requests
without a key) as a token bucket.

Each client may post `per_minute` events a minute, in bursts of up to a minute's worth; a request
that would go past it is refused whole (nothing is written) with the seconds until it would fit.
The clock is injectable so tests need not sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from seoga.errors import InputError, SeogaError

SECONDS_PER_MINUTE = 60.0
# Clients tracked at once; the least recently seen are forgotten first (a forgotten client starts
# again with a full bucket), so many addresses cannot grow the table without bound.
MAX_CLIENTS = 10_000


class RateLimitedError(SeogaError):
    """A client is over its rate; it may retry after `retry_after` seconds (HTTP 429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per client: `per_minute` tokens a minute, holding at most that many."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        if per_minute < 1:
            raise ValueError("a rate limit allows at least one event a minute.")
        self.per_minute = per_minute
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, count: int) -> None:
        """Spend `count` tokens of `client`'s bucket, or raise RateLimitedError and spend none."""
        if count > self.per_minute:
            raise InputError(
                f"{count} events in one request; this server takes at most {self.per_minute} "
                "a minute from one client: send fewer at once."
            )
        with self._lock:
            bucket = self._refilled(client)
            self._refuse_beyond(bucket, count)
            bucket.tokens -= count

    def check(self, client: str) -> None:
        """Raise RateLimitedError if `client` could not post even one event now: checked before
        a request's body is validated, so a client over its rate costs next to nothing."""
        with self._lock:
            self._refuse_beyond(self._refilled(client), 1)

    def _refilled(self, client: str) -> Bucket:
        now = self._clock()
        bucket = self._buckets.pop(client, None) or Bucket(float(self.per_minute), now)
        refill = (now - bucket.stamp) * self.per_minute / SECONDS_PER_MINUTE
        bucket.tokens = min(float(self.per_minute), bucket.tokens + refill)
        bucket.stamp = now
        self._buckets[client] = bucket  # most recently seen last
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return bucket

    def _refuse_beyond(self, bucket: Bucket, count: int) -> None:
        if bucket.tokens < count:
            wait = math.ceil((count - bucket.tokens) * SECONDS_PER_MINUTE / self.per_minute)
            raise RateLimitedError(
                f"over {self.per_minute} events a minute; retry in {wait} s.", wait
            )


@dataclass(frozen=True)
class ConnectionLimits:
    """How long and how many: the guards of the module docstring."""

    # A real client sends its request head at once; 10 s leaves room for a slow link.
    header_timeout: float = 10.0
    # uvicorn's default: an idle keep-alive connection costs a socket and nothing else.
    keep_alive_timeout: float = 5.0
    # An upload may pause (the body is at most --max-body-mb), but not for half a minute.
    body_timeout: float = 30.0
    # A browser opens about 6 connections to a host; 32 leaves room for a few behind one NAT.
    connections_per_client: int = 32
    # Under the usual limit of 1024 open files, with room for the collection's own.
    max_connections: int = 512
    # The old `--limit-concurrency` default; the app's search gate queues searches below it.
    requests_at_once: int = 64

    def __post_init__(self) -> None:
        for name in ("header_timeout", "keep_alive_timeout", "body_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name.replace('_', ' ')} must be more than 0 seconds")
        for name in ("connections_per_client", "max_connections", "requests_at_once"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', ' ')} must be at least 1")
