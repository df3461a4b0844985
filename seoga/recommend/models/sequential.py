"""Sequential rules (`sr`, Ludewig & Jannach 2018): what followed the session's last item.

Every pair of a training session's events (a, then b up to `steps` events later) adds 1/gap to
the rule a → b. The next item after a session is scored by the rules of its last item; items no
rule reaches follow by popularity. Cheap and hard to beat on click sessions (research notes, §2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from seoga.recommend.base import Recommender, RecommenderSettings
from seoga.recommend.data.sessions import in_time_order


@dataclass
class SRSettings(RecommenderSettings):
    steps: int = 10  # how far ahead a later event still makes a rule


class SRRecommender(Recommender):
    """Sequential rules over sessions: the next item after the last one clicked."""

    name = "sr"
    settings_class = SRSettings

    def _fit(self, log, items, users, show_progress) -> None:
        order = in_time_order(log)
        sessions, clicked = log.users[order], log.items[order]
        rows, cols, weights = [], [], []
        for gap in range(1, self.settings.steps + 1):
            same = sessions[gap:] == sessions[:-gap]
            rows.append(clicked[:-gap][same])
            cols.append(clicked[gap:][same])
            weights.append(np.full(int(same.sum()), 1.0 / gap))
        self.successors = sparse.csr_matrix(
            (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
            shape=(log.n_items, log.n_items),
        )
        self.successors.sum_duplicates()
        self.last_items = np.full(log.n_users, -1, dtype=np.int64)
        self.last_items[sessions] = clicked  # the last write of each session wins: its last item

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        """Rule weights from the last item (oldest first); popularity, scaled below 1, after."""
        scores = self.popularity_below_one()
        row = self.successors[items[-1]]
        scores[row.indices] += row.data + 1.0
        return scores

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return np.vstack([self.score_history(self.last_items[[user]], None) for user in users])

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "successors.indptr": self.successors.indptr.astype(np.int64),
            "successors.indices": self.successors.indices.astype(np.int64),
            "successors.data": self.successors.data,
            "last_items": self.last_items,
        }

    def _restore(self, arrays, state) -> None:
        n_items = len(self.item_ids)
        self.successors = sparse.csr_matrix(
            (arrays["successors.data"], arrays["successors.indices"], arrays["successors.indptr"]),
            shape=(n_items, n_items),
        )
        self.last_items = arrays["last_items"]
