"""`seoga serve` under load, warm against cold, and killed mid-write; loopback only.

One uvicorn worker on this machine's cores serves a collection while an asyncio + httpx driver
in this process plays closed-loop clients (each sends its next request when the last one is
answered), every loop bounded in count and time:
- warm-up (20 s: search, ask and a write, then 32 searching clients; not counted), then
  steady search: 4 clients for 60 s, hybrid; then the same again driven by wrk (C; `apt install
  wrk`), which leaves the server more of the cores than the Python driver does;
- mixed: 3 searching, 1 asking and 1 writer adding batches of documents (`?wait=true`), 30 s;
  the final document count must be exact;
- overload: 32 clients for 15 s: only 200 or 503 with Retry-After, never another 5xx or a hang;
- the server's memory after each phase against after warm-up (goal: within 5 % at the end);
- abuse (its own section, "Serving under abuse"; `--only abuse` runs it alone): while 3
  clients search, 200 idle sockets from 10 loopback addresses, 20 clients sending a request head
  one byte a second, an event flood (1,000 events a request) and fuzzed bodies (random bytes and
  JSON, lone surrogates, invalid UTF-8, deep nesting), after a control without attackers and
  each attacker alone; goals: no 5xx, /health (a fresh connection every 50 ms, from another
  process) p99 under 100 ms, the server's memory flat.
Collections: the demo collection and the SciFact subset of the distillation benchmark (800
abstracts; the whole corpus takes 40 minutes to encode on 2 cores), both with seoga's default
models. Warm vs cold: one query through the server against `seoga search` as a fresh process.
Crash: 20 × kill -9 at a random moment of an index task (up to 1.5 × its length, so that some
land after its commit); each time the collection must open, search and hold either the old or
the new documents.

    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/serve.py [--only abuse]
Writes the "Serving" and "Serving under abuse" sections of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import psutil

from benchmarks.report import machine_line, write_section
from seoga.paths import seoga_home
from seoga.serve.keys import ADMIN, SEARCH, KeyStore
from tests.serving import Server

COMMAND = "flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/serve.py"
WORK = seoga_home() / "bench" / "serve"
SCIFACT_SUBSET = seoga_home() / "bench" / "distill" / "scifact-subset-800"
MS = 1000
PERCENT = 100
REQUEST_TIMEOUT = 30.0
WRITE_PAUSE = 2.0  # seconds between the writer's batches
WRITE_BATCH = 20
P50_GOAL_MS = 50
P99_GOAL_MS = 300
MEMORY_GOAL = 0.05
# Warm-up plans, each for half the warm-up: every kind of work, then the overload's clients.
WARM_PLANS = ({"search": 2, "ask": 1, "write": 1}, {"search": 32})
OK, BUSY = 200, 503
INT8_QUERIES = "--int8-queries"
COLD_REPEATS = 3
WARM_REPEATS = 20
ROUND = re.compile(r"round(\d+)")
CRASH_WINDOW_SHARE = 1.5  # kills up to 1.5 × an index task's length after it starts
WRK_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
# The abuse phase: what the attackers hold while the searching clients and /health are timed.
ABUSE_COMMAND = COMMAND + " --only abuse"
ABUSE_SEARCHERS = 3
IDLE_SOCKETS = 200
IDLE_ADDRESSES = 10  # 127.0.0.2 ... 127.0.0.11: under the server's per-address share each
SLOW_CLIENTS = 20
SLOW_ADDRESS = "127.0.0.100"
SLOW_BYTE_SECONDS = 1.0
FLOOD_CLIENTS = 2
FLOOD_EVENTS = 1_000
FUZZ_CLIENTS = 2
FUZZ_MAX_BYTES = 4096
FUZZ_DEPTH = 100_000  # nesting of the deepest JSON body
RECONNECT_PAUSE = 0.1  # an attacker whose socket was closed opens another after this
HEALTH_INTERVAL = 0.05
HEALTH_GOAL_MS = 100
SERVER_ERROR = 500
SAMPLE_SECONDS = 1.0  # the server's memory and sockets are sampled this often
SETTLE_SECONDS = 3.0  # after the attackers stop, before the memory is read again
SOCKETS, FLOOD, FUZZ = "idle and slow sockets", "event flood", "fuzzed requests"
ATTACKERS = (SOCKETS, FLOOD, FUZZ)
ALONE_SHARE = 0.5  # each attacker alone runs for this share of the phase
LOOPBACK = "127.0.0.1"
HEALTH_REQUEST = b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
ODD_TEXTS = ("\ud800", "\udfff\ud800", "\x00", "\u202e\u200b", "\U0001f600" * 50, "가\u0301")


@dataclass
class Tally:
    """What the clients saw in one phase."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    missing_retry_after: int = 0
    timeouts: int = 0
    errors: list[str] = field(default_factory=list)

    def record(self, kind: str, status: int, seconds: float, retry_after: bool) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == OK:
            self.latencies.setdefault(kind, []).append(seconds * MS)
        if status == BUSY and not retry_after:
            self.missing_retry_after += 1

    def summary(self, seconds: float) -> dict:
        out = {
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "timeouts": self.timeouts,
            "missing_retry_after": self.missing_retry_after,
            "errors": self.errors[:5],
        }
        for kind, values in self.latencies.items():
            out[kind] = {
                "requests": len(values),
                "per_second": round(len(values) / seconds, 1),
                "p50_ms": round(float(np.percentile(values, 50)), 1),
                "p99_ms": round(float(np.percentile(values, 99)), 1),
            }
        return out


