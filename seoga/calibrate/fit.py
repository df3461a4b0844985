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
) -> CalibrationReport:
    """Fit on all questions; with `holdout`, also fit on the rest and score the held-out part
    so the report says how the scaling does on questions it has not seen."""
    correct = [bool(c) for c in correct]
    indices = list(range(len(correct)))
    random.Random(seed).shuffle(indices)
    cut = int(len(indices) * holdout)
    held, fit_part = indices[:cut], indices[cut:]
    summary: dict[str, Any] = {"n_questions": len(correct), "accuracy": float(np.mean(correct))}
    if len(held) >= MIN_HELD_OUT and len(fit_part) >= MIN_HELD_OUT:
        partial = TemperatureScaling().fit(
            [score_sets[i] for i in fit_part], [correct[i] for i in fit_part]
        )
        held_scores = [score_sets[i] for i in held]
        held_correct = [correct[i] for i in held]
        summary["held_out"] = {
            "n_questions": len(held),
            "ece_before": expected_calibration_error(
                [default.confidence(s) for s in held_scores], held_correct
            ),
            "ece_after": expected_calibration_error(
                [partial.confidence(s) for s in held_scores], held_correct
            ),
        }
    scaling = TemperatureScaling().fit(score_sets, correct)
    before = [default.confidence(s) for s in score_sets]
    after = [scaling.confidence(s) for s in score_sets]
    threshold = choose_threshold(after, correct, wrong_cost)
    summary |= {
        "ece_before": expected_calibration_error(before, correct),
        "ece_after": expected_calibration_error(after, correct),
        "nll_before": default.nll(score_sets, correct),
        "nll_after": scaling.nll(score_sets, correct),
        "threshold": threshold,
        "wrong_cost": wrong_cost,
        "abstention_rate": float(np.mean([c < threshold for c in after])),
    }
    fitted = FittedCalibration(scaling, threshold, {"fit": summary})
    return CalibrationReport(fitted, before, after, correct, summary)
