"""Propensities: how likely each (user, item) rating was to be observed at all.

People rate what they chose to see, and they choose what they expect to like: ratings are
missing not at random, and a model fitted to them as they are learns the chosen, not the whole
catalogue (Schnabel et al. 2016, "Recommendations as Treatments"). Weighting each training
rating by 1 / P(observed) undoes the selection in expectation. The propensities are
- given: a users × items matrix of P(observed) (Coat ships one), or
- `logistic`: P(observed) = σ(a + b_user + c_item), fitted to every cell of the matrix
  (observed or not) — who rates much and what is rated much;
- `naive-bayes`: P(observed | rating r) = P(r | observed) P(observed) / P(r), with P(r) from a
  small sample of ratings missing at random (Schnabel et al. use 5 % of the random test ratings).

Dense matrices (whitespace-separated, a row per user, a column per item, 0 = no rating) are
read as logs whose user and item ids are the 0-based row and column numbers
(`seoga.recommend.data.interactions.matrix_interactions`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from seoga.errors import InputError
from seoga.recommend.data.interactions import Interactions, matrix_interactions
from seoga.recommend.data.log_files import read_interactions
from seoga.recommend.data.textfiles import read_matrix

PROPENSITY_METHODS = ("logistic", "naive-bayes")
NO_DEBIAS, IPW = "none", "ipw"

# matrix_interactions is re-exported: tests read Coat-style matrices through this module.
__all__ = [
    "IPW",
    "NO_DEBIAS",
    "PROPENSITY_METHODS",
    "epoch_order",
    "given_propensities",
    "ips_weights",
    "logistic_propensities",
    "loss_weights",
    "matrix_interactions",
    "naive_bayes_propensities",
    "with_propensities",
]


def positions(log: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """Each row's (user, item) as matrix positions: the raw ids must be row/column numbers."""
    try:
        rows = np.asarray([int(raw) for raw in log.user_ids.raw(log.users)])
        columns = np.asarray([int(raw) for raw in log.item_ids.raw(log.items)])
    except ValueError:
        raise InputError(
            "a propensity matrix is indexed by row and column numbers; this log's ids are not "
            "numbers (estimate the propensities instead: logistic or naive-bayes)."
        ) from None
    return rows, columns


def given_propensities(log: Interactions, path: Path | str) -> np.ndarray:
    """Each row's P(observed) from a users × items matrix file."""
    matrix = read_matrix(path)
    rows, columns = positions(log)
    if rows.max() >= matrix.shape[0] or columns.max() >= matrix.shape[1]:
        raise InputError(
            f"{path} is {matrix.shape[0]} × {matrix.shape[1]}; the log reaches row "
            f"{rows.max()}, column {columns.max()}."
        )
    found = matrix[rows, columns]
    if (found <= 0).any() or (found > 1).any():
        bad = int(np.argmax((found <= 0) | (found > 1)))
        raise InputError(
            f"{path}: P(observed) of user {rows[bad]}, item {columns[bad]} is {found[bad]}; "
            "propensities lie in (0, 1]."
        )
    return found


def logistic_propensities(log: Interactions, seed: int = 0) -> np.ndarray:
    """σ(a + b_user + c_item) fitted to every cell, observed or not; each row's value."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    n_users, n_items = log.n_users, log.n_items
    cell_users = np.repeat(np.arange(n_users), n_items)
    cell_items = np.tile(np.arange(n_items), n_users)
    cells = len(cell_users)
    features = sparse.hstack(
        [
            sparse.csr_matrix((np.ones(cells), (np.arange(cells), cell_users)), (cells, n_users)),
            sparse.csr_matrix((np.ones(cells), (np.arange(cells), cell_items)), (cells, n_items)),
        ]
    ).tocsr()
    observed = np.zeros(cells, dtype=int)
    observed[log.users * n_items + log.items] = 1
    model = LogisticRegression(max_iter=1_000, random_state=seed)
    model.fit(features, observed)
    rows = log.users * n_items + log.items
    return model.predict_proba(features[rows])[:, 1]


def naive_bayes_propensities(log: Interactions, missing_at_random: np.ndarray) -> np.ndarray:
    """P(observed | r) = P(r | observed) P(observed) / P(r), P(r) from ratings missing at
    random; each row's value."""
    if len(missing_at_random) == 0:
        raise InputError("naive-bayes propensities need a sample of ratings missing at random.")
    levels = np.unique(log.values)
    observed_share = len(log) / (log.n_users * log.n_items)
    estimate = {}
    for level in levels:
        given = np.mean(log.values == level)
        marginal = np.mean(missing_at_random == level)
        if marginal == 0:
            raise InputError(
                f"the random sample holds no rating {level:g}; give a larger sample (or use "
                "the logistic propensities)."
            )
        estimate[level] = min(1.0, given * observed_share / marginal)
    return np.asarray([estimate[value] for value in log.values])


def ips_weights(propensities: np.ndarray, clip: float = 0.0) -> np.ndarray:
    """1 / P(observed), the propensities first raised to `clip` (0: none)."""
    return 1.0 / np.maximum(propensities, clip)


def loss_weights(log: Interactions, debias: str, clip: float, model: str) -> np.ndarray | None:
    """Each row's weight in a rating model's loss: None (all alike) or 1 / propensity."""
    if debias == NO_DEBIAS:
        return None
    if debias != IPW:
        raise InputError(f"{model}: unknown debias {debias!r}; use {NO_DEBIAS} or {IPW}.")
    if log.propensities is None:
        raise InputError(
            f"{model} with debias={IPW} needs the ratings' propensities: give --propensities "
            "(a matrix file, logistic or naive-bayes)."
        )
    return ips_weights(log.propensities, clip)


def epoch_order(rng: np.random.Generator, count: int, weights: np.ndarray | None) -> np.ndarray:
    """One epoch's rows: a permutation, or with weights `count` rows drawn in proportion to
    them — the weighted objective in expectation, without the steps of a 1/0.004 weight
    throwing SGD off."""
    if weights is None:
        return rng.permutation(count)
    return rng.choice(count, count, p=weights / weights.sum())


def with_propensities(
    log: Interactions,
    debias: str | None,
    propensities: str | None,
    random_ratings: Path | np.ndarray | None,
    seed: int,
) -> Interactions:
    """The log with its ratings' propensities attached when `debias` asks for them;
    `propensities` is a matrix file or a method, `random_ratings` a log file or the ratings
    themselves (an array)."""
    if debias is None:
        if propensities is not None:
            raise InputError("--propensities weigh ratings only with --debias ipw.")
        return log
    if debias != IPW:
        raise InputError(f"unknown --debias {debias!r}; use ipw.")
    if propensities is None:
        raise InputError(
            "--debias ipw needs --propensities: a matrix file, logistic or naive-bayes."
        )
    if propensities == "logistic":
        found = logistic_propensities(log, seed)
    elif propensities == "naive-bayes":
        if random_ratings is None:
            raise InputError("naive-bayes propensities need --random-ratings FILE.")
        if isinstance(random_ratings, Path):
            random_ratings = read_interactions(random_ratings).values
        found = naive_bayes_propensities(log, random_ratings)
    else:
        found = given_propensities(log, Path(propensities))
    return replace(log, propensities=found)
