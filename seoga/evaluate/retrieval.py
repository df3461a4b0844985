"""Retrieval evaluation on BEIR-layout folders, through the same `Collection.search` as users
(over the collection seoga.collection.cache keeps for each data folder)."""

import os
import platform
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from ranx import Qrels, Run, evaluate

from seoga.collection.cache import cached_collection
from seoga.collection.searching import candidate_depth
from seoga.datasets.beir import read_beir
from seoga.evaluate import RETRIEVAL_METRICS as METRICS
from seoga.progress import track
from seoga.search.fusion import FusionSettings
from seoga.settings import CollectionSettings
from seoga.version import __version__

if TYPE_CHECKING:
    from seoga.parallel.executors import Executor

RUN_DEPTH = 100
MS_PER_SECOND = 1000
P50 = 50
P95 = 95


def evaluate_retrieval(
    root: str | Path,
    retriever: str = "hybrid",
    *,
    settings: CollectionSettings | None = None,
    fusion: FusionSettings | None = None,
    cache_dir: Path | None = None,
    show_progress: bool = False,
    executor: "Executor | None" = None,
) -> dict[str, Any]:
    """Score `retriever` (bm25, dense or hybrid) on a BEIR-layout folder; return the metrics.
    A collection not cached yet is built with `executor` (see seoga.parallel)."""
    data = read_beir(Path(root))
    settings = settings or CollectionSettings()
    collection, index_seconds = cached_collection(
        data, settings, cache_dir=cache_dir, show_progress=show_progress, executor=executor
    )
    # Fusion is not part of the cache key: the requested one applies, not the one stored.
    collection.settings = replace(collection.settings, fusion=fusion or settings.fusion)
    run: dict[str, dict[str, float]] = {}
    latencies: list[float] = []
    for query_id, text in track(
        data.queries.items(), "searching", total=len(data.queries), enabled=show_progress
    ):
        started = time.perf_counter()
        results = collection.search(text, k=RUN_DEPTH, mode=retriever)
        latencies.append((time.perf_counter() - started) * MS_PER_SECOND)
        run[query_id] = {result.doc_id: result.score for result in results}
    return {
        "dataset": data.name,
        "retriever": retriever,
        **score_run(data.qrels, run),
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


def score_run(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict:
    """ranx's metrics for a run; queries with no results count as zeros."""
    top = {
        query: dict(sorted(docs.items(), key=lambda item: item[1], reverse=True)[:RUN_DEPTH])
        for query, docs in run.items()
        if docs
    }
    scores = evaluate(Qrels.from_dict(qrels), Run.from_dict(top), METRICS, make_comparable=True)
    return {name: float(scores[name]) for name in METRICS}


def compare_fusions(
    root: str | Path,
    fusions: dict[str, FusionSettings],
    *,
    settings: CollectionSettings | None = None,
    cache_dir: Path | None = None,
    show_progress: bool = False,
) -> dict[str, dict[str, float]]:
    """Metrics of each retriever alone (bm25, dense, and any extra bi-encoder over the queries
    it reads) and of every fusion in `fusions`, from one retrieval per query.

    Runs `Collection.retrieve` and `Collection.combine`, the two halves of `search`, so each
    query is encoded once however many fusions are compared.
    """
    data = read_beir(Path(root))
    collection, _ = cached_collection(
        data, settings or CollectionSettings(), cache_dir=cache_dir, show_progress=show_progress
    )
    depth = candidate_depth(RUN_DEPTH)
    retrievals = {
        query_id: collection.retrieve(text, mode="hybrid", depth=depth)
        for query_id, text in track(
            data.queries.items(), "retrieving", total=len(data.queries), enabled=show_progress
        )
    }
    names = dict.fromkeys(name for found in retrievals.values() for name in found.rankings)
    runs = {
        name: {query: found.rankings.get(name, {}) for query, found in retrievals.items()}
        for name in names
    }
    for label, fusion in fusions.items():
        runs[label] = {
            query: collection.combine(found, fusion) for query, found in retrievals.items()
        }
    return {label: score_run(data.qrels, run) for label, run in runs.items()}


def machine() -> str:
    return f"{platform.platform()}, {os.cpu_count()} cpus, Python {platform.python_version()}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
