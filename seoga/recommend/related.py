"""Related documents: those most like one document of a collection, by content and by readers.

Content: a document's vector is the normalised mean of its chunks' vectors in the collection's
main dense index; the index proposes candidates (chunks near that vector, collapsed to their
documents) and each candidate is scored by the cosine of the two documents' vectors, so the
score is symmetric. Readers: a fitted recommender whose items are the collection's document ids
(item-kNN on a click log, or ALS factors) proposes the documents the same users also read. The
two lists are blended as hybrid search fuses its retrievers: min-max normalised over the
candidates and mixed with weight `blend` on the readers' side (0: content only).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seoga.errors import InputError
from seoga.recommend.base import Recommender
from seoga.recommend.data.logs import read_log
from seoga.recommend.ranking import top_k
from seoga.recommend.registry import load_recommender, make_recommender
from seoga.recommend.storage import MANIFEST
from seoga.search.fusion import convex_arrays
from seoga.search.rankings import Ranking

if TYPE_CHECKING:
    from seoga.collection import Collection

CONTENT, READERS = "content", "readers"
# Chosen on MovieLens (titles, genres and tags as documents, ratings as readers; BENCHMARKS.md,
# "Related documents"): the best nDCG@10 on validation users, for item-kNN and ALS readers alike.
# `seoga eval related` measures it on a user's own collection and log.
DEFAULT_BLEND = 0.9
# Documents each side proposes before blending: enough for the other side to reorder the top.
CANDIDATES = 50
# Chunks asked of the dense index per candidate document (a document may own several).
CHUNKS_PER_CANDIDATE = 3
# The readers' model fitted on a click log when no model folder is given, with the item-to-item
# similarity the related-documents benchmark measured it with: cosine. TF-IDF, itemknn's default
# for lists for a user, ties with it on validation readers (BENCHMARKS.md, "Related documents").
READERS_MODEL = "itemknn"
READERS_SETTINGS: dict[str, Any] = {"similarity": "cosine"}


@dataclass(frozen=True)
class RelatedDocument:
    doc_id: str
    title: str
    source: str
    score: float
    scores: dict[str, float] = field(default_factory=dict)  # each side's raw similarity

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RelatedDocuments:
    """`related(doc_id, k)` over one collection, optionally blended with a readers' model."""

    def __init__(
        self,
        collection: Collection,
        readers: Recommender | None = None,
        *,
        blend: float = DEFAULT_BLEND,
        candidates: int = CANDIDATES,
    ) -> None:
        if not 0.0 <= blend <= 1.0:
            raise InputError(f"the blend weight must be between 0 and 1, got {blend}.")
        if candidates < 1:
            raise InputError(f"candidates must be at least 1, got {candidates}.")
        if collection.settings.embedder is None:
            raise InputError(
                f"{collection.root} has no dense index (made with --embedder none): related "
                "documents compare document vectors; index it with an embedder."
            )
        self.collection = collection
        self.readers = readers
        self.blend = blend if readers is not None else 0.0
        self.candidates = candidates

    # -- the document tables, built once per collection generation -------------------------
    @cached_property
    def _numbers(self) -> dict[str, int]:
        return {doc_id: n for n, doc_id in enumerate(self.collection.chunk_map.doc_ids)}

    @cached_property
    def _chunk_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense-index rows grouped by document number: (rows, start of each document)."""
        dense = self.collection.dense
        documents = self.collection.chunk_map.numbers[dense.chunk_ids]
        rows = np.argsort(documents, kind="stable")
        starts = np.searchsorted(
            documents[rows], np.arange(len(self.collection.chunk_map.doc_ids) + 1)
        )
        return rows, starts

    @cached_property
    def _reader_numbers(self) -> np.ndarray:
        """For each of the readers' items, its document number (-1: not in the collection)."""
        ids = self.readers.item_ids.ids if self.readers is not None else []
        return np.asarray([self._numbers.get(doc_id, -1) for doc_id in ids], dtype=np.int64)

    @cached_property
    def _reader_items(self) -> np.ndarray:
        """For each document number, the readers' item index (-1: the readers never saw it)."""
        items = np.full(len(self._numbers), -1, dtype=np.int64)
        known = self._reader_numbers >= 0
        items[self._reader_numbers[known]] = np.flatnonzero(known)
        return items

    def vector(self, number: int) -> np.ndarray | None:
        """A document's vector: its chunks' mean, normalised (None: it has no chunk vector)."""
        vectors = self.vectors(np.asarray([number]))
        return vectors[0] if np.isfinite(vectors[0, 0]) else None

    def vectors(self, numbers: np.ndarray) -> np.ndarray:
        """Documents' vectors, one row each, in one read of their chunks (NaN rows: a
        document without a chunk vector)."""
        rows, starts = self._chunk_groups
        counts = starts[numbers + 1] - starts[numbers]
        gathered = np.concatenate(
            [rows[starts[n] : starts[n + 1]] for n in numbers.tolist()] or [np.empty(0, int)]
        )
        dim = self.collection.dense.vectors.shape[1]
        means = np.full((numbers.size, dim), np.nan)
        has = counts > 0
        if gathered.size:
            chunk_vectors = np.asarray(self.collection.dense.vectors[gathered], dtype=np.float64)
            sums = np.add.reduceat(chunk_vectors, np.cumsum(counts)[has] - counts[has])
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            means[has] = np.where(norms > 0, sums / np.maximum(norms, np.finfo(float).tiny), np.nan)
        return means

    # -- lookups ----------------------------------------------------------------------------
    def related(self, doc_id: str, k: int = 5) -> list[RelatedDocument]:
        """The `k` documents most related to `doc_id`, best first (never itself)."""
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}.")
        number = self._numbers.get(str(doc_id))
        if number is None:
            raise InputError(
                f"document {doc_id!r} is not in {self.collection.root}; "
                "`seoga search` shows the ids (doc_id)."
            )
        documents, blended, sides = self.ranked(number, k)
        doc_ids = self.collection.chunk_map.ids(documents)
        titles = self.collection.store.titles(doc_ids)
        return [
            RelatedDocument(
                doc_id=doc_id,
                title=titles[doc_id][0],
                source=titles[doc_id][1],
                score=float(blended[position]),
                scores={
                    name: float(values[position])
                    for name, values in sides.items()
                    if np.isfinite(values[position])
                },
            )
            for position, doc_id in enumerate(doc_ids)
        ]

    def ranked(self, number: int, k: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Document numbers of the best `k`, their blended scores and each side's scores."""
        vector = self.vector(number)
        content_keys = (
            self._content_candidates(vector, number)
            if vector is not None
            else np.empty(0, np.int64)
        )
        reader_keys, reader_scores = self._reader_candidates(number)
        keys = np.unique(np.concatenate([content_keys, reader_keys]))
        content = self._content_scores(vector, keys)
        readers = np.full(keys.size, -np.inf)
        readers[np.searchsorted(keys, reader_keys)] = reader_scores
        sides = {CONTENT: content, READERS: readers}
        if self.blend == 0.0 or not reader_keys.size:
            blended = content
        else:
            lists = [
                (keys[np.isfinite(values)], values[np.isfinite(values)])
                for values in (content, readers)
            ]
            fused_keys, fused = convex_arrays(
                lists, [1.0 - self.blend, self.blend], normalization="minmax"
            )
            blended = np.empty(keys.size)
            blended[np.searchsorted(keys, fused_keys)] = fused
        # Ties (documents only one side knows) go to the content score, then the number.
        order = np.lexsort((keys, -content, -blended))[:k]
        return keys[order], blended[order], {name: s[order] for name, s in sides.items()}

    def _content_candidates(self, vector: np.ndarray, number: int) -> np.ndarray:
        _, starts = self._chunk_groups
        own_chunks = int(starts[number + 1] - starts[number])
        depth = own_chunks + self.candidates * CHUNKS_PER_CANDIDATE
        chunk_ids, scores = self.collection.dense.search(vector.astype(np.float32), depth)
        found = Ranking.collapse(chunk_ids, scores, self.collection.chunk_map).documents
        return found[found != number][: self.candidates]

    def _reader_candidates(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        none = np.empty(0, np.int64), np.empty(0)
        if self.readers is None or self.blend == 0.0:
            return none
        item = int(self._reader_items[number])
        if item < 0 or not self.readers.trained_items[item]:
            return none
        scores = self.readers.item_similarities(item).astype(np.float64)
        scores[item] = -np.inf
        scores[self._reader_numbers < 0] = -np.inf
        best = top_k(scores[None, :], self.candidates)[0]
        best = best[np.isfinite(scores[best])]
        return self._reader_numbers[best], scores[best]

    def _content_scores(self, vector: np.ndarray | None, keys: np.ndarray) -> np.ndarray:
        if vector is None or not keys.size:
            return np.full(keys.size, -np.inf)
        scores = self.vectors(keys) @ vector
        return np.where(np.isnan(scores), -np.inf, scores)


def open_readers(
    interactions: Path | None,
    user: str | None = None,
    item: str | None = None,
    weight: str | None = None,
    time: str | None = None,
) -> Recommender | None:
    """A fitted model of who read what: loaded from a model folder, or item-kNN fitted on a log."""
    if interactions is None:
        return None
    if interactions.is_dir() and (interactions / MANIFEST).exists():
        return load_recommender(interactions)
    log = read_log(interactions, user, item, None, weight, time, False, None)
    return readers_model().fit(log, show_progress=True)


def readers_model(model: str = READERS_MODEL, **settings: Any) -> Recommender:
    """A new readers' model: the related-documents settings for READERS_MODEL, then `settings`."""
    chosen = READERS_SETTINGS if model == READERS_MODEL else {}
    return make_recommender(model, **{**chosen, **settings})


def related_documents(
    collection: Collection, readers: Recommender | None, blend: float | None
) -> RelatedDocuments:
    """Related documents of `collection`, blended with `readers` at `blend` (None: the default)."""
    return RelatedDocuments(collection, readers, blend=DEFAULT_BLEND if blend is None else blend)
