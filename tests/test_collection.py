import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seoga.collection import Collection
from seoga.errors import CollectionError, InputError
from seoga.index.generations import MANIFEST_NAME
from seoga.models.query_encoding import QueryEncoding
from seoga.settings import CollectionSettings

KOREAN = (
    "주택 임대차 계약의 갱신 조건과 계약갱신요구권에 관한 설명입니다. "
    "임차인은 갱신을 요구할 수 있습니다."
)
ENGLISH = (
    "Dense passage retrieval trains a dual encoder with in-batch negatives and hard negatives."
)
OTHER = "Reciprocal rank fusion combines several ranked lists without looking at their scores."


def write_docs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lease.txt").write_text(KOREAN, encoding="utf-8")
    (folder / "dpr.md").write_text(f"# Dense retrieval\n\n{ENGLISH}\n", encoding="utf-8")
    (folder / "fusion.txt").write_text(OTHER, encoding="utf-8")
    return folder


@pytest.fixture
def settings(tiny_model):
    return CollectionSettings(embedder=str(tiny_model), chunk_tokens=48, chunk_overlap=8)


@pytest.fixture
def built(tmp_path, settings):
    docs = write_docs(tmp_path / "docs")
    collection = Collection.create(tmp_path / "kb", settings)
    report = collection.add([docs])
    return collection, docs, report


def test_index_then_search_each_mode(built):
    collection, docs, report = built
    assert len(report.added) == 3 and report.documents == 3 and not report.problems
    top = collection.search("계약 갱신 조건", mode="bm25", k=3)
    assert top[0].doc_id == str(docs.resolve() / "lease.txt")
    assert any(
        collection.search("hard negatives encoder", mode=m, k=3) for m in ("dense", "hybrid")
    )
    english = collection.search("dual encoders with hard negatives", mode="hybrid", k=3)
    assert english[0].title == "Dense retrieval"
    assert "encoder" in english[0].marked_snippet("<", ">")
    assert "<encoder>" in english[0].marked_snippet("<", ">")


def test_reopened_collection_gives_the_same_results(built, tmp_path):
    collection, _, _ = built
    before = [r.doc_id for r in collection.search("rank fusion", k=3)]
    again = Collection.open(tmp_path / "kb")
    assert [r.doc_id for r in again.search("rank fusion", k=3)] == before
    manifest = json.loads((tmp_path / "kb" / MANIFEST_NAME).read_text())
    assert manifest["embedder"]["dim"] == 32
    assert manifest["counts"]["documents"] == 3
    encoding = QueryEncoding(int8=True, threads=1)
    int8 = Collection.open(tmp_path / "kb", queries=encoding)
    assert int8.search("rank fusion", k=3)[0].doc_id == before[0]
    assert int8.embedder.queries == encoding and int8.reopened().queries == encoding


def test_incremental_index_touches_only_changed_files(built):
    collection, docs, _ = built
    again = collection.add([docs])
    assert not again.changed and len(again.unchanged) == 3
    (docs / "fusion.txt").write_text(
        OTHER + " It was updated with convex fusion.", encoding="utf-8"
    )
    (docs / "new.txt").write_text("Temperature scaling calibrates confidence.", encoding="utf-8")
    report = collection.add([docs])
    assert [Path(p).name for p in report.updated] == ["fusion.txt"]
    assert [Path(p).name for p in report.added] == ["new.txt"]
    assert len(report.unchanged) == 2
    assert collection.search("temperature scaling", mode="bm25", k=1)[0].doc_id.endswith("new.txt")
    assert collection.stats()["counts"]["documents"] == 4


def test_remove_deletes_from_every_index(built):
    collection, docs, _ = built
    removed = collection.remove([docs / "lease.txt"])
    assert [Path(p).name for p in removed] == ["lease.txt"]
    for mode in ("bm25", "dense", "hybrid"):
        hits = collection.search("계약 갱신", mode=mode, k=10)
        assert all(not hit.doc_id.endswith("lease.txt") for hit in hits)
    assert collection.stats()["counts"]["documents"] == 2
    with pytest.raises(InputError, match="not in the collection"):
        collection.remove([docs / "lease.txt"])


