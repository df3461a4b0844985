"""Grid search (`seoga tune grid.yaml`) over retrieval or training settings, scored by an evaluator.

Retrieval grids (BM25 k1/b/method, analyzer and its Kiwi tags, fusion method/weight/normalisation)
reuse one cached evaluation collection: each query is encoded once, the dense rankings are kept,
only the sparse side is rebuilt for each distinct analyzer/BM25 setting, and every fusion is
applied to the same rankings. Training grids (lr, batch size, epochs, temperature, LoRA rank,
...) train one model per trial and score it with the evaluator given (STS pairs or a BEIR split).

Each finished trial is appended to `trials.jsonl` in the output folder at once: a rerun after an
interruption skips every trial recorded there.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seoga.errors import InputError

KINDS = ("retrieval", "training")
# What `train:` may fix: TrainConfig's fields but the ones tune owns.
TRAIN_FIELDS = frozenset(
    {
        "base", "data", "collection", "format", "split", "objective", "loss", "hard_negatives",
        "analyzer", "max_examples", "lora_rank", "lora_alpha", "seed", "epochs", "max_steps",
        "batch_size", "lr", "warmup_ratio", "max_seq_length", "scale", "margin", "eval_steps",
        "eval_corpus_size", "lora_save",
    }
)  # fmt: skip
TRIALS_NAME = "trials.jsonl"
KEY_CHARS = 12
GIB = 1 << 30
# Rough peak memory of one training trial besides the model: activations, tokenizer, datasets.
TRAINING_OVERHEAD_BYTES = 2 * GIB
# Weights, gradients and two Adam moments: four float32 copies of the model.
TRAINING_COPIES = 4
RETRIEVAL_WORKER_BYTES = GIB // 2
DEFAULT_METRIC = "ndcg@10"
SPARSE_KEYS = ("analyzer", "analyzer.keep_tags", "bm25.k1", "bm25.b", "bm25.method")
FUSION_KEYS = (
    "fusion.method",
    "fusion.dense_weight",
    "fusion.extra_weight",
    "fusion.normalization",
    "fusion.rrf_k",
)
TRAINING_KEYS = (
    "lr",
    "batch_size",
    "epochs",
    "max_steps",
    "temperature",
    "scale",
    "margin",
    "lora_rank",
    "lora_alpha",
    "loss",
    "hard_negatives",
    "max_seq_length",
    "warmup_ratio",
    "max_examples",
    "seed",
)


@dataclass
class Grid:
    """A parsed grid file: what to vary, what stays fixed, and how to score."""

    kind: str
    data: Path
    grid: dict[str, list[Any]]
    output: Path
    metric: str = DEFAULT_METRIC
    split: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # fixed collection settings
    train: dict[str, Any] = field(default_factory=dict)  # fixed training settings
    eval: Path | None = None
    eval_split: str | None = None
    workers: int = 1
    keep_models: bool = False
    cache_dir: Path | None = None

    def trials(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, in file order."""
        names = list(self.grid)
        return [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*(self.grid[name] for name in names))
        ]

    def trial_id(self, trial: dict[str, Any]) -> str:
        """Stable id of a trial: its values and everything fixed that changes its score."""
        fixed = {
            "kind": self.kind,
            "data": str(self.data),
            "split": self.split,
            "settings": self.settings,
            "train": self.train,
            "eval": str(self.eval),
            "eval_split": self.eval_split,
            "metric": self.metric,
        }
        payload = json.dumps([fixed, trial], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:KEY_CHARS]


