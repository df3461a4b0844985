import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXIT_USER_ERROR = 2


def seoga(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seoga", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
    )


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "lease.md").write_text(
        "# 전세 계약\n\n전세 계약을 갱신하려면 계약갱신요구권을 행사합니다.", encoding="utf-8"
    )
    (folder / "bm25.txt").write_text("BM25 ranks documents by term frequency.", encoding="utf-8")
    (folder / "broken.jsonl").write_text('{"id": "ok", "text": "fine line"}\nnot json\n')
    return folder


def test_index_search_json_remove(tmp_path, docs, tiny_model):
    kb = str(tmp_path / "kb")
    indexed = seoga("index", str(docs), "-c", kb, "--embedder", str(tiny_model), "--json")
    assert indexed.returncode == 0, indexed.stderr
    report = json.loads(indexed.stdout)
    assert len(report["added"]) == 3 and report["documents"] == 3
    assert any("broken.jsonl:2" in problem for problem in report["problems"])

    found = seoga("search", "전세 계약 갱신", "-c", kb, "--mode", "bm25", "-k", "2", "--json")
    hits = json.loads(found.stdout)
    assert hits[0]["title"] == "전세 계약" and hits[0]["highlights"]

    shown = seoga("search", "term frequency", "-c", kb)
    assert shown.returncode == 0 and "BM25 ranks documents" in shown.stdout

    removed = seoga("remove", str(docs / "bm25.txt"), "-c", kb)
    assert removed.returncode == 0 and "removed 1 files" in removed.stdout
    after = json.loads(seoga("search", "term frequency", "-c", kb, "--json").stdout)
    assert all(not hit["doc_id"].endswith("bm25.txt") for hit in after)


def test_fusion_weights_stored_by_index_and_overridden_by_search(tmp_path, docs, tiny_model):
    kb = tmp_path / "kb"
    made = seoga("index", str(docs), "-c", str(kb), "--embedder", str(tiny_model), "--json")
    assert made.returncode == 0, made.stderr

    def order(*options: str) -> list[str]:
        found = seoga("search", "계약 documents", "-c", str(kb), "--json", *options)
        assert found.returncode == 0, found.stderr
        return [hit["doc_id"] for hit in json.loads(found.stdout)]

    dense, sparse = order("--mode", "dense"), order("--mode", "bm25")
    # All weight on the bi-encoder: the hybrid ranking is the dense one.
    assert order("--dense-weight", "1.0") == dense
    stored = json.loads((kb / "manifest.json").read_text())["settings"]["fusion"]
    assert stored["dense_weight"] != 1.0, "a search's options are not stored"

    again = seoga("index", str(docs), "-c", str(kb), "--dense-weight", "1.0", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["added"] == [], "nothing is re-indexed"
    assert (
        json.loads((kb / "manifest.json").read_text())["settings"]["fusion"]["dense_weight"] == 1.0
    )
    assert order() == dense
    assert order("--dense-weight", "0.0")[: len(sparse)] == sparse

    refused = seoga("index", str(docs), "-c", str(kb), "--dense-weight", "2")
    assert refused.returncode != 0 and "between 0 and 1" in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr


def test_errors_are_messages_not_tracebacks(tmp_path, docs):
    usage = seoga("search", "anything", "-c")
    assert usage.returncode == EXIT_USER_ERROR
    assert "requires an argument" in usage.stderr and "internal error" not in usage.stderr
    missing = seoga("search", "anything", "-c", str(tmp_path / "nowhere"))
    assert missing.returncode == EXIT_USER_ERROR
    assert "not a seoga collection" in missing.stderr and "Traceback" not in missing.stderr

    kb = str(tmp_path / "kb")
    assert seoga("index", str(docs), "-c", kb, "--embedder", "none").returncode == 0
    empty = seoga("search", "  ", "-c", kb)
    assert empty.returncode == EXIT_USER_ERROR and "query is empty" in empty.stderr
    other = seoga("index", str(docs), "-c", kb, "--analyzer", "bigram")
    assert other.returncode == EXIT_USER_ERROR and "fixed at creation" in other.stderr


def test_error_messages_print_brackets_as_written(tmp_path):
    # Rich markup would take "[kb]" for a style and drop it from the message.
    missing = seoga("search", "anything", "-c", str(tmp_path / "[kb]"))
    assert missing.returncode == EXIT_USER_ERROR
    assert f"{tmp_path / '[kb]'}" in missing.stderr.replace("\n", "")


def test_nothing_indexable_exits_non_zero(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\xff\x00\xfe")
    result = seoga("index", str(folder), "-c", str(tmp_path / "kb"), "--embedder", "none")
    assert result.returncode == 1
    assert "empty.txt" in result.stderr and "binary.txt" in result.stderr
    assert "Traceback" not in result.stderr


def write_beir(folder: Path) -> Path:
    folder.mkdir()
    corpus = [
        {"_id": "d1", "title": "Lease", "text": "전세 계약 갱신 조건과 계약갱신요구권"},
        {"_id": "d2", "title": "BM25", "text": "BM25 weighs term frequency and document length"},
        {"_id": "d3", "title": "Fusion", "text": "reciprocal rank fusion merges ranked lists"},
    ]
    queries = [{"_id": "q1", "text": "계약 갱신"}, {"_id": "q2", "text": "rank fusion"}]
    (folder / "corpus.jsonl").write_text(
        "\n".join(json.dumps(d, ensure_ascii=False) for d in corpus), encoding="utf-8"
    )
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps(q, ensure_ascii=False) for q in queries), encoding="utf-8"
    )
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n")
    return folder


def test_eval_retrieval_writes_metrics_and_reuses_the_collection(tmp_path, tiny_model):
    data = write_beir(tmp_path / "set")
    cache = tmp_path / "cache"
    common = ["--embedder", str(tiny_model), "--cache-dir", str(cache)]
    first = seoga(
        "eval",
        "retrieval",
        str(data),
        "--retriever",
        "bm25",
        "--out",
        str(tmp_path / "m.json"),
        "--cache-dir",
        str(cache),
    )
    assert first.returncode == 0, first.stderr
    metrics = json.loads((tmp_path / "m.json").read_text())
    for key in (
        "ndcg@10",
        "recall@10",
        "recall@100",
        "mrr@10",
        "n_queries",
        "index_seconds",
        "query_ms_p50",
    ):
        assert key in metrics
    assert metrics["n_queries"] == 2 and metrics["ndcg@10"] == pytest.approx(1.0)

    for retriever in ("hybrid", "dense"):
        run = seoga("eval", "retrieval", str(data), "--retriever", retriever, *common)
        assert run.returncode == 0, run.stderr
    built = sorted(p.name for p in (cache / "eval").iterdir() if p.is_dir())
    assert len(built) == 2, built  # one BM25-only collection, one shared by dense and hybrid


def test_eval_refuses_a_folder_that_is_not_beir(tmp_path):
    result = seoga("eval", "retrieval", str(tmp_path))
    assert result.returncode == EXIT_USER_ERROR and "corpus.jsonl is missing" in result.stderr
