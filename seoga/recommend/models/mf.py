"""Biased matrix factorisation trained by SGD on explicit ratings (Funk / Koren's latent factors).

    r̂(u, i) = μ + b_u + b_i + p_u · q_i

Each epoch visits the training ratings in a seeded random order and takes one SGD step per
rating on the squared error plus L2 penalties (separate ones for biases and factors). The loop is
compiled by numba: a rating costs a few hundred nanoseconds, not a Python call. A user the model
never saw is folded in by ridge regression of their ratings on the fixed item parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from seoga.progress import track
from seoga.recommend.base import Recommender, RecommenderSettings
from seoga.recommend.data.propensity import NO_DEBIAS, epoch_order, loss_weights
from seoga.recommend.data.splits import validation_rows

# A history item given without a rating is read as liked: this quantile of the training ratings.
LIKED_QUANTILE = 0.9


@dataclass
class MFSettings(RecommenderSettings):
    # Chosen on a split inside the training part of MovieLens latest-small (BENCHMARKS.md).
    factors: int = 128
    epochs: int = 100
    learning_rate: float = 0.005
    regularization: float = 0.08  # on the factors
    bias_regularization: float = 0.01
    init_std: float = 0.1
    # Share of the training ratings held out to pick the best epoch (0: train on all, no stop).
    validation_share: float = 0.05
    patience: int = 3
    # "ipw": each rating weighs 1 / P(observed) (the log's propensities), so the fit aims at
    # every (user, item) pair rather than at the ones people chose to rate.
    debias: str = NO_DEBIAS
    propensity_clip: float = 0.0  # propensities below this count as this (0: none)


@numba.njit(cache=True)
def _sgd_epoch(users, items, ratings, order, mean, bu, bi, p, q, lr, reg, bias_reg):
    factors = p.shape[1]
    for row in order:
        u, i = users[row], items[row]
        dot = 0.0
        for f in range(factors):
            dot += p[u, f] * q[i, f]
        error = ratings[row] - (mean + bu[u] + bi[i] + dot)
        bu[u] += lr * (error - bias_reg * bu[u])
        bi[i] += lr * (error - bias_reg * bi[i])
        for f in range(factors):
            pu, qi = p[u, f], q[i, f]
            p[u, f] += lr * (error * qi - reg * pu)
            q[i, f] += lr * (error * pu - reg * qi)


class MFRecommender(Recommender):
    """Biased MF by SGD: ratings in, rating predictions and top-N lists out."""

    name = "mf"
    settings_class = MFSettings
    predicts_ratings = True

    def _fit(self, log, items, users, show_progress) -> None:
        s = self.settings
        rng = np.random.default_rng(s.seed)
        held = validation_rows(len(log), s.validation_share, s.seed)
        train, check = log.subset(~held), log.subset(held)
        weights, check_weights = (
            loss_weights(part, s.debias, s.propensity_clip, self.name) for part in (train, check)
        )
        self.global_mean = float(np.average(train.values, weights=weights))
        self.user_bias = np.zeros(log.n_users, dtype=np.float64)
        self.item_bias = np.zeros(log.n_items, dtype=np.float64)
        self.user_factors = rng.normal(0, s.init_std, (log.n_users, s.factors))
        self.item_factors = rng.normal(0, s.init_std, (log.n_items, s.factors))
        # Users and items with no training rows keep zero factors: their predictions are biases.
        self.user_factors[np.bincount(train.users, minlength=log.n_users) == 0] = 0.0
        self.item_factors[np.bincount(train.items, minlength=log.n_items) == 0] = 0.0
        self.rating_range = (float(log.values.min()), float(log.values.max()))
        ratings = train.values.astype(np.float64)  # the compiled loop's dtype, converted once
        best, best_error, waited = None, np.inf, 0
        for epoch in track(range(s.epochs), "mf: epochs", enabled=show_progress):
            order = epoch_order(rng, len(train), weights)
            _sgd_epoch(
                train.users,
                train.items,
                ratings,
                order,
                self.global_mean,
                self.user_bias,
                self.item_bias,
                self.user_factors,
                self.item_factors,
                s.learning_rate,
                s.regularization,
                s.bias_regularization,
            )
            if len(check) == 0:
                continue
            predicted = self.predict_indices(check.users, check.items)
            error = _rmse(predicted, check.values, check_weights)
            if error < best_error:
                best_error, waited = error, 0
                best = (self.user_bias.copy(), self.item_bias.copy(),
                        self.user_factors.copy(), self.item_factors.copy(), epoch + 1)  # fmt: skip
            else:
                waited += 1
                if waited >= s.patience:
                    break
        if best is not None:
            self.user_bias, self.item_bias, self.user_factors, self.item_factors, epochs = best
            self.metrics = {"validation_rmse": round(best_error, 6), "best_epoch": epochs}
        self.liked_rating = float(np.quantile(log.values, LIKED_QUANTILE))

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return (
            self.global_mean
            + self.user_bias[users, None]
            + self.item_bias[None, :]
            + self.user_factors[users] @ self.item_factors.T
        )

    def predict_indices(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Ratings clipped to the training range; an unknown user or item keeps only biases."""
        known_user, known_item = users >= 0, items >= 0
        u, i = np.where(known_user, users, 0), np.where(known_item, items, 0)
        dot = np.einsum("nf,nf->n", self.user_factors[u], self.item_factors[i])
        estimate = (
            self.global_mean
            + np.where(known_user, self.user_bias[u], 0.0)
            + np.where(known_item, self.item_bias[i], 0.0)
            + np.where(known_user & known_item, dot, 0.0)
        )
        low, high = self.rating_range
        return np.clip(estimate, low, high).astype(np.float32)

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        """Fold a new user in: ridge regression of their ratings on the item parameters."""
        given = np.full(len(items), self.liked_rating) if ratings is None else ratings
        given = np.where(np.isnan(given), self.liked_rating, given)
        residual = given - self.global_mean - self.item_bias[items]
        design = np.hstack([np.ones((len(items), 1)), self.item_factors[items]])
        penalty = np.diag(
            [self.settings.bias_regularization]
            + [self.settings.regularization] * self.settings.factors
        ) * len(items)
        solved = np.linalg.solve(design.T @ design + penalty, design.T @ residual)
        bias, factors = solved[0], solved[1:]
        return self.global_mean + bias + self.item_bias + self.item_factors @ factors

    def item_vectors(self) -> np.ndarray:
        return self.item_factors

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "user_bias": self.user_bias,
            "item_bias": self.item_bias,
            "user_factors": self.user_factors,
            "item_factors": self.item_factors,
        }

    def _state(self) -> dict:
        return {"liked_rating": self.liked_rating, "rating_range": list(self.rating_range)}

    def _restore(self, arrays, state) -> None:
        self.user_bias = arrays["user_bias"]
        self.item_bias = arrays["item_bias"]
        self.user_factors = arrays["user_factors"]
        self.item_factors = arrays["item_factors"]
        self.liked_rating = state["liked_rating"]
        self.rating_range = tuple(state["rating_range"])


def _rmse(predicted: np.ndarray, actual: np.ndarray, weights: np.ndarray | None) -> float:
    """Weighted RMSE (the weights normalised): with IPS weights, an estimate of the error on
    every pair, not only the rated ones."""
    return float(np.sqrt(np.average((predicted.astype(np.float64) - actual) ** 2, weights=weights)))
