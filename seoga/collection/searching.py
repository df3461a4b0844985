"""Searching a collection: each retriever's candidates, their fusion, and results with
snippets. `Searcher` reads a `CollectionState` (seoga.collection.state) and never changes it."""

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from seoga.collection.state import CollectionState
from seoga.errors import InputError
from seoga.index.dense import DenseSlot
from seoga.index.hits import Hits, no_hits
from seoga.search.filters import DocumentFilter
from seoga.search.fusion import DENSE, SPARSE, FusionSettings, fuse_arrays
from seoga.search.rankings import Retrieval
from seoga.search.results import SearchResult
from seoga.search.snippets import find_highlights, make_snippet

MODES = ("hybrid", SPARSE, DENSE)
MAX_QUERY_CHARS = 2_000
# Each retriever proposes this many chunks per wanted result, so that enough distinct
# documents survive when several chunks of one document score high.
CANDIDATES_PER_RESULT = 3
# ... and at least this many: the fused top k then does not depend on k, and z-scores are taken
# over lists long enough to be stable (chosen by measurement, BENCHMARKS.md "Retrieval quality").
FUSION_DEPTH = 1000
# A single retriever's list goes this many times deeper when chunks of too few documents fill it.
DEEPEN_FACTOR = 4


def candidate_depth(k: int) -> int:
    """How many chunks each retriever proposes when `k` documents are wanted."""
    return max(FUSION_DEPTH, k * CANDIDATES_PER_RESULT)


def validate_query(query: str) -> str:
    query = query.strip()
    if not query:
        raise InputError("the query is empty; type some words to search for.")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(
            f"the query has {len(query):,} characters; shorten it to at most "
            f"{MAX_QUERY_CHARS:,} (search takes a question or keywords, not a document)."
        )
    return query