async def client(http, base: str, kind: str, queries: list[str], until: float, tally: Tally, rng):
    """One closed-loop client: search or ask until the deadline."""
    import httpx

    while time.monotonic() < until:
        query = rng.choice(queries)
        started = time.perf_counter()
        try:
            if kind == "search":
                response = await http.get(base + "/v1/search", params={"q": query, "k": 10})
            else:
                response = await http.post(base + "/v1/ask", json={"q": query})
        except httpx.TimeoutException:
            tally.timeouts += 1
            continue
        except httpx.HTTPError as error:
            tally.errors.append(f"{type(error).__name__}: {error}")
            continue
        tally.record(
            kind,
            response.status_code,
            time.perf_counter() - started,
            "retry-after" in response.headers,
        )


async def writer(
    http, base: str, until: float, tally: Tally, written: list[int], prefix: str
) -> None:
    """Adds batches of new documents (ids starting with `prefix`, new in each phase), waiting
    for each task, until the deadline."""
    batch = 0
    while time.monotonic() < until:
        documents = [
            {
                "id": f"{prefix}-{batch}-{i}",
                "text": f"부하 시험 문서 {batch} {i} load test document",
            }
            for i in range(WRITE_BATCH)
        ]
        started = time.perf_counter()
        response = await http.post(
            base + "/v1/documents", params={"wait": True}, json={"documents": documents}
        )
        tally.record("write", response.status_code, time.perf_counter() - started, False)
        if response.status_code == 202 and response.json()["status"] == "succeeded":
            written.append(len(documents))
        else:
            tally.errors.append(f"write: {response.status_code} {response.text[:200]}")
        batch += 1
        await asyncio.sleep(WRITE_PAUSE)


async def phase(base: str, keys: dict, plan: dict[str, int], seconds: float, queries, seed: int):
    """Run `plan` (kind → clients) for `seconds`; (tally, documents written)."""
    import httpx

    tally, written = Tally(), []
    limits = httpx.Limits(max_connections=sum(plan.values()) + 1)
    rng = random.Random(seed)
    until = time.monotonic() + seconds
    async with (
        httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT,
            limits=limits,
            headers={"Authorization": f"Bearer {keys[SEARCH]}"},
        ) as reader,
        httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT * 4, headers={"Authorization": f"Bearer {keys[ADMIN]}"}
        ) as admin,
    ):
        tasks = [
            client(reader, base, kind, queries, until, tally, random.Random(rng.random()))
            for kind, count in plan.items()
            if kind != "write"
            for _ in range(count)
        ]
        if plan.get("write"):
            tasks.append(writer(admin, base, until, tally, written, f"load{seed}"))
        await asyncio.gather(*tasks)
    return tally, sum(written)


def wrk_steady(
    base: str, key: str, queries: list[str], seconds: float, clients: int
) -> dict | None:
    """The steady search phase driven by wrk (a load generator written in C, so the driver
    takes little of the cores the server runs on): `clients` connections, each sending its next
    search when the last is answered, the query drawn at random from `queries`. Fields as
    Tally.summary gives them; None where wrk is not installed (`apt install wrk`)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    paths = [f"/v1/search?{urlencode({'q': query, 'k': 10})}" for query in queries]
    script = WORK / "wrk-search.lua"
    script.write_text(
        f"local paths = {{{', '.join(json.dumps(path) for path in paths)}}}\n"
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
        "request = function()\n"
        '  return wrk.format("GET", paths[math.random(#paths)])\n'
        "end\n",
        encoding="utf-8",
    )
    command = [wrk, "-t1", f"-c{clients}", f"-d{seconds:.0f}s", "--latency"]
    command += ["--timeout", f"{REQUEST_TIMEOUT:.0f}s", "-s", str(script), base]
    report = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", report).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    errors = re.search(r"Socket errors: (.*)", report)
    failed = int(failed.group(1)) if failed else 0
    return {
        "statuses": {str(OK): total - failed} | ({"other": failed} if failed else {}),
        "timeouts": int(re.search(r"timeout (\d+)", errors.group(1)).group(1)) if errors else 0,
        "errors": [errors.group(0)] if errors else [],
        "search": {
            "requests": total,
            "per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1)),
            "p50_ms": wrk_ms(re.search(r"50%\s+([\d.]+\w+)", report).group(1)),
            "p99_ms": wrk_ms(re.search(r"99%\s+([\d.]+\w+)", report).group(1)),
        },
    }


def wrk_ms(value: str) -> float:
    """wrk's latency ("812.00us", "44.66ms", "1.02s") in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return round(float(number) * WRK_UNITS_MS[unit], 1)


def documents_in(base: str, keys: dict) -> int:
    import httpx

    headers = {"Authorization": f"Bearer {keys[SEARCH]}"}
    return httpx.get(base + "/v1/info", headers=headers).json()["counts"]["documents"]