def _resolve(base: Path, value: Any) -> Path | None:
    if value is None:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def load_grid(
    path: str | Path,
    *,
    output: Path | None = None,
    workers: int | None = None,
    seed: int | None = None,
) -> Grid:
    """Read and check a grid YAML file; relative paths are relative to the file. `seed` (for
    training grids) overrides the file's `train: seed`."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise InputError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(spec, dict):
        raise InputError(f"{path}: expected a mapping with kind, data and grid.")
    kind = spec.get("kind", "retrieval")
    if kind not in KINDS:
        raise InputError(f"{path}: kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    grid = spec.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise InputError(f"{path}: `grid` must map setting names to lists of values.")
    allowed = (*SPARSE_KEYS, *FUSION_KEYS) if kind == "retrieval" else TRAINING_KEYS
    for name, values in grid.items():
        if name not in allowed:
            raise InputError(
                f"{path}: {name!r} cannot be tuned in a {kind} grid; use one of: "
                f"{', '.join(allowed)}."
            )
        if not isinstance(values, list) or not values:
            grid[name] = [values]
    base = path.parent
    train = dict(spec.get("train") or {})
    if seed is not None:
        train["seed"] = seed
    unknown = sorted(set(train) - TRAIN_FIELDS)
    if unknown:
        raise InputError(
            f"{path}: unknown training settings {unknown}; use: {', '.join(sorted(TRAIN_FIELDS))}."
        )
    data = _resolve(base, spec.get("data") or train.get("data") or train.get("collection"))
    if data is None:
        raise InputError(f"{path}: `data` (a BEIR folder or training data) is required.")
    for key in ("data", "collection", "eval"):
        if key in train:
            train[key] = _resolve(base, train[key])
    evaluation = _resolve(base, spec.get("eval"))
    if kind == "training" and evaluation is None:
        raise InputError(f"{path}: a training grid needs `eval:` (STS pairs or a BEIR folder).")
    return Grid(
        kind=kind,
        data=data,
        grid=grid,
        output=output or _resolve(base, spec.get("output") or f"{path.stem}-results"),
        metric=spec.get("metric", DEFAULT_METRIC),
        split=spec.get("split"),
        settings=dict(spec.get("settings") or {}),
        train=train,
        eval=evaluation,
        eval_split=spec.get("eval_split"),
        workers=int(workers or spec.get("workers", 1)),
        keep_models=bool(spec.get("keep_models", False)),
        cache_dir=_resolve(base, spec.get("cache_dir")),
    )


# ---- trial records ---------------------------------------------------------------------------


def read_trials(output: Path) -> dict[str, dict[str, Any]]:
    """Finished trials by id (a line cut short by a kill is ignored: that trial runs again)."""
    path = output / TRIALS_NAME
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        done[record["id"]] = record
    return done


def record_trial(output: Path, record: dict[str, Any]) -> None:
    """Append one finished trial and flush it to disk before going on."""
    with (output / TRIALS_NAME).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# ---- memory-aware parallelism ----------------------------------------------------------------


def available_memory() -> int:
    """Bytes of memory free now (Linux), or 0 when unknown."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def allowed_workers(requested: int, per_worker: int) -> int:
    """At most `requested`, one per CPU, and as many as free memory holds (at least one)."""
    from seoga.models.embedders import available_cpus

    free = available_memory()
    by_memory = free // per_worker if free and per_worker else requested
    return max(1, min(requested, available_cpus(), by_memory))


def _pool(workers: int) -> ProcessPoolExecutor:
    # spawn: torch and faiss do not survive fork once their thread pools have started.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_limit_threads, initargs=(workers,)
    )


def _limit_threads(workers: int) -> None:
    """Share the CPUs between the worker processes."""
    from seoga.models.embedders import available_cpus

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, available_cpus() // workers)))


# ---- retrieval trials ------------------------------------------------------------------------


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
    from seoga.text.analyzers import build_analyzer

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
    from seoga.index.sparse import SparseIndex
    from seoga.search.rankings import ChunkDocuments, Ranking
    from seoga.text.analyzers import build_analyzer

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
    from seoga.search.fusion import fuse
    from seoga.settings import SPARSE, FusionSettings

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
    from seoga.collection import candidate_depth, passage_text
    from seoga.evaluate.beir import (
        CORPUS_NAME,
        QUERIES_NAME,
        BeirSet,
        qrels_path,
        read_qrels,
        read_queries,
    )
    from seoga.evaluate.retrieval import RUN_DEPTH, cached_collection
    from seoga.progress import track
    from seoga.settings import SPARSE, CollectionSettings

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
    texts = [passage_text(chunk.title, chunk.text) for chunk in stored]
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
    from seoga.settings import Bm25Settings, FusionSettings

    values = dict(fixed)
    if "bm25" in values:
        values["bm25"] = Bm25Settings(**values["bm25"])
    if "fusion" in values:
        values["fusion"] = FusionSettings(**values["fusion"])
    return values


# ---- training trials -------------------------------------------------------------------------


def run_training_trial(grid: Grid, trial_id: str, trial: dict[str, Any]) -> dict[str, float]:
    """Train one model with the trial's settings; return its evaluator's metrics."""
    from seoga.train.trainer import TrainConfig, train_embedder

    values = {**grid.train, **trial}
    if "temperature" in values:
        values["scale"] = 1.0 / float(values.pop("temperature"))
    if "collection" not in values:
        values.setdefault("data", grid.data)
    out = grid.output / "models" / trial_id
    config = TrainConfig(
        out=out,
        eval=grid.eval,
        eval_split=grid.eval_split,
        overwrite=True,
        show_progress=False,
        **values,
    )
    result = train_embedder(config)
    if not grid.keep_models:
        shutil.rmtree(out, ignore_errors=True)
    after = result.metrics.get("after", {})
    return {_short_metric(name): value for name, value in after.items()}


def _short_metric(name: str) -> str:
    """ "sts-dev_spearman_cosine" -> "spearman", "scifact-dev_cosine_ndcg@10" -> "ndcg@10"."""
    tail = name.split("_", 1)[-1]
    return tail.removeprefix("cosine_").removesuffix("_cosine")


# ---- running the grid ------------------------------------------------------------------------


@dataclass
class TuneReport:
    rows: list[dict[str, Any]]
    best: dict[str, Any] | None
    ran: int
    skipped: int
    output: Path


