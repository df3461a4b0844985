"""One call from data and a graph to an effect with its interval: identify, estimate, bootstrap.

The adjustment set comes from the graph (the smallest valid backdoor set, or the frontdoor
set) unless the caller names one. The interval is a seeded percentile bootstrap that re-fits
the whole estimator, propensity model included, on each resample; the naive contrast is given
beside it so the size of the confounding shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from seoga.causal.estimators import (
    ALIASES,
    FRONTDOOR,
    METHODS,
    EstimatorOptions,
    is_binary,
    naive,
)
from seoga.causal.graph import CausalGraph
from seoga.causal.identify import Identification, identify
from seoga.causal.values import checked_units
from seoga.errors import InputError
from seoga.models.threads import FIT_THREADS, limited_native_threads
from seoga.progress import track

DEFAULT_ROUNDS = 200
DEFAULT_LEVEL = 0.95
MIN_ROUNDS = 2  # an interval needs two values


@dataclass
class EffectResult:
    method: str
    treatment: str
    outcome: str
    estimate: float
    ci_low: float
    ci_high: float
    naive: float
    adjustment_set: list[str]
    units: int
    seed: int
    rounds: int
    level: float
    identification: dict[str, Any] = field(default_factory=dict)
    options: EstimatorOptions = field(default_factory=EstimatorOptions)
    binary_treatment: bool = True  # 0/1, rather than a number

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "treatment": self.treatment,
            "outcome": self.outcome,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "level": self.level,
            "naive": self.naive,
            "adjustment_set": self.adjustment_set,
            "units": self.units,
            "bootstrap_rounds": self.rounds,
            "seed": self.seed,
            "identification": self.identification,
            # `refute --effect` re-estimates with these.
            "options": asdict(self.options),
            "binary_treatment": self.binary_treatment,
        }


def method_name(method: str) -> str:
    name = ALIASES.get(method, method)
    if name not in METHODS:
        known = ", ".join([*METHODS, *ALIASES])
        raise InputError(f"unknown method {method!r}; known: {known}.")
    return name


def adjustment_for(method: str, found: Identification, given: list[str] | None) -> list[str]:
    """The set the method adjusts for: the caller's, else the graph's."""
    if given is not None:
        return given
    if method == FRONTDOOR:
        if not found.frontdoor:
            raise InputError(
                f"the graph gives no frontdoor set for {found.treatment} → {found.outcome}: "
                "no observed mediator carries the whole effect with its back doors closed."
            )
        return found.frontdoor
    if found.backdoor is None:
        hint = " (try --method frontdoor)" if found.frontdoor else ""
        raise InputError(
            f"no observed set closes every back door from {found.treatment} to {found.outcome}"
            f"{hint}: {'; '.join(found.reasons.get('backdoor', []))}"
        )
    return found.backdoor


def bootstrap(
    data: pd.DataFrame,
    compute,
    rounds: int,
    seed: int,
    level: float,
    show_progress: bool = False,
) -> tuple[float, float]:
    """Percentile interval of `compute` over `rounds` resamples of the rows (seeded)."""
    if rounds < MIN_ROUNDS:
        raise InputError("the bootstrap needs at least 2 rounds.")
    rng = np.random.default_rng(seed)
    values = []
    for _ in track(range(rounds), "bootstrap", enabled=show_progress):
        rows = rng.integers(0, len(data), len(data))
        try:
            values.append(compute(data.iloc[rows].reset_index(drop=True)))
        except InputError:
            continue  # a resample with one arm empty says nothing about the spread
    if len(values) < rounds / 2:
        raise InputError("most bootstrap resamples could not be estimated: too few units.")
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def estimate_effect(
    data: pd.DataFrame,
    graph: CausalGraph,
    treatment: str,
    outcome: str,
    *,
    method: str = "regression",
    adjustment: list[str] | None = None,
    options: EstimatorOptions | None = None,
    rounds: int = DEFAULT_ROUNDS,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
    where: str = "the data",
    threads: int = FIT_THREADS,
    show_progress: bool = False,
) -> EffectResult:
    """The effect of `treatment` on `outcome` by `method`, with a bootstrap interval, on
    `threads` BLAS / OpenMP threads (ALL_CORES, 0, for every core)."""
    name = method_name(method)
    graph.check_data(data.columns, where)
    found = identify(graph, treatment, outcome)
    chosen = adjustment_for(name, found, adjustment)
    used = checked_units(data, treatment, outcome, chosen, name, where)
    options = options or EstimatorOptions()
    estimator = METHODS[name]

    def compute(frame: pd.DataFrame) -> float:
        return estimator(frame, treatment, outcome, chosen, options)

    with limited_native_threads(threads):
        low, high = bootstrap(used, compute, rounds, seed, level, show_progress)
        estimate = compute(used)
    return EffectResult(
        method=name,
        treatment=treatment,
        outcome=outcome,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        naive=naive(used, treatment, outcome),
        adjustment_set=chosen,
        units=len(used),
        seed=seed,
        rounds=rounds,
        level=level,
        identification=found.to_dict(),
        options=options,
        binary_treatment=is_binary(used[treatment]),
    )