def test_prune_removes_files_gone_from_disk(built):
    collection, docs, _ = built
    (docs / "dpr.md").unlink()
    report = collection.add([docs], prune=True)
    assert [Path(p).name for p in report.removed] == ["dpr.md"]
    assert collection.stats()["counts"]["files"] == 2


def test_bad_files_are_reported_and_the_rest_indexed(tmp_path, settings):
    docs = write_docs(tmp_path / "docs")
    (docs / "empty.txt").write_text("")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (docs / "records.jsonl").write_text('{"id": "r1", "text": "good record"}\n{broken\n')
    report = Collection.create(tmp_path / "kb", settings).add([docs])
    reasons = {Path(p.path).name: p for p in report.problems}
    assert {"empty.txt", "binary.txt", "records.jsonl"} <= set(reasons)
    assert reasons["records.jsonl"].line == 2
    assert report.documents == 4 and not report.nothing_indexed


def test_duplicate_document_ids_are_skipped_with_a_reason(tmp_path, settings):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.jsonl").write_text('{"id": "same", "text": "first copy"}\n')
    (docs / "b.jsonl").write_text('{"id": "same", "text": "second copy"}\n')
    report = Collection.create(tmp_path / "kb", settings).add([docs])
    assert report.documents == 1
    assert any("already indexed" in p.reason for p in report.problems)


def test_queries_are_validated(built):
    collection, _, _ = built
    with pytest.raises(InputError, match="empty"):
        collection.search("   ")
    with pytest.raises(InputError, match="shorten"):
        collection.search("검색 " * 2000)
    with pytest.raises(InputError, match="mode"):
        collection.search("x", mode="fuzzy")


def test_collection_from_another_version_is_refused(built, tmp_path):
    manifest_path = tmp_path / "kb" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["seoga_version"] = "9.9.0"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CollectionError, match="made by seoga 9.9.0"):
        Collection.open(tmp_path / "kb")


def test_bm25_only_collection(tmp_path):
    docs = write_docs(tmp_path / "docs")
    collection = Collection.create(tmp_path / "kb", CollectionSettings(embedder="none"))
    collection.add([docs])
    assert collection.search("reciprocal rank")[0].doc_id.endswith("fusion.txt")
    with pytest.raises(InputError, match="--mode bm25"):
        collection.search("x", mode="dense")


KILL_AFTER_SECONDS_MAX = 120
MANY_FILES = 400


