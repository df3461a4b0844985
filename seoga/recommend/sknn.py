"""Session-kNN (V-SKNN, Ludewig & Jannach 2018): the items of the most similar past sessions.

The current session is a vector over items whose later clicks weigh more (click p of L weighs
(p + 1) / L). Among the `sample` most recent training sessions that share an item with it, the
`neighbors` most similar by cosine vote for their items with their similarity; items no
neighbour holds follow by popularity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from seoga.recommend.base import Recommender, RecommenderSettings
from seoga.recommend.sessions import in_time_order


@dataclass
class SKNNSettings(RecommenderSettings):
    neighbors: int = 100
    sample: int = 500  # most recent sessions sharing an item with the current one


class SKNNRecommender(Recommender):
    """Session-kNN with position-weighted sessions (V-SKNN)."""

    name = "sknn"
    settings_class = SKNNSettings

    def _fit(self, log, items, users, show_progress) -> None:
        self.sessions = self.seen.sign().tocsr()
        self.by_item = self.sessions.T.tocsr()  # item → the sessions holding it
        order = in_time_order(log)
        times = log.times[order] if log.times is not None else order.astype(np.float64)
        self.recency = np.full(log.n_users, -np.inf)
        np.maximum.at(self.recency, log.users[order], times)
        self.lengths = np.diff(self.sessions.indptr).astype(np.float64)

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        s = self.settings
        scores = self.popularity / (self.popularity.max() + 1.0)
        weights = np.zeros(self.sessions.shape[1])
        np.maximum.at(weights, items, (np.arange(len(items)) + 1.0) / len(items))
        candidates = np.unique(self.by_item[np.unique(items)].indices)
        if not len(candidates):
            return scores
        if len(candidates) > s.sample:
            candidates = candidates[
                np.argsort(-self.recency[candidates], kind="stable")[: s.sample]
            ]
        overlap = self.sessions[candidates] @ weights
        similarity = overlap / np.sqrt(self.lengths[candidates] * len(np.unique(items)))
        best = np.argsort(-similarity, kind="stable")[: s.neighbors]
        votes = sparse.csr_matrix(similarity[best][None, :]) @ self.sessions[candidates[best]]
        scores[votes.indices] += votes.data + 1.0
        return scores

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return np.vstack([self.score_history(self.seen[user].indices, None) for user in users])

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"recency": self.recency}

    def _restore(self, arrays, state) -> None:
        self.sessions = self.seen.sign().tocsr()
        self.by_item = self.sessions.T.tocsr()
        self.lengths = np.diff(self.sessions.indptr).astype(np.float64)
        self.recency = arrays["recency"]
