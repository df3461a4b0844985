"""Retrieval trials: one cached collection, each query encoded once, each sparse setting built
once in a worker, and every fusion applied to the same rankings."""

from __future__ import annotations

import json
import time
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass
from typing import Any

from seoga.collection.cache import cached_collection
from seoga.collection.searching import candidate_depth
from seoga.datasets.beir import (
    CORPUS_NAME,
    QUERIES_NAME,
    BeirSet,
    qrels_path,
    read_qrels,
    read_queries,
)
from seoga.errors import InputError
from seoga.index.sparse import SparseIndex
from seoga.progress import track
from seoga.search.fusion import SPARSE, FusionSettings, fuse
from seoga.search.rankings import ChunkDocuments, Ranking
from seoga.settings import Bm25Settings, CollectionSettings
from seoga.text.analyzers import build_analyzer
from seoga.text.documents import passage_text
from seoga.tune.grid import FUSION_KEYS, Grid
from seoga.tune.workers import GIB, allowed_workers, pool

RETRIEVAL_WORKER_BYTES = GIB // 2


@dataclass
class SparseTask:
    """What one worker needs to score every trial that shares one sparse configuration."""

    analyzer: Any
    bm25: dict[str, Any]
    trials: list[tuple[str, dict[str, Any]]]  # (id, trial)
    chunk_ids: list[int]
    chunk_texts: list[str]
    chunk_documents: dict[int, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    dense: dict[str, dict[str, dict[str, float]]] | None  # query -> bi-encoder -> ranking
    depth: int
    fusion: dict[str, Any]  # the grid's fixed fusion settings, which trials override


def _sparse_settings(grid: Grid, trial: dict[str, Any], base_analyzer: Any) -> tuple[Any, dict]:
    analyzer = trial.get("analyzer", grid.settings.get("analyzer", base_analyzer))
    config = build_analyzer(analyzer).config()
    if "analyzer.keep_tags" in trial:
        if "keep_tags" not in config:
            raise InputError(
                f"the {config['name']} analyzer has no Kiwi tags; tune analyzer.keep_tags with "
                "the korean or mixed analyzer."
            )
        config["keep_tags"] = list(trial["analyzer.keep_tags"])
    bm25 = {
        name: trial.get(f"bm25.{name}", (grid.settings.get("bm25") or {}).get(name))
        for name in ("k1", "b", "method")
    }
    return config, {name: value for name, value in bm25.items() if value is not None}


def sparse_rankings(task: SparseTask) -> dict[str, dict[str, float]]:
    """Build the sparse index for the task's setting; each query's documents and BM25 scores.

    The heavy part of a retrieval trial, run in the worker processes."""
    analyzer = build_analyzer(task.analyzer)
    tokens = analyzer.tokenize_many(task.chunk_texts)
    index = SparseIndex.build(zip(task.chunk_ids, tokens, strict=True), **task.bm25)
    documents = ChunkDocuments.from_mapping(task.chunk_documents)
    return {
        query_id: Ranking.collapse(
            *index.search(analyzer.tokenize(text), task.depth), documents
        ).as_mapping(documents)
        for query_id, text in task.queries.items()
    }


def score_fusions(
    task: SparseTask, sparse: dict[str, dict[str, float]]
) -> list[tuple[str, dict[str, float]]]:
    """Every trial of the task: its fusion of the sparse and the dense rankings, scored."""
    from seoga.evaluate.retrieval import score_run

    scored = []
    for trial_id, trial in task.trials:
        run = sparse
        if task.dense is not None:
            chosen = {k.removeprefix("fusion."): v for k, v in trial.items() if k in FUSION_KEYS}
            fusion = FusionSettings(**{**task.fusion, **chosen})
            run = {}
            for query_id in task.queries:
                rankings = {SPARSE: sparse[query_id], **task.dense.get(query_id, {})}
                run[query_id] = fuse(
                    rankings,
                    fusion.weights(list(rankings)),
                    method=fusion.method,
                    normalization=fusion.normalization,
                    rrf_k=fusion.rrf_k,
                )
        scored.append((trial_id, score_run(task.qrels, run)))
    return scored


def _retrieval_tasks(
    grid: Grid, pending: list[tuple[str, dict[str, Any]]], show_progress: bool
) -> list[SparseTask]:
    from seoga.evaluate.retrieval import RUN_DEPTH

    qrels = read_qrels(qrels_path(grid.data, grid.split))
    queries = {q: t for q, t in read_queries(grid.data / QUERIES_NAME).items() if q in qrels}
    data = BeirSet(grid.data, grid.data / CORPUS_NAME, queries, qrels)
    settings = CollectionSettings(**_collection_settings(grid.settings))
    collection, _ = cached_collection(
        data, settings, cache_dir=grid.cache_dir, show_progress=show_progress
    )
    depth = candidate_depth(RUN_DEPTH)
    dense = None
    if settings.embedder:
        # Every bi-encoder's ranking (the main one and the extras that read the query).
        dense = {
            query_id: {
                name: ranking
                for name, ranking in collection.retrieve(text, depth=depth).rankings.items()
                if name != SPARSE
            }
            for query_id, text in track(
                queries.items(), "dense retrieval (once)", total=len(queries), enabled=show_progress
            )
        }
    chunk_documents = collection.chunk_documents
    stored = list(collection.store.iter_chunks())
    chunk_ids = [chunk.chunk_id for chunk in stored]
    texts = [passage_text(chunk.title, chunk.text, chunk.section) for chunk in stored]
    groups: dict[str, SparseTask] = {}
    for trial_id, trial in pending:
        analyzer, bm25 = _sparse_settings(grid, trial, settings.analyzer)
        key = json.dumps([analyzer, bm25], sort_keys=True)
        if key not in groups:
            groups[key] = SparseTask(
                analyzer,
                bm25,
                [],
                chunk_ids,
                texts,
                chunk_documents,
                queries,
                qrels,
                dense,
                depth,
                asdict(settings.fusion),
            )
        groups[key].trials.append((trial_id, trial))
    return list(groups.values())


def _collection_settings(fixed: dict[str, Any]) -> dict[str, Any]:
    values = dict(fixed)
    if "bm25" in values:
        values["bm25"] = Bm25Settings(**values["bm25"])
    if "fusion" in values:
        values["fusion"] = FusionSettings(**values["fusion"])
    return values


def run_retrieval(grid, pending, finish, show_progress) -> None:
    """Score every pending retrieval trial, one worker per distinct sparse setting."""
    tasks = _retrieval_tasks(grid, pending, show_progress)

    def score(task: SparseTask, sparse: dict, began: float) -> None:
        scored = score_fusions(task, sparse)
        each = (time.perf_counter() - began) / len(scored)
        trials = dict(task.trials)
        for trial_id, metrics in scored:
            finish(trial_id, trials[trial_id], metrics, each)

    workers = allowed_workers(min(grid.workers, len(tasks)), RETRIEVAL_WORKER_BYTES)
    if workers == 1 and not grid.dask:
        for task in tasks:
            began = time.perf_counter()
            score(task, sparse_rankings(task), began)
        return
    with pool(workers, grid.dask) as workers_pool:
        futures = {
            workers_pool.submit(sparse_rankings, task): (task, time.perf_counter())
            for task in tasks
        }
        for future in as_completed(futures):
            task, began = futures[future]
            score(task, future.result(), began)
