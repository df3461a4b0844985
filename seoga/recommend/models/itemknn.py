"""Item-kNN: items are alike when the same users read them (implicit's item-item models).

The similarity of two items is the TF-IDF weighted dot product (or the cosine, or BM25) of their
columns in the user × item matrix, kept for each item's `neighbours` nearest items only, as
`implicit.nearest_neighbours` computes it. A history scores an item by the summed similarity of
the history's items to it; "also read by the same users" is one row of the matrix.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from seoga.errors import InputError
from seoga.recommend.base import Recommender, RecommenderSettings
from seoga.recommend.models.als import BM25_B, BM25_K1

SIMILARITIES = ("cosine", "bm25", "tfidf")


@dataclass
class ItemKNNSettings(RecommenderSettings):
    neighbours: int = 100
    # TF-IDF weighting beat cosine across six data sets (BENCHMARKS.md, "Recommender defaults").
    similarity: str = "tfidf"
    bm25_k1: float = BM25_K1
    bm25_b: float = BM25_B


class ItemKNNRecommender(Recommender):
    """Co-occurrence neighbours: cheap to fit, exact "users who read this also read"."""

    name = "itemknn"
    settings_class = ItemKNNSettings

    def _fit(self, log, items, users, show_progress) -> None:
        from implicit.utils import ParameterWarning

        model = self._new_model()
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit's weighting hands its own kNN step a COO matrix and warns about it.
            warnings.simplefilter("ignore", ParameterWarning)
            model.fit(self.seen.astype(np.float32), show_progress=show_progress)
        similarity = model.similarity.tocsr().astype(np.float32)
        similarity.setdiag(0.0)  # an item is not its own neighbour
        similarity.eliminate_zeros()
        self.similarity = similarity

    def _new_model(self):
        from implicit.nearest_neighbours import (
            BM25Recommender,
            CosineRecommender,
            TFIDFRecommender,
        )

        s = self.settings
        if s.neighbours < 1:
            raise InputError(f"neighbours must be at least 1, got {s.neighbours}.")
        if s.similarity == "cosine":
            return CosineRecommender(K=s.neighbours, num_threads=1)
        if s.similarity == "bm25":
            return BM25Recommender(K=s.neighbours, K1=s.bm25_k1, B=s.bm25_b, num_threads=1)
        if s.similarity == "tfidf":
            return TFIDFRecommender(K=s.neighbours, num_threads=1)
        raise InputError(
            f"unknown similarity {s.similarity!r}; use one of {', '.join(SIMILARITIES)}."
        )

    def score_users(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self.seen[users] @ self.similarity).todense())

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        return np.asarray(self.similarity[items].sum(axis=0)).ravel()

    def item_similarities(self, index: int) -> np.ndarray:
        """Similarity to item `index`; -inf for items outside its neighbours."""
        row = self.similarity[index]
        scores = np.full(self.similarity.shape[1], -np.inf)
        scores[row.indices] = row.data
        return scores

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "similarity.indptr": self.similarity.indptr.astype(np.int64),
            "similarity.indices": self.similarity.indices.astype(np.int64),
            "similarity.data": self.similarity.data.astype(np.float32),
        }

    def _restore(self, arrays, state) -> None:
        count = len(self.item_ids)
        self.similarity = sparse.csr_matrix(
            (arrays["similarity.data"], arrays["similarity.indices"], arrays["similarity.indptr"]),
            shape=(count, count),
        )
