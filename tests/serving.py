"""`seoga serve` in a child process for tests: started on a free port, waited for."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

LEASE = "주택 임대차 계약 갱신 안내"
READY_SECONDS = 60.0
POLL_SECONDS = 0.1
EXIT_SECONDS = 60.0


def lease_collection(root: Path, model: Path) -> Path:
    """`root/kb`: one Korean file, the tiny model as its only bi-encoder."""
    from seoga.collection import Collection
    from seoga.settings import CollectionSettings

    docs = root / "docs"
    docs.mkdir()
    (docs / "lease.txt").write_text(LEASE, encoding="utf-8")
    settings = CollectionSettings(embedder=str(model), extra_embedders=[], chunk_tokens=48)
    Collection.create(root / "kb", settings).add([docs])
    return root / "kb"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url: str, method: str = "GET", body: dict | None = None, key: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=READY_SECONDS) as response:
        return response.status, json.loads(response.read() or b"null")


class Server:
    """`python -m seoga serve` on a free loopback port, waited for until /ready."""

    def __init__(self, collection: Path, *options: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "seoga", "serve", "-c", str(collection)]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(self.process.stdout.read().decode())
            try:
                if call(self.base + "/ready")[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(POLL_SECONDS)
        self.process.kill()
        raise AssertionError("the server did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=EXIT_SECONDS)


class LoopbackCluster:
    """`dask scheduler` on loopback and `workers` one-thread `dask worker` processes (each
    with its nanny)."""

    def __init__(self, workers: int = 2) -> None:
        self.address = f"tcp://127.0.0.1:{free_port()}"
        dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
        port = self.address.rsplit(":", 1)[1]
        self.scheduler = subprocess.Popen(
            [*dask, "--host", "127.0.0.1", "--port", port, "--dashboard-address", ":0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        worker = [sys.executable, "-m", "distributed.cli.dask_worker", self.address]
        self.workers = [
            subprocess.Popen(
                [*worker, "--nthreads", "1", "--host", "127.0.0.1", "--dashboard-address", ":0"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        from distributed import Client

        with Client(self.address, timeout=READY_SECONDS) as client:
            client.wait_for_workers(workers, timeout=READY_SECONDS)

    def worker_pids(self) -> list[int]:
        """The worker processes the nannies started (the ones that run tasks)."""
        import psutil

        return [
            child.pid
            for nanny in self.workers
            for child in psutil.Process(nanny.pid).children(recursive=True)
        ]

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=EXIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
