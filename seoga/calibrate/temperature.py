"""Temperature scaling of a scorer's raw scores into probabilities that mean what they say.

A reader proposes candidate answers with raw scores (logits); the first is the one it chose.
The confidence that the chosen answer is right is a softmax over the candidates at temperature
T, beside a learned "no answer" score b that the candidates compete with:

    p = exp(s₀ / T) / (Σᵢ exp(sᵢ / T) + exp(b / T))

With one candidate this is the binary case, sigmoid((s₀ − b) / T) — Platt scaling of a
reranker's or a generator's single score. When the first `support` candidates are all the
same answer (a span reader's "Denver Broncos" and "Broncos"), their probabilities add up: the
numerator sums exp(sᵢ / T) over them. T (and b) are fitted on a labelled dev set by
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

    def log_probability(self, scores: np.ndarray, support: int = 1) -> float:
        """log p(the answer of the first `support` candidates is right) for one score set."""
        scaled = np.asarray(scores, dtype=np.float64) / self.temperature
        chosen = logsumexp(scaled[: max(1, support)])
        if self.null_score is not None:
            scaled = np.append(scaled, self.null_score / self.temperature)
        return float(chosen - logsumexp(scaled))

    def confidence(self, scores: Sequence[float] | np.ndarray, support: int = 1) -> float:
        """p(the first candidate's answer is right), in [0, 1]."""
        if len(scores) == 0:
            return 0.0
        return float(np.exp(self.log_probability(np.asarray(scores, dtype=np.float64), support)))

    def fit(
        self,
        score_sets: Sequence[Sequence[float]],
        correct: Sequence[bool],
        *,
        fit_null: bool = True,
        supports: Sequence[int] | None = None,
    ) -> "TemperatureScaling":
        """Choose T (and the no-answer score) minimising NLL on these labelled predictions."""
        supports = supports if supports is not None else [1] * len(score_sets)
        kept = [
            (s, bool(c), n) for s, c, n in zip(score_sets, correct, supports, strict=True) if len(s)
        ]
        if not kept:
            raise ValueError("calibration needs at least one prediction with scores")
        labels = np.array([c for _, c, _ in kept])
        matrix = score_matrix([s for s, _, _ in kept])
        support = np.array([n for _, _, n in kept])
        start_null = float(np.median(matrix[:, 0])) if fit_null else 0.0

        def loss(params: np.ndarray) -> float:
            temperature = float(np.exp(params[0]))
            null = float(params[1]) if fit_null else None
            log_p = log_probabilities(matrix, temperature, null, support)
            p = np.clip(np.exp(log_p), EPSILON, 1 - EPSILON)
            return float(-np.mean(labels * np.log(p) + (~labels) * np.log(1 - p)))

        start = np.array([0.0, start_null])
        bounds = [(MIN_LOG_T, MAX_LOG_T), (None, None)]
        result = minimize(loss, start, method="L-BFGS-B", bounds=bounds)
        self.temperature = float(np.exp(result.x[0]))
        self.null_score = float(result.x[1]) if fit_null else None
        return self

    def nll(
        self,
        score_sets: Sequence[Sequence[float]],
        correct: Sequence[bool],
        supports: Sequence[int] | None = None,
    ) -> float:
        """Mean negative log-likelihood of the labels under this scaling."""
        labels = np.asarray(correct, dtype=bool)
        supports = np.asarray(supports if supports is not None else [1] * len(labels))
        p = np.zeros(len(labels))
        present = np.array([len(s) > 0 for s in score_sets], dtype=bool)
        if present.any():
            matrix = score_matrix([s for s in score_sets if len(s)])
            p[present] = np.exp(
                log_probabilities(matrix, self.temperature, self.null_score, supports[present])
            )
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


def log_probabilities(
    matrix: np.ndarray,
    temperature: float,
    null: float | None,
    support: np.ndarray | None = None,
) -> np.ndarray:
    """Row-wise log p(first candidate's answer is right) for a matrix of candidate scores;
    row i's first support[i] candidates (1 when not given) count as that answer."""
    scaled = matrix / temperature
    if support is None:
        chosen = scaled[:, 0]
    else:
        columns = np.arange(scaled.shape[1])[None, :]
        inside = columns < np.maximum(1, np.asarray(support))[:, None]
        chosen = logsumexp(np.where(inside, scaled, -np.inf), axis=1)
    if null is not None:
        scaled = np.concatenate([scaled, np.full((len(scaled), 1), null / temperature)], axis=1)
    return chosen - logsumexp(scaled, axis=1)
