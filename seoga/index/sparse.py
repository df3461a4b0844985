"""BM25 over analyzer tokens, via bm25s; rebuilt from the store's tokens on every write."""

import logging
from collections.abc import Iterable
from pathlib import Path

import bm25s
import numpy as np

from seoga.index.hits import Hits, no_hits

SPARSE_DIR = "sparse"
CHUNK_IDS_NAME = "chunk_ids.npy"
DEFAULT_METHOD = "lucene"
# Lucene's own BM25Similarity defaults.
DEFAULT_K1 = 1.2
DEFAULT_B = 0.75

# bm25s logs a line per load/save; seoga shows its own progress instead.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class SparseIndex:
    """Scores chunks for a list of query tokens; chunk ids are the store's."""

    def __init__(self, retriever: bm25s.BM25 | None, chunk_ids: np.ndarray) -> None:
        self.retriever = retriever
        self.chunk_ids = chunk_ids
        self.vocabulary: dict[str, int] = retriever.vocab_dict if retriever else {}

    @classmethod
    def build(
        cls,
        chunks: Iterable[tuple[int, list[str]]],
        *,
        method: str = DEFAULT_METHOD,
        k1: float = DEFAULT_K1,
        b: float = DEFAULT_B,
        show_progress: bool = False,
    ) -> "SparseIndex":
        ids: list[int] = []
        corpus: list[list[str]] = []
        for chunk_id, tokens in chunks:
            ids.append(chunk_id)
            corpus.append(tokens)
        if not corpus:
            return cls(None, np.empty(0, dtype=np.int64))
        retriever = bm25s.BM25(method=method, k1=k1, b=b)
        retriever.index(corpus, show_progress=show_progress)
        return cls(retriever, np.asarray(ids, dtype=np.int64))

    def save(self, generation: Path) -> None:
        directory = generation / SPARSE_DIR
        directory.mkdir(exist_ok=True)
        np.save(directory / CHUNK_IDS_NAME, self.chunk_ids)
        if self.retriever is not None:
            self.retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, generation: Path) -> "SparseIndex":
        directory = generation / SPARSE_DIR
        chunk_ids = np.load(directory / CHUNK_IDS_NAME)
        if chunk_ids.size == 0:
            return cls(None, chunk_ids)
        retriever = bm25s.BM25.load(str(directory), mmap=False, show_progress=False)
        return cls(retriever, chunk_ids)

    def search(self, tokens: list[str], k: int) -> Hits:
        """The `k` best chunks' ids and BM25 scores, best first; only positive scores."""
        known = [token for token in tokens if token in self.vocabulary]
        if not known or self.retriever is None:
            return no_hits()
        scores = self.retriever.get_scores(known)
        # Only chunks holding a query term score above 0: rank those alone, a small share of
        # a large collection for most queries.
        matched = np.flatnonzero(scores > 0)
        count = min(k, matched.size)
        if count == 0:
            return no_hits()
        top = matched[np.argpartition(-scores[matched], count - 1)[:count]]
        top = top[np.argsort(-scores[top], kind="stable")]
        return self.chunk_ids[top], scores[top].astype(np.float64)
