"""Fit a reader's temperature and abstention threshold on labelled dev predictions."""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seoga.calibrate.metrics import expected_calibration_error
from seoga.calibrate.store import FittedCalibration
from seoga.calibrate.temperature import TemperatureScaling

DEFAULT_HOLDOUT = 0.3
# Answering wrongly costs this many right answers: the threshold maximises
# (right answers − WRONG_COST × wrong answers) over the dev set.
DEFAULT_WRONG_COST = 1.0
MIN_HELD_OUT = 10


@dataclass
class CalibrationReport:
    """ECE and NLL before and after scaling, on the fitting set and on held-out questions."""

    fitted: FittedCalibration
    before: list[float]  # confidences under the reader's default scaling, every question
    after: list[float]  # confidences under the fitted scaling, every question
    correct: list[bool]
    summary: dict[str, Any]


def choose_threshold(
    confidences: Sequence[float], correct: Sequence[bool], wrong_cost: float = DEFAULT_WRONG_COST
) -> float:
    """The confidence below which answering loses more (wrong × cost) than it gains (right)."""
    order = np.argsort(-np.asarray(confidences, dtype=np.float64), kind="stable")
    values = np.asarray(confidences, dtype=np.float64)[order]
    gains = np.where(np.asarray(correct, dtype=bool)[order], 1.0, -wrong_cost)
    totals = np.cumsum(gains)
    if not len(totals) or totals.max() <= 0:
        return float(values[0] + np.finfo(float).eps) if len(values) else 1.0
    best = int(np.argmax(totals))
    return float(values[best])


def fit_reader(
    score_sets: Sequence[Sequence[float]],
    correct: Sequence[bool],
    default: TemperatureScaling,
    *,
    holdout: float = DEFAULT_HOLDOUT,
    wrong_cost: float = DEFAULT_WRONG_COST,
    seed: int = 0,
    supports: Sequence[int] | None = None,
) -> CalibrationReport:
    """Fit on all questions; with `holdout`, also fit on the rest and score the held-out part
    so the report says how the scaling does on questions it has not seen."""
    correct = [bool(c) for c in correct]
    supports = list(supports) if supports is not None else [1] * len(correct)
    indices = list(range(len(correct)))
    random.Random(seed).shuffle(indices)
    cut = int(len(indices) * holdout)
    held, fit_part = indices[:cut], indices[cut:]
    summary: dict[str, Any] = {"n_questions": len(correct), "accuracy": float(np.mean(correct))}
    if len(held) >= MIN_HELD_OUT and len(fit_part) >= MIN_HELD_OUT:
        partial = TemperatureScaling().fit(
            [score_sets[i] for i in fit_part],
            [correct[i] for i in fit_part],
            supports=[supports[i] for i in fit_part],
        )
        held_correct = [correct[i] for i in held]
        summary["held_out"] = {
            "n_questions": len(held),
            "ece_before": expected_calibration_error(
                [default.confidence(score_sets[i], supports[i]) for i in held], held_correct
            ),
            "ece_after": expected_calibration_error(
                [partial.confidence(score_sets[i], supports[i]) for i in held], held_correct
            ),
        }
    scaling = TemperatureScaling().fit(score_sets, correct, supports=supports)
    before = [default.confidence(s, n) for s, n in zip(score_sets, supports, strict=True)]
    after = [scaling.confidence(s, n) for s, n in zip(score_sets, supports, strict=True)]
    threshold = choose_threshold(after, correct, wrong_cost)
    summary |= {
        "ece_before": expected_calibration_error(before, correct),
        "ece_after": expected_calibration_error(after, correct),
        "nll_before": default.nll(score_sets, correct, supports),
        "nll_after": scaling.nll(score_sets, correct, supports),
        "form": scaling.form,
        "threshold": threshold,
        "wrong_cost": wrong_cost,
        "abstention_rate": float(np.mean([c < threshold for c in after])),
    }
    fitted = FittedCalibration(scaling, threshold, {"fit": summary})
    return CalibrationReport(fitted, before, after, correct, summary)


@dataclass
class CrossFitted:
    """Held-out confidences from K-fold cross-fitting: each question's confidence comes from
    the temperature (and threshold) fitted on the other folds."""

    confidences: list[float]
    answered: list[bool]  # at or above its fold's threshold
    temperatures: list[float]
    thresholds: list[float]
    forms: list[str]  # the scaling form each fold's fit kept


def cross_fit(
    score_sets: Sequence[Sequence[float]],
    correct: Sequence[bool],
    supports: Sequence[int] | None = None,
    *,
    folds: int = 2,
    seed: int = 0,
    wrong_cost: float = DEFAULT_WRONG_COST,
) -> CrossFitted:
    """Fit on K − 1 folds, score the one left out, for each fold in turn."""
    correct = [bool(c) for c in correct]
    supports = list(supports) if supports is not None else [1] * len(correct)
    order = list(range(len(correct)))
    random.Random(seed).shuffle(order)
    confidences = [0.0] * len(correct)
    answered = [False] * len(correct)
    temperatures, thresholds, forms = [], [], []
    for fold in range(folds):
        held = order[fold::folds]
        held_set = set(held)
        fit_part = [i for i in order if i not in held_set]
        scaling = TemperatureScaling().fit(
            [score_sets[i] for i in fit_part],
            [correct[i] for i in fit_part],
            supports=[supports[i] for i in fit_part],
        )
        threshold = choose_threshold(
            [scaling.confidence(score_sets[i], supports[i]) for i in fit_part],
            [correct[i] for i in fit_part],
            wrong_cost,
        )
        for i in held:
            confidences[i] = scaling.confidence(score_sets[i], supports[i])
            answered[i] = confidences[i] >= threshold
        temperatures.append(scaling.temperature)
        thresholds.append(threshold)
        forms.append(scaling.form)
    return CrossFitted(confidences, answered, temperatures, thresholds, forms)
