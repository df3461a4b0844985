"""The same folder indexed here, by local worker processes and on Dask gives the same
collection: documents, chunks, BM25 tokens, vectors (within 1e-5) and top-10 results."""

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from seoga.collection import Collection
from seoga.parallel.executors import InProcess, ProcessPool, make_executor
from seoga.settings import CollectionSettings
from tests.hwp_files import extended_control, hwp_file, paragraph, table
from tests.serving import LoopbackCluster

FILES = 12
QUERIES = ["계약 갱신 조건", "dense retrieval negatives", "보증금 반환", "fusion of ranked lists"]
TOLERANCE = 1e-5
START_SECONDS = 60.0
POLL_SECONDS = 0.2
KOREAN = (
    "주택 임대차 계약 {n}번의 갱신 조건과 보증금 반환 절차를 설명합니다. "
    "임차인은 갱신을 요구할 수 있습니다. "
)
ENGLISH = (
    "Note {n}: dense retrieval trains a dual encoder with hard negatives; fusion combines lists. "
)


def write_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for n in range(FILES):
        text = (KOREAN if n % 2 else ENGLISH).format(n=n) * (1 + n % 4)
        (folder / f"doc{n:02d}.txt").write_text(text, encoding="utf-8")
    # A Hangul document with a heading and a table: structure must travel through workers too.
    rows = [["구분", "내용"], ["보증금", "계약 종료 후 반환"], ["갱신", "한 번 요구 가능"]]
    body = paragraph(0, "Ⅰ. 임대차 안내") + paragraph(
        0, extended_control(11, "tbl "), controls=[table(rows, "표 1. 계약 조건")]
    )
    (folder / "guide.hwp").write_bytes(hwp_file([body]))
    (folder / "blob.bin").write_bytes(b"\x00\x01")
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("parallel") / "docs")


@pytest.fixture(scope="module")
def settings(tiny_model, tiny_english_model):
    return CollectionSettings(
        embedder=str(tiny_model),
        extra_embedders=[str(tiny_english_model)],
        chunk_tokens=24,
        chunk_overlap=4,
    )


def build(root: Path, folder: Path, settings, executor, batch_files: int = 3) -> Collection:
    collection = Collection.create(root, settings)
    try:
        report = collection.add([folder], executor=executor, batch_files=batch_files)
    finally:
        executor.close()
    assert report.added and not report.problems
    return collection


@pytest.fixture(scope="module")
def reference(tmp_path_factory, folder, settings) -> Collection:
    return build(tmp_path_factory.mktemp("ref") / "kb", folder, settings, InProcess())


def assert_same(built: Collection, reference: Collection) -> None:
    """Same documents, chunks and tokens; vectors within TOLERANCE; same top-10 lists."""
    assert built.documents() == reference.documents()
    chunks = [
        (c.chunk_id, c.doc_id, c.position, c.text, c.section) for c in built.store.iter_chunks()
    ]
    wanted = [
        (c.chunk_id, c.doc_id, c.position, c.text, c.section) for c in reference.store.iter_chunks()
    ]
    assert chunks == wanted
    assert any(section for *_, section in chunks)  # the Hangul document's heading travelled
    assert list(built.store.iter_chunk_tokens()) == list(reference.store.iter_chunk_tokens())
    for key, index in reference.dense_indexes.items():
        other = built.dense_indexes[key]
        assert np.array_equal(other.chunk_ids, index.chunk_ids)
        assert np.abs(other.vectors - index.vectors).max() <= TOLERANCE
    for query in QUERIES:
        ours = [(hit.doc_id, hit.chunk_id) for hit in built.search(query, k=10)]
        theirs = [(hit.doc_id, hit.chunk_id) for hit in reference.search(query, k=10)]
        assert ours == theirs


def test_the_report_lists_files_of_kinds_seoga_does_not_read(reference, folder):
    report = reference.add([folder])
    assert report.to_dict()["skipped"] == {
        "count": 1,
        "by_extension": {".bin": 1},
        "first": [str(folder.resolve() / "blob.bin")],
    }


def test_two_local_processes_build_the_same_collection(tmp_path, folder, settings, reference):
    built = build(tmp_path / "kb", folder, settings, ProcessPool(2))
    assert_same(built, reference)


def test_a_dask_local_cluster_builds_the_same_collection(tmp_path, folder, settings, reference):
    built = build(tmp_path / "kb", folder, settings, make_executor(dask="local:2"))
    assert_same(built, reference)


@pytest.fixture
def cluster():
    if shutil.which("dask") is None and not Path(sys.executable).with_name("dask").exists():
        pytest.skip("the dask command is not installed")
    started = LoopbackCluster()
    yield started
    started.close()


def test_a_loopback_scheduler_and_two_workers_build_the_same_collection(
    tmp_path, folder, settings, reference, cluster
):
    built = build(tmp_path / "kb", folder, settings, make_executor(dask=cluster.address))
    assert_same(built, reference)


def test_a_worker_killed_mid_run_still_gives_the_same_collection(
    tmp_path, folder, settings, reference, cluster
):
    executor = make_executor(dask=cluster.address)
    killed = []

    def kill_one() -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and not killed:
            if executor.client.processing() and any(executor.client.processing().values()):
                pid = cluster.worker_pids()[0]
                subprocess.run(["kill", f"-{signal.SIGKILL.value}", str(pid)], check=False)
                killed.append(pid)
            time.sleep(POLL_SECONDS / 10)

    killer = threading.Thread(target=kill_one)
    killer.start()
    built = build(tmp_path / "kb", folder, settings, executor, batch_files=1)
    killer.join()
    assert killed, "no worker was killed while tasks ran"
    assert_same(built, reference)


def test_eval_retrieval_builds_its_collection_on_a_cluster_with_the_same_scores(
    tmp_path, tiny_model
):
    from seoga.evaluate.retrieval import evaluate_retrieval
    from tests.test_train_data import make_beir

    beir = make_beir(tmp_path / "beir")
    settings = CollectionSettings(embedder=str(tiny_model), extra_embedders=[])
    here = evaluate_retrieval(beir, "hybrid", settings=settings, cache_dir=tmp_path / "a")
    executor = make_executor(dask="local:2")
    try:
        there = evaluate_retrieval(
            beir, "hybrid", settings=settings, cache_dir=tmp_path / "b", executor=executor
        )
    finally:
        executor.close()
    assert there["ndcg@10"] == here["ndcg@10"] and there["recall@100"] == here["recall@100"]


def test_tasks_are_sized_so_the_workers_share_the_files():
    from seoga.parallel.pipeline import DEFAULT_BATCH_FILES, TASKS_PER_WORKER, batch_size_for

    # 100 files on 2 workers: 8 tasks of at most 13, not 4 of 32 that leave a worker idle.
    size = batch_size_for(100, 2)
    assert size == 13 and -(-100 // size) >= 2 * TASKS_PER_WORKER
    assert batch_size_for(10_000, 2) == DEFAULT_BATCH_FILES
    assert batch_size_for(3, 4) == 1
    assert batch_size_for(5, 1) == 2
