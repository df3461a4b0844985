"""Score a recommender on a train / test split: ratings (RMSE, MAE) and top-N lists.

Top-N lists rank every item the model can score for each test user, with the user's training
items left out (no sampled negatives); a test row is relevant when its rating reaches
`min_rating` (all rows of implicit feedback). HR, recall, nDCG and MRR at k are computed by ranx;
catalogue coverage is the share of the items the model can rank that appear in any list. Test
rows whose item the user already has in training are left out (the lists never hold them).
"""

from __future__ import annotations

import platform
import time
from typing import Any

import numpy as np

from seoga.errors import InputError
from seoga.models.threads import available_cpus
from seoga.recommend.base import Recommender
from seoga.recommend.data.features import FeatureTable
from seoga.recommend.data.splits import Split

DEFAULT_K = 10
TOPN_METRICS = ("hit_rate", "recall", "ndcg", "mrr")


def evaluate_recommender(
    model: Recommender,
    split: Split,
    *,
    items: FeatureTable | None = None,
    users: FeatureTable | None = None,
    k: int = DEFAULT_K,
    min_rating: float | None = None,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Fit `model` on the split's train part and score it on the test part."""
    model.fit(split.train, items=items, users=users, show_progress=show_progress)
    metrics: dict[str, Any] = {
        "model": model.name,
        "split": split.name,
        "train_rows": len(split.train),
        "test_rows": len(split.test),
        "fit_seconds": round(model.fit_seconds, 3),
    }
    test = split.test
    if model.predicts_ratings and test.explicit:
        started = time.perf_counter()
        predicted = model.predict_indices(test.users, test.items).astype(np.float64)
        metrics["predict_seconds"] = round(time.perf_counter() - started, 3)
        error = predicted - test.values
        metrics["mse"] = round(float(np.mean(error**2)), 6)
        metrics["rmse"] = round(float(np.sqrt(np.mean(error**2))), 6)
        metrics["mae"] = round(float(np.mean(np.abs(error))), 6)
    metrics.update(topn_metrics(model, split, k=k, min_rating=min_rating))
    metrics["settings"] = {
        name: value for name, value in vars(model.settings).items() if not name.startswith("_")
    }
    metrics["data"] = model.data
    metrics["machine"] = f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}"
    return metrics


def topn_metrics(
    model: Recommender, split: Split, *, k: int = DEFAULT_K, min_rating: float | None = None
) -> dict[str, Any]:
    """HR / recall / nDCG / MRR @ k and coverage over the test users the model knows."""
    from ranx import Qrels, Run, evaluate

    test = split.test
    if len(test) == 0:
        raise InputError("the test part is empty; choose another split.")
    relevant = np.ones(len(test), dtype=bool)
    if min_rating is not None and test.explicit:
        relevant = test.values >= min_rating
    known = np.diff(model.seen.indptr)[test.users] > 0
    # A test item the user already has in training is filtered out of every list: not a target.
    repeated = np.asarray(model.seen[test.users, test.items]).ravel() > 0
    chosen = relevant & known & ~repeated
    if not chosen.any():
        raise InputError(
            "no test row is relevant for a user the model knows (check --min-rating and the split)."
        )
    qrels: dict[str, dict[str, int]] = {}
    for user, item in zip(test.users[chosen], test.items[chosen], strict=True):
        qrels.setdefault(str(user), {})[str(item)] = 1
    users = np.asarray([int(user) for user in qrels], dtype=np.int64)
    started = time.perf_counter()
    ranked = model.rank_users(users, k)
    seconds = time.perf_counter() - started
    run = {
        str(user): {str(item): float(k - rank) for rank, item in enumerate(row) if item >= 0}
        for user, row in zip(users, ranked, strict=True)
    }
    names = [f"{metric}@{k}" for metric in TOPN_METRICS]
    scores = evaluate(Qrels(qrels), Run(run), names, make_comparable=True)
    trained = max(1, int(model.scorable_items().sum()))
    return {
        **{name.replace("hit_rate", "hr"): round(float(scores[name]), 6) for name in names},
        "coverage": round(len(np.unique(ranked[ranked >= 0])) / trained, 6),
        "topn_users": len(users),
        "recommend_seconds": round(seconds, 3),
        "recommend_ms_per_user": round(1000 * seconds / len(users), 4),
    }


def _cpus() -> int:
    return available_cpus()
