"""Scores into ranked lists: the top k per row, best first, ties broken by the lower index.

Items scored -inf (seen, cold, or not among the allowed) never make a list; every recommender
ranks through these functions, so all models break ties and pad short lists the same way.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from seoga.errors import InputError

# Marks a slot of a ranked row that no item can fill.
NO_ITEM = -1


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, the indices of the `k` largest scores, best first (ties: lower index first)."""
    k = min(k, scores.shape[1])
    # The k-th largest score bounds the candidates; every item tied with it stays a candidate,
    # so the tie at the cut is broken by index too, as it is inside the list.
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
    ranked = np.empty((len(scores), k), dtype=np.int64)
    for row, (values, bound) in enumerate(zip(scores, kth, strict=True)):
        candidates = np.flatnonzero(values >= bound[0])
        order = np.lexsort((candidates, -values[candidates]))
        ranked[row] = candidates[order[:k]]
    return ranked


def top_k_rows(scores: np.ndarray, k: int, seen: sparse.csr_matrix | None) -> np.ndarray:
    """`top_k` per row with each row's `seen` items left out (in place); NO_ITEM pads a row
    where fewer than k items have a finite score."""
    if seen is not None:
        scores[np.repeat(np.arange(len(scores)), np.diff(seen.indptr)), seen.indices] = -np.inf
    best = top_k(scores, k)
    best[~np.isfinite(np.take_along_axis(scores, best, axis=1))] = NO_ITEM
    return best


def rank_scores(
    scores: np.ndarray, k: int, exclude: np.ndarray, allowed: list[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(the best `k` indices with a finite score, best first; the scores they were ranked by).

    `exclude` is left out; when `allowed` is given, only those indices can be ranked.
    """
    require_k(k)
    scores = np.asarray(scores, dtype=np.float64).copy()
    scores[exclude] = -np.inf
    if allowed is not None:
        keep = np.zeros(len(scores), dtype=bool)
        keep[allowed] = True
        scores[~keep] = -np.inf
    best = top_k(scores[None, :], k)[0]
    return best[np.isfinite(scores[best])], scores


def cosine_scores(vectors: np.ndarray, norms: np.ndarray, index: int) -> np.ndarray:
    """Cosine of every vector with vector `index` (-inf for a zero vector)."""
    scores = vectors @ vectors[index] / np.maximum(norms * norms[index], np.finfo(float).tiny)
    scores[norms == 0] = -np.inf
    return scores


def require_k(k: int) -> None:
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}.")


def listed(values) -> list[str]:
    """One raw id or many, as a list of strings."""
    if isinstance(values, str | int | np.integer):
        return [str(values)]
    return [str(value) for value in values]
