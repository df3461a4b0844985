"""`seoga serve` against idle and slow clients, as a real process on loopback.

Idle sockets must not lock anyone out (uvicorn's own `limit_concurrency` counted them: the 65th
connection got 503), one address may hold only so many waiting connections, and a request head
or body that trickles in, or an idle keep-alive connection, is closed after its timeout.
Loopback has many addresses (127.0.0.2, 127.0.0.3, ...), so "several clients" are sockets bound
to different ones. The caps on connections in all and on requests at once are tested on the
same guarded uvicorn in this process, serving a small app whose requests wait until released;
the garbage collector's freeze after start-up on a bare lifespan.
"""

import asyncio
import gc
import select
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from seoga.serve.limits import ConnectionLimits
from seoga.serve.server import FrozenAfterStartup, uvicorn_options
from tests.serving import Server, free_port, lease_collection

IDLE_SOCKETS = 200
IDLE_CLIENTS = 20  # source addresses 127.0.0.2 ... 127.0.0.21, 10 sockets each
PER_CLIENT = 16
LONG_TIMEOUT = 60.0  # the patient server's header timeout: longer than any test here
HEADER_TIMEOUT = 2.0
KEEP_ALIVE_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0
SLACK = 2.5  # seconds a timeout may be late on a busy two-core machine
HEALTH_SECONDS = 2.0  # /health must answer within this while the idle sockets are open
SETTLE_SECONDS = 10.0  # the server has this long to accept (and evict) a burst of sockets
TRICKLE_SECONDS = 0.5  # between the bytes of a slow client
RECEIVE_BYTES = 65536
HEAD_END = b"\r\n\r\n"
REQUEST = b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
SLOW_REQUEST = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 100
PROMISED_BODY = 100
SENT_BODY = b'{"q": '
SMALL_CAP = 4
POLL_SECONDS = 0.05
HOLD_REQUEST = b"GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.fixture(scope="module")
def collection(tmp_path_factory, tiny_model) -> Path:
    return lease_collection(tmp_path_factory.mktemp("connections"), tiny_model)


