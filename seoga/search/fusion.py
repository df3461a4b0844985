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


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale scores to [0, 1]; a list whose scores are all equal scores 1 throughout."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {key: (value - low) / span if span else 1.0 for key, value in scores.items()}


def z_score(scores: Mapping[str, float]) -> dict[str, float]:
    """Centre on the list's mean and scale by its spread; equal scores all become 0."""
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64)
    mean, spread = values.mean(), values.std()
    return {key: (value - mean) / spread if spread else 0.0 for key, value in scores.items()}


NORMALIZERS = {"zscore": z_score, "minmax": min_max}


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
    normalised = [NORMALIZERS[normalization](ranking) for ranking in rankings]
    keys = set().union(*normalised)
    fused = dict.fromkeys(keys, 0.0)
    for scores, weight in zip(normalised, weights, strict=True):
        floor = min(0.0, min(scores.values(), default=0.0))
        for key in keys:
            fused[key] += weight * scores.get(key, floor)
    return fused


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
