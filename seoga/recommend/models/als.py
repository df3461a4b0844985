"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) through the `implicit` library.

Counts become confidences by a weighting (none, BM25 or TF-IDF, as `implicit` offers them); the
weighting's statistics (each item's idf, the mean history length) are kept from training, so a
new user's history is weighted exactly as a training user's was before it is folded in with
`implicit`'s `recalculate_user` (the closed-form least-squares solve against the item factors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from seoga.errors import InputError
from seoga.models.threads import thread_count
from seoga.recommend.base import Recommender, RecommenderSettings

WEIGHTINGS = ("none", "bm25", "tfidf")
BM25_K1, BM25_B = 100.0, 0.8  # implicit's defaults for bm25_weight


@dataclass
class ALSSettings(RecommenderSettings):
    # Factors, L2, weighting and recency: the best mean share of each set's best nDCG@10 across
    # six data sets' inner splits (BENCHMARKS.md, "Recommender defaults across data sets").
    factors: int = 128
    iterations: int = 15
    regularization: float = 5.0
    alpha: float = 1.0
    weighting: str = "none"
    bm25_k1: float = BM25_K1
    bm25_b: float = BM25_B
    # A user's event counts half as much every this many later events (0: all count alike).
    recency_half_life: float = 30.0


@dataclass
class Weighting:
    """BM25 / TF-IDF confidences with the statistics of the matrix they were fitted on."""

    method: str
    idf: np.ndarray
    average_length: float
    k1: float = BM25_K1
    b: float = BM25_B

    @classmethod
    def fit(cls, matrix: sparse.csr_matrix, method: str, k1: float, b: float) -> Weighting:
        if method not in WEIGHTINGS:
            raise InputError(f"unknown weighting {method!r}; use one of {', '.join(WEIGHTINGS)}.")
        users = float(matrix.shape[0])
        document_frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
        idf = np.log(users) - np.log1p(document_frequency)
        average_length = float(np.asarray(matrix.sum(axis=1)).mean())
        return cls(method, idf, average_length, k1, b)

    def apply(self, matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        """The same formula as implicit's bm25_weight / tfidf_weight, with the fitted stats."""
        weighted = matrix.astype(np.float64).tocsr(copy=True)
        if self.method == "none":
            return weighted.astype(np.float32)
        columns = weighted.indices
        if self.method == "tfidf":
            weighted.data = np.sqrt(weighted.data) * self.idf[columns]
            return weighted.astype(np.float32)
        lengths = np.asarray(weighted.sum(axis=1)).ravel()
        norm = (1.0 - self.b) + self.b * lengths / self.average_length
        rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        weighted.data = (
            weighted.data * (self.k1 + 1.0) / (self.k1 * norm[rows] + weighted.data)
        ) * self.idf[columns]
        return weighted.astype(np.float32)


class ALSRecommender(Recommender):
    """Implicit ALS: histories in, top-N lists, fold-in of new users and explanations out."""

    name = "als"
    settings_class = ALSSettings

    def _fit(self, log, items, users, show_progress) -> None:
        s = self.settings
        self.counts = self._counts(log)
        self.weighting = Weighting.fit(self.counts, s.weighting, s.bm25_k1, s.bm25_b)
        self.model = self._new_model()
        with threadpool_limits(1, "blas"):
            self.model.fit(self.weighting.apply(self.counts), show_progress=show_progress)

    def _counts(self, log) -> sparse.csr_matrix:
        """Summed event weights (a rating is one event), decayed by recency when asked to."""
        half_life = self.settings.recency_half_life
        if half_life <= 0 or log.times is None:
            return self.seen
        order = np.lexsort((np.arange(len(log)), log.times, log.users))
        users = log.users[order]
        last = np.flatnonzero(np.r_[users[1:] != users[:-1], True])
        ends = np.repeat(last, np.diff(np.r_[-1, last]))
        decay = np.empty(len(log), dtype=np.float64)
        decay[order] = 0.5 ** ((ends - np.arange(len(log))) / half_life)
        values = decay if log.explicit else decay * log.values
        counts = sparse.csr_matrix(
            (values.astype(np.float32), (log.users, log.items)), shape=self.seen.shape
        )
        counts.sum_duplicates()
        return counts

    def _decayed(self, count: int) -> np.ndarray:
        """Recency weights of a history given oldest first."""
        half_life = self.settings.recency_half_life
        if half_life <= 0:
            return np.ones(count, dtype=np.float32)
        return (0.5 ** (np.arange(count - 1, -1, -1) / half_life)).astype(np.float32)

    def _new_model(self):
        from implicit.cpu.als import AlternatingLeastSquares

        s = self.settings
        # implicit parallelises over users itself (and warns when BLAS threads would too).
        with threadpool_limits(1, "blas"):
            return AlternatingLeastSquares(
                factors=s.factors,
                regularization=s.regularization,
                alpha=s.alpha,
                iterations=s.iterations,
                random_state=s.seed,
                num_threads=thread_count(s.threads),
            )

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return self.model.user_factors[users] @ self.model.item_factors.T

    def fold_in(self, items: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
        """Factors of a new user with these items (and counts), as a full ALS solve gives."""
        row = self._history_row(items, counts)
        with threadpool_limits(1, "blas"):
            return self.model.recalculate_user(0, self.weighting.apply(row))

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        """The history is taken in the order given, oldest first (for the recency decay)."""
        return self.model.item_factors @ self.fold_in(items, self._decayed(len(items)))

    def explain(self, user, item, k: int = 5) -> list[tuple[str, float]]:
        """Which of the user's items drove the score of `item`: (item, contribution) pairs."""
        user_index, item_index = self.user_ids.get(str(user)), self.item_ids.get(str(item))
        if user_index is None or item_index is None:
            raise InputError(f"the model does not know user {user!r} or item {item!r}.")
        history = self.counts[user_index]
        row = self._history_row(history.indices, history.data)
        _, contributions, _ = self.model.explain(0, self.weighting.apply(row), item_index, N=k)
        return [(self.item_ids.ids[i], float(score)) for i, score in contributions]

    def _history_row(self, items: np.ndarray, counts: np.ndarray | None) -> sparse.csr_matrix:
        values = np.ones(len(items), dtype=np.float32) if counts is None else counts
        return sparse.csr_matrix(
            (values, (np.zeros(len(items), dtype=np.int64), items)),
            shape=(1, len(self.item_ids)),
            dtype=np.float32,
        )

    def item_vectors(self) -> np.ndarray:
        return self.model.item_factors

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "user_factors": self.model.user_factors,
            "item_factors": self.model.item_factors,
            "idf": self.weighting.idf,
            "counts.indptr": self.counts.indptr.astype(np.int64),
            "counts.indices": self.counts.indices.astype(np.int64),
            "counts.data": self.counts.data.astype(np.float32),
        }

    def _state(self) -> dict:
        return {"average_length": self.weighting.average_length}

    def _restore(self, arrays, state) -> None:
        s = self.settings
        self.weighting = Weighting(
            s.weighting, arrays["idf"], state["average_length"], s.bm25_k1, s.bm25_b
        )
        self.counts = sparse.csr_matrix(
            (arrays["counts.data"], arrays["counts.indices"], arrays["counts.indptr"]),
            shape=self.seen.shape,
        )
        self.model = self._new_model()
        self.model.user_factors = arrays["user_factors"]
        self.model.item_factors = arrays["item_factors"]
