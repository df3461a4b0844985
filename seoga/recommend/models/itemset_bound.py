"""How many itemsets FP-growth could find, known before it runs: a bound from basket lengths.

An itemset is frequent when at least `count` baskets hold it (count = ⌈support × baskets⌉, as
mlxtend rounds), and a basket holding l frequent items holds C(l, k) k-itemsets. Each frequent
itemset lies in `count` baskets, at most t of them among the t longest; with the lengths sorted
longest first,

    frequent k-itemsets ≤ min over 0 ≤ t < count of  Σ_{j > t} C(l_j, k) / (count − t)

(t = 0: every basket's subsets, each frequent one counted `count` times; t = count − 1: the
count − 1 longest baskets left out, where long baskets' subsets swamp the sum). The bound is
never low, so a fit it lets through cannot explode; where baskets share many items it can be far
above the true count, which is why the limit it is held to can be raised.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import comb

# Significant digits that write any float exactly: a suggested support is the shortest that fits.
FLOAT_DIGITS = 17


def support_count(min_support: float, baskets: int) -> int:
    """The baskets an itemset must be in to reach `min_support` (mlxtend's rounding)."""
    return max(1, math.ceil(min_support * baskets))


@dataclass(frozen=True)
class MiningSize:
    """What FP-growth faces at one support count, known before it runs."""

    count: int  # the baskets an itemset must be in
    items: int  # items in at least `count` baskets
    longest: int  # the most of those items one basket holds
    itemsets: float  # at most this many frequent itemsets (inf past a float's range)


def mining_size(baskets: sparse.csr_matrix, count: int, max_len: int | None) -> MiningSize:
    """The frequent items and the bound on frequent itemsets (of up to `max_len` items; None:
    any) at support count `count`, for a baskets × items 0/1 matrix."""
    frequent = np.asarray(baskets.sum(axis=0)).ravel() >= count
    lengths = np.asarray(baskets[:, frequent].sum(axis=1)).ravel().astype(np.int64)
    items = int(frequent.sum())
    if items == 0:
        return MiningSize(count, 0, 0, 0.0)
    return MiningSize(
        count, items, int(lengths.max()), _itemset_bound(lengths, items, count, max_len)
    )


def _itemset_bound(lengths: np.ndarray, items: int, count: int, max_len: int | None) -> float:
    """The module's bound, from each basket's number of frequent items."""
    # Lengths ascending, each with how many baskets have it and how many are longer.
    values, runs = np.unique(lengths[lengths > 0], return_counts=True)
    longer = np.cumsum(runs[::-1])[::-1] - runs
    # A frequent itemset is in `count` baskets, so no longer than the count-th longest one.
    at_cut = int(np.flatnonzero(longer < count)[0])
    longest = int(values[at_cut])
    sizes = np.arange(1, (longest if max_len is None else min(max_len, longest)) + 1)
    per_length = runs[:, None] * comb(values[:, None], sizes[None, :])
    # Σ over baskets no longer than each length: the sum past the t longest, t = `longer`.
    up_to = np.cumsum(per_length, axis=0)
    candidates = longer < count
    bounds = (up_to[candidates] / (count - longer[candidates])[:, None]).min(axis=0)
    # t = count − 1 falls inside the run at the cut: that run's baskets past position count − 1.
    below = up_to[at_cut - 1] if at_cut > 0 else np.zeros(len(sizes))
    past_cut = longer[at_cut] + runs[at_cut] - (count - 1)
    bounds = np.minimum(bounds, below + past_cut * comb(longest, sizes))
    return float(np.minimum(bounds, comb(items, sizes)).sum())


def least_fitting_count(count: int, baskets: int, fits: Callable[[int], bool]) -> int | None:
    """The least support count from `count` up (at most `baskets`) that `fits` (None: none).

    What FP-growth faces shrinks as the count rises (fewer frequent items, more baskets to
    share each itemset), so a binary search finds it.
    """
    low, high = count, baskets
    if not fits(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if fits(middle):
            high = middle
        else:
            low = middle + 1
    return low


def suggested_support(count: int, baskets: int) -> float:
    """The shortest support (fewest significant digits) whose support count is `count`.

    Any support in ((count − 1) / baskets, count / baskets] has that count; the decimals just
    below count / baskets are tried first (count / baskets itself can round above it).
    """
    exact = count / baskets
    for digits in range(1, FLOAT_DIGITS + 1):
        step = 10.0 ** (math.floor(math.log10(exact)) - digits + 1)
        below = math.floor(exact / step) * step
        for candidate in (below, below - step):
            shortest = float(f"{candidate:.{digits}g}")
            if shortest > 0 and support_count(shortest, baskets) == count:
                return shortest
    return (count - 1 / 2) / baskets  # the middle of the range: its count is `count`
