"""Score related-document lists against what readers went on to read, for each blend weight.

The readers' model is fitted on the train part of a users split (`users:0.2`: whole readers
held out). For each held-out reader with at least two documents of the collection, one of them,
drawn with the seed, is the document they are looking at; the others are the relevant ones.
HR, recall and nDCG at k are computed by ranx for every blend weight, on the same draws, so
the weight can be chosen by the numbers rather than by taste.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from seoga.errors import InputError
from seoga.progress import track
from seoga.recommend.data.splits import Split
from seoga.recommend.related import READERS_MODEL, RelatedDocuments, readers_model

if TYPE_CHECKING:
    from seoga.collection import Collection

DEFAULT_K = 10
# 0 (content only) to 1 (readers only) in tenths.
DEFAULT_BLENDS = tuple(step / 10 for step in range(11))
RELATED_METRICS = ("hit_rate", "recall", "ndcg")
MIN_DOCUMENTS_PER_READER = 2


def reader_cases(
    collection: Collection, split: Split, seed: int
) -> list[tuple[str, str, list[str]]]:
    """(reader, the document they look at, the other documents they read) per test reader."""
    in_collection = set(collection.chunk_map.doc_ids)
    rng = np.random.default_rng(seed)
    test = split.test
    cases = []
    order = np.argsort(test.users, kind="stable")
    users, starts = np.unique(test.users[order], return_index=True)
    for user, items in zip(users, np.split(test.items[order], starts[1:]), strict=True):
        read = sorted({doc for doc in test.item_ids.raw(items) if doc in in_collection})
        if len(read) < MIN_DOCUMENTS_PER_READER:
            continue
        looked_at = read[int(rng.integers(len(read)))]
        cases.append((test.user_ids.ids[user], looked_at, [d for d in read if d != looked_at]))
    if not cases:
        raise InputError(
            "no held-out reader read two documents of the collection: check that the log's "
            "item ids are the collection's doc ids, or hold out more users."
        )
    return cases


def evaluate_related(
    collection: Collection,
    split: Split,
    *,
    blends: Sequence[float] = DEFAULT_BLENDS,
    k: int = DEFAULT_K,
    model: str = READERS_MODEL,
    settings: dict[str, Any] | None = None,
    seed: int = 0,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Each blend weight's metrics, the best weight (by nDCG@k) and the time per lookup."""
    from ranx import Qrels, Run, evaluate

    readers = readers_model(model, **{"seed": seed, **(settings or {})})
    readers.fit(split.train, show_progress=show_progress)
    cases = reader_cases(collection, split, seed)
    qrels = Qrels({reader: dict.fromkeys(targets, 1) for reader, _, targets in cases})
    names = [f"{metric}@{k}" for metric in RELATED_METRICS]
    table: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    for blend in track(blends, "blends", enabled=show_progress):
        related = RelatedDocuments(collection, readers, blend=blend)
        started = time.perf_counter()
        run = {
            reader: {
                found.doc_id: float(k - rank)
                for rank, found in enumerate(related.related(looked_at, k))
            }
            for reader, looked_at, _ in cases
        }
        seconds[f"{blend:g}"] = (time.perf_counter() - started) / len(cases)
        scores = evaluate(qrels, Run(run), names, make_comparable=True)
        table[f"{blend:g}"] = {
            name.replace("hit_rate", "hr"): round(float(scores[name]), 6) for name in names
        }
    best = max(table, key=lambda blend: (table[blend][f"ndcg@{k}"], -float(blend)))
    return {
        "blends": table,
        "best_blend": float(best),
        "readers": len(cases),
        "model": model,
        "split": split.name,
        "train_rows": len(split.train),
        "ms_per_lookup": {blend: round(1000 * s, 4) for blend, s in seconds.items()},
        "k": k,
        "seed": seed,
    }
