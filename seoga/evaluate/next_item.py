"""Next-item evaluation of session recommenders (the GRU4Rec protocol, research notes §2).

For every event of a test session after its first, the model ranks all items given the events
before it, and the next event's item is the one target: no sampled negatives, and ties count
against the model (rank = how many items score at least the target's score). Reported: recall
and MRR at k (20 by default), HR and nDCG at 10, events and sessions scored, seconds per event.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from seoga.errors import InputError
from seoga.progress import track
from seoga.recommend.base import Recommender
from seoga.recommend.data.sessions import sequences
from seoga.recommend.data.splits import Split

DEFAULT_K = 20
HEAD_K = 10


def evaluate_next_item(
    model: Recommender, split: Split, *, k: int = DEFAULT_K, show_progress: bool = False
) -> dict[str, Any]:
    """Fit `model` on the train part; score every next event of the test sessions."""
    model.fit(split.train, show_progress=show_progress)
    scorable = model.scorable_items()
    ranks, skipped = [], 0
    test_sessions = sequences(split.test)
    started = time.perf_counter()
    for _, items in track(test_sessions, "next-item", enabled=show_progress):
        for position in range(1, len(items)):
            target = items[position]
            if not scorable[target]:
                skipped += 1
                continue
            scores = model.score_history(items[:position], None)
            if scores is None:
                scores = model.popularity.astype(np.float64)
            scores = np.where(scorable, scores, -np.inf)
            ranks.append(int((scores >= scores[target]).sum()))
    seconds = time.perf_counter() - started
    ranks = np.asarray(ranks, dtype=np.float64)
    if not len(ranks):
        raise InputError("no test event has a next item the model knows; check the split.")
    within, head = ranks <= k, ranks <= HEAD_K
    return {
        "model": model.name,
        "split": split.name,
        "protocol": "next-item",
        f"recall@{k}": round(float(within.mean()), 6),
        f"mrr@{k}": round(float(np.where(within, 1.0 / ranks, 0.0).mean()), 6),
        f"hr@{HEAD_K}": round(float(head.mean()), 6),
        f"ndcg@{HEAD_K}": round(float(np.where(head, 1.0 / np.log2(ranks + 1), 0.0).mean()), 6),
        "events": len(ranks),
        "events_skipped": skipped,
        "sessions": len(test_sessions),
        "fit_seconds": round(model.fit_seconds, 3),
        "ms_per_event": round(1000 * seconds / len(ranks), 4),
        "settings": dict(vars(model.settings)),
        "data": model.data,
    }
