"""The one place that runs the app with uvicorn, guarded against idle and slow clients.

uvicorn alone lets a few dozen idle sockets lock everyone out: its `limit_concurrency` counts
open connections (an idle one included) and answers 503 beyond it, and nothing closes a
connection whose request head never finishes (its keep-alive timer is cancelled by any byte, so
one byte a second holds a socket for ever). Here the HTTP protocol is uvicorn's h11 one with
guards added (`seoga.serve.guards`, imported only when serving):

- a connection *waiting* for a request (just opened, or idle after a response) must deliver a
  whole request head within `header_timeout` seconds of starting to wait, however it trickles
  in; with no byte at all after a response it is closed after `keep_alive_timeout` (uvicorn's
  own timer);
- a request body that stalls (no byte for `body_timeout` seconds while the server is reading
  it) closes the connection;
- one client address may keep at most `connections_per_client` connections waiting: a new one
  beyond that closes the client's oldest waiting connection (not the new one, so a legitimate
  client sharing an address with an attacker, behind NAT or on loopback, still gets in);
- at most `max_connections` sockets are open in all: beyond it the oldest waiting connection
  (of any client) is closed to make room, and only when every open connection is busy with a
  request is the new one refused;
- at most `requests_at_once` requests are handled at once, more are answered 503 with
  Retry-After (an idle connection is not a request, unlike uvicorn's `limit_concurrency`).

A connection stops *waiting* the moment its request head is complete; from then on it is
bounded by the app's own limits (the body size, the search gate).

Once the app has started, the objects it loaded (models, indexes: some 600,000) are moved out of
the garbage collector's sight (`gc.freeze`): a full collection walked them all, stopping every
thread for about 360 ms on a two-core machine, and an event flood's allocations set one off
every few seconds.

Clients are told apart by the socket's peer address (headers cannot be trusted before they have
arrived): behind a reverse proxy every connection comes from the proxy, whose own per-client
limits then matter, and its pool of idle upstream connections should stay under
`connections_per_client`, with an idle timeout under `keep_alive_timeout`.
"""

from __future__ import annotations

import gc
import signal
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from seoga.serve.limits import ConnectionLimits
from seoga.serve.memory import cap_malloc_arenas
from seoga.serve.settings import ServeSettings

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]


class FrozenAfterStartup:
    """ASGI: the app, with `gc.freeze()` once it has started (module docstring). Only what is
    alive then is frozen; what requests allocate later is collected as before."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Callable, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def frozen_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                gc.collect()  # the start-up's garbage goes first, not frozen with the rest
                gc.freeze()
            await send(message)

        await self.app(scope, receive, frozen_send)


def uvicorn_options(limits: ConnectionLimits, graceful_seconds: float | None = None) -> dict:
    """uvicorn's settings for `limits` (for `uvicorn.run` or `uvicorn.Config`). Always the
    guarded h11 protocol, whether or not httptools is installed, so the guards always apply."""
    from seoga.serve.guards import guarded_protocol

    return {
        "http": guarded_protocol(limits),
        # idle connections must not count: the protocol limits requests at once instead
        "limit_concurrency": None,
        # uvicorn's keep-alive timer: closed after this long without a byte after a response
        "timeout_keep_alive": limits.keep_alive_timeout,
        "timeout_graceful_shutdown": graceful_seconds,
        "log_level": "warning",
    }


def run(
    app: Any,
    host: str,
    port: int,
    limits: ConnectionLimits,
    graceful_seconds: float | None = None,
) -> None:
    """Serve `app` on host:port until stopped, guarded by `limits`."""
    import uvicorn

    options = uvicorn_options(limits, graceful_seconds)
    uvicorn.run(FrozenAfterStartup(app), host=host, port=port, **options)


def serve(
    settings: ServeSettings,
    host: str,
    port: int,
    limits: ConnectionLimits | None = None,
    graceful_seconds: float | None = None,
) -> None:
    """The whole `seoga serve`: the app for `settings` on host:port, guarded by `limits`, until
    SIGTERM or Ctrl-C. uvicorn shuts down gracefully on SIGTERM, then raises the signal again;
    the handler here turns that into a clean exit (status 0) instead of a death by signal."""
    from seoga.serve.app import create_app

    cap_malloc_arenas()
    app = create_app(settings)
    previous = signal.signal(signal.SIGTERM, exit_cleanly)
    try:
        run(app, host, port, limits or ConnectionLimits(), graceful_seconds=graceful_seconds)
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)
