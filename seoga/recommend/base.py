"""One API for every recommender, in the spirit of `implicit`: fit, predict, recommend.

A model learns a score for (user, item) pairs; this base class does the rest the same way for
every model, as LensKit's pipeline does: it looks up the user's history, leaves out the items
already seen (candidate selection), asks the model to score the candidates, ranks them, and falls
back to the most popular items for a user the model cannot score. Raw ids go in and come out;
dense indices stay inside.
Ranking itself is `seoga.recommend.ranking`'s; the state every model saves, `persistence`'s.
"""

from __future__ import annotations

import tempfile
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from seoga.errors import InputError
from seoga.models.threads import FIT_THREADS, limited_threads
from seoga.recommend.data.features import FeatureTable
from seoga.recommend.data.interactions import IdMap, Interactions
from seoga.recommend.persistence import manifest, read_settings, seen_matrix, shared_arrays
from seoga.recommend.ranking import (
    cosine_scores,
    listed,
    rank_scores,
    require_k,
    top_k_rows,
)
from seoga.recommend.storage import ModelFolder, write_model_folder

MODEL, POPULAR_FALLBACK = "model", "popular"
# Users scored per matrix product when ranking for many users at once.
USER_BATCH = 1024


@dataclass(frozen=True)
class Recommendation:
    item: str
    score: float
    source: str = MODEL  # "model", or "popular" when the model could not score the user
    label: str = ""  # the item's title (or name) from the items table, when it has one


@dataclass
class RecommenderSettings:
    seed: int = 0
    threads: int = FIT_THREADS  # a fit's threads (ALL_CORES, 0, for every core)


