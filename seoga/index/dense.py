"""Cosine search over chunk embeddings with faiss: exact for small collections, HNSW for large."""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from seoga.index.hits import Hits, no_hits
from seoga.text.scripts import can_read

if TYPE_CHECKING:
    from seoga.models.embedders import Embedder

VECTORS_NAME = "vectors.npy"
CHUNK_IDS_NAME = "dense_chunk_ids.npy"
FAISS_NAME = "dense.faiss"
INDEX_KINDS = ("auto", "flat", "hnsw")
# Exact search over 50k 384-d vectors still answers in a few ms; past that HNSW pays off.
HNSW_MIN_VECTORS = 50_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def choose_kind(kind: str, count: int) -> str:
    if kind not in INDEX_KINDS:
        raise ValueError(f"dense index kind must be one of {INDEX_KINDS}, not {kind!r}")
    if kind == "auto":
        return "hnsw" if count >= HNSW_MIN_VECTORS else "flat"
    return kind


def make_faiss_index(kind: str, dim: int) -> faiss.Index:
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    return faiss.IndexFlatIP(dim)


class DenseIndex:
    """Normalised vectors (inner product = cosine) with the store's chunk ids beside them."""

    def __init__(self, vectors: np.ndarray, chunk_ids: np.ndarray, index: faiss.Index) -> None:
        self.vectors = vectors
        self.chunk_ids = chunk_ids
        self.index = index

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        chunk_ids: np.ndarray,
        *,
        kind: str = "auto",
        previous: "DenseIndex | None" = None,
    ) -> "DenseIndex":
        """Build from all vectors; when only appending to an HNSW graph, extend the old one."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        chosen = choose_kind(kind, len(vectors))
        dim = vectors.shape[1]
        reusable = (
            previous is not None
            and isinstance(previous.index, faiss.IndexHNSWFlat)
            and chosen == "hnsw"
            and np.array_equal(previous.chunk_ids, chunk_ids[: len(previous.chunk_ids)])
        )
        if reusable:
            index = faiss.clone_index(previous.index)
            index.add(vectors[len(previous.chunk_ids) :])
        else:
            index = make_faiss_index(chosen, dim)
            index.add(vectors)
        return cls(vectors, np.asarray(chunk_ids, dtype=np.int64), index)

    def without(self, removed: set[int]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors and ids left after dropping `removed` chunk ids."""
        keep = ~np.isin(self.chunk_ids, np.fromiter(removed, dtype=np.int64))
        return self.vectors[keep], self.chunk_ids[keep]

    def save(self, generation: Path) -> None:
        np.save(generation / VECTORS_NAME, self.vectors)
        np.save(generation / CHUNK_IDS_NAME, self.chunk_ids)
        faiss.write_index(self.index, str(generation / FAISS_NAME))

    @classmethod
    def load(cls, generation: Path) -> "DenseIndex":
        vectors = np.load(generation / VECTORS_NAME, mmap_mode="r")
        chunk_ids = np.load(generation / CHUNK_IDS_NAME)
        index = faiss.read_index(str(generation / FAISS_NAME))
        return cls(vectors, chunk_ids, index)

    def search(self, query_vector: np.ndarray, k: int) -> Hits:
        """The `k` nearest chunks' ids and cosine scores, best first."""
        if self.index.ntotal == 0:
            return no_hits()
        count = min(k, self.index.ntotal)
        scores, positions = self.index.search(
            np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32), count
        )
        found = positions[0] >= 0  # faiss pads with -1 when HNSW finds fewer than asked
        return self.chunk_ids[positions[0][found]], scores[0][found].astype(np.float64)


@dataclass(frozen=True)
class DenseSlot:
    """One bi-encoder's dense index: the main one at the generation's top, extras below it."""

    key: str  # its name among the retrievers (in rankings and result scores)
    directory: str  # relative to the generation; "" for the main one
    embedder: "Embedder"

    def reads(self, text: str) -> bool:
        return can_read(self.embedder.languages, text)
