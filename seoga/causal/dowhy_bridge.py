"""DoWhy beside seoga: the same effect by DoWhy's estimator, and DoWhy's refuters.

Every call builds a fresh `CausalModel` on a copy of the data: DoWhy's propensity estimators
write their scores into the model's data and later estimates reuse them. Refuters get a
`RandomState` (an int seed makes DoWhy's data-subset refuter draw the same subset every time)
and a permuted placebo (its random placebo ignores the seed).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seoga.causal.estimators import MIN_STRATUM_UNITS, EstimatorOptions
from seoga.causal.graph import CausalGraph
from seoga.errors import InputError
from seoga.models.threads import FIT_THREADS, limited_native_threads

DOWHY_METHODS = {
    "regression": "backdoor.linear_regression",
    "stratification": "backdoor.propensity_score_stratification",
    "ipw": "backdoor.propensity_score_weighting",
    "doubly-robust": "backdoor.doubly_robust",
    "frontdoor": "frontdoor.two_stage_regression",
}
REFUTERS = {
    "placebo": "placebo_treatment_refuter",
    "random-common-cause": "random_common_cause",
    "subset": "data_subset_refuter",
}
SUBSET_FRACTION = 0.8
DEFAULT_SIMULATIONS = 50
# A placebo's effect this small beside the estimate is "no effect"; a new confounder or a
# subset moving the estimate by less than this share leaves it standing.
PLACEBO_SHARE = 0.1
STABLE_SHARE = 0.1
INSTALL = (
    "DoWhy is not installed: `pip install 'seoga[causal]' && pip install --no-deps dowhy==0.14` "
    "(DoWhy 0.14 caps scipy below what mlxtend needs, though it runs on it)."
)


def _dowhy():
    try:
        import dowhy
    except ImportError:
        raise InputError(INSTALL) from None
    # DoWhy logs every step at INFO through the root logger's handlers.
    logging.getLogger("dowhy").setLevel(logging.WARNING)
    return dowhy


def _model(data: pd.DataFrame, graph: CausalGraph, treatment: str, outcome: str):
    dowhy = _dowhy()
    with warnings.catch_warnings():
        # Unobserved nodes are the graph's nodes without a column: that is how DoWhy reads
        # them, and its warning says so for every model.
        warnings.filterwarnings("ignore", message=".*assumed unobserved", category=UserWarning)
        return dowhy.CausalModel(
            data=data.copy(), treatment=treatment, outcome=outcome, graph=graph.networkx()
        )


def _estimand(model, method: str, adjustment: list[str]):
    estimand = model.identify_effect(proceed_when_unidentifiable=True)
    if method == "frontdoor":
        estimand.frontdoor_variables = list(adjustment)
    else:
        estimand.set_backdoor_variables(list(adjustment))
    return estimand


def method_params(method: str, options: EstimatorOptions) -> dict[str, Any]:
    """seoga's options in DoWhy's words, for the methods whose DoWhy estimator takes them."""
    if method in ("ipw", "doubly-robust"):
        return {"min_ps_score": options.clip, "max_ps_score": 1 - options.clip}
    if method == "stratification":
        return {"num_strata": options.strata, "clipping_threshold": MIN_STRATUM_UNITS}
    return {}


def placebo_stand_in(refuter: str, method: str) -> str:
    """The method whose estimate the refuter can test in place of `method`'s."""
    return PLACEBO_STAND_IN if refuter == "placebo" and method in PROPENSITY_METHODS else method


def unmatched(method: str, options: EstimatorOptions) -> str | None:
    """What DoWhy's estimator cannot do as seoga's did (None when it can)."""
    if method == "ipw" and not options.normalise:
        return (
            "DoWhy's weighting always self-normalises, so this refutes the self-normalised "
            "(Hájek) IPW estimate, not the Horvitz–Thompson one the effect used."
        )
    return None


def _estimated(
    data: pd.DataFrame,
    graph: CausalGraph,
    treatment: str,
    outcome: str,
    method: str,
    adjustment: list[str],
    params: dict[str, Any] | None = None,
):
    """(model, estimand, estimate) of DoWhy's method on a fresh model; an InputError when DoWhy
    gives no value (it logs instead of raising)."""
    model = _model(data, graph, treatment, outcome)
    estimand = _estimand(model, method, adjustment)
    estimate = model.estimate_effect(
        estimand, method_name=DOWHY_METHODS[method], method_params=params
    )
    if estimate is None or estimate.value is None:
        raise InputError(f"DoWhy could not estimate the effect by {DOWHY_METHODS[method]}.")
    return model, estimand, estimate


