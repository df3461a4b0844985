"""Combine several retrievers' scored lists into one: reciprocal-rank and min-max convex fusion."""

from collections.abc import Mapping, Sequence

FUSION_METHODS = ("convex", "rrf")
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


def convex_fusion(
    rankings: Sequence[Mapping[str, float]], weights: Sequence[float]
) -> dict[str, float]:
    """Weighted sum of min-max normalised scores; an item missing from a list scores 0 there."""
    if len(rankings) != len(weights):
        raise ValueError("convex fusion needs one weight per ranking")
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for key, value in min_max(ranking).items():
            fused[key] = fused.get(key, 0.0) + weight * value
    return fused


def fuse(
    sparse: Mapping[str, float],
    dense: Mapping[str, float],
    *,
    method: str,
    dense_weight: float,
    rrf_k: int = RRF_K,
) -> dict[str, float]:
    """Fuse a sparse and a dense ranking by `method` ("convex" or "rrf")."""
    if method == "rrf":
        return reciprocal_rank_fusion([sparse, dense], k=rrf_k)
    if method == "convex":
        return convex_fusion([sparse, dense], [1.0 - dense_weight, dense_weight])
    raise ValueError(f"fusion method must be one of {FUSION_METHODS}, not {method!r}")
