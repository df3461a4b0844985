"""Estimators of an average treatment effect from observed data, each a plain function.

Backdoor (adjusting for a set X that blocks every backdoor path):
- `regression`: g-computation with a linear outcome model Y ~ T + X + T·X, averaged over the
  units (the plain coefficient of T when the effect does not vary with X);
- `stratification`: units grouped by their propensity score e(X) = P(T=1 | X) into quantile
  strata, the arms' difference averaged with the strata's sizes;
- `ipw`: inverse propensity weighting, Horvitz–Thompson or self-normalised (Hájek), the scores
  clipped into [clip, 1 − clip] — DoWhy's weighting always normalises and clips at 0.05, which
  moves the estimate;
- `doubly-robust`: augmented IPW (Robins et al. 1994): right when either the outcome model or
  the propensity model is.
Frontdoor (a mediator set M carrying the whole effect past an unobserved confounder):
- `frontdoor`: Pearl's formula Σ_m P(m | t) Σ_t' E[Y | m, t'] P(t') plugged in from counts
  when T and M take few values; otherwise the linear two-stage product (T → M, then M → Y given
  T), as DoWhy's `frontdoor.two_stage_regression`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seoga.errors import InputError

DEFAULT_CLIP = 0.01
DEFAULT_STRATA = 20
# A mediator or treatment with at most this many values is read as discrete (Pearl's formula).
DISCRETE_LEVELS = 10
MIN_STRATUM_UNITS = 1  # per arm, for a stratum to count
FRONTDOOR = "frontdoor"


@dataclass(frozen=True)
class EstimatorOptions:
    clip: float = DEFAULT_CLIP  # propensity scores kept inside [clip, 1 − clip]
    normalise: bool = True  # self-normalised IPW (Hájek) rather than Horvitz–Thompson
    strata: int = DEFAULT_STRATA


def design(data: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Covariate columns as a float matrix; text columns one-hot (their first level dropped)."""
    if not columns:
        return np.empty((len(data), 0))
    frame = pd.get_dummies(data[columns], drop_first=True, dtype=float)
    return frame.to_numpy(dtype=float)


def binary(values: pd.Series, name: str) -> np.ndarray:
    array = values.to_numpy()
    levels = set(np.unique(array).tolist())
    if not levels <= {0, 1}:
        shown = ", ".join(str(level) for level in sorted(levels, key=str)[:5])
        raise InputError(
            f"{name} must be 0/1 for this method (it has {shown}); recode it, or use "
            "`regression` or the linear frontdoor for a continuous treatment."
        )
    return array.astype(float)


def is_binary(values: pd.Series) -> bool:
    return set(np.unique(values.to_numpy(dtype=float)).tolist()) <= {0.0, 1.0}


def naive(data: pd.DataFrame, treatment: str, outcome: str) -> float:
    """The unadjusted contrast: the arms' outcome difference (the slope, for a continuous T)."""
    t = data[treatment].to_numpy(dtype=float)
    y = data[outcome].to_numpy(dtype=float)
    if is_binary(data[treatment]):
        if t.min() == t.max():
            raise InputError(f"every unit has {treatment} = {t[0]:g}: there is nothing to compare.")
        return float(y[t == 1].mean() - y[t == 0].mean())
    return float(np.polyfit(t, y, 1)[0])


def _least_squares(features: np.ndarray, target: np.ndarray) -> np.ndarray:
    with_intercept = np.column_stack([np.ones(len(features)), features])
    coefficients, *_ = np.linalg.lstsq(with_intercept, target, rcond=None)
    return coefficients


def _predict(coefficients: np.ndarray, features: np.ndarray) -> np.ndarray:
    return coefficients[0] + features @ coefficients[1:]


def propensity(data: pd.DataFrame, treatment: str, covariates: list[str]) -> np.ndarray:
    """P(T=1 | X) from an unpenalised logistic regression (the share treated when X is empty)."""
    from sklearn.linear_model import LogisticRegression

    t = binary(data[treatment], treatment)
    x = design(data, covariates)
    if x.shape[1] == 0:
        return np.full(len(t), t.mean())
    model = LogisticRegression(C=np.inf, max_iter=1_000)
    model.fit(x, t)
    return model.predict_proba(x)[:, 1]


def regression(
    data: pd.DataFrame, treatment: str, outcome: str, covariates: list[str], options
) -> float:
    t = data[treatment].to_numpy(dtype=float)
    y = data[outcome].to_numpy(dtype=float)
    x = design(data, covariates)
    centred = x - x.mean(axis=0)
    # With centred covariates the coefficient of T is the effect averaged over the units.
    features = np.column_stack([t, centred, t[:, None] * centred])
    return float(_least_squares(features, y)[1])