def test_killed_indexing_leaves_the_previous_collection_searchable(tmp_path, settings):
    docs = write_docs(tmp_path / "docs")
    collection = Collection.create(tmp_path / "kb", settings)
    collection.add([docs])
    before = [r.doc_id for r in collection.search("계약 갱신", k=3)]
    manifest_before = (tmp_path / "kb" / MANIFEST_NAME).read_text()

    more = tmp_path / "more"
    more.mkdir()
    for number in range(MANY_FILES):
        (more / f"f{number}.txt").write_text(f"{OTHER} 문서 번호 {number}. " * 20)
    process = subprocess.Popen(
        [sys.executable, "-m", "seoga", "index", str(more), "--collection", str(tmp_path / "kb")],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    deadline = time.monotonic() + KILL_AFTER_SECONDS_MAX
    # Kill only once the writer has started building its new generation beside the live one.
    while not any(".tmp-" in p.name for p in (tmp_path / "kb").iterdir()):
        assert process.poll() is None, "indexing finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert (tmp_path / "kb" / MANIFEST_NAME).read_text() == manifest_before
    reopened = Collection.open(tmp_path / "kb")
    assert [r.doc_id for r in reopened.search("계약 갱신", k=3)] == before
    assert reopened.stats()["counts"]["documents"] == 3
    # The next writer clears the half-built generation and indexes normally.
    report = reopened.add([more])
    assert report.documents == MANY_FILES
    assert not any(".tmp-" in p.name for p in (tmp_path / "kb").iterdir())


def test_a_writer_opened_earlier_builds_on_the_latest_generation(built, tmp_path):
    first, docs, _ = built
    second = Collection.open(tmp_path / "kb")
    (docs / "extra.txt").write_text("Knowledge distillation trains a student.", encoding="utf-8")
    first.add([docs])
    # `second` was opened before that commit; its write must keep extra.txt.
    second.remove([docs / "fusion.txt"])
    names = {Path(d["doc_id"]).name for d in Collection.open(tmp_path / "kb").documents()}
    assert names == {"lease.txt", "dpr.md", "extra.txt"}


def test_an_extra_english_model_ranks_only_what_it_reads(tmp_path, tiny_model, tiny_english_model):
    settings = CollectionSettings(
        embedder=str(tiny_model),
        extra_embedders=[str(tiny_english_model)],
        chunk_tokens=48,
        chunk_overlap=8,
    )
    docs = write_docs(tmp_path / "docs")
    collection = Collection.create(tmp_path / "kb", settings)
    collection.add([docs])
    english_key = f"dense:{tiny_english_model.name}"
    (extra,) = collection.manifest["extra_embedders"]
    assert extra["languages"] == ["en"]
    # The Korean file is not in the English model's index; every chunk is in the main one.
    lease = str(docs.resolve() / "lease.txt")
    extra_documents = {
        collection.chunk_documents[int(i)] for i in collection.dense_indexes[english_key].chunk_ids
    }
    assert lease not in extra_documents and len(extra_documents) == 2
    assert len(collection.dense.chunk_ids) == collection.stats()["counts"]["chunks"]

    english = collection.retrieve("dual encoder negatives", mode="hybrid")
    assert set(english.rankings) == {"bm25", "dense", english_key}
    # Both models exported to ONNX at this first query, each in its thread, side by side.
    assert all(slot.embedder.onnx_queries for slot in collection.dense_slots)
    # Each model searched in its own thread: the same hits as searching directly.
    for slot in collection.dense_slots:
        vector = slot.embedder.encode_queries(["dual encoder negatives"])[0]
        chunk_ids, scores = collection.dense_indexes[slot.key].search(vector, 1)
        best = next(iter(english.rankings[slot.key].items()))
        assert best == (collection.chunk_documents[chunk_ids[0]], pytest.approx(scores[0]))
    korean = collection.retrieve("계약 갱신 조건", mode="hybrid")
    assert set(korean.rankings) == {"bm25", "dense"}
    assert set(collection.retrieve("dual encoder", mode="dense").rankings) == {"dense"}
    hit = collection.search("dual encoder negatives", k=1)[0]
    assert english_key in hit.scores

    collection.remove([docs / "dpr.md"])
    reopened = Collection.open(tmp_path / "kb")
    remaining = {
        reopened.chunk_documents[int(i)] for i in reopened.dense_indexes[english_key].chunk_ids
    }
    assert remaining == {str(docs.resolve() / "fusion.txt")}


def test_default_embedder_brings_its_english_companion(tiny_model):
    assert CollectionSettings().extra_embedders == ["all-MiniLM-L6-v2"]
    assert CollectionSettings(extra_embedders=["none"]).extra_embedders == []
    assert CollectionSettings(embedder=str(tiny_model)).extra_embedders == []
    assert CollectionSettings(embedder="none").extra_embedders == []


def test_query_threads_are_made_anew_in_a_forked_child(built, monkeypatch):
    collection, _, _ = built
    before = [r.doc_id for r in collection.search("rank fusion", k=3)]
    pool = collection.searcher.query_threads
    assert collection.searcher.query_threads is pool
    # A forked child has another pid and none of its parent's threads.
    monkeypatch.setattr(os, "getpid", lambda: -1)
    assert collection.searcher.query_threads is not pool
    assert [r.doc_id for r in collection.search("rank fusion", k=3)] == before
