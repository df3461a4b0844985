"""Train / test splits of an interaction log, as the recommender literature uses them.

- `random:F` — a seeded random share F of the rows is the test set.
- `leave-last-out` — each user's last row by time (users with at least 2 rows) is the test set.
- `time:Q` — a global cut: rows after the Q-quantile of time (or after a date, `time:2016-01-01`).
- `users:F` — a seeded random share F of the users, all their rows, is the test set (for
  item-to-item lists, scored on readers the model never saw).
Given folds (ML-100k `u1.base` / `u1.test`) are read as two files with the same id maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from seoga.errors import InputError
from seoga.recommend.data.interactions import Interactions

SPLITS = ("random", "leave-last-out", "time", "users")
DEFAULT_TEST_SHARE = 0.2
DEFAULT_TIME_QUANTILE = 0.8
MIN_ROWS_TO_HOLD_OUT = 2


@dataclass(frozen=True)
class Split:
    train: Interactions
    test: Interactions
    name: str


def split_interactions(log: Interactions, spec: str, seed: int = 0) -> Split:
    """Split by a spec such as `random:0.2`, `leave-last-out` or `time:0.8`."""
    method, _, argument = spec.partition(":")
    if method == "random":
        share = _share(spec, argument, DEFAULT_TEST_SHARE)
        test = np.random.default_rng(seed).random(len(log)) < share
    elif method == "leave-last-out":
        test = _last_per_user(log, _times(log, spec))
    elif method == "time":
        test = _after_cut(log, spec, argument)
    elif method == "users":
        share = _share(spec, argument, DEFAULT_TEST_SHARE)
        test = (np.random.default_rng(seed).random(log.n_users) < share)[log.users]
    else:
        raise InputError(
            f"unknown split {spec!r}; use one of {', '.join(SPLITS)} (e.g. random:0.2)."
        )
    if not test.any() or test.all():
        raise InputError(f"the split {spec!r} leaves an empty train or test set.")
    return Split(log.subset(~test), log.subset(test), spec)


def _share(spec: str, argument: str, default: float) -> float:
    if not argument:
        return default
    try:
        share = float(argument)
    except ValueError as error:
        raise InputError(f"split {spec!r}: {argument!r} is not a share such as 0.2.") from error
    if not 0 < share < 1:
        raise InputError(f"split {spec!r}: the share must lie between 0 and 1.")
    return share


def _times(log: Interactions, spec: str) -> np.ndarray:
    if log.times is None:
        raise InputError(
            f"the split {spec!r} needs a time per row; {log.source or 'the log'} has no time "
            "column (name it with --time-column), or use random:0.2."
        )
    return log.times


def _last_per_user(log: Interactions, times: np.ndarray) -> np.ndarray:
    """The latest row of each user with at least two rows (ties: the later row in the file)."""
    order = np.lexsort((np.arange(len(log)), times, log.users))
    users = log.users[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = users[1:] != users[:-1]
    counts = np.bincount(log.users, minlength=log.n_users)
    last &= counts[users] >= MIN_ROWS_TO_HOLD_OUT
    test = np.zeros(len(log), dtype=bool)
    test[order[last]] = True
    return test


def _after_cut(log: Interactions, spec: str, argument: str) -> np.ndarray:
    times = _times(log, spec)
    try:
        cut = datetime.fromisoformat(argument).timestamp()
    except ValueError:
        cut = float(np.quantile(times, _share(spec, argument, DEFAULT_TIME_QUANTILE)))
    return times > cut


def validation_rows(n_rows: int, share: float, seed: int) -> np.ndarray:
    """A seeded random mask of `share` of `n_rows` (early-stopping data inside a train set)."""
    return np.random.default_rng(seed).random(n_rows) < share