@pytest.fixture(scope="module")
def patient(collection):
    """Slow clients are given a minute: what is measured is crowding, not timeouts."""
    server = Server(
        collection,
        "--open",
        "--header-timeout",
        str(LONG_TIMEOUT),
        "--connections-per-client",
        str(PER_CLIENT),
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict(collection):
    """Short timeouts, so that the tests of them take seconds."""
    server = Server(
        collection,
        "--open",
        "--header-timeout",
        str(HEADER_TIMEOUT),
        "--keep-alive-timeout",
        str(KEEP_ALIVE_TIMEOUT),
        "--body-timeout",
        str(BODY_TIMEOUT),
    )
    yield server
    server.stop()


class HoldingApp:
    """ASGI: GET /hold waits until `release` is set; anything else answers 200 at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.holding = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["path"] == "/hold":
            self.holding += 1
            while not self.release.is_set():
                await asyncio.sleep(POLL_SECONDS)
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


class InProcess:
    """The guarded uvicorn on a free loopback port, in a thread of this process."""

    def __init__(self, port: int, app: HoldingApp) -> None:
        self.port, self.app = port, app


@contextmanager
def in_process(limits: ConnectionLimits):
    import uvicorn

    app = HoldingApp()
    port = free_port()
    # no lifespan for this app, and the test process's logging left alone
    options = uvicorn_options(limits) | {"lifespan": "off", "log_config": None}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the in-process server did not start"
        time.sleep(POLL_SECONDS)
    try:
        yield InProcess(port, app)
    finally:
        app.release.set()
        server.should_exit = True
        thread.join(timeout=SETTLE_SECONDS)


def wait_until(condition, seconds: float = SETTLE_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def connect(server: Server | InProcess, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (end of file or reset), without waiting."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(RECEIVE_BYTES) == b""
    except ConnectionError:
        return True


def seconds_until_closed(sock: socket.socket, limit: float, trickle: bytes = b"") -> float:
    """Seconds until the server closes `sock` (inf if it has not after `limit`), sending
    `trickle` one byte every TRICKLE_SECONDS meanwhile."""
    started = time.monotonic()
    for byte in trickle:
        if closed_by_server(sock):
            return time.monotonic() - started
        try:
            sock.sendall(bytes([byte]))
        except ConnectionError:
            return time.monotonic() - started
        time.sleep(TRICKLE_SECONDS)
        if time.monotonic() - started > limit:
            return float("inf")
    while time.monotonic() - started < limit:
        readable, _, _ = select.select([sock], [], [], TRICKLE_SECONDS)
        if readable and closed_by_server(sock):
            return time.monotonic() - started
    return float("inf")


def read_response(sock: socket.socket) -> bytes:
    """One whole response (its body sized by Content-Length) from a keep-alive connection."""
    data = b""
    while HEAD_END not in data:
        data += sock.recv(RECEIVE_BYTES)
    head, _, body = data.partition(HEAD_END)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(RECEIVE_BYTES)
    return head


def health(server: Server | InProcess) -> tuple[int, float]:
    """(status, seconds) of GET /health on a fresh connection."""
    started = time.monotonic()
    with connect(server) as sock:
        sock.settimeout(HEALTH_SECONDS * 5)
        sock.sendall(REQUEST)
        head = read_response(sock)
    return int(head.split()[1]), time.monotonic() - started


def test_health_answers_while_200_idle_sockets_from_several_clients_are_open(patient):
    sockets = [
        connect(patient, f"127.0.0.{2 + number % IDLE_CLIENTS}") for number in range(IDLE_SOCKETS)
    ]
    try:
        time.sleep(TRICKLE_SECONDS)  # let the server accept them all
        status, seconds = health(patient)
        assert status == 200 and seconds < HEALTH_SECONDS
        # each client is under its share, so all of them are still open: nothing was evicted
        assert not any(closed_by_server(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_one_address_keeps_only_its_share_of_waiting_connections(patient):
    sockets = [connect(patient) for _ in range(IDLE_SOCKETS)]
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        open_ = sockets
        while len(open_) > PER_CLIENT and time.monotonic() < deadline:
            open_ = [sock for sock in open_ if not closed_by_server(sock)]
            time.sleep(TRICKLE_SECONDS / 5)
        assert len(open_) == PER_CLIENT, "the oldest waiting connections beyond the share close"
        # the same address still gets in: a new connection evicts an idle one, not itself
        status, seconds = health(patient)
        assert status == 200 and seconds < HEALTH_SECONDS
        assert sum(not closed_by_server(sock) for sock in open_) == PER_CLIENT - 1
    finally:
        for sock in sockets:
            sock.close()


def test_a_request_head_sent_one_byte_at_a_time_is_cut_off_after_the_header_timeout(strict):
    with connect(strict) as sock:
        seconds = seconds_until_closed(sock, HEADER_TIMEOUT + SLACK, trickle=SLOW_REQUEST)
    assert HEADER_TIMEOUT - TRICKLE_SECONDS <= seconds <= HEADER_TIMEOUT + SLACK


def test_a_silent_connection_is_closed_after_the_header_timeout(strict):
    with connect(strict) as sock:
        seconds = seconds_until_closed(sock, HEADER_TIMEOUT + SLACK)
    assert HEADER_TIMEOUT - TRICKLE_SECONDS <= seconds <= HEADER_TIMEOUT + SLACK


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(strict):
    with connect(strict) as sock:
        sock.sendall(REQUEST)
        assert b" 200 " in read_response(sock)
        seconds = seconds_until_closed(sock, KEEP_ALIVE_TIMEOUT + SLACK)
    assert seconds <= KEEP_ALIVE_TIMEOUT + SLACK


def test_the_next_request_trickling_in_after_an_answer_is_cut_off_too(strict):
    # uvicorn cancels its keep-alive timer at the first byte: alone, this would never close
    with connect(strict) as sock:
        sock.sendall(REQUEST)
        assert b" 200 " in read_response(sock)
        seconds = seconds_until_closed(sock, HEADER_TIMEOUT + SLACK, trickle=SLOW_REQUEST)
    assert seconds <= HEADER_TIMEOUT + SLACK


def test_a_stalled_request_body_is_closed_after_the_body_timeout(strict):
    head = (
        "POST /v1/ask HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {PROMISED_BODY}\r\n\r\n"
    )
    with connect(strict) as sock:
        sock.sendall(head.encode() + SENT_BODY)
        seconds = seconds_until_closed(sock, BODY_TIMEOUT + SLACK)
    assert seconds <= BODY_TIMEOUT + SLACK


def test_beyond_max_connections_the_oldest_waiting_one_goes_and_busy_ones_stay():
    limits = ConnectionLimits(max_connections=SMALL_CAP, header_timeout=LONG_TIMEOUT)
    with in_process(limits) as server:
        first, *others = [connect(server, f"127.0.0.{2 + n}") for n in range(SMALL_CAP + 1)]
        assert wait_until(lambda: closed_by_server(first)), "the oldest waiting one makes room"
        for sock in others:
            sock.sendall(HOLD_REQUEST)
        assert wait_until(lambda: server.app.holding == SMALL_CAP)
        # all open connections are busy with requests: only now is a new one refused
        with connect(server) as refused:
            assert wait_until(lambda: closed_by_server(refused))
        server.app.release.set()
        for sock in others:
            assert b" 200 " in read_response(sock)
            sock.close()


def test_limit_concurrency_counts_requests_not_idle_connections():
    limits = ConnectionLimits(requests_at_once=2, header_timeout=LONG_TIMEOUT)
    with in_process(limits) as server:
        idle = [connect(server) for _ in range(limits.connections_per_client // 2)]
        held = [connect(server) for _ in range(limits.requests_at_once)]
        for sock in held:
            sock.sendall(HOLD_REQUEST)
        assert wait_until(lambda: server.app.holding == limits.requests_at_once)
        with connect(server) as extra:
            extra.sendall(REQUEST)
            head = read_response(extra)
        assert b" 503 " in head and b"retry-after: 1" in head.lower()
        server.app.release.set()
        for sock in held:
            assert b" 200 " in read_response(sock)
        assert health(server)[0] == 200, "idle connections alone never make a 503"
        for sock in idle + held:
            sock.close()


def test_what_the_app_loaded_at_startup_is_frozen_out_of_the_collectors_sight():
    async def app(scope, receive, send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})

    async def receive() -> dict:
        return {"type": "lifespan.startup"}

    sent = []

    async def send(message) -> None:
        sent.append(message)
        assert gc.get_freeze_count() > 0, "frozen before the server says it has started"

    try:
        asyncio.run(FrozenAfterStartup(app)({"type": "lifespan"}, receive, send))
    finally:
        gc.unfreeze()
    assert sent == [{"type": "lifespan.startup.complete"}]