def tune(
    grid: Grid,
    *,
    show_progress: bool = True,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> TuneReport:
    """Run every trial not yet recorded in `grid.output`, then write the results tables."""
    grid.output.mkdir(parents=True, exist_ok=True)
    done = read_trials(grid.output)
    trials = [(grid.trial_id(trial), trial) for trial in grid.trials()]
    pending = [(trial_id, trial) for trial_id, trial in trials if trial_id not in done]
    ran = 0

    def finish(trial_id: str, trial: dict[str, Any], metrics: dict, seconds: float) -> None:
        nonlocal ran
        if grid.metric not in metrics:
            raise InputError(
                f"the evaluator gave no {grid.metric!r}; metrics were {sorted(metrics)} — set "
                "`metric:` in the grid file to one of them."
            )
        record = {
            "id": trial_id,
            "trial": trial,
            "metrics": metrics,
            "score": metrics[grid.metric],
            "seconds": round(seconds, 2),
        }
        record_trial(grid.output, record)
        done[trial_id] = record
        ran += 1
        if on_result is not None:
            on_result(record)

    if pending and grid.kind == "retrieval":
        _run_retrieval(grid, pending, finish, show_progress)
    elif pending:
        _run_training(grid, pending, finish, show_progress)
    rows = [done[trial_id] for trial_id, _ in trials]
    best = max(rows, key=lambda row: row["score"]) if rows else None
    write_results(grid, rows, best)
    return TuneReport(rows, best, ran, len(trials) - len(pending), grid.output)


def _run_retrieval(grid, pending, finish, show_progress) -> None:
    tasks = _retrieval_tasks(grid, pending, show_progress)

    def score(task: SparseTask, sparse: dict, began: float) -> None:
        scored = score_fusions(task, sparse)
        each = (time.perf_counter() - began) / len(scored)
        trials = dict(task.trials)
        for trial_id, metrics in scored:
            finish(trial_id, trials[trial_id], metrics, each)

    workers = allowed_workers(min(grid.workers, len(tasks)), RETRIEVAL_WORKER_BYTES)
    if workers == 1:
        for task in tasks:
            began = time.perf_counter()
            score(task, sparse_rankings(task), began)
        return
    with _pool(workers) as pool:
        futures = {
            pool.submit(sparse_rankings, task): (task, time.perf_counter()) for task in tasks
        }
        for future in as_completed(futures):
            task, began = futures[future]
            score(task, future.result(), began)


def _training_worker_bytes(grid: Grid) -> int:
    from seoga.models.registry import resolve_model

    location = Path(resolve_model(str(grid.train.get("base", "multilingual-e5-small"))).location)
    return TRAINING_COPIES * folder_bytes(location) + TRAINING_OVERHEAD_BYTES


def _run_training(grid, pending, finish, show_progress) -> None:
    from seoga.progress import track

    workers = allowed_workers(grid.workers, _training_worker_bytes(grid))
    if workers == 1:
        for trial_id, trial in track(pending, "training trials", enabled=show_progress):
            started = time.perf_counter()
            metrics = run_training_trial(grid, trial_id, trial)
            finish(trial_id, trial, metrics, time.perf_counter() - started)
        return
    with _pool(workers) as pool:
        futures = {
            pool.submit(run_training_trial, grid, trial_id, trial): (
                trial_id,
                trial,
                time.perf_counter(),
            )
            for trial_id, trial in pending
        }
        for future in as_completed(futures):
            trial_id, trial, began = futures[future]
            finish(trial_id, trial, future.result(), time.perf_counter() - began)


# ---- results ---------------------------------------------------------------------------------


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def result_table(grid: Grid, rows: Iterable[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows, best score first: the grid's settings, then every metric."""
    rows = sorted(rows, key=lambda row: row["score"], reverse=True)
    metric_names = sorted({name for row in rows for name in row["metrics"]})
    metric_names.sort(key=lambda name: name != grid.metric)
    header = ["rank", *grid.grid, *metric_names, "seconds", "id"]
    body = [
        [
            str(rank),
            *(_format(row["trial"].get(name)) for name in grid.grid),
            *(_format(row["metrics"].get(name, "")) for name in metric_names),
            _format(row["seconds"]),
            row["id"],
        ]
        for rank, row in enumerate(rows, start=1)
    ]
    return header, body


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def write_results(grid: Grid, rows: list[dict[str, Any]], best: dict[str, Any] | None) -> None:
    """results.csv, results.json, results.md and best.json in the output folder."""
    from seoga.index.generations import write_json_atomic

    header, body = result_table(grid, rows)
    with (grid.output / "results.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)
    write_json_atomic(grid.output / "results.json", {"metric": grid.metric, "trials": rows})
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(cells) + " |" for cells in body),
    ]
    (grid.output / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if best is not None:
        write_json_atomic(
            grid.output / "best.json",
            {
                "metric": grid.metric,
                "score": best["score"],
                "trial": best["trial"],
                "fixed": _jsonable(grid.settings if grid.kind == "retrieval" else grid.train),
                "id": best["id"],
            },
        )
