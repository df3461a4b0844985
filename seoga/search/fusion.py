"""Combine several retrievers' scored lists into one: reciprocal-rank and convex fusion.

The work is done on numpy arrays of (item keys, scores), one pair per list: hybrid search
fuses thousands of documents per query. The dict functions below wrap the same code for
callers that hold {item: score} mappings.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from seoga.errors import InputError

FUSION_METHODS = ("convex", "rrf")
NORMALIZATIONS = ("zscore", "minmax")
# Cormack et al. (2009) found k=60 robust; it is the usual default.
RRF_K = 60
# Chosen by measurement on autorag_ko, beir_scifact and squad_v1.1_dev together (BENCHMARKS.md,
# "Retrieval quality").
DEFAULT_FUSION = "convex"
DEFAULT_NORMALIZATION = "zscore"
DEFAULT_DENSE_WEIGHT = 0.4
DEFAULT_EXTRA_WEIGHT = 0.7
# The retrievers every collection may have; extra bi-encoders are named by their models.
SPARSE = "bm25"
DENSE = "dense"


@dataclass
class FusionSettings:
    """How retrievers' rankings are fused. In convex fusion BM25 weighs 1 - dense_weight, the
    main bi-encoder dense_weight and each extra bi-encoder extra_weight; the weights of the
    retrievers that took part in a query are rescaled to sum to one."""

    method: str = DEFAULT_FUSION
    dense_weight: float = DEFAULT_DENSE_WEIGHT
    normalization: str = DEFAULT_NORMALIZATION
    rrf_k: int = RRF_K
    extra_weight: float = DEFAULT_EXTRA_WEIGHT

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise InputError(f"fusion must be one of {', '.join(FUSION_METHODS)}.")
        if self.normalization not in NORMALIZATIONS:
            raise InputError(f"fusion normalization must be one of {', '.join(NORMALIZATIONS)}.")
        for name in ("dense_weight", "extra_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"the fusion {name.replace('_', ' ')} must be between 0 and 1.")

    def weights(self, names: list[str]) -> dict[str, float]:
        """Each named retriever's weight before rescaling."""
        fixed = {SPARSE: 1.0 - self.dense_weight, DENSE: self.dense_weight}
        return {name: fixed.get(name, self.extra_weight) for name in names}


# One retriever's list: integer item keys and their scores, in any order.
ScoredKeys = tuple[np.ndarray, np.ndarray]


