"""Temperature scaling of a scorer's raw scores into probabilities that mean what they say.

A reader proposes candidate answers with raw scores (logits); the first is the one it chose.
The confidence that the chosen answer is right is a softmax over the candidates at temperature
T, beside a learned "no answer" score b that the candidates compete with:

    p = exp(s₀ / T) / (Σᵢ exp(sᵢ / T) + exp(b / T))

With one candidate this is the binary case, sigmoid((s₀ − b) / T) — Platt scaling of a
reranker's or a generator's single score. T (and b) are fitted on a labelled dev set by
minimising the negative log-likelihood of "the chosen answer was right", as in Guo et al.
(2017); the order of the candidates never changes, so accuracy does not either.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

# Bounds keep the optimiser away from T → 0 (a step function) and T → ∞ (a constant).
MIN_LOG_T = np.log(1e-3)
MAX_LOG_T = np.log(1e3)
EPSILON = 1e-12
# With no fitted no-answer score, candidates only compete with each other.
NO_NULL = None


@dataclass
class TemperatureScaling:
    """Raw candidate scores → a calibrated probability that the first candidate is right."""

    temperature: float = 1.0
    null_score: float | None = NO_NULL

    def log_probability(self, scores: np.ndarray) -> float:
        """log p(first candidate is right) for one set of candidate scores."""
        scaled = np.asarray(scores, dtype=np.float64) / self.temperature
        if self.null_score is not None:
            scaled = np.append(scaled, self.null_score / self.temperature)
        return float(scaled[0] - logsumexp(scaled))

    def confidence(self, scores: Sequence[float] | np.ndarray) -> float:
        """p(first candidate is right), in [0, 1]."""
        if len(scores) == 0:
            return 0.0
        return float(np.exp(self.log_probability(np.asarray(scores, dtype=np.float64))))

    def fit(
        self,
        score_sets: Sequence[Sequence[float]],
        correct: Sequence[bool],
        *,
        fit_null: bool = True,
    ) -> "TemperatureScaling":
        """Choose T (and the no-answer score) minimising NLL on these labelled predictions."""
        kept = [(s, bool(c)) for s, c in zip(score_sets, correct, strict=True) if len(s)]
        if not kept:
            raise ValueError("calibration needs at least one prediction with scores")
        labels = np.array([c for _, c in kept])
        matrix = score_matrix([s for s, _ in kept])
        start_null = float(np.median(matrix[:, 0])) if fit_null else 0.0

        def loss(params: np.ndarray) -> float:
            temperature = float(np.exp(params[0]))
            null = float(params[1]) if fit_null else None
            log_p = log_probabilities(matrix, temperature, null)
            p = np.clip(np.exp(log_p), EPSILON, 1 - EPSILON)
            return float(-np.mean(labels * np.log(p) + (~labels) * np.log(1 - p)))

        start = np.array([0.0, start_null])
        bounds = [(MIN_LOG_T, MAX_LOG_T), (None, None)]
        result = minimize(loss, start, method="L-BFGS-B", bounds=bounds)
        self.temperature = float(np.exp(result.x[0]))
        self.null_score = float(result.x[1]) if fit_null else None
        return self

    def nll(self, score_sets: Sequence[Sequence[float]], correct: Sequence[bool]) -> float:
        """Mean negative log-likelihood of the labels under this scaling."""
        labels = np.asarray(correct, dtype=bool)
        p = np.zeros(len(labels))
        present = np.array([len(s) > 0 for s in score_sets], dtype=bool)
        if present.any():
            matrix = score_matrix([s for s in score_sets if len(s)])
            p[present] = np.exp(log_probabilities(matrix, self.temperature, self.null_score))
        p = np.clip(p, EPSILON, 1 - EPSILON)
        return float(-np.mean(labels * np.log(p) + (~labels) * np.log(1 - p)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> "TemperatureScaling":
        return cls(float(payload.get("temperature", 1.0)), payload.get("null_score"))


def score_matrix(score_sets: Sequence[Sequence[float]]) -> np.ndarray:
    """Score sets as rows of one matrix, short rows padded with −inf (no candidate)."""
    width = max(len(scores) for scores in score_sets)
    matrix = np.full((len(score_sets), width), -np.inf)
    for row, scores in enumerate(score_sets):
        matrix[row, : len(scores)] = scores
    return matrix


def log_probabilities(matrix: np.ndarray, temperature: float, null: float | None) -> np.ndarray:
    """Row-wise log p(first candidate is right) for a matrix of candidate scores."""
    scaled = matrix / temperature
    if null is not None:
        scaled = np.concatenate([scaled, np.full((len(scaled), 1), null / temperature)], axis=1)
    return scaled[:, 0] - logsumexp(scaled, axis=1)
