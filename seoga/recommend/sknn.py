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
from seoga.recommend.sessions import session_times


@dataclass
class SKNNSettings(RecommenderSettings):
    neighbors: int = 100
    sample: int = 500  # most recent sessions sharing an item with the current one


class SKNNRecommender(Recommender):
    """Session-kNN with position-weighted sessions (V-SKNN)."""

    name = "sknn"
    settings_class = SKNNSettings

    def _fit(self, log, items, users, show_progress) -> None:
        _, self.recency = session_times(log)  # a session is as recent as its last click
        self._index_sessions()

    def _index_sessions(self) -> None:
        """The training sessions as 0/1 rows, by item, and their lengths (from `seen`)."""
        self.sessions = self.seen.sign().tocsr()
        self.by_item = self.sessions.T.tocsr()  # item → the sessions holding it
        self.lengths = np.diff(self.sessions.indptr).astype(np.float64)

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        s = self.settings
        scores = self.popularity_below_one()
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

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"recency": self.recency}

    def _restore(self, arrays, state) -> None:
        self.recency = arrays["recency"]
        self._index_sessions()
