"""Training trials: one model trained and scored per trial, in memory-sized worker processes."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import as_completed
from pathlib import Path
from typing import Any

from seoga.models.registry import resolve_model
from seoga.progress import track
from seoga.train.trainer import TrainConfig, train_embedder
from seoga.tune.grid import Grid
from seoga.tune.workers import GIB, allowed_workers, folder_bytes, pool

# Rough peak memory of one training trial besides the model: activations, tokenizer, datasets.
TRAINING_OVERHEAD_BYTES = 2 * GIB
# Weights, gradients and two Adam moments: four float32 copies of the model.
TRAINING_COPIES = 4


def run_training_trial(grid: Grid, trial_id: str, trial: dict[str, Any]) -> dict[str, float]:
    """Train one model with the trial's settings; return its evaluator's metrics."""
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


def _training_worker_bytes(grid: Grid) -> int:
    location = Path(resolve_model(str(grid.train.get("base", "multilingual-e5-small"))).location)
    return TRAINING_COPIES * folder_bytes(location) + TRAINING_OVERHEAD_BYTES


def run_training(grid, pending, finish, show_progress) -> None:
    """Train and score every pending trial, in as many workers as memory allows."""
    # On a cluster each worker's own memory decides; here, the free memory of this machine.
    workers = (
        grid.workers if grid.dask else allowed_workers(grid.workers, _training_worker_bytes(grid))
    )
    if workers == 1 and not grid.dask:
        for trial_id, trial in track(pending, "training trials", enabled=show_progress):
            started = time.perf_counter()
            metrics = run_training_trial(grid, trial_id, trial)
            finish(trial_id, trial, metrics, time.perf_counter() - started)
        return
    with pool(workers, grid.dask) as workers_pool:
        futures = {
            workers_pool.submit(run_training_trial, grid, trial_id, trial): (
                trial_id,
                trial,
                time.perf_counter(),
            )
            for trial_id, trial in pending
        }
        for future in as_completed(futures):
            trial_id, trial, began = futures[future]
            finish(trial_id, trial, future.result(), time.perf_counter() - began)