def load(collection: Path, queries: list[str], arguments, options: tuple[str, ...] = ()) -> dict:
    """The load phases against one served collection (a copy: the writer adds to it), the
    server started with `options`."""
    copy = WORK / f"load-{collection.name}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(collection, copy)
    store = KeyStore(copy)
    keys = {scope: store.create(scope)[0] for scope in (SEARCH, ADMIN)}
    server = Server(copy, *options)
    process = psutil.Process(server.process.pid)
    me = psutil.Process()
    out = {
        "collection": collection.name,
        "options": list(options),
        "documents": documents_in(server.base, keys),
    }
    try:
        run = asyncio.run
        # Warm-up touches every kind of work (search, ask, write) and the overload's number of
        # clients: their first use allocates what they keep (models' buffers, one thread per
        # waiting request), which is not growth.
        for plan in WARM_PLANS:
            run(phase(server.base, keys, plan, arguments.warmup / len(WARM_PLANS), queries, 0))
        out["rss_mb"] = {"warm-up": rss_mb(process)}
        cpu_before = me.cpu_times()
        started = time.monotonic()
        tally, _ = run(phase(server.base, keys, {"search": 4}, arguments.steady, queries, 1))
        elapsed = time.monotonic() - started
        driver = sum(me.cpu_times()[:2]) - sum(cpu_before[:2])
        out["steady"] = tally.summary(elapsed) | {
            "driver_cpu_share": round(driver / (elapsed * psutil.cpu_count()), 3)
        }
        out["steady_wrk"] = wrk_steady(server.base, keys[SEARCH], queries, arguments.steady, 4)
        out["rss_mb"]["steady"] = rss_mb(process)
        before = documents_in(server.base, keys)
        plan = {"search": 3, "ask": 1, "write": 1}
        tally, written = run(phase(server.base, keys, plan, arguments.mixed, queries, 2))
        after = documents_in(server.base, keys)
        out["mixed"] = tally.summary(arguments.mixed) | {
            "written": written,
            "count_exact": after == before + written,
            "documents_after": after,
        }
        out["rss_mb"]["mixed"] = rss_mb(process)
        tally, _ = run(phase(server.base, keys, {"search": 32}, arguments.overload, queries, 3))
        out["overload"] = tally.summary(arguments.overload)
        out["rss_mb"]["overload"] = rss_mb(process)
        out["cold_warm"] = cold_and_warm(server.base, keys, copy, queries[0])
    finally:
        server.stop()
        shutil.rmtree(copy, ignore_errors=True)
    return out


def query_quality(root: Path) -> dict:
    """Hybrid nDCG@10 and recall@100 on the SciFact subset's test queries with float32 and
    with int8 query encoders (the index is the same), and how close their query vectors are."""
    from seoga.collection import Collection
    from seoga.datasets.beir import read_beir
    from seoga.evaluate.retrieval import RUN_DEPTH, score_run
    from seoga.models.query_encoding import QueryEncoding

    data = read_beir(SCIFACT_SUBSET)
    out = {}
    vectors = {}
    for name, int8 in (("float32", False), ("int8", True)):
        collection = Collection.open(root, queries=QueryEncoding(int8=int8))
        run = {
            query_id: {hit.doc_id: hit.score for hit in collection.search(text, k=RUN_DEPTH)}
            for query_id, text in data.queries.items()
        }
        out[name] = score_run(data.qrels, run)
        vectors[name] = collection.embedder.encode_queries(list(data.queries.values()))
    cosines = np.sum(vectors["float32"] * vectors["int8"], axis=1)
    out["cosine_mean"], out["cosine_min"] = float(cosines.mean()), float(cosines.min())
    out["queries"] = len(data.queries)
    return out


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def cold_and_warm(base: str, keys: dict, collection: Path, query: str) -> dict:
    """Median seconds of one search: a fresh `seoga search` process, and through the server."""
    import httpx

    cold = []
    for _ in range(COLD_REPEATS):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "seoga", "search", query, "-c", str(collection), "--json"],
            check=True,
            capture_output=True,
        )
        cold.append(time.perf_counter() - started)
    warm = []
    headers = {"Authorization": f"Bearer {keys[SEARCH]}"}
    for _ in range(WARM_REPEATS):
        started = time.perf_counter()
        httpx.get(base + "/v1/search", params={"q": query}, headers=headers).raise_for_status()
        warm.append(time.perf_counter() - started)
    return {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm), "query": query}


async def idle_socket(port: int, address: str, until: float, lasted: list[float]) -> None:
    """A connection that never sends a byte; when the server closes it, another."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(LOOPBACK, port, local_addr=(address, 0))
        except OSError:
            await asyncio.sleep(RECONNECT_PAUSE)
            continue
        opened = time.monotonic()
        try:
            if await asyncio.wait_for(reader.read(1), until - time.monotonic()) == b"":
                lasted.append(time.monotonic() - opened)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
        await asyncio.sleep(RECONNECT_PAUSE)


async def slow_client(port: int, until: float, lasted: list[float]) -> None:
    """A request head sent one byte a second (slowloris); when cut off, another."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(
                LOOPBACK, port, local_addr=(SLOW_ADDRESS, 0)
            )
        except OSError:
            await asyncio.sleep(RECONNECT_PAUSE)
            continue
        opened = time.monotonic()
        writer.write(SLOW_HEAD)
        try:
            while time.monotonic() < until:
                writer.write(b"a")
                await writer.drain()
                try:
                    if await asyncio.wait_for(reader.read(1), SLOW_BYTE_SECONDS) == b"":
                        lasted.append(time.monotonic() - opened)
                        break
                except TimeoutError:
                    continue
        except ConnectionError:
            lasted.append(time.monotonic() - opened)
        finally:
            writer.close()
        await asyncio.sleep(RECONNECT_PAUSE)


