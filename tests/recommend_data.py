"""Tiny generated interaction logs with a known structure, for the recommender tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seoga.recommend.data.features import FeatureTable
from seoga.recommend.data.interactions import EXPLICIT, IMPLICIT, IdMap, Interactions

GENRES = ("drama", "comedy", "horror")


def clustered_log(
    n_users: int = 60,
    n_items: int = 40,
    per_user: int = 15,
    seed: int = 0,
    noise: float = 0.3,
    cold_items: int = 0,
) -> tuple[Interactions, FeatureTable, Interactions | None]:
    """Users and items fall in genres; a user rates items of their genre high (≈4.5), others low.

    Returns the log, an item table (genre + a text naming the genre) and, when `cold_items` > 0,
    the ratings of that many extra items that the log never contains.
    """
    rng = np.random.default_rng(seed)
    user_genre = rng.integers(0, len(GENRES), n_users)
    total_items = n_items + cold_items
    item_genre = np.arange(total_items) % len(GENRES)
    rows, cold_rows = [], []
    for user in range(n_users):
        for item in rng.choice(n_items, per_user, replace=False):
            rows.append((user, item, _rating(user_genre[user], item_genre[item], rng, noise)))
        for item in range(n_items, total_items):
            cold_rows.append((user, item, _rating(user_genre[user], item_genre[item], rng, noise)))
    user_ids = IdMap.of(f"u{u}" for u in range(n_users))
    item_ids = IdMap.of(f"i{i}" for i in range(total_items))
    log = _log(rows, user_ids, item_ids, EXPLICIT)
    cold = _log(cold_rows, user_ids, item_ids, EXPLICIT) if cold_rows else None
    table = FeatureTable(
        {"genre": "multi", "blurb": "text"},
        {
            "genre": {f"i{i}": [GENRES[item_genre[i]]] for i in range(total_items)},
            "blurb": {f"i{i}": f"a {GENRES[item_genre[i]]} film" for i in range(total_items)},
        },
        ["generated"],
    )
    return log, table, cold


def _rating(user_genre: int, item_genre: int, rng, noise: float) -> float:
    base = 4.5 if user_genre == item_genre else 1.5
    return float(np.clip(base + rng.normal(0, noise), 1, 5))


def _log(rows, user_ids: IdMap, item_ids: IdMap, kind: str) -> Interactions:
    users, items, values = (np.asarray(column) for column in zip(*rows, strict=True))
    times = np.arange(len(rows), dtype=np.float64)
    return Interactions(users, items, values, user_ids, item_ids, kind, times, "generated")


def clicks_log(seed: int = 0, n_users: int = 80, n_items: int = 30) -> Interactions:
    """Implicit feedback: each user clicks items of their genre, a few times each."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        genre = user % len(GENRES)
        mine = [item for item in range(n_items) if item % len(GENRES) == genre]
        for item in rng.choice(mine, 6, replace=False):
            rows.append((user, int(item), float(rng.integers(1, 4))))
    user_ids = IdMap.of(f"u{u}" for u in range(n_users))
    item_ids = IdMap.of(f"i{i}" for i in range(n_items))
    return _log(rows, user_ids, item_ids, IMPLICIT)


def write_csv(path: Path, log: Interactions, value_name: str = "rating") -> Path:
    lines = [f"user,item,{value_name},timestamp"]
    for user, item, value, moment in zip(
        log.user_ids.raw(log.users), log.item_ids.raw(log.items), log.values, log.times, strict=True
    ):
        lines.append(f"{user},{item},{value:g},{int(moment)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
