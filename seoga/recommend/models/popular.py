"""The most-popular baseline: every user gets the items most users interacted with."""

from __future__ import annotations

import numpy as np

from seoga.recommend.base import Recommender


class PopularRecommender(Recommender):
    """Scores an item by how many users interacted with it (the fallback of every model)."""

    name = "popular"

    def _fit(self, log, items, users, show_progress) -> None:
        """Nothing to learn beyond the popularity counts the base class keeps."""

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity, (len(users), len(self.popularity)))

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        return self.popularity.copy()
