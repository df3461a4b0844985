"""Retrieval evaluation on BEIR-layout folders, through the same `Collection.search` as users.

The collection built for a data folder is cached under the seoga home, keyed by the corpus
content and the index settings, so evaluating another retriever or fusion does not re-encode.
"""

import hashlib
import json
import os
import platform
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from ranx import Qrels, Run, evaluate

from seoga import __version__
from seoga.collection import FORMAT_VERSION, Collection
from seoga.evaluate.beir import BeirSet, read_beir
from seoga.paths import seoga_home
from seoga.progress import track
from seoga.settings import CollectionSettings, FusionSettings

METRICS = ["ndcg@10", "recall@10", "recall@100", "mrr@10"]
RUN_DEPTH = 100
EVAL_DIR = "eval"
BUILD_RECORD = "build.json"
KEY_CHARS = 16
MS_PER_SECOND = 1000
P50 = 50
P95 = 95


def index_settings_key(corpus: Path, settings: CollectionSettings) -> str:
    """What decides the index's content: the corpus bytes and every non-search setting."""
    digest = hashlib.sha256()
    with corpus.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    indexing = {k: v for k, v in settings.to_dict().items() if k != "fusion"}
    digest.update(json.dumps([FORMAT_VERSION, indexing], sort_keys=True).encode())
    return digest.hexdigest()[:KEY_CHARS]


def cached_collection(
    data: BeirSet, settings: CollectionSettings, *, cache_dir: Path | None, show_progress: bool
) -> tuple[Collection, float]:
    """Open the cached collection for this corpus and settings, building it if needed."""
    base = (cache_dir or seoga_home()) / EVAL_DIR
    base.mkdir(parents=True, exist_ok=True)
    key = index_settings_key(data.corpus, settings)
    root = base / f"{data.name}-{key}"
    record = base / f"{data.name}-{key}.{BUILD_RECORD}"
    if record.exists():
        return Collection.open(root), json.loads(record.read_text())["index_seconds"]
    collection = Collection.create(root, settings, exist_ok=True)
    started = time.perf_counter()
    collection.add([data.corpus], show_progress=show_progress)
    seconds = time.perf_counter() - started
    record.write_text(json.dumps({"index_seconds": seconds, "built": now()}))
    return collection, seconds


def evaluate_retrieval(
    root: str | Path,
    retriever: str = "hybrid",
    *,
    settings: CollectionSettings | None = None,
    fusion: FusionSettings | None = None,
    cache_dir: Path | None = None,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Score `retriever` (bm25, dense or hybrid) on a BEIR-layout folder; return the metrics."""
    data = read_beir(Path(root))
    settings = settings or CollectionSettings()
    collection, index_seconds = cached_collection(
        data, settings, cache_dir=cache_dir, show_progress=show_progress
    )
    if fusion is not None:
        collection.settings = replace(collection.settings, fusion=fusion)
    run: dict[str, dict[str, float]] = {}
    latencies: list[float] = []
    for query_id, text in track(
        data.queries.items(), "searching", total=len(data.queries), enabled=show_progress
    ):
        started = time.perf_counter()
        results = collection.search(text, k=RUN_DEPTH, mode=retriever)
        latencies.append((time.perf_counter() - started) * MS_PER_SECOND)
        run[query_id] = {result.doc_id: result.score for result in results}
    scores = evaluate(
        Qrels.from_dict(data.qrels),
        Run.from_dict({query: docs for query, docs in run.items() if docs}),
        METRICS,
        make_comparable=True,
    )
    return {
        "dataset": data.name,
        "retriever": retriever,
        **{name: float(scores[name]) for name in METRICS},
        "n_queries": len(data.queries),
        "index_seconds": round(index_seconds, 2),
        "query_ms_p50": round(float(np.percentile(latencies, P50)), 3),
        "query_ms_p95": round(float(np.percentile(latencies, P95)), 3),
        "settings": collection.settings.to_dict(),
        "embedder": collection.manifest.get("embedder"),
        "collection": str(collection.root),
        "seoga_version": __version__,
        "machine": machine(),
        "date": now(),
    }


def machine() -> str:
    return f"{platform.platform()}, {os.cpu_count()} cpus, Python {platform.python_version()}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
