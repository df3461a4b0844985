"""Settings chosen for the log at hand: `seoga recommend fit --tune`.

A model's defaults were chosen to hold across several public data sets (BENCHMARKS.md,
"Recommender defaults across data sets"); a log unlike them may want others. Tuning holds out an
inner split of the log itself, fits each point of the model's small grid on the rest, scores it
the way `seoga eval recommend` does, and fits the winner on the whole log. The inner split is each
user's last event when the log has times (what comes next is what a recommender must guess), else
a seeded random share; session models hold out whole sessions and are scored on every next click.

The settings given are always the first trial, so tuning never picks worse than them on the inner
split; the other grid points follow in a seeded random order until the time budget is spent (a
trial once started finishes). Settings given (`--set`) stay as given: only the others are tuned.
The most popular items are scored on the same split, so a log that no setting serves better than
popularity says so.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from seoga.errors import InputError
from seoga.evaluate.next_item import evaluate_next_item
from seoga.evaluate.recommend import evaluate_recommender
from seoga.progress import track
from seoga.recommend.base import Recommender
from seoga.recommend.data.features import FeatureTable
from seoga.recommend.data.interactions import Interactions
from seoga.recommend.data.sessions import SessionSettings, prepare_split
from seoga.recommend.data.splits import Split, split_interactions
from seoga.recommend.registry import make_recommender

DEFAULT_BUDGET_SECONDS = 180.0
TOPN_METRIC, RATING_METRIC, NEXT_ITEM_METRIC = "ndcg@10", "rmse", "mrr@20"
RANDOM_SPLIT, SESSION_SPLIT, TIME_SPLIT = "random:0.2", "users:0.2", "leave-last-out"
TUNING = "tuning"  # the key of the record in the model's metrics
SESSION_MODELS = ("sr", "sknn", "gru4rec")
BASELINE = "popular"
# Each model's grid: the settings that mattered most across the data sets of BENCHMARKS.md.
GRIDS: dict[str, dict[str, list[Any]]] = {
    "als": {
        "weighting": ["none", "bm25", "tfidf"],
        "factors": [32, 64, 128],
        "regularization": [0.05, 0.5, 5.0],
        "recency_half_life": [0.0, 10.0, 30.0],
    },
    "itemknn": {"neighbours": [20, 50, 100, 200], "similarity": ["cosine", "bm25", "tfidf"]},
    "mf": {
        "factors": [32, 64, 128],
        "regularization": [0.02, 0.05, 0.08, 0.15],
        "learning_rate": [0.005, 0.01],
    },
    "fm": {"learning_rate": [0.0005, 0.001, 0.002], "regularization": [0.02, 0.05, 0.1]},
    "sr": {"steps": [1, 3, 5, 10]},
    "sknn": {"neighbors": [50, 100, 200], "sample": [250, 500, 1000]},
    "gru4rec": {"loss": ["cross-entropy", "bpr-max"], "epochs": [3, 5, 10]},
}


@dataclass
class Tuning:
    """What tuning tried and chose, as the model folder's metrics record it."""

    split: str
    metric: str
    chosen: dict[str, Any]
    given_score: float
    chosen_score: float
    trials: list[dict[str, Any]]
    grid_points: int
    seconds: float
    # The most popular items scored the same way (lists only): a model below it is no help here.
    popular_score: float | None = None

    @property
    def lower_is_better(self) -> bool:
        return self.metric == RATING_METRIC

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def tunable(model: str) -> dict[str, list[Any]]:
    """The model's grid, or a clear refusal for a model with nothing worth tuning."""
    if model not in GRIDS:
        raise InputError(
            f"--tune has no grid for {model}; it tunes {', '.join(GRIDS)}. "
            "For any other search write a grid file for `seoga tune`."
        )
    return GRIDS[model]


def fit_recommender(
    model: str,
    settings: dict[str, Any],
    log: Interactions,
    items: FeatureTable | None = None,
    users: FeatureTable | None = None,
    *,
    tune: bool = False,
    budget: float | None = None,
    show_progress: bool = False,
) -> Recommender:
    """A model fitted on `log`: with `settings`, or with the settings tuning chose for `log`
    within `budget` seconds of trials (None: DEFAULT_BUDGET_SECONDS)."""
    tuning = None
    if tune:
        tuning = tune_settings(
            model, settings, log, items, users,
            budget=DEFAULT_BUDGET_SECONDS if budget is None else budget,
            show_progress=show_progress,
        )  # fmt: skip
        settings = {**settings, **tuning.chosen}
    recommender = make_recommender(model, **settings)
    recommender.fit(log, items=items, users=users, show_progress=show_progress)
    if tuning is not None:
        recommender.metrics[TUNING] = tuning.describe()
    return recommender