def stratification(
    data: pd.DataFrame, treatment: str, outcome: str, covariates: list[str], options
) -> float:
    t = binary(data[treatment], treatment)
    y = data[outcome].to_numpy(dtype=float)
    score = propensity(data, treatment, covariates)
    edges = np.unique(np.quantile(score, np.linspace(0, 1, options.strata + 1)))
    stratum = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, len(edges) - 2)
    total, weight = 0.0, 0
    for level in np.unique(stratum):
        inside = stratum == level
        treated, control = inside & (t == 1), inside & (t == 0)
        if treated.sum() < MIN_STRATUM_UNITS or control.sum() < MIN_STRATUM_UNITS:
            continue  # no comparison inside this stratum: it leaves the average
        total += inside.sum() * (y[treated].mean() - y[control].mean())
        weight += inside.sum()
    if not weight:
        raise InputError("no propensity stratum holds both arms: the arms do not overlap.")
    return total / weight


def ipw(data: pd.DataFrame, treatment: str, outcome: str, covariates: list[str], options) -> float:
    t = binary(data[treatment], treatment)
    y = data[outcome].to_numpy(dtype=float)
    score = np.clip(propensity(data, treatment, covariates), options.clip, 1 - options.clip)
    treated_weight, control_weight = t / score, (1 - t) / (1 - score)
    if options.normalise:
        return float(
            (treated_weight * y).sum() / treated_weight.sum()
            - (control_weight * y).sum() / control_weight.sum()
        )
    return float(np.mean(treated_weight * y) - np.mean(control_weight * y))


def doubly_robust(
    data: pd.DataFrame, treatment: str, outcome: str, covariates: list[str], options
) -> float:
    t = binary(data[treatment], treatment)
    y = data[outcome].to_numpy(dtype=float)
    x = design(data, covariates)
    score = np.clip(propensity(data, treatment, covariates), options.clip, 1 - options.clip)
    treated, control = t == 1, t == 0
    mu1 = _predict(_least_squares(x[treated], y[treated]), x)
    mu0 = _predict(_least_squares(x[control], y[control]), x)
    scores = mu1 - mu0 + t * (y - mu1) / score - (1 - t) * (y - mu0) / (1 - score)
    return float(scores.mean())


def _discrete(values: np.ndarray) -> bool:
    return len(np.unique(values)) <= DISCRETE_LEVELS


def frontdoor(
    data: pd.DataFrame, treatment: str, outcome: str, mediators: list[str], options
) -> float:
    """Effect of T = 1 against T = 0 (per unit of T for a continuous one) through `mediators`."""
    if not mediators:
        raise InputError(
            "the frontdoor estimate needs a mediator set; see `seoga causal identify`."
        )
    t = data[treatment].to_numpy(dtype=float)
    y = data[outcome].to_numpy(dtype=float)
    m = data[mediators].to_numpy(dtype=float)
    if _discrete(t) and all(_discrete(column) for column in m.T) and set(np.unique(t)) <= {0, 1}:
        return _pearl_frontdoor(t, m, y)
    if len(mediators) > 1:
        raise InputError(
            "the linear frontdoor takes one continuous mediator; give discrete mediators, or one."
        )
    return _linear_frontdoor(t, m[:, 0], y)


def _pearl_frontdoor(t: np.ndarray, m: np.ndarray, y: np.ndarray) -> float:
    levels, cell = np.unique(m, axis=0, return_inverse=True)
    cell = cell.reshape(-1)
    share_treated = t.mean()
    outcome_given = np.zeros((len(levels), 2))  # E[Y | m, t'] for t' = 0, 1
    for index in range(len(levels)):
        for arm in (0, 1):
            inside = (cell == index) & (t == arm)
            if not inside.any():
                raise InputError(
                    f"no unit has treatment {arm} with mediator values {levels[index].tolist()}: "
                    "Pearl's formula needs every mediator value seen in both arms."
                )
            outcome_given[index, arm] = y[inside].mean()
    # Σ_t' E[Y | m, t'] P(t'): the mediator's effect on Y with the back door through T closed.
    through = outcome_given @ np.array([1 - share_treated, share_treated])
    effect = 0.0
    for arm, sign in ((1, 1.0), (0, -1.0)):
        mediator_share = np.bincount(cell[t == arm], minlength=len(levels)) / (t == arm).sum()
        effect += sign * float(mediator_share @ through)
    return effect


def _linear_frontdoor(t: np.ndarray, m: np.ndarray, y: np.ndarray) -> float:
    treatment_to_mediator = _least_squares(t[:, None], m)[1]
    mediator_to_outcome = _least_squares(np.column_stack([m, t]), y)[1]
    return float(treatment_to_mediator * mediator_to_outcome)


Estimator = Callable[[pd.DataFrame, str, str, list[str], EstimatorOptions], float]
BACKDOOR_METHODS: dict[str, Estimator] = {
    "regression": regression,
    "stratification": stratification,
    "ipw": ipw,
    "doubly-robust": doubly_robust,
}
METHODS: dict[str, Estimator] = {**BACKDOOR_METHODS, FRONTDOOR: frontdoor}
# `--method backdoor` is regression adjustment.
ALIASES = {"backdoor": "regression", "dr": "doubly-robust"}
