"""Expected calibration error (Guo et al. 2017) and the per-bin figures behind it."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ECE_BINS = 15


@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence bin: its edges, how many predictions fell in, their mean confidence and
    how often they were right."""

    low: float
    high: float
    count: int
    confidence: float
    accuracy: float


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]; a confidence of exactly 1 falls in the last bin."""
    confidences = np.asarray(confidences, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if confidences.shape != correct.shape:
        raise ValueError("confidences and correct must have the same length")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidences, edges[1:-1], right=True), 0, bins - 1)
    out = []
    for index in range(bins):
        inside = which == index
        count = int(inside.sum())
        out.append(
            ReliabilityBin(
                low=float(edges[index]),
                high=float(edges[index + 1]),
                count=count,
                confidence=float(confidences[inside].mean()) if count else 0.0,
                accuracy=float(correct[inside].mean()) if count else 0.0,
            )
        )
    return out


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> float:
    """Σ_bins (n_bin / n) · |accuracy_bin − confidence_bin|; 0 for no predictions."""
    total = len(confidences)
    if total == 0:
        return 0.0
    return float(
        sum(
            item.count / total * abs(item.accuracy - item.confidence)
            for item in reliability_bins(confidences, correct, bins)
        )
    )


NOISE_DRAWS = 200


def ece_noise_floor(
    confidences: Sequence[float], bins: int = ECE_BINS, draws: int = NOISE_DRAWS, seed: int = 0
) -> float:
    """Mean ECE of a perfectly calibrated predictor with these confidences: labels drawn as
    Bernoulli(confidence). What sampling alone adds to the ECE of this many predictions."""
    rng = np.random.default_rng(seed)
    values = np.asarray(confidences, dtype=np.float64)
    return float(
        np.mean(
            [
                expected_calibration_error(values, rng.random(len(values)) < values, bins)
                for _ in range(draws)
            ]
        )
    )