class Recommender(ABC):
    """Subclasses implement `_fit` and the scorers; ranking, filtering and storage live here."""

    name: ClassVar[str]
    settings_class: ClassVar[type[RecommenderSettings]] = RecommenderSettings
    # Whether `predict` estimates ratings (explicit feedback) or only ranks.
    predicts_ratings: ClassVar[bool] = False

    def __init__(self, settings: RecommenderSettings | None = None, **overrides: Any) -> None:
        base = settings if settings is not None else self.settings_class()
        self.settings = type(base)(**{**asdict(base), **overrides})
        self.user_ids = IdMap()
        self.item_ids = IdMap()
        self.seen = sparse.csr_matrix((0, 0), dtype=np.float32)
        self.popularity = np.zeros(0, dtype=np.float32)
        self.trained_items = np.zeros(0, dtype=bool)
        self.global_mean = 0.0
        # A rating model's scale (lowest, highest training rating): its scores are clipped to it.
        self.rating_range: tuple[float, float] | None = None
        self.item_labels: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.fit_seconds = 0.0

    # -- fitting ---------------------------------------------------------------------------
    def fit(
        self,
        interactions: Interactions,
        items: FeatureTable | None = None,
        users: FeatureTable | None = None,
        *,
        show_progress: bool = False,
    ) -> Recommender:
        """Learn from `interactions` (and side tables, for models that read them)."""
        interactions.require_usable()
        if self.predicts_ratings and not interactions.explicit:
            raise InputError(
                f"{self.name} learns ratings, and {interactions.source or 'this log'} holds "
                "implicit feedback; use als, fm (objective bpr) or popular."
            )
        started = time.perf_counter()
        self.user_ids = interactions.user_ids.copy()
        self.item_ids = interactions.item_ids.copy()
        for side, table, ids in (("item", items, self.item_ids), ("user", users, self.user_ids)):
            if table is not None:
                _require_overlap(side, table, ids)
                for raw in table.ids:
                    ids.add(raw)
        log = replace(interactions, user_ids=self.user_ids, item_ids=self.item_ids)
        # Seen items with their summed weights (implicit logs) or 1 (ratings).
        self.seen = log.seen() if log.explicit else log.matrix()
        self.seen.eliminate_zeros()
        self.popularity = np.diff(self.seen.tocsc().indptr).astype(np.float32)
        self.trained_items = self.popularity > 0
        self.global_mean = float(log.values.mean())
        self.data = log.describe()
        self.item_labels = items.labels() if items is not None else {}
        with limited_threads(self.settings.threads):
            self._fit(log, items, users, show_progress)
        self.fit_seconds = time.perf_counter() - started
        return self

    @abstractmethod
    def _fit(
        self,
        log: Interactions,
        items: FeatureTable | None,
        users: FeatureTable | None,
        show_progress: bool,
    ) -> None:
        """Learn the model's parameters; id maps, seen items and popularity are set already."""

    # -- scoring (dense indices) -----------------------------------------------------------
    def score_users(self, users: np.ndarray) -> np.ndarray:
        """(len(users), n_items) scores of known users for every item (higher = better).

        By default each user is scored from their training items, as a new user would be;
        models with per-user parameters score them directly.
        """
        return np.vstack([self.score_history(self.seen[user].indices, None) for user in users])

    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        """(n_items,) scores for a user the model never saw, from the items they chose.

        None: the model cannot fold a new user in (the caller falls back to popular).
        """
        return None

    def predict_indices(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Scores of (user, item) index pairs; -1 marks an unknown user or item."""
        out = np.full(len(users), self.global_mean, dtype=np.float32)
        known = (users >= 0) & (items >= 0)
        for user in np.unique(users[known]):
            rows = known & (users == user)
            out[rows] = self.score_users(np.asarray([user]))[0, items[rows]]
        return out

    def popularity_below_one(self) -> np.ndarray:
        """Popularity scaled into [0, 1): a fill that ranks under any model score of 1 or more."""
        return self.popularity / (self.popularity.max() + 1.0)

    def item_vectors(self) -> np.ndarray | None:
        """(n_items, d) vectors whose cosine says how alike items are (None: it has none)."""
        return None

    # -- the public API (raw ids) ----------------------------------------------------------
    def predict(self, users, items) -> np.ndarray:
        """Scores (ratings, for rating models) of (user, item) pairs given as raw ids."""
        self._require_fitted()
        users = np.asarray([self._index(self.user_ids, raw) for raw in listed(users)])
        items = np.asarray([self._index(self.item_ids, raw) for raw in listed(items)])
        if len(users) != len(items):
            raise InputError(f"{len(users)} users but {len(items)} items; give them in pairs.")
        return self.predict_indices(users, items)

    def knows_user(self, user: str) -> bool:
        index = self.user_ids.get(str(user))
        return index is not None and self.seen[index].nnz > 0

    def can_score_user(self, user: int) -> bool:
        """Whether the model can score this user index (most models: it has interactions)."""
        return self.seen[user].nnz > 0

    def knows_item(self, item: str) -> bool:
        index = self.item_ids.get(str(item))
        return index is not None and bool(self.trained_items[index])

    def recommend(
        self, user, k: int = 10, *, filter_seen: bool = True, items=None
    ) -> list[Recommendation]:
        """The top `k` items for a known user (unknown users get the most popular items)."""
        self._require_fitted()
        index = self.user_ids.get(str(user))
        if index is None or not self.can_score_user(index):
            return self._popular(k, exclude=np.zeros(0, dtype=np.int64), items=items)
        scores = self._scores(np.asarray([index]))[0]
        seen = self.seen[index].indices if filter_seen else np.zeros(0, dtype=np.int64)
        return self._rank(scores, k, seen, items, MODEL, as_ratings=True)

    def recommend_for_history(
        self, history, k: int = 10, *, ratings=None, filter_seen: bool = True, items=None
    ) -> list[Recommendation]:
        """The top `k` items for a user the model never saw, given the items they chose."""
        self._require_fitted()
        known = [(self.item_ids.get(str(raw)), i) for i, raw in enumerate(listed(history))]
        chosen = np.asarray([index for index, _ in known if index is not None], dtype=np.int64)
        given = None
        if ratings is not None:
            values = np.asarray(list(ratings), dtype=np.float32)
            given = np.asarray([values[i] for index, i in known if index is not None])
        seen = chosen if filter_seen else np.zeros(0, dtype=np.int64)
        scores = self.score_history(chosen, given) if len(chosen) else None
        if scores is None:
            return self._popular(k, exclude=seen, items=items)
        scores = self._mask_cold(scores[None, :])[0]
        return self._rank(scores, k, seen, items, MODEL, as_ratings=True)

    def similar_items(self, item, k: int = 10) -> list[Recommendation]:
        """The `k` items most like `item`, by the model's `item_similarities`."""
        self._require_fitted()
        index = self._index(self.item_ids, item)
        if index < 0:
            raise InputError(f"item {item!r} is not in this model; it knows {len(self.item_ids)}.")
        return self._rank(self.item_similarities(index), k, np.asarray([index]), None, MODEL)

    @property
    def compares_items(self) -> bool:
        """Whether `item_similarities` can say how alike two items are."""
        overridden = type(self).item_similarities is not Recommender.item_similarities
        return overridden or self.item_vectors() is not None

    def item_similarities(self, index: int) -> np.ndarray:
        """How like item `index` every item is (cosine of the model's item vectors; -inf for
        an item the model has no vector for)."""
        vectors = self.item_vectors()
        if vectors is None:
            raise InputError(f"the {self.name} model has no item vectors to compare items with.")
        norms = np.linalg.norm(vectors, axis=1)
        if norms[index] == 0:
            raise InputError(
                f"the {self.name} model has no vector for item {self.item_ids.ids[index]!r}."
            )
        return cosine_scores(vectors, norms, index)

    def rank_users(self, users: np.ndarray, k: int, *, filter_seen: bool = True) -> np.ndarray:
        """(len(users), k) item indices, best first, for user indices of the id map (evaluation).

        A user the model cannot score (no training interactions) gets the most popular items, as
        `recommend` gives them. -1 pads a row where fewer than k items can be recommended.
        """
        require_k(k)
        k = min(k, len(self.item_ids))
        ranked = np.empty((len(users), k), dtype=np.int64)
        for start in range(0, len(users), USER_BATCH):
            batch = users[start : start + USER_BATCH]
            seen = self.seen[batch] if filter_seen else None
            scores = self._scores(batch)
            cold = np.fromiter((not self.can_score_user(user) for user in batch), bool, len(batch))
            scores[cold] = self.popularity
            ranked[start : start + len(batch)] = top_k_rows(scores, k, seen)
        return ranked

    # -- storage ---------------------------------------------------------------------------
    def save(self, out: Path | str) -> Path:
        """Write the model folder beside `out` and rename it into place."""
        self._require_fitted()
        require_writable(out)
        about = manifest(self.name, self.settings, self.data, self.metrics, self.fit_seconds)
        arrays = {**shared_arrays(self.seen, self.popularity, self.trained_items), **self._arrays()}
        state = {"global_mean": self.global_mean, **self._state()}
        ids = {"users": self.user_ids.ids, "items": self.item_ids.ids, "labels": self.item_labels}
        try:
            write_model_folder(Path(out), about, ids, arrays, state)
        except OSError as error:
            raise InputError(_unwritable(Path(out), error)) from error
        return Path(out)

    @classmethod
    def from_folder(cls, path: Path, folder: ModelFolder) -> Recommender:
        """The model a folder holds (`seoga.recommend.load_recommender` picks the class)."""
        about, ids, arrays, state = folder
        model = cls(read_settings(cls.settings_class, about, path))
        model.user_ids = IdMap.of(ids["users"])
        model.item_ids = IdMap.of(ids["items"])
        model.item_labels = ids.get("labels", {})
        model.seen = seen_matrix(arrays, len(model.user_ids), len(model.item_ids))
        model.popularity = arrays["popularity"]
        model.trained_items = arrays["trained_items"].astype(bool)
        model.global_mean = state["global_mean"]
        model.data = about["data"]
        model.metrics = about.get("metrics", {})
        model.fit_seconds = about.get("fit_seconds", 0.0)
        model._restore(arrays, state)
        return model

    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _state(self) -> dict[str, Any]:
        return {}

    def _restore(self, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:  # noqa: B027
        """Set the learned parameters from what `_arrays` and `_state` saved (none here)."""

    # -- helpers ---------------------------------------------------------------------------
    def _scores(self, users: np.ndarray) -> np.ndarray:
        return self._mask_cold(self.score_users(users).astype(np.float32, copy=True))

    def scorable_items(self) -> np.ndarray:
        """Items the model can rank: those with training interactions (the FM adds features)."""
        return self.trained_items

    def _mask_cold(self, scores: np.ndarray) -> np.ndarray:
        """Items the model knows nothing about are never recommended."""
        scores[:, ~self.scorable_items()] = -np.inf
        return scores

    def _require_fitted(self) -> None:
        if len(self.item_ids) == 0:
            raise InputError(f"the {self.name} model is not fitted yet; call fit() first.")

    @staticmethod
    def _index(ids: IdMap, raw) -> int:
        found = ids.get(str(raw))
        return -1 if found is None else found

    def _popular(self, k: int, exclude: np.ndarray, items) -> list[Recommendation]:
        return self._rank(self.popularity.astype(np.float64), k, exclude, items, POPULAR_FALLBACK)

    def _rank(
        self,
        scores: np.ndarray,
        k: int,
        exclude: np.ndarray,
        items,
        source: str,
        *,
        as_ratings: bool = False,
    ) -> list[Recommendation]:
        """The best `k`; `as_ratings`: a rating model's estimates, shown clipped to its rating
        scale as `predict` gives them (ranked by the unclipped estimate, which keeps their
        order past the top of the scale)."""
        allowed = None
        if items is not None:
            allowed = [i for raw in listed(items) if (i := self._index(self.item_ids, raw)) >= 0]
        best, scores = rank_scores(scores, k, exclude, allowed)
        if as_ratings and self.predicts_ratings and self.rating_range is not None:
            scores = np.clip(scores, *self.rating_range)
        ids = self.item_ids.ids
        return [
            Recommendation(ids[i], float(scores[i]), source, self.item_labels.get(ids[i], ""))
            for i in best
        ]


def require_writable(out: Path | str) -> None:
    """Stop before a long fit when no model folder could be written at `out` (its folder
    cannot be made, or not written in)."""
    place = Path(out).absolute().parent
    if place.exists() and not place.is_dir():
        raise InputError(_unwritable(Path(out), OSError(f"{place} is a file, not a folder")))
    try:
        place.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=place):
            pass  # a file could be made there: so can the model folder
    except OSError as error:
        raise InputError(_unwritable(Path(out), error)) from error


def _unwritable(out: Path, error: OSError) -> str:
    return (
        f"cannot write the model folder {out}: {error.strerror or error}; give --out a place "
        "in a folder you may write to."
    )


def _require_overlap(side: str, table: FeatureTable, ids: IdMap) -> None:
    """A side table whose ids share nothing with the log was surely keyed by another column."""
    table_ids = table.ids
    if table_ids and not any(raw in ids for raw in table_ids):
        raise InputError(
            f"no {side} id of {', '.join(table.sources) or 'the side table'} is in the log "
            f"(the table has e.g. {table_ids[:3]}, the log {ids.ids[:3]}); "
            f"name the table's id column, or check it is the {side} table."
        )
