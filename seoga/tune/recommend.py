"""Recommender trials: the log is read and split once; each trial fits one model with its
settings on the train part and scores it on the held-out part, as `seoga eval recommend` does
(top-N lists, or the next-item protocol for session models).

Trials run one after another: the models use every core themselves (implicit's threads,
PyTorch's), and the split stays in memory between trials.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from seoga.progress import track

if TYPE_CHECKING:
    from seoga.tune.grid import Grid

DEFAULT_SPLIT = "leave-last-out"
TOPN_K, NEXT_ITEM_K = 10, 20


def recommend_parts(grid: Grid):
    """The grid's train / held-out split, prepared for its protocol."""
    from seoga.recommend import Columns, read_interactions, split_interactions
    from seoga.recommend.data.interactions import align
    from seoga.recommend.data.sessions import SessionSettings, prepare_split
    from seoga.recommend.data.splits import Split

    spec = grid.recommend
    columns = Columns(**spec.get("columns", {}))
    log = read_interactions(grid.data, columns)
    if grid.eval is not None:
        held_out, log = align(read_interactions(grid.eval, columns), log)
        parts = Split(log, held_out, f"given: {grid.data.name} / {grid.eval.name}")
    else:
        seed = spec.get("settings", {}).get("seed", 0)
        parts = split_interactions(log, grid.split or DEFAULT_SPLIT, seed)
    if spec.get("implicit"):
        minimum = spec.get("min_rating")
        parts = Split(parts.train.positives(minimum), parts.test.positives(minimum), parts.name)
    if spec["protocol"] == "next-item":
        preparation = SessionSettings(
            bool(spec.get("drop_repeats", False)),
            int(spec.get("min_session_length", 1)),
            int(spec.get("min_item_support", 1)),
        )
        parts = prepare_split(parts, preparation)
    return parts


def run_recommend_trial(grid: Grid, parts, trial: dict[str, Any]) -> dict[str, float]:
    """Fit the trial's model and return its numeric metrics."""
    from seoga.evaluate.next_item import evaluate_next_item
    from seoga.evaluate.recommend import evaluate_recommender
    from seoga.recommend import make_recommender

    spec = grid.recommend
    model = make_recommender(spec["model"], **{**spec.get("settings", {}), **trial})
    if spec["protocol"] == "next-item":
        metrics = evaluate_next_item(model, parts, k=int(spec.get("k", NEXT_ITEM_K)))
    else:
        metrics = evaluate_recommender(
            model, parts, k=int(spec.get("k", TOPN_K)), min_rating=spec.get("min_rating")
        )
    return {
        name: float(value)
        for name, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def run_recommend(grid: Grid, pending, finish, show_progress) -> None:
    """Score every pending trial on one split of the log."""
    parts = recommend_parts(grid)
    for trial_id, trial in track(pending, "recommender trials", enabled=show_progress):
        started = time.perf_counter()
        metrics = run_recommend_trial(grid, parts, trial)
        finish(trial_id, trial, metrics, time.perf_counter() - started)