def _min_max(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    span = high - low
    return (values - low) / span if span else np.ones_like(values)


def _z_score(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread else np.zeros_like(values)


NORMALIZERS = {"zscore": _z_score, "minmax": _min_max}


def _union(lists: Sequence[ScoredKeys]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every key once, in order of first appearance, and each list's positions in it."""
    if not lists:
        return np.empty(0, dtype=np.int64), []
    every = np.concatenate([keys for keys, _ in lists])
    unique, first, inverse = np.unique(every, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    positions = np.split(position[inverse], np.cumsum([keys.size for keys, _ in lists])[:-1])
    return unique[order], positions


def rrf_arrays(lists: Sequence[ScoredKeys], *, k: int = RRF_K) -> ScoredKeys:
    """Sum of 1 / (k + rank) over the lists a key appears in (rank 1 is best)."""
    keys, positions = _union(lists)
    fused = np.zeros(keys.size)
    for (_, scores), where in zip(lists, positions, strict=True):
        # Stable, so equal scores keep their list order (as sorted(..., reverse=True) does).
        ranks = np.empty(scores.size)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, scores.size + 1)
        fused[where] += 1.0 / (k + ranks)
    return keys, fused


def convex_arrays(
    lists: Sequence[ScoredKeys], weights: Sequence[float], *, normalization: str = "minmax"
) -> ScoredKeys:
    """Weighted sum of normalised scores.

    A key missing from a list gets that list's lowest normalised score (0 at most): it ranked
    below everything the list returned.
    """
    if len(lists) != len(weights):
        raise ValueError("convex fusion needs one weight per ranking")
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, not {normalization!r}")
    keys, positions = _union(lists)
    fused = np.zeros(keys.size)
    for (_, scores), where, weight in zip(lists, positions, weights, strict=True):
        if not scores.size:
            continue
        normalised = NORMALIZERS[normalization](scores.astype(np.float64))
        column = np.full(keys.size, min(0.0, normalised.min()))
        column[where] = normalised
        fused += weight * column
    return keys, fused


def fuse_arrays(
    lists: Mapping[str, ScoredKeys],
    weights: Mapping[str, float],
    *,
    method: str,
    normalization: str = "zscore",
    rrf_k: int = RRF_K,
) -> ScoredKeys:
    """Fuse named lists by `method`: "convex" (weighted by `weights`, which are rescaled to
    sum to one over the lists given) or "rrf" (unweighted)."""
    names = list(lists)
    if method == "rrf":
        return rrf_arrays([lists[name] for name in names], k=rrf_k)
    if method == "convex":
        total = sum(weights[name] for name in names)
        if total <= 0:
            raise ValueError(f"convex fusion needs a positive weight among {names}")
        return convex_arrays(
            [lists[name] for name in names],
            [weights[name] / total for name in names],
            normalization=normalization,
        )
    raise ValueError(f"fusion method must be one of {FUSION_METHODS}, not {method!r}")


# ---- the same on {item: score} mappings ------------------------------------------------------


def _as_arrays(rankings: Sequence[Mapping[str, float]]) -> tuple[list[str], list[ScoredKeys]]:
    """Integer keys for the items (in order of first appearance) and each list as arrays."""
    items = list(dict.fromkeys(item for ranking in rankings for item in ranking))
    code = {item: number for number, item in enumerate(items)}
    lists = [
        (
            np.fromiter(map(code.__getitem__, ranking), dtype=np.int64, count=len(ranking)),
            np.fromiter(ranking.values(), dtype=np.float64, count=len(ranking)),
        )
        for ranking in rankings
    ]
    return items, lists


def _as_mapping(items: list[str], fused: ScoredKeys) -> dict[str, float]:
    keys, scores = fused
    return dict(zip([items[key] for key in keys.tolist()], scores.tolist(), strict=True))


def reciprocal_rank_fusion(
    rankings: Sequence[Mapping[str, float]], *, k: int = RRF_K
) -> dict[str, float]:
    """`rrf_arrays` on mappings."""
    items, lists = _as_arrays(rankings)
    return _as_mapping(items, rrf_arrays(lists, k=k))


def convex_fusion(
    rankings: Sequence[Mapping[str, float]],
    weights: Sequence[float],
    *,
    normalization: str = "minmax",
) -> dict[str, float]:
    """`convex_arrays` on mappings."""
    items, lists = _as_arrays(rankings)
    return _as_mapping(items, convex_arrays(lists, weights, normalization=normalization))


def fuse(
    rankings: Mapping[str, Mapping[str, float]],
    weights: Mapping[str, float],
    *,
    method: str,
    normalization: str = "zscore",
    rrf_k: int = RRF_K,
) -> dict[str, float]:
    """`fuse_arrays` on mappings."""
    items, lists = _as_arrays(list(rankings.values()))
    fused = fuse_arrays(
        dict(zip(rankings, lists, strict=True)),
        weights,
        method=method,
        normalization=normalization,
        rrf_k=rrf_k,
    )
    return _as_mapping(items, fused)


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale scores to [0, 1]; a list whose scores are all equal scores 1 throughout."""
    return _normalised(scores, _min_max)


def z_score(scores: Mapping[str, float]) -> dict[str, float]:
    """Centre on the list's mean and scale by its spread; equal scores all become 0."""
    return _normalised(scores, _z_score)


def _normalised(scores: Mapping[str, float], normalizer) -> dict[str, float]:
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    return dict(zip(scores, normalizer(values).tolist(), strict=True))
