"""Combine several retrievers' scored lists into one: reciprocal-rank and convex fusion."""

from collections.abc import Mapping, Sequence

import numpy as np

FUSION_METHODS = ("convex", "rrf")
NORMALIZATIONS = ("zscore", "minmax")
# Cormack et al. (2009) found k=60 robust; it is the usual default.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Mapping[str, float]], *, k: int = RRF_K
) -> dict[str, float]:
    """Sum of 1 / (k + rank) over the lists an item appears in (rank 1 is best)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        ordered = sorted(ranking, key=ranking.__getitem__, reverse=True)
        for rank, key in enumerate(ordered, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def _min_max(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    span = high - low
    return (values - low) / span if span else np.ones_like(values)


def _z_score(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread else np.zeros_like(values)


def _scores(ranking: Mapping[str, float]) -> np.ndarray:
    return np.fromiter(ranking.values(), dtype=np.float64, count=len(ranking))


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale scores to [0, 1]; a list whose scores are all equal scores 1 throughout."""
    if not scores:
        return {}
    return dict(zip(scores, _min_max(_scores(scores)).tolist(), strict=True))


def z_score(scores: Mapping[str, float]) -> dict[str, float]:
    """Centre on the list's mean and scale by its spread; equal scores all become 0."""
    if not scores:
        return {}
    return dict(zip(scores, _z_score(_scores(scores)).tolist(), strict=True))


NORMALIZERS = {"zscore": _z_score, "minmax": _min_max}


def convex_fusion(
    rankings: Sequence[Mapping[str, float]],
    weights: Sequence[float],
    *,
    normalization: str = "minmax",
) -> dict[str, float]:
    """Weighted sum of normalised scores.

    An item missing from a list gets that list's lowest normalised score (0 at most): it
    ranked below everything the list returned.
    """
    if len(rankings) != len(weights):
        raise ValueError("convex fusion needs one weight per ranking")
    if normalization not in NORMALIZERS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, not {normalization!r}")
    # Arrays over the union of keys, not dicts: hybrid search fuses thousands per query.
    keys = list(dict.fromkeys(key for ranking in rankings for key in ranking))
    position = {key: index for index, key in enumerate(keys)}
    fused = np.zeros(len(keys))
    for ranking, weight in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        normalised = NORMALIZERS[normalization](_scores(ranking))
        column = np.full(len(keys), min(0.0, normalised.min()))
        column[np.fromiter(map(position.__getitem__, ranking), dtype=np.intp)] = normalised
        fused += weight * column
    return dict(zip(keys, fused.tolist(), strict=True))


def fuse(
    rankings: Mapping[str, Mapping[str, float]],
    weights: Mapping[str, float],
    *,
    method: str,
    normalization: str = "zscore",
    rrf_k: int = RRF_K,
) -> dict[str, float]:
    """Fuse named rankings by `method`: "convex" (weighted by `weights`, which are rescaled to
    sum to one over the rankings given) or "rrf" (unweighted)."""
    names = list(rankings)
    if method == "rrf":
        return reciprocal_rank_fusion([rankings[name] for name in names], k=rrf_k)
    if method == "convex":
        total = sum(weights[name] for name in names)
        if total <= 0:
            raise ValueError(f"convex fusion needs a positive weight among {names}")
        return convex_fusion(
            [rankings[name] for name in names],
            [weights[name] / total for name in names],
            normalization=normalization,
        )
    raise ValueError(f"fusion method must be one of {FUSION_METHODS}, not {method!r}")
