"""Hardening for every response: security headers and a Host check, as pure ASGI middleware
(Starlette's BaseHTTPMiddleware would buffer the answers' event streams).

- `SecurityHeaders` adds a strict Content-Security-Policy (the page loads only its own script
  and stylesheet, never inline code), `X-Content-Type-Options: nosniff`, `X-Frame-Options:
  DENY` and `Referrer-Policy: no-referrer`. A response that sets its own policy (the /docs
  page, whose inline start-up script is allowed by its hash) keeps it.
- `HostCheck` answers 400 to a request whose Host header names no allowed host: a page on
  another site that rebinds its DNS name to 127.0.0.1 sends its own name as Host, so it cannot
  read an `--open` collection through the visitor's browser.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seoga.errors import InputError

if TYPE_CHECKING:  # the settings import this module without loading Starlette
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The names a browser on this machine uses for a server on loopback, with any port.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
ANY_HOST = "*"
# Names that always resolve to this machine (an address literal is checked as an address).
LOOPBACK_NAMES = ("localhost",)
WILDCARD_PREFIX = "*."  # `*.example.org` allows every name below example.org

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
CSP = b"content-security-policy"
HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
BAD_HOST = 400

# A Host header: a bracketed IPv6 literal or a name, then an optional port (RFC 9110 §7.2).
HOST_RE = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\[\]:/@\s]+)(?::(?P<port>[0-9]{1,5}))?")


def is_loopback(host: str) -> bool:
    """Whether listening on `host` keeps the server to this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def docs_policy(script_hash: str) -> str:
    """The policy of the /docs page: the page's own, plus its one inline script by hash."""
    return PAGE_POLICY.replace("script-src 'self'", f"script-src 'self' '{script_hash}'")


@dataclass(frozen=True)
class HostPattern:
    """One allowed host: a name (any port), a name with a port, `*.domain`, or `*`."""

    host: str
    port: str | None = None

    @classmethod
    def parse(cls, text: str) -> HostPattern:
        text = text.strip().lower()
        if text == ANY_HOST or text.startswith(WILDCARD_PREFIX):
            return cls(text)
        if _is_ipv6(text):  # `::1` as typed on a command line: the header brackets it
            return cls(f"[{ipaddress.IPv6Address(text).compressed}]")
        parsed = split_host(text)
        if parsed is None:
            raise InputError(f"not a host name for --allowed-host: {text!r}")
        return cls(*parsed)

    def allows(self, host: str, port: str | None) -> bool:
        if self.host == ANY_HOST:
            return True
        if self.port is not None and self.port != port:
            return False
        if self.host.startswith(WILDCARD_PREFIX):
            return host.endswith(self.host[1:])
        return host == self.host


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def split_host(header: str) -> tuple[str, str | None] | None:
    """(host, port) of a Host header, the host lower-cased without a trailing dot and an IPv6
    literal in its short form; None for a malformed header."""
    match = HOST_RE.fullmatch(header.strip())
    if match is None:
        return None
    host = match["host"].lower().rstrip(".")
    if host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    return host, match["port"]


class HostCheck:
    """Lets through only requests whose Host header names an allowed host; others get 400
    with a JSON `detail`, like every other error of the API."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[HostPattern]) -> None:
        self.app = app
        self.patterns = list(allowed_hosts)
        self.any = any(pattern.host == ANY_HOST for pattern in self.patterns)

    def allowed(self, header: str | None) -> bool:
        parsed = split_host(header) if header else None
        return parsed is not None and any(p.allows(*parsed) for p in self.patterns)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"host")
        if self.allowed(header):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close"})
            return
        detail = (
            f"host {header!r} is not served here: pass it to `seoga serve --allowed-host` "
            "if clients really reach the server by that name."
        )
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": BAD_HOST,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class SecurityHeaders:
    """Adds the hardening headers to every HTTP response; a Content-Security-Policy the
    response already carries is kept."""

    def __init__(self, app: ASGIApp, policy: str = PAGE_POLICY) -> None:
        self.app = app
        self.policy = policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {key.lower() for key, _ in headers}
                added = [(CSP, self.policy), *HEADERS]
                headers += [(key, value) for key, value in added if key not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_hardened)
