"""Retrieval evaluation on BEIR-layout folders, through the same `Collection.search` as users.

The collection built for a data folder is cached under the seoga home, keyed by the corpus
content and the index settings, so evaluating another retriever or fusion does not re-encode.
"""

import hashlib
import json
import os
import platform
import shutil
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from ranx import Qrels, Run, evaluate

from seoga.atomic import write_json_atomic
from seoga.collection import Collection
from seoga.evaluate import RETRIEVAL_METRICS as METRICS
from seoga.evaluate.beir import BeirSet, read_beir
from seoga.index.manifest import FORMAT_VERSION
from seoga.paths import seoga_home
from seoga.progress import track
from seoga.search.fusion import FusionSettings
from seoga.search.searching import candidate_depth
from seoga.settings import CollectionSettings
from seoga.text.analyzers import build_analyzer
from seoga.version import __version__

if TYPE_CHECKING:
    from seoga.parallel.executors import Executor

RUN_DEPTH = 100
EVAL_DIR = "eval"
BUILD_RECORD = "build.json"
PARTIAL_SUFFIX = ".partial"
KEY_CHARS = 16
MS_PER_SECOND = 1000
P50 = 50
P95 = 95


def index_settings_key(
    corpus: Path, settings: CollectionSettings, *, main_embedder: bool = True
) -> str:
    """What decides the index's content: the corpus bytes and every non-search setting. Without
    `main_embedder`, the key of the collection's family: everything but the main bi-encoder,
    which `Collection.change_embedder` can swap while BM25 and the extra bi-encoders stay."""
    digest = hashlib.sha256()
    with corpus.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    indexing = {k: v for k, v in settings.to_dict().items() if k != "fusion"}
    if not main_embedder:
        del indexing["embedder"]
    indexing["analyzer"] = build_analyzer(settings.analyzer).config()
    # A model folder retrained in place keeps its name: its files' sizes and times tell it apart.
    models = [*([settings.embedder] if main_embedder else []), *(settings.extra_embedders or [])]
    model_files = {
        name: folder_fingerprint(Path(name))
        for name in models
        if name and Path(name).expanduser().is_dir()
    }
    if model_files:  # (absent for registry names, so their cached collections stay valid)
        indexing["model_files"] = model_files
    digest.update(json.dumps([FORMAT_VERSION, indexing], sort_keys=True).encode())
    return digest.hexdigest()[:KEY_CHARS]


def folder_fingerprint(folder: Path) -> list[tuple[str, int, int]]:
    """(relative path, size, modification time) of every file under `folder`."""
    folder = folder.expanduser()
    return [
        (str(path.relative_to(folder)), stat.st_size, stat.st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and (stat := path.stat())
    ]


def cached_collection(
    data: BeirSet,
    settings: CollectionSettings,
    *,
    cache_dir: Path | None,
    show_progress: bool,
    executor: "Executor | None" = None,
) -> tuple[Collection, float]:
    """Open the cached collection for this corpus and settings, building it if needed. A cached
    collection that differs only in its main bi-encoder is copied and re-encoded with this one
    (BM25 and the extra bi-encoders' vectors reused), as a user re-embeds with a trained model."""
    base = (cache_dir or seoga_home()) / EVAL_DIR
    base.mkdir(parents=True, exist_ok=True)
    key = index_settings_key(data.corpus, settings)
    root = base / f"{data.name}-{key}"
    record = base / f"{data.name}-{key}.{BUILD_RECORD}"
    # The key is the content: a folder of another name with the same corpus (a dev split
    # beside the shipped one, say) is served by the same collection.
    built = [record] if record.exists() else sorted(base.glob(f"*-{key}.{BUILD_RECORD}"))
    if built:
        found = base / built[0].name.removesuffix(f".{BUILD_RECORD}")
        return Collection.open(found), json.loads(built[0].read_text())["index_seconds"]
    family = index_settings_key(data.corpus, settings, main_embedder=False)
    sibling = find_sibling(base, family) if settings.embedder else None
    started = time.perf_counter()
    if sibling is None:
        collection = Collection.create(root, settings, exist_ok=True)
        collection.add([data.corpus], show_progress=show_progress, executor=executor)
    else:
        collection = reencoded_copy(sibling, root, settings.embedder, show_progress)
    seconds = time.perf_counter() - started
    made = {"index_seconds": seconds, "built": now(), "family": family}
    if sibling is not None:
        made["reused_from"] = sibling.name
    write_json_atomic(record, made)
    return collection, seconds


def find_sibling(base: Path, family: str) -> Path | None:
    """A cached collection of the same family (the corpus and all but the main bi-encoder
    alike), if any."""
    for record in sorted(base.glob(f"*.{BUILD_RECORD}")):
        root = base / record.name.removesuffix(f".{BUILD_RECORD}")
        if json.loads(record.read_text()).get("family") == family and root.is_dir():
            return root
    return None


def reencoded_copy(sibling: Path, root: Path, embedder: str, show_progress: bool) -> Collection:
    """Copy `sibling` beside `root`, swap its main bi-encoder for `embedder`, then rename."""
    partial = root.with_name(f"{root.name}{PARTIAL_SUFFIX}")
    for leftover in (partial, root):  # an interrupted copy or build (it has no record)
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(sibling, partial)
    Collection.open(partial).change_embedder(embedder, show_progress=show_progress)
    partial.rename(root)
    return Collection.open(root)


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