def dowhy_estimate(
    data: pd.DataFrame,
    graph: CausalGraph,
    treatment: str,
    outcome: str,
    method: str,
    adjustment: list[str],
) -> float:
    """DoWhy's estimate of the same effect with the same adjustment set."""
    _, _, estimate = _estimated(data, graph, treatment, outcome, method, adjustment)
    return float(estimate.value)


# DoWhy 0.14's placebo refuter scores the shuffled treatment of a propensity estimator with the
# propensity scores fitted on the real one (py-why/dowhy#1728): on the README's simulation the
# placebo of a +0.034 effect came out −0.19 (ipw) and −0.036 (doubly-robust), failing sound
# estimates. Their placebo is taken on the regression estimate with the same adjustment set.
PROPENSITY_METHODS = ("ipw", "doubly-robust")
PLACEBO_STAND_IN = "regression"
PLACEBO_NOTE = (
    "DoWhy's placebo refuter reuses the real treatment's propensity scores for the shuffled "
    "one (py-why/dowhy#1728), so it cannot test a {method} estimate: this is the placebo of "
    "the regression estimate with the same adjustment set."
)


@dataclass
class Refutation:
    """A refuter's result on DoWhy's estimate by `method`; `recorded` is the estimate `effect`
    made, when the refutation was asked for one, and `note` what DoWhy could not match."""

    refuter: str
    estimate: float
    new_effect: float
    p_value: float | None
    passed: bool
    rule: str
    simulations: int
    method: str
    adjustment_set: list[str]
    treatment: str
    recorded: float | None = None
    note: str | None = None
    # The method of the recorded effect, when the refuter had to test another (see `refute`).
    recorded_method: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "refuter": self.refuter,
            "method": self.method,
            "adjustment_set": self.adjustment_set,
            "treatment": self.treatment,
            "estimate": self.estimate,
            "recorded": self.recorded,
            "new_effect": self.new_effect,
            "p_value": self.p_value,
            "passed": self.passed,
            "rule": self.rule,
            "simulations": self.simulations,
            "note": self.note,
            "recorded_method": self.recorded_method,
        }


def verdict(refuter: str, estimate: float, new_effect: float) -> tuple[bool, str]:
    if refuter == "placebo":
        rule = f"a permuted treatment's effect is within {PLACEBO_SHARE:.0%} of the estimate's size"
        return abs(new_effect) <= PLACEBO_SHARE * abs(estimate), rule
    rule = f"the estimate moves by at most {STABLE_SHARE:.0%}"
    return abs(new_effect - estimate) <= STABLE_SHARE * abs(estimate), rule


def refute(
    data: pd.DataFrame,
    graph: CausalGraph,
    treatment: str,
    outcome: str,
    method: str,
    adjustment: list[str],
    refuter: str,
    *,
    options: EstimatorOptions | None = None,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = 0,
) -> Refutation:
    """DoWhy's refuter on DoWhy's estimate by the same method, adjustment set and options."""
    if refuter not in REFUTERS:
        raise InputError(f"unknown refuter {refuter!r}; known: {', '.join(REFUTERS)}.")
    estimator_options = options or EstimatorOptions()
    tested = placebo_stand_in(refuter, method)
    model, estimand, estimate = _estimated(
        data,
        graph,
        treatment,
        outcome,
        tested,
        adjustment,
        method_params(tested, estimator_options),
    )
    options: dict[str, Any] = {
        "num_simulations": simulations,
        "random_state": np.random.RandomState(seed),
    }
    if refuter == "placebo":
        options["placebo_type"] = "permute"
    if refuter == "subset":
        options["subset_fraction"] = SUBSET_FRACTION
    with limited_native_threads(FIT_THREADS):
        result = model.refute_estimate(estimand, estimate, method_name=REFUTERS[refuter], **options)
    p_value = (result.refutation_result or {}).get("p_value")
    passed, rule = verdict(refuter, float(estimate.value), float(result.new_effect))
    return Refutation(
        refuter=refuter,
        estimate=float(estimate.value),
        new_effect=float(result.new_effect),
        p_value=None if p_value is None else float(np.ravel(p_value)[0]),
        passed=passed,
        rule=rule,
        simulations=simulations,
        method=tested,
        adjustment_set=list(adjustment),
        treatment=treatment,
        note=PLACEBO_NOTE.format(method=method)
        if tested != method
        else unmatched(method, estimator_options),
        recorded_method=method if tested != method else None,
    )
