"""`seoga serve` as a real process: the CLI, SIGTERM during a write, kill -9 during indexing."""

import random
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from seoga.collection import Collection
from seoga.serve.keys import ADMIN, KeyStore
from tests.serving import (
    EXIT_SECONDS,
    POLL_SECONDS,
    READY_SECONDS,
    Server,
    call,
    lease_collection,
)

KILLS = 3
FILES = 150
SEED = 7
ROUND = re.compile(r"라운드(\d+)")


@pytest.fixture
def collection(tmp_path, tiny_model) -> Path:
    return lease_collection(tmp_path, tiny_model)


def test_keys_create_prints_the_key_alone_and_serve_needs_a_key_or_open(collection, main_run):
    result = main_run("keys", "create", "--scope", "admin", "-c", str(collection))
    key = result.stdout.strip()
    assert result.returncode == 0 and key.startswith("sg_") and "\n" not in key
    assert KeyStore(collection).check(key).scope == ADMIN
    listed = main_run("keys", "list", "-c", str(collection), "--json")
    assert key not in listed.stdout and '"scope": "admin"' in listed.stdout
    (collection / "keys.json").unlink()
    refused = main_run("serve", "-c", str(collection))
    assert refused.returncode == 2 and "keys yet" in " ".join(refused.stderr.split())


def test_sigterm_lets_the_write_in_flight_finish_and_exits_cleanly(collection):
    key, _ = KeyStore(collection).create(ADMIN)
    server = Server(collection)
    documents = [{"id": f"d{i}", "text": f"문서 {i} 계약 갱신 " * 20} for i in range(60)]
    answers = []

    def write() -> None:
        url = server.base + "/v1/documents?wait=true"
        answers.append(call(url, "POST", {"documents": documents}, key))

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        tasks = call(server.base + "/v1/tasks", key=key)[1]["tasks"]
        if tasks and tasks[0]["status"] == "processing":
            break
        time.sleep(POLL_SECONDS / 10)
    server.process.send_signal(signal.SIGTERM)
    writer.join(timeout=EXIT_SECONDS)
    assert server.process.wait(timeout=EXIT_SECONDS) == 0
    status, task = answers[0]
    assert status == 202 and task["status"] == "succeeded"
    assert Collection.open(collection).stats()["counts"]["documents"] == 1 + len(documents)


def test_kill_9_during_an_index_task_leaves_the_old_or_the_new_collection(collection, tmp_path):
    key, _ = KeyStore(collection).create(ADMIN)
    allowed = tmp_path / "allowed"
    folder = allowed / "many"
    folder.mkdir(parents=True)
    rng = random.Random(SEED)
    for round_number in range(KILLS):
        for number in range(FILES):
            text = f"공지 {number} 계약 안내 라운드{round_number} " * 30
            (folder / f"n{number}.txt").write_text(text, encoding="utf-8")
        server = Server(collection, "--allow-root", str(allowed))
        call(server.base + "/v1/index", "POST", {"paths": [str(folder)]}, key)
        time.sleep(rng.uniform(0.0, 1.0))
        server.process.send_signal(signal.SIGKILL)
        server.stop()
        reopened = Collection.open(collection)
        documents = reopened.stats()["counts"]["documents"]
        assert documents in (1, 1 + FILES)
        rounds = {
            ROUND.search(chunk.text).group(1)
            for chunk in reopened.store.iter_chunks()
            if ROUND.search(chunk.text)
        }
        assert len(rounds) <= 1, "a generation mixes two index tasks"
        assert reopened.search("계약", k=1, mode="bm25")
        assert len(reopened.documents()) == documents
