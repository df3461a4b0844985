"""Interaction logs in memory: who did what to which item, how much, and when.

Raw user and item ids are mapped to dense indices (`IdMap`) and back; `Interactions` holds the
rows over those indices. Explicit logs carry a rating per row; implicit ones a weight (clicks,
plays, purchases: 1 per row unless a column says otherwise). Files are read by
`seoga.recommend.data.log_files`; a dense rating matrix (`matrix_interactions`) is built here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from seoga.errors import InputError
from seoga.recommend.data.textfiles import read_matrix

EXPLICIT, IMPLICIT = "explicit", "implicit"
MIN_USERS = 2


@dataclass
class IdMap:
    """Raw ids (as strings) ↔ dense indices 0..n-1, in first-seen order."""

    ids: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, raw_ids: Iterable[str]) -> IdMap:
        mapping = cls()
        for raw in raw_ids:
            mapping.add(raw)
        return mapping

    def add(self, raw: str) -> int:
        found = self.index.get(raw)
        if found is None:
            found = self.index[raw] = len(self.ids)
            self.ids.append(raw)
        return found

    def get(self, raw: str) -> int | None:
        return self.index.get(str(raw))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, raw: object) -> bool:
        return str(raw) in self.index

    def raw(self, indices: Iterable[int]) -> list[str]:
        return [self.ids[i] for i in indices]

    def copy(self) -> IdMap:
        return IdMap(list(self.ids), dict(self.index))


@dataclass
class Interactions:
    """Rows of (user, item, value[, time]) over dense indices, with the id maps that name them."""

    users: np.ndarray  # int64 user index per row
    items: np.ndarray  # int64 item index per row
    values: np.ndarray  # float32 rating (explicit) or weight (implicit)
    user_ids: IdMap
    item_ids: IdMap
    kind: str = EXPLICIT
    times: np.ndarray | None = None  # float64 seconds per row
    source: str = ""
    # P(this row was observed), for models trained with inverse propensity weights.
    propensities: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.users = np.asarray(self.users, dtype=np.int64)
        self.items = np.asarray(self.items, dtype=np.int64)
        self.values = np.asarray(self.values, dtype=np.float32)
        if self.times is not None:
            self.times = np.asarray(self.times, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.users)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def explicit(self) -> bool:
        return self.kind == EXPLICIT

    def subset(self, rows: np.ndarray) -> Interactions:
        """The chosen rows (a mask or indices), keeping both id maps whole."""
        return Interactions(
            self.users[rows],
            self.items[rows],
            self.values[rows],
            self.user_ids,
            self.item_ids,
            self.kind,
            None if self.times is None else self.times[rows],
            self.source,
            None if self.propensities is None else self.propensities[rows],
        )

    def matrix(self, values: np.ndarray | None = None) -> sparse.csr_matrix:
        """users × items CSR; repeated (user, item) rows are summed (implicit) or the last kept."""
        shape = (self.n_users, self.n_items)
        data = self.values if values is None else values
        if self.explicit:
            order = self._time_order()
            users, items, data = self.users[order], self.items[order], data[order]
            flat = users * self.n_items + items
            _, last = np.unique(flat[::-1], return_index=True)
            keep = len(flat) - 1 - last
            users, items, data = users[keep], items[keep], data[keep]
        else:
            users, items = self.users, self.items
        matrix = sparse.csr_matrix(
            (data.astype(np.float32), (users, items)), shape=shape, dtype=np.float32
        )
        matrix.sum_duplicates()
        matrix.eliminate_zeros()  # a weight-0 row (an impression without a click) is no event
        return matrix

    def _time_order(self) -> np.ndarray:
        if self.times is None:
            return np.arange(len(self))
        return np.argsort(self.times, kind="stable")

    def seen(self) -> sparse.csr_matrix:
        """users × items, 1 where the user has any row with the item."""
        return self.matrix(np.ones(len(self), dtype=np.float32)).sign().tocsr()

    def positives(self, min_value: float | None = None) -> Interactions:
        """Rows read as implicit feedback: weight 1 each, those below `min_value` dropped."""
        keep = np.ones(len(self), dtype=bool) if min_value is None else self.values >= min_value
        kept = self.subset(keep)
        kept.values = np.ones(len(kept), dtype=np.float32)
        kept.kind = IMPLICIT
        return kept

    def fingerprint(self) -> str:
        """A content hash of the rows and ids: the same log always gives the same one."""
        digest = hashlib.sha256()
        for array in (self.users, self.items, self.values):
            digest.update(np.ascontiguousarray(array).tobytes())
        if self.times is not None:
            digest.update(np.ascontiguousarray(self.times).tobytes())
        digest.update(json.dumps([self.user_ids.ids, self.item_ids.ids]).encode())
        return digest.hexdigest()[:16]

    def describe(self) -> dict:
        return {
            "source": self.source,
            "kind": self.kind,
            "rows": len(self),
            "users": self.n_users,
            "items": self.n_items,
            "fingerprint": self.fingerprint(),
        }

    def require_rows(self) -> None:
        if len(self) == 0:
            where = self.source or "the interaction log"
            raise InputError(f"{where} holds no interactions; give a file with rows.")

    def require_usable(self) -> None:
        """Refuse a log no model can learn from, saying why."""
        where = self.source or "the interaction log"
        self.require_rows()
        if len(np.unique(self.users)) < MIN_USERS:
            raise InputError(
                f"{where} holds only one user; recommenders learn from many users' histories "
                "(give the whole log, not one user's part)."
            )


def matrix_interactions(path: Path | str) -> Interactions:
    """The ratings of a users × items matrix (0 = none), ids the row and column numbers."""
    matrix = read_matrix(path)
    users, items = np.nonzero(matrix)
    user_ids, item_ids = IdMap(), IdMap()
    for index in range(matrix.shape[0]):
        user_ids.add(str(index))
    for index in range(matrix.shape[1]):
        item_ids.add(str(index))
    log = Interactions(
        users, items, matrix[users, items], user_ids, item_ids, EXPLICIT, None, str(path)
    )
    log.require_rows()
    return log


def align(log: Interactions, onto: Interactions) -> tuple[Interactions, Interactions]:
    """Both logs over one pair of id maps (`onto`'s, extended by ids only `log` has)."""
    user_ids, item_ids = onto.user_ids.copy(), onto.item_ids.copy()
    users = np.asarray([user_ids.add(raw) for raw in log.user_ids.raw(log.users)], dtype=np.int64)
    items = np.asarray([item_ids.add(raw) for raw in log.item_ids.raw(log.items)], dtype=np.int64)
    moved = Interactions(
        users, items, log.values, user_ids, item_ids, log.kind, log.times, log.source
    )
    base = Interactions(
        onto.users, onto.items, onto.values, user_ids, item_ids, onto.kind, onto.times, onto.source
    )
    return moved, base
