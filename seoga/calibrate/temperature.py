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

That softmax form suits a scorer whose raw scores mean something on their own (the
highlighter's). A span reader's candidates are near-ties whose level says little; what says
whether it is right is how far the chosen answer stands out. The binary form scales that:

    z = log Σ_{i<support} exp(sᵢ) − log Σ_{i≥support} exp(sᵢ)     p = sigmoid((z − b) / T)

the logit of the chosen answer's softmax probability, temperature-scaled with a bias (Platt
scaling of it; with one candidate, z = s₀ and both forms are the same). `fit` fits both and
keeps the one with the lower NLL on the dev set.
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
CANDIDATES = "candidates"  # softmax over the candidates and the no-answer score
BINARY = "binary"  # sigmoid of the chosen answer's logit against the other candidates
FORMS = (CANDIDATES, BINARY)


@dataclass
class TemperatureScaling:
    """Raw candidate scores → a calibrated probability that the first candidate is right."""

    temperature: float = 1.0
    null_score: float | None = NO_NULL
    form: str = CANDIDATES

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ValueError(f"unknown scaling form {self.form!r}: use one of {FORMS}")

    def log_probability(self, scores: np.ndarray, support: int = 1) -> float:
        """log p(the answer of the first `support` candidates is right) for one score set."""
        matrix = np.asarray(scores, dtype=np.float64)[None, :]
        return float(self.log_probabilities(matrix, np.array([support]))[0])

    def log_probabilities(self, matrix: np.ndarray, support: np.ndarray | None) -> np.ndarray:
        """Row-wise log p for a matrix of candidate scores (see `log_probabilities`)."""
        return log_probabilities(matrix, self.temperature, self.null_score, support, self.form)

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
        """Choose T (and the no-answer score, and the form) minimising NLL on these labelled
        predictions. The binary form needs its bias, so without `fit_null` only the softmax
        form is fitted; where no set has candidates beyond its support the forms agree."""
        supports = supports if supports is not None else [1] * len(score_sets)
        kept = [
            (s, bool(c), n) for s, c, n in zip(score_sets, correct, supports, strict=True) if len(s)
        ]
        if not kept:
            raise ValueError("calibration needs at least one prediction with scores")
        labels = np.array([c for _, c, _ in kept])
        matrix = score_matrix([s for s, _, _ in kept])
        support = np.array([n for _, _, n in kept])
        others = np.isfinite(matrix).sum(axis=1) > np.maximum(1, support)
        forms = FORMS if fit_null and others.any() else (CANDIDATES,)
        fits = [fit_form(matrix, labels, support, form, fit_null) for form in forms]
        _, self.temperature, self.null_score, self.form = min(fits, key=lambda fit: fit[0])
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
            p[present] = np.exp(self.log_probabilities(matrix, supports[present]))
        return mean_nll(p, labels)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> "TemperatureScaling":
        return cls(
            float(payload.get("temperature", 1.0)),
            payload.get("null_score"),
            payload.get("form", CANDIDATES),  # calibrations stored before forms were softmax
        )


def fit_form(
    matrix: np.ndarray, labels: np.ndarray, support: np.ndarray, form: str, fit_null: bool
) -> tuple[float, float, float | None, str]:
    """(NLL, T, no-answer score, form) of one form fitted by L-BFGS-B from T = 1."""
    if form == BINARY:
        start_null = float(np.median(chosen_logits(matrix, support)))
    else:
        start_null = float(np.median(matrix[:, 0])) if fit_null else 0.0

    def loss(params: np.ndarray) -> float:
        temperature = float(np.exp(params[0]))
        null = float(params[1]) if fit_null else None
        return mean_nll(np.exp(log_probabilities(matrix, temperature, null, support, form)), labels)

    start = np.array([0.0, start_null])
    bounds = [(MIN_LOG_T, MAX_LOG_T), (None, None)]
    result = minimize(loss, start, method="L-BFGS-B", bounds=bounds)
    null = float(result.x[1]) if fit_null else None
    return float(result.fun), float(np.exp(result.x[0])), null, form


def mean_nll(p: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of boolean labels under probabilities p (kept off 0 and 1)."""
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return float(-np.mean(labels * np.log(p) + (~labels) * np.log(1 - p)))


def score_matrix(score_sets: Sequence[Sequence[float]]) -> np.ndarray:
    """Score sets as rows of one matrix, short rows padded with −inf (no candidate)."""
    width = max(len(scores) for scores in score_sets)
    matrix = np.full((len(score_sets), width), -np.inf)
    for row, scores in enumerate(score_sets):
        matrix[row, : len(scores)] = scores
    return matrix


def support_mask(matrix: np.ndarray, support: np.ndarray | None) -> np.ndarray:
    """True where a column is one of its row's first support[i] candidates (1 if not given)."""
    counts = np.ones(len(matrix), dtype=int) if support is None else np.asarray(support)
    return np.arange(matrix.shape[1])[None, :] < np.maximum(1, counts)[:, None]


def chosen_logits(matrix: np.ndarray, support: np.ndarray | None) -> np.ndarray:
    """Row-wise logit of the chosen answer's softmax probability at T = 1; with no other
    candidate, the chosen score itself (a single scorer's logit)."""
    inside = support_mask(matrix, support)
    chosen = logsumexp(np.where(inside, matrix, -np.inf), axis=1)
    rest = np.where(inside, -np.inf, matrix)
    alone = ~np.isfinite(rest).any(axis=1)
    rest_mass = logsumexp(np.where(alone[:, None], 0.0, rest), axis=1)
    return np.where(alone, chosen, chosen - rest_mass)


def log_probabilities(
    matrix: np.ndarray,
    temperature: float,
    null: float | None,
    support: np.ndarray | None = None,
    form: str = CANDIDATES,
) -> np.ndarray:
    """Row-wise log p(first candidate's answer is right) for a matrix of candidate scores;
    row i's first support[i] candidates (1 when not given) count as that answer."""
    if form == BINARY:
        margin = (chosen_logits(matrix, support) - (null or 0.0)) / temperature
        return -np.logaddexp(0.0, -margin)
    scaled = matrix / temperature
    chosen = logsumexp(np.where(support_mask(matrix, support), scaled, -np.inf), axis=1)
    if null is not None:
        scaled = np.concatenate([scaled, np.full((len(scaled), 1), null / temperature)], axis=1)
    return chosen - logsumexp(scaled, axis=1)
