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
from seoga.recommend.data.sessions import in_time_order, session_times


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
        self.positions = position_weights(log)
        self._index_sessions()

    def _index_sessions(self) -> None:
        """The training sessions as 0/1 rows, by item, and their lengths (from `seen`)."""
        self.sessions = self.seen.sign().tocsr()
        self.by_item = self.sessions.T.tocsr()  # item → the sessions holding it
        self.lengths = np.diff(self.sessions.indptr).astype(np.float64)

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        weights = np.zeros(self.sessions.shape[1])
        np.maximum.at(weights, items, (np.arange(len(items)) + 1.0) / len(items))
        return self._neighbour_votes(weights, np.unique(items))

    def score_users(self, users: np.ndarray) -> np.ndarray:
        """A training session continued: its own clicks weighed by their time order."""
        rows = []
        for user in users:
            row = self.positions[user]
            weights = np.zeros(self.sessions.shape[1])
            weights[row.indices] = row.data
            rows.append(self._neighbour_votes(weights, row.indices))
        return np.vstack(rows)

    def _neighbour_votes(self, weights: np.ndarray, items: np.ndarray) -> np.ndarray:
        s = self.settings
        scores = self.popularity_below_one()
        candidates = np.unique(self.by_item[items].indices)
        if not len(candidates):
            return scores
        if len(candidates) > s.sample:
            candidates = candidates[
                np.argsort(-self.recency[candidates], kind="stable")[: s.sample]
            ]
        overlap = self.sessions[candidates] @ weights
        similarity = overlap / np.sqrt(self.lengths[candidates] * len(items))
        best = np.argsort(-similarity, kind="stable")[: s.neighbors]
        votes = sparse.csr_matrix(similarity[best][None, :]) @ self.sessions[candidates[best]]
        scores[votes.indices] += votes.data + 1.0
        return scores

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "recency": self.recency,
            "positions.indptr": self.positions.indptr.astype(np.int64),
            "positions.indices": self.positions.indices.astype(np.int64),
            "positions.data": self.positions.data,
        }

    def _restore(self, arrays, state) -> None:
        self.recency = arrays["recency"]
        self.positions = sparse.csr_matrix(
            (arrays["positions.data"], arrays["positions.indices"], arrays["positions.indptr"]),
            shape=self.seen.shape,
        )
        self._index_sessions()


def position_weights(log) -> sparse.csr_matrix:
    """sessions × items: (p + 1) / L for an item's last click p of a session of L clicks."""
    order = in_time_order(log)
    users, items = log.users[order], log.items[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    lengths = np.diff(np.r_[starts, len(order)])
    position = np.arange(len(order)) - np.repeat(starts, lengths)
    weight = (position + 1.0) / np.repeat(lengths, lengths)
    # A later click weighs more, so an item's last click in the session is its weight.
    keys = users.astype(np.int64) * log.n_items + items
    _, from_end = np.unique(keys[::-1], return_index=True)
    kept = len(keys) - 1 - from_end
    return sparse.csr_matrix(
        (weight[kept], (users[kept], items[kept])), shape=(log.n_users, log.n_items)
    )