class Searcher:
    """Search, retrieve and fuse over a collection's live generation."""

    def __init__(self, state: CollectionState) -> None:
        self.state = state
        # (the pid that made it, the pool): see `query_threads`.
        self._query_pool: tuple[int, ThreadPoolExecutor] | None = None

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: str | None = None,
        offset: int = 0,
        fusion: FusionSettings | None = None,
        where: DocumentFilter | None = None,
    ) -> list[SearchResult]:
        """The `k` best documents for `query` after the first `offset`, each with its best chunk
        as a snippet; `fusion` replaces the collection's for this search, `where` filters."""
        if k <= 0:
            raise InputError("k must be a positive number of results.")
        if offset < 0:
            raise InputError("offset must be 0 or more.")
        mode = self._mode(mode)
        wanted = offset + k
        if mode == "hybrid" or where is not None:
            retrieval = self.retrieve(query, mode=mode, depth=candidate_depth(wanted))
        else:
            retrieval = self._retrieve_alone(query, mode, wanted)
        documents, scores = self._fused(retrieval, fusion)
        order = np.argsort(-scores, kind="stable")  # stable: ties keep the lists' order
        if where is not None and order.size:
            order = order[where.keeps(self.state.store, retrieval.documents.ids(documents[order]))]
        top = order[offset:wanted]
        return self._results(documents[top], scores[top], retrieval)

    def retrieve(
        self, query: str, *, mode: str | None = None, depth: int = FUSION_DEPTH
    ) -> Retrieval:
        """Each retriever's documents for `query` (up to `depth` chunks each), before fusion."""
        query = validate_query(query)
        mode = self._mode(mode)
        retrieval = self._new_retrieval(query, mode)
        if retrieval.documents is None:
            return retrieval
        wanted = [
            slot
            for slot in self.state.dense_slots
            if (mode == "hybrid" or (mode == DENSE and slot.key == DENSE))
            # An extra model that cannot read the query sits this one out.
            and (slot.key == DENSE or slot.reads(query))
        ]
        # Each model encodes and searches in its own thread, beside BM25 in this one: ONNX
        # Runtime, PyTorch and faiss release the GIL, so the work overlaps on the cores.
        searches = [
            (slot.key, self.query_threads.submit(self._dense_search, slot, query, depth))
            for slot in wanted
        ]
        if mode in ("hybrid", SPARSE):
            retrieval.add(SPARSE, self.state.sparse.search(retrieval.terms, depth))
        for key, search in searches:
            retrieval.add(key, search.result())
        return retrieval

    @property
    def default_mode(self) -> str:
        """Hybrid when there is a dense index, else BM25."""
        return "hybrid" if self.state.settings.embedder else SPARSE

    def _mode(self, mode: str | None) -> str:
        """The search mode asked for, checked; hybrid by default when there is a dense index."""
        mode = mode or self.default_mode
        if mode not in MODES:
            raise InputError(f"search mode must be one of {', '.join(MODES)}, not {mode!r}.")
        if mode != SPARSE and self.state.settings.embedder is None:
            raise InputError(
                f"{self.state.root} has no dense index (made with --embedder none); "
                "use --mode bm25."
            )
        return mode

    def _new_retrieval(self, query: str, mode: str) -> Retrieval:
        """An empty retrieval: the query terms, and the chunk map unless nothing is indexed."""
        retrieval = Retrieval(mode=mode, terms=self.state.analyzer.tokenize(query))
        if self.state.generation is not None:
            retrieval.documents = self.state.chunk_map
        return retrieval

    def _retrieve_alone(self, query: str, mode: str, k: int) -> Retrieval:
        """One retriever's chunks, only as deep as its top `k` documents need.

        A document scores its best chunk, so the first `k` distinct documents of the chunk list
        are the top `k` at any depth: the list goes deeper only while it is full and holds
        fewer documents (several chunks of one document ranked high). The query is analysed or
        encoded once; only the index search is repeated.
        """
        query = validate_query(query)
        retrieval = self._new_retrieval(query, mode)
        if retrieval.documents is None:
            return retrieval
        if mode == SPARSE:
            search = partial(self.state.sparse.search, retrieval.terms)
        else:
            search = partial(
                self.state.dense.search, self.state.embedder.encode_queries([query])[0]
            )
        depth = k * CANDIDATES_PER_RESULT
        while True:
            retrieval.add(mode, search(depth))
            if retrieval.chunk_hits[mode] < depth or retrieval.found[mode].documents.size >= k:
                return retrieval
            depth *= DEEPEN_FACTOR

    def _dense_search(self, slot: DenseSlot, query: str, depth: int) -> Hits:
        vector = slot.embedder.encode_queries([query])[0]
        return self.state.dense_indexes[slot.key].search(vector, depth)

    @property
    def query_threads(self) -> ThreadPoolExecutor:
        """Threads for the query encoders, one per model; made anew in a forked child, where
        the parent's threads do not exist (a server that forks its workers after a search)."""
        if self._query_pool is None or self._query_pool[0] != os.getpid():
            pool = ThreadPoolExecutor(
                max_workers=max(1, len(self.state.dense_slots)), thread_name_prefix="seoga-query"
            )
            self._query_pool = (os.getpid(), pool)
        return self._query_pool[1]

    def combine(
        self, retrieval: Retrieval, fusion: FusionSettings | None = None
    ) -> dict[str, float]:
        """One score per document: the single retriever's, or the fusion of them all."""
        if retrieval.documents is None:
            return {}
        documents, scores = self._fused(retrieval, fusion)
        return dict(zip(retrieval.documents.ids(documents), scores.tolist(), strict=True))

    def _fused(
        self, retrieval: Retrieval, fusion: FusionSettings | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`combine` on arrays: document numbers and their scores."""
        if retrieval.mode != "hybrid" or not retrieval.found:
            found = retrieval.found.get(retrieval.mode)
            return (found.documents, found.scores) if found else no_hits()
        fusion = fusion or self.state.settings.fusion
        return fuse_arrays(
            {name: (found.documents, found.scores) for name, found in retrieval.found.items()},
            fusion.weights(list(retrieval.found)),
            method=fusion.method,
            normalization=fusion.normalization,
            rrf_k=fusion.rrf_k,
        )

    def _results(
        self, top: np.ndarray, scores: np.ndarray, retrieval: Retrieval
    ) -> list[SearchResult]:
        if not top.size:
            return []
        details = retrieval.details(top)
        stored = self.state.store.chunks([chunk for chunk, _ in details])
        chunks = [stored[chunk] for chunk, _ in details]
        marks = find_highlights(
            [chunk.text for chunk in chunks], set(retrieval.terms), self.state.analyze_word
        )
        results = []
        for doc_id, score, chunk, (_, by_retriever), highlights in zip(
            retrieval.documents.ids(top), scores.tolist(), chunks, details, marks, strict=True
        ):
            snippet, highlights = make_snippet(chunk.text, highlights)
            results.append(
                SearchResult(
                    doc_id=doc_id,
                    title=chunk.title,
                    source=chunk.source,
                    score=score,
                    snippet=snippet,
                    chunk_id=chunk.chunk_id,
                    highlights=highlights,
                    scores=by_retriever,
                    section=chunk.section,
                )
            )
        return results