async def flood(http, base: str, body: bytes, until: float, tally: Tally) -> None:
    """POST /v1/events with FLOOD_EVENTS events a request, closed loop (429, 400, 403 are
    fine answers; a 5xx is not)."""
    import httpx

    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = await http.post(
                base + "/v1/events", content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as error:
            tally.errors.append(f"events: {type(error).__name__}: {error}")
            continue
        tally.record("events", response.status_code, time.perf_counter() - started, True)


def fuzz_json(rng: random.Random, depth: int = 0):
    """A random JSON value: nested containers, numbers and odd strings."""
    kind = rng.randrange(6 if depth < 4 else 3)
    if kind == 0:
        return rng.choice(ODD_TEXTS) + "".join(chr(rng.randrange(0x110000)) for _ in range(8))
    if kind == 1:
        return rng.choice([0, -1, 2**63, 1e308, -0.0, True, None])
    if kind == 2:
        return rng.choice(["q", "events", "documents", "id", "text", "type", "item"])
    if kind == 3:
        return [fuzz_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["q", "k", "events", "documents", "id", "text", "type", "item", "paths"]
    return {rng.choice(keys): fuzz_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def fuzz_request(rng: random.Random) -> tuple[str, str, bytes | None]:
    """(method, path, body) of one fuzzed request: random bytes or JSON to the write and ask
    routes, a lone surrogate or invalid UTF-8 in a query, or JSON nested FUZZ_DEPTH deep."""
    route = rng.choice(["/v1/ask", "/v1/events", "/v1/documents", "/v1/index"])
    kind = rng.randrange(5)
    if kind == 0:
        return "POST", route, rng.randbytes(rng.randrange(FUZZ_MAX_BYTES))
    if kind == 1:
        return "POST", route, json.dumps(fuzz_json(rng)).encode()
    if kind == 2:
        shaped = {
            "q": rng.choice(ODD_TEXTS),
            "events": [{"type": "click", "item": rng.choice(ODD_TEXTS)}],
            "documents": [{"id": rng.choice(ODD_TEXTS), "text": rng.choice(ODD_TEXTS)}],
        }
        return "POST", route, json.dumps(shaped).encode()
    if kind == 3:
        query = rng.choice(["%ED%A0%80", "%FF%FE", "%00", "%C0%AF", "a" * 5000, "%E2%80%AE"])
        return "GET", f"/v1/search?q={query}&k={rng.choice(['-1', 'x', '10', '1e9'])}", None
    return "POST", route, b"[" * FUZZ_DEPTH


async def fuzzer(http, base: str, until: float, tally: Tally, rng: random.Random) -> None:
    import httpx

    while time.monotonic() < until:
        method, path, body = fuzz_request(rng)
        started = time.perf_counter()
        try:
            response = await http.request(
                method, base + path, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as error:
            tally.errors.append(f"fuzz {method} {path[:40]}: {type(error).__name__}: {error}")
            continue
        tally.record("fuzz", response.status_code, time.perf_counter() - started, True)
        if response.status_code >= SERVER_ERROR:
            tally.errors.append(
                f"fuzz {method} {path[:40]} {(body or b'')[:60]!r}: {response.status_code}"
            )


def probe_health(port: int, seconds: float, started, answers) -> None:
    """In its own process, so the driver's work does not delay it: GET /health on a fresh
    connection every HEALTH_INTERVAL from when `started` is set; puts the (status, or 0 for a
    failure; milliseconds) of each probe."""
    out = []
    started.wait()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            with socket.create_connection((LOOPBACK, port), timeout=REQUEST_TIMEOUT) as sock:
                sock.sendall(HEALTH_REQUEST)
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            out.append((int(data.split()[1]), (time.perf_counter() - started) * MS))
        except (OSError, IndexError, ValueError):
            out.append((0, (time.perf_counter() - started) * MS))
        time.sleep(max(0.0, HEALTH_INTERVAL - (time.perf_counter() - started)))
    answers.put(out)


async def sample_server(process: psutil.Process, until: float, samples: dict) -> None:
    """The server's memory and open TCP connections, every SAMPLE_SECONDS."""
    while time.monotonic() < until:
        samples["rss_mb"].append(rss_mb(process))
        samples["sockets"].append(len(process.net_connections(kind="tcp")))
        await asyncio.sleep(SAMPLE_SECONDS)


async def abuse_phase(
    base: str, port: int, keys: dict, queries, seconds: float, process, attackers=ATTACKERS
):
    """Searching clients, timed, beside `attackers` (some of ATTACKERS) for `seconds`."""
    import httpx

    rng = random.Random(4)
    until = time.monotonic() + seconds
    search, attack, fuzz = Tally(), Tally(), Tally()
    idle_lasted, slow_lasted = [], []
    samples = {"rss_mb": [], "sockets": []}
    ids = [
        hit["id"]
        for query in queries[:5]
        for hit in httpx.get(
            base + "/v1/search",
            params={"q": query},
            headers={"Authorization": f"Bearer {keys[SEARCH]}"},
        ).json()["hits"]
    ]
    events = [
        {"type": rng.choice(["impression", "click"]), "item": rng.choice(ids), "position": i % 10}
        for i in range(FLOOD_EVENTS)
    ]
    body = json.dumps({"events": events}).encode()
    admin = {"Authorization": f"Bearer {keys[ADMIN]}"}
    async with (
        httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT, headers={"Authorization": f"Bearer {keys[SEARCH]}"}
        ) as reader,
        httpx.AsyncClient(timeout=REQUEST_TIMEOUT, headers=admin) as writer,
    ):
        tasks = [
            client(reader, base, "search", queries, until, search, random.Random(rng.random()))
            for _ in range(ABUSE_SEARCHERS)
        ]
        if SOCKETS in attackers:
            tasks += [
                idle_socket(port, f"127.0.0.{2 + n % IDLE_ADDRESSES}", until, idle_lasted)
                for n in range(IDLE_SOCKETS)
            ]
            tasks += [slow_client(port, until, slow_lasted) for _ in range(SLOW_CLIENTS)]
        if FLOOD in attackers:
            tasks += [flood(writer, base, body, until, attack) for _ in range(FLOOD_CLIENTS)]
        if FUZZ in attackers:
            tasks += [
                fuzzer(writer, base, until, fuzz, random.Random(rng.random()))
                for _ in range(FUZZ_CLIENTS)
            ]
        tasks.append(sample_server(process, until, samples))
        await asyncio.gather(*tasks)
    return {
        "search": search.summary(seconds),
        "events": attack.summary(seconds),
        "fuzz": fuzz.summary(seconds),
        "idle_closed": len(idle_lasted),
        "idle_lasted_s": round(float(np.median(idle_lasted)), 1) if idle_lasted else None,
        "slow_closed": len(slow_lasted),
        "slow_lasted_s": round(float(np.median(slow_lasted)), 1) if slow_lasted else None,
        "server_sockets_max": max(samples["sockets"]),
        "rss_mb_max": max(samples["rss_mb"]),
    }


def probed(server: Server, seconds: float, keys: dict, queries, attackers) -> dict:
    """One timed abuse phase with `attackers` (none: the control) and /health probed from
    another process over the same `seconds`; also the driver's share of the CPU."""
    spawn = multiprocessing.get_context("spawn")
    answers, started = spawn.Queue(), spawn.Event()
    prober = spawn.Process(target=probe_health, args=(server.port, seconds, started, answers))
    prober.start()
    process, me = psutil.Process(server.process.pid), psutil.Process()
    try:
        cpu_before = me.cpu_times()
        started.set()
        out = asyncio.run(
            abuse_phase(server.base, server.port, keys, queries, seconds, process, attackers)
        )
        health = answers.get(timeout=REQUEST_TIMEOUT * 2)
        prober.join()
    finally:
        prober.kill()
    driver = sum(me.cpu_times()[:2]) - sum(cpu_before[:2])
    milliseconds = [ms for status, ms in health if status == OK]
    out["driver_cpu_share"] = round(driver / (seconds * psutil.cpu_count()), 3)
    out["attackers"], out["seconds"] = list(attackers), seconds
    out["health"] = {
        "probes": len(health),
        "not_200": sum(status != OK for status, _ in health),
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 1),
        "p99_ms": round(float(np.percentile(milliseconds, 99)), 1),
        "max_ms": round(max(milliseconds), 1),
    }
    return out


def abuse(collection: Path, queries: list[str], arguments) -> dict:
    """The abuse phase against a copy of `collection` served with the default limits: its
    control (the same searching clients and probe, no attackers), each attacker alone, then
    all at once."""
    copy = WORK / f"abuse-{collection.name}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(collection, copy)
    store = KeyStore(copy)
    keys = {scope: store.create(scope)[0] for scope in (SEARCH, ADMIN)}
    server = Server(copy)
    process = psutil.Process(server.process.pid)
    try:
        # Warm-up: searches, then every attacker once (what their first use allocates is not
        # growth), neither counted.
        half = arguments.warmup / 2
        asyncio.run(phase(server.base, keys, {"search": ABUSE_SEARCHERS}, half, queries, 5))
        asyncio.run(abuse_phase(server.base, server.port, keys, queries, half, process))
        runs = [probed(server, arguments.abuse, keys, queries, ())]
        before = rss_mb(process)
        alone = arguments.abuse * ALONE_SHARE
        runs += [probed(server, alone, keys, queries, (attacker,)) for attacker in ATTACKERS]
        out = probed(server, arguments.abuse, keys, queries, ATTACKERS)
        time.sleep(SETTLE_SECONDS)
        out["rss_mb"] = {"before": before, "after": rss_mb(process)}
        out["runs"] = [*runs, {key: value for key, value in out.items() if key != "rss_mb"}]
        out["collection"] = collection.name
    finally:
        server.stop()
        shutil.rmtree(copy, ignore_errors=True)
    return out


def render_abuse(results: dict) -> str:
    """The "Serving under abuse" section."""
    run = results["abuse"]
    memory = run["rss_mb"]
    growth = memory["after"] / memory["before"] - 1
    lines = [
        f"`{ABUSE_COMMAND}` — {results['machine']}. `seoga serve` with its default "
        f"connection limits on the {run['collection']} collection; {ABUSE_SEARCHERS} clients "
        "search (closed loop) beside the attackers: "
        f"{SOCKETS} ({IDLE_SOCKETS} idle sockets from {IDLE_ADDRESSES} loopback addresses, "
        f"each reopened when the server closes it, and {SLOW_CLIENTS} clients sending a "
        f"request head one byte a second), an {FLOOD} ({FLOOD_CLIENTS} clients posting "
        f"{FLOOD_EVENTS:,} events a request) and {FUZZ} ({FUZZ_CLIENTS} clients: random bytes "
        "and JSON, lone surrogates, invalid UTF-8 in queries, JSON nested "
        f"{FUZZ_DEPTH:,} deep, to the search, ask, events and write routes with an admin key). "
        "First none (the control), then each alone, then all at once. /health is probed on a "
        f"fresh connection every {HEALTH_INTERVAL * MS:.0f} ms from another process.",
        "",
        "| attackers | s | /health probes | not 200 | /health p50 ms | /health p99 ms | "
        "searches/s | search p50 ms | search p99 ms | statuses | 5xx |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for one in run["runs"]:
        health, search = one["health"], one["search"].get("search", {})
        statuses = {}
        for name in ("search", "events", "fuzz"):
            for status, count in one[name]["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        errors = sum(count for status, count in statuses.items() if int(status) >= SERVER_ERROR)
        lines.append(
            f"| {' + '.join(one['attackers']) or 'none (control)'} | {one['seconds']:.0f} | "
            f"{health['probes']} | {health['not_200']} | {health['p50_ms']} | "
            f"{health['p99_ms']} | {search.get('per_second')} | {search.get('p50_ms')} | "
            f"{search.get('p99_ms')} | {dict(sorted(statuses.items()))} | {errors} |"
        )
    server_errors = sum(
        count
        for one in run["runs"]
        for name in ("search", "events", "fuzz")
        for status, count in one[name]["statuses"].items()
        if int(status) >= SERVER_ERROR
    )
    health = run["health"]
    lines += [
        "",
        f"All at once: {run['idle_closed']} idle sockets closed by the server (median "
        f"{run['idle_lasted_s']} s after opening), {run['slow_closed']} slow request heads cut "
        f"off (median {run['slow_lasted_s']} s); event flood {run['events']['statuses']}; "
        f"fuzzed {run['fuzz']['statuses']}; the server held {run['server_sockets_max']} TCP "
        f"sockets at most; its memory {memory['before']:.0f} MB after the control → "
        f"{memory['after']:.0f} MB after all ({growth:+.1%}), {run['rss_mb_max']:.0f} MB at "
        f"most; the driver took {run['driver_cpu_share']:.0%} of the CPU.",
        "",
        f"- no 5xx: {server_errors} {mark(server_errors == 0)}; /health always 200 with all "
        f"at once, p99 {health['p99_ms']} ms < {HEALTH_GOAL_MS} "
        f"{mark(not health['not_200'] and health['p99_ms'] < HEALTH_GOAL_MS)}; memory grew at "
        f"most 5 % {mark(growth <= MEMORY_GOAL)}",
        *(f"- {error}" for error in run["fuzz"]["errors"][:3]),
    ]
    return "\n".join(lines)


def write_round(folder: Path, files: int, round_number: int) -> None:
    for number in range(files):
        text = f"공지 {number} round{round_number} 계약 안내 notice " * 20
        (folder / f"n{number}.txt").write_text(text, encoding="utf-8")


def index_seconds(copy: Path, folder: Path, key: str, files: int, label: int) -> float:
    """How long one uninterrupted index task of the crash files takes (the kill window)."""
    import httpx

    write_round(folder, files, label)
    server = Server(copy, "--allow-root", str(folder.parent))
    try:
        started = time.perf_counter()
        httpx.post(
            server.base + "/v1/index?wait=true",
            json={"paths": [str(folder)]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=REQUEST_TIMEOUT * 4,
        ).raise_for_status()
        return time.perf_counter() - started
    finally:
        server.stop()


def crash(collection: Path, arguments) -> dict:
    """kill -9 at random moments of an index task; the collection must hold one generation.

    The kill comes up to CRASH_WINDOW_SHARE × the task's own length after it starts (measured
    first, that round's files indexed whole), so some kills land after the commit."""
    import httpx

    from seoga.collection import Collection

    copy = WORK / "crash"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(collection, copy)
    key = KeyStore(copy).create(ADMIN)[0]
    folder = WORK / "crash-files" / "docs"
    shutil.rmtree(folder.parent, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(arguments.seed)
    base_documents = Collection.open(copy).stats()["counts"]["documents"]
    measured = index_seconds(copy, folder, key, arguments.crash_files, arguments.kills)
    window = arguments.crash_window or CRASH_WINDOW_SHARE * measured
    outcomes = {"old": 0, "new": 0}
    for round_number in range(arguments.kills):
        write_round(folder, arguments.crash_files, round_number)
        server = Server(copy, "--allow-root", str(folder.parent))
        try:
            httpx.post(
                server.base + "/v1/index",
                json={"paths": [str(folder)]},
                headers={"Authorization": f"Bearer {key}"},
            ).raise_for_status()
            time.sleep(rng.uniform(0.0, window))
            server.process.send_signal(signal.SIGKILL)
        finally:
            server.stop()
        reopened = Collection.open(copy)
        count = reopened.stats()["counts"]["documents"]
        rounds = {
            match.group(1)
            for chunk in reopened.store.iter_chunks()
            if (match := ROUND.search(chunk.text))
        }
        if count != base_documents + arguments.crash_files or len(rounds) > 1:
            raise SystemExit(f"kill {round_number}: {count} documents, rounds {rounds}")
        if not reopened.search("계약 안내", k=1):
            raise SystemExit(f"kill {round_number}: the reopened collection finds nothing")
        outcomes["new" if str(round_number) in rounds else "old"] += 1
    shutil.rmtree(copy, ignore_errors=True)
    return {
        "kills": arguments.kills,
        "files": arguments.crash_files,
        "task_seconds": measured,
        "window_seconds": window,
        **outcomes,
    }


def demo_collection() -> Path:
    from seoga.demo import build_demo
    from seoga.settings import CollectionSettings

    root = seoga_home() / "demo"
    build_demo(root, CollectionSettings(), show_progress=False)
    return root


def demo_queries() -> list[str]:
    from seoga.samples import sample_queries

    return [query.text for query in sample_queries()]


def scifact_collection() -> tuple[Path, list[str]]:
    """The SciFact subset's default-settings collection (built by the distillation benchmark's
    quality stage, or here) and its test queries."""
    from benchmarks.distill import scifact_subset
    from seoga.collection.cache import cached_collection
    from seoga.datasets.beir import read_beir
    from seoga.settings import CollectionSettings

    data = read_beir(scifact_subset(SCIFACT_SUBSET.parent))
    collection, _ = cached_collection(
        data, CollectionSettings(), cache_dir=None, show_progress=False
    )
    return collection.root, list(data.queries.values())


def render(results: dict, arguments) -> str:
    lines = [
        f"`{COMMAND}` — {results['machine']}. One uvicorn worker (`seoga serve`, default "
        "models: multilingual-e5-small + all-MiniLM-L6-v2 beside BM25, hybrid search), the "
        "driver in another process on the same cores (closed-loop clients, httpx + asyncio; its "
        "CPU share is given). The steady phase is then run again driven by wrk, a load "
        "generator written in C, which takes far less of the two cores from the server than "
        "the Python driver does; the latency goals are judged on it (p50 and p99 as wrk "
        "measures them). Every phase is bounded in time; requests time out after "
        f"{REQUEST_TIMEOUT:.0f} s.",
        "",
        "| collection | documents | phase | clients | requests/s | p50 ms | p99 ms | statuses | "
        "notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for run in results["load"]:
        steady, mixed, overload = run["steady"], run["mixed"], run["overload"]
        search = steady.get("search", {})
        label = " ".join([run["collection"], *(f"`{o}`" for o in run.get("options", []))])
        lines.append(
            f"| {label} | {run['documents']:,} | steady search, {arguments.steady} s "
            f"| 4 | {search.get('per_second')} | {search.get('p50_ms')} | {search.get('p99_ms')} "
            f"| {steady['statuses']} | driver CPU {steady['driver_cpu_share']:.0%} |"
        )
        by_wrk = run.get("steady_wrk")
        if by_wrk:
            search = by_wrk["search"]
            lines.append(
                f"| | | steady search, wrk, {arguments.steady} s | 4 | {search['per_second']} | "
                f"{search['p50_ms']} | {search['p99_ms']} | {by_wrk['statuses']} | "
                f"timeouts {by_wrk['timeouts']} |"
            )
        for kind in ("search", "ask", "write"):
            row = mixed.get(kind)
            if row:
                lines.append(
                    f"| | | mixed ({kind}), {arguments.mixed} s | "
                    f"{ {'search': 3, 'ask': 1, 'write': 1}[kind] } | {row['per_second']} | "
                    f"{row['p50_ms']} | {row['p99_ms']} | | |"
                )
        lines.append(
            f"| | | mixed, all | 5 | | | | {mixed['statuses']} | {mixed['written']} documents "
            f"written; count exact: {mixed['count_exact']} |"
        )
        busy = overload.get("search", {})
        lines.append(
            f"| | | overload, {arguments.overload} s | 32 | {busy.get('per_second')} | "
            f"{busy.get('p50_ms')} | {busy.get('p99_ms')} | {overload['statuses']} | timeouts "
            f"{overload['timeouts']}, 503 without Retry-After {overload['missing_retry_after']} |"
        )
        memory = run["rss_mb"]
        growth = memory["overload"] / memory["warm-up"] - 1
        cold = run["cold_warm"]
        after = " → ".join(f"{value:.0f} after {name}" for name, value in memory.items())
        lines.append(f"| | | memory (MB) | | | | | | {after} ({growth:+.1%}) |")
        lines.append(
            f"| | | one search, cold vs warm | 1 | | | | | `seoga search` as a fresh process "
            f"{cold['cold_s']:.2f} s, through the server {cold['warm_s'] * MS:.0f} ms "
            f"({cold['cold_s'] / cold['warm_s']:.0f}×) |"
        )
        clean = all(
            set(phase["statuses"]) == {str(OK)} and not phase["timeouts"]
            for phase in (steady, by_wrk or steady)
        )
        mixed_clean = all(int(s) in (OK, 202) for s in mixed["statuses"]) and mixed["count_exact"]
        overload_clean = (
            set(overload["statuses"]) <= {str(OK), str(BUSY)}
            and not overload["timeouts"]
            and not overload["missing_retry_after"]
        )
        verdicts.append(
            f"- {label}: steady zero errors {mark(clean)}; mixed zero errors and "
            f"exact count {mark(mixed_clean)}; overload only 200/503 with Retry-After, no hang "
            f"{mark(overload_clean)}; memory within 5 % {mark(abs(growth) <= MEMORY_GOAL)}"
            + (
                latency_verdict(search, "wrk" if by_wrk else "httpx driver")
                if "scifact" in run["collection"] and search
                else ""
            )
        )
    crashed = results.get("crash")
    lines += ["", *verdicts]
    quality = results.get("int8_quality")
    if quality:
        full, int8 = quality["float32"], quality["int8"]
        lines += [
            "",
            f"`{INT8_QUERIES}` encodes queries with dynamically quantised int8 copies of both "
            "models (ONNX Runtime, one scale per output channel); passages and the index stay "
            f"float32. On the SciFact subset's {quality['queries']} test queries: hybrid "
            f"nDCG@10 {full['ndcg@10']:.4f} → {int8['ndcg@10']:.4f} "
            f"({int8['ndcg@10'] / full['ndcg@10'] - 1:+.2%}), recall@100 "
            f"{full['recall@100']:.4f} → {int8['recall@100']:.4f}; e5 query vectors at cosine "
            f"{quality['cosine_mean']:.4f} (min {quality['cosine_min']:.4f}) to float32.",
        ]
    if crashed:
        lines += [
            "",
            f"Crash: {crashed['kills']} × kill -9 at a random moment "
            f"(0–{crashed['window_seconds']:.1f} s; the task alone takes "
            f"{crashed['task_seconds']:.1f} s) "
            f"of `POST /v1/index` of {crashed['files']} changed files, each followed by opening "
            f"the collection, searching it and checking that every indexed chunk comes from one "
            f"round: {crashed['old']} times the old documents, {crashed['new']} times the new "
            "ones, never a mix or a broken collection.",
        ]
    return "\n".join(lines)


def latency_verdict(search: dict, driver: str) -> str:
    p50, p99 = search["p50_ms"], search["p99_ms"]
    return (
        f"; steady search driven by {driver}: p50 {p50} ms ≤ {P50_GOAL_MS} "
        f"{mark(p50 <= P50_GOAL_MS)}, "
        f"p99 {p99} ms ≤ {P99_GOAL_MS} {mark(p99 <= P99_GOAL_MS)}"
    )


def mark(met: bool) -> str:
    return "**met**" if met else "**missed**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--steady", type=float, default=60.0)
    parser.add_argument("--mixed", type=float, default=30.0)
    parser.add_argument("--overload", type=float, default=15.0)
    parser.add_argument("--abuse", type=float, default=30.0)
    parser.add_argument(
        "--only", choices=["abuse"], default=None, help="Run only this phase (and its section)."
    )
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--crash-files", type=int, default=100)
    parser.add_argument("--crash-window", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument("--no-report", action="store_true")
    arguments = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine_line(), "load": []}
    demo = demo_collection()
    if arguments.only == "abuse":
        results["abuse"] = abuse(demo, demo_queries(), arguments)
        print(json.dumps(results["abuse"], ensure_ascii=False), flush=True)
        (WORK / "abuse.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
        if not arguments.no_report:
            write_section("## Serving under abuse", render_abuse(results))
        return
    targets = [(demo, demo_queries(), ())]
    if not arguments.skip_scifact:
        scifact, queries = scifact_collection()
        targets += [(scifact, queries, ()), (scifact, queries, (INT8_QUERIES,))]
        results["int8_quality"] = query_quality(scifact)
        print(json.dumps(results["int8_quality"]), flush=True)
    for collection, queries, options in targets:
        results["load"].append(load(collection, queries, arguments, options))
        print(json.dumps(results["load"][-1], ensure_ascii=False), flush=True)
    results["crash"] = crash(demo, arguments)
    print(json.dumps(results["crash"]), flush=True)
    results["abuse"] = abuse(demo, demo_queries(), arguments)
    print(json.dumps(results["abuse"], ensure_ascii=False), flush=True)
    (WORK / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    if not arguments.no_report:
        write_section("## Serving", render(results, arguments))
        write_section("## Serving under abuse", render_abuse(results))


if __name__ == "__main__":
    main()
