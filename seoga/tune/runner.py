"""Run a grid: every trial not yet recorded, by its kind's runner, then the results tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seoga.errors import InputError
from seoga.tune.grid import Grid
from seoga.tune.recommend import run_recommend
from seoga.tune.records import read_trials, record_trial, write_results
from seoga.tune.retrieval import run_retrieval
from seoga.tune.training import run_training

RUNNERS = {"retrieval": run_retrieval, "training": run_training, "recommend": run_recommend}


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

    if pending:
        RUNNERS[grid.kind](grid, pending, finish, show_progress)
    rows = [done[trial_id] for trial_id, _ in trials]
    best = max(rows, key=lambda row: row["score"]) if rows else None
    write_results(grid, rows, best)
    return TuneReport(rows, best, ran, len(trials) - len(pending), grid.output)