def tune_settings(
    model: str,
    settings: dict[str, Any],
    log: Interactions,
    items: FeatureTable | None = None,
    users: FeatureTable | None = None,
    *,
    budget: float = DEFAULT_BUDGET_SECONDS,
    show_progress: bool = False,
) -> Tuning:
    """Try the model's grid, less the settings given, on an inner split of `log`."""
    if budget <= 0:
        raise InputError(f"the tuning budget must be a positive number of seconds, not {budget}.")
    grid = {name: values for name, values in tunable(model).items() if name not in settings}
    given = make_recommender(model, **settings)
    seed = given.settings.seed
    parts = inner_split(model, log, seed)
    metric = _metric(given, log)
    points = grid_points(grid)
    start = {name: getattr(given.settings, name) for name in grid}
    rest = [point for point in points if point != start]
    order = np.random.default_rng(seed).permutation(len(rest))
    started = time.perf_counter()
    trials: list[dict[str, Any]] = []
    for point in track([start, *(rest[i] for i in order)], "tuning", enabled=show_progress):
        if trials and time.perf_counter() - started > budget:
            break
        trial_started = time.perf_counter()
        candidate = make_recommender(model, **{**settings, **point})
        score = _score(candidate, parts, metric, items, users)
        trials.append({"settings": point, metric: score, "seconds": _elapsed(trial_started)})
    pick = min if metric == RATING_METRIC else max
    best = pick(trials, key=lambda trial: trial[metric])
    popular = None
    if metric != RATING_METRIC:  # popularity ranks lists; it predicts no ratings
        popular = _score(make_recommender(BASELINE, seed=seed), parts, metric, items, users)
    return Tuning(
        split=parts.name,
        metric=metric,
        chosen=best["settings"],
        given_score=trials[0][metric],
        chosen_score=best[metric],
        trials=trials,
        grid_points=len(points),
        seconds=_elapsed(started),
        popular_score=popular,
    )


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of a grid's values, as settings."""
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def inner_split(model: str, log: Interactions, seed: int) -> Split:
    """Whole sessions for session models; else each user's last event, or a random share."""
    if model in SESSION_MODELS:
        parts = split_interactions(log, SESSION_SPLIT, seed)
        return prepare_split(parts, SessionSettings())
    if log.times is not None and _users_with_history(log):
        return split_interactions(log, TIME_SPLIT, seed)
    return split_interactions(log, RANDOM_SPLIT, seed)


def _users_with_history(log: Interactions) -> bool:
    """Whether any user has two events, so that one can be held out."""
    return bool((np.bincount(log.users, minlength=log.n_users) > 1).any())


def _metric(model: Recommender, log: Interactions) -> str:
    if model.name in SESSION_MODELS:
        return NEXT_ITEM_METRIC
    return RATING_METRIC if model.predicts_ratings and log.explicit else TOPN_METRIC


def _score(model: Recommender, parts: Split, metric: str, items, users) -> float:
    if metric == NEXT_ITEM_METRIC:
        return float(evaluate_next_item(model, parts)[metric])
    return float(evaluate_recommender(model, parts, items=items, users=users)[metric])


def _elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def tuning_summary(record: dict[str, Any]) -> str:
    """What tuning tried and chose, in words (a model folder's `metrics["tuning"]`)."""
    chosen = ", ".join(f"{name} {value}" for name, value in record["chosen"].items())
    metric, score = record["metric"], record["chosen_score"]
    summary = (
        f"tuned on an inner {record['split']} split: {len(record['trials'])} of "
        f"{record['grid_points']} settings in {record['seconds']:.0f} s; {metric} "
        f"{record['given_score']:.4f} with the defaults, {score:.4f} with {chosen or 'them'}."
    )
    popular = record.get("popular_score")
    if popular is not None and popular > score:
        summary += (
            f" The most popular items score {popular:.4f} on the same split, above every "
            f"setting tried: this log may be better served by --model {BASELINE}."
        )
    return summary
