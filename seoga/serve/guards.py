"""uvicorn's h11 protocol with the guards against idle and slow clients that
`seoga.serve.server` describes: a header deadline, a body-stall timeout, a cap on waiting
connections per client address and in all, and a cap on requests handled at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from seoga.serve.limits import ConnectionLimits

RETRY_AFTER_SECONDS = 1
BUSY_BODY = b"the server is busy: retry shortly"


class WaitingBook:
    """The connections waiting for a request, oldest first: in all and by client address."""

    def __init__(self) -> None:
        # dicts as ordered sets: insertion order is the order they started waiting
        self.everyone: dict[GuardedH11Protocol, None] = {}
        self.by_client: dict[str, dict[GuardedH11Protocol, None]] = {}

    def __contains__(self, connection: GuardedH11Protocol) -> bool:
        return connection in self.everyone

    def add(self, connection: GuardedH11Protocol) -> None:
        self.everyone[connection] = None
        self.by_client.setdefault(connection.client_host, {})[connection] = None

    def discard(self, connection: GuardedH11Protocol) -> None:
        if connection not in self.everyone:
            return
        del self.everyone[connection]
        mine = self.by_client[connection.client_host]
        del mine[connection]
        if not mine:
            del self.by_client[connection.client_host]

    def waiting_from(self, host: str) -> int:
        return len(self.by_client.get(host, ()))

    def oldest(self, host: str | None = None) -> GuardedH11Protocol | None:
        """The connection waiting longest (from `host`, or from anyone)."""
        waiting = self.everyone if host is None else self.by_client.get(host, {})
        return next(iter(waiting), None)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the guards `seoga.serve.server` describes; `guarded_protocol`
    makes a subclass bound to one server's limits and book."""

    limits: ConnectionLimits = ConnectionLimits()
    book: WaitingBook = WaitingBook()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_host = ""
        self.guard_timer: asyncio.TimerHandle | None = None
        self.guarding_body = False
        # The requests-at-once limit replaces uvicorn's, which counts idle connections too.
        self.limit_concurrency = None
        self.inner_app = self.app
        self.app = self.admitted_app

    # The guards hook the protocol's events and look at h11's state after uvicorn's handling.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.client_host = self.client[0] if self.client else ""
        if len(self.connections) > self.limits.max_connections:
            victim = self.book.oldest()
            if victim is None:
                # every other connection is in the middle of a request: refuse this one
                self.transport.close()
                return
            victim.drop()
        self.track()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.track(data_arrived=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.track()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.book.discard(self)
        self.cancel_guard()

    def track(self, data_arrived: bool = False) -> None:
        """Waiting, reading a body or busy: (re)arm or cancel the guard to match."""
        if self.transport.is_closing():
            self.book.discard(self)
            self.cancel_guard()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if self not in self.book:
                self.start_waiting()
            return
        if self in self.book:
            self.book.discard(self)
            self.cancel_guard()
        if state is h11.SEND_BODY:
            if data_arrived or not self.guarding_body:
                self.arm(self.limits.body_timeout, self.body_stalled, body=True)
        elif self.guarding_body:
            self.cancel_guard()

    def start_waiting(self) -> None:
        """Arm the header deadline; make room if the client waits on too many connections."""
        while self.book.waiting_from(self.client_host) >= self.limits.connections_per_client:
            self.book.oldest(self.client_host).drop()
        self.book.add(self)
        self.arm(self.limits.header_timeout, self.head_late, body=False)

    def arm(self, seconds: float, handler: Callable[[], None], body: bool) -> None:
        self.cancel_guard()
        self.guard_timer = self.loop.call_later(seconds, handler)
        self.guarding_body = body

    def cancel_guard(self) -> None:
        if self.guard_timer is not None:
            self.guard_timer.cancel()
            self.guard_timer = None
        self.guarding_body = False

    def head_late(self) -> None:
        self.guard_timer = None
        if self.conn.their_state is h11.IDLE:
            self.drop()

    def body_stalled(self) -> None:
        self.guard_timer = None
        if self.conn.their_state is not h11.SEND_BODY:
            self.guarding_body = False
        elif self.flow.read_paused or (self.cycle and self.cycle.waiting_for_100_continue):
            # the app has not read what came yet, or not asked for the body: the wait is ours
            self.arm(self.limits.body_timeout, self.body_stalled, body=True)
        else:
            self.drop()

    def drop(self) -> None:
        """Close the connection (it no longer counts as waiting from now on)."""
        self.book.discard(self)
        self.cancel_guard()
        self.transport.close()

    async def admitted_app(self, scope: dict, receive: Callable, send: Callable) -> None:
        """The app, or a 503 when more requests are in hand than allowed. uvicorn adds a
        request's task to `tasks` before the task runs, so this request is counted."""
        if len(self.tasks) <= self.limits.requests_at_once:
            await self.inner_app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(BUSY_BODY)).encode()),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        ]
        busy = {"type": "http.response.start", "headers": headers}
        await send(busy | {"status": HTTPStatus.SERVICE_UNAVAILABLE.value})
        await send({"type": "http.response.body", "body": BUSY_BODY})


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """A protocol class for one server: its limits and its own book of waiting connections."""
    return type(
        "ServerH11Protocol", (GuardedH11Protocol,), {"limits": limits, "book": WaitingBook()}
    )
