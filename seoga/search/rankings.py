"""Chunk hits → document rankings, on numpy arrays: a document scores its best chunk."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from seoga.index.hits import Hits

# Where no chunk has the id (ids of removed chunks are not reused).
NO_DOCUMENT = -1


@dataclass(frozen=True)
class ChunkDocuments:
    """Which document each chunk belongs to: chunk id → document number → document id."""

    doc_ids: list[str]
    numbers: np.ndarray  # indexed by chunk id

    @classmethod
    def from_mapping(cls, chunk_documents: Mapping[int, str]) -> "ChunkDocuments":
        doc_ids = list(dict.fromkeys(chunk_documents.values()))
        number = {doc_id: position for position, doc_id in enumerate(doc_ids)}
        numbers = np.full(max(chunk_documents, default=-1) + 1, NO_DOCUMENT, dtype=np.int64)
        numbers[np.fromiter(chunk_documents, dtype=np.int64, count=len(chunk_documents))] = (
            np.fromiter(
                map(number.__getitem__, chunk_documents.values()),
                dtype=np.int64,
                count=len(chunk_documents),
            )
        )
        return cls(doc_ids, numbers)

    def ids(self, numbers: np.ndarray) -> list[str]:
        return [self.doc_ids[number] for number in numbers.tolist()]


@dataclass(frozen=True)
class Ranking:
    """One retriever's documents, best first: their numbers, their best chunk's score and id."""

    documents: np.ndarray
    scores: np.ndarray
    chunks: np.ndarray

    @classmethod
    def collapse(
        cls, chunk_ids: np.ndarray, scores: np.ndarray, chunk_documents: ChunkDocuments
    ) -> "Ranking":
        """From chunk hits sorted best first: each document at its first (best) chunk."""
        documents = chunk_documents.numbers[chunk_ids]
        _, first = np.unique(documents, return_index=True)
        first.sort()
        return cls(documents[first], scores[first], chunk_ids[first])

    def as_mapping(self, chunk_documents: ChunkDocuments) -> dict[str, float]:
        """{document id: score}, best first."""
        return dict(zip(chunk_documents.ids(self.documents), self.scores.tolist(), strict=True))


@dataclass
class Retrieval:
    """What each retriever found for one query, by document, before fusion."""

    mode: str
    terms: list[str]
    documents: ChunkDocuments | None = None  # None: the collection is empty
    found: dict[str, Ranking] = field(default_factory=dict)  # BM25 first, when it ran
    chunk_hits: dict[str, int] = field(default_factory=dict)  # chunks each retriever returned

    def add(self, name: str, hits: Hits) -> None:
        """A retriever's chunk hits (best first), collapsed to documents."""
        chunk_ids, scores = hits
        self.found[name] = Ranking.collapse(chunk_ids, scores, self.documents)
        self.chunk_hits[name] = chunk_ids.size
        self.__dict__.pop("rankings", None)

    @cached_property
    def rankings(self) -> dict[str, dict[str, float]]:
        """Each retriever's {document id: score}, best first."""
        return {name: found.as_mapping(self.documents) for name, found in self.found.items()}

    def details(self, numbers: np.ndarray) -> list[tuple[int, dict[str, float]]]:
        """For each document number: the chunk its snippet comes from and every retriever's
        score for it. The chunk is the first retriever's to find it: BM25's, which matched
        the words, when BM25 found the document."""
        positions = {
            name: _positions(found.documents, numbers) for name, found in self.found.items()
        }
        details = []
        for index in range(numbers.size):
            seen = [
                (name, int(where[index])) for name, where in positions.items() if where[index] >= 0
            ]
            chunk = int(self.found[seen[0][0]].chunks[seen[0][1]])
            details.append((chunk, {name: float(self.found[name].scores[at]) for name, at in seen}))
        return details


def _positions(documents: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Where each of `numbers` stands in `documents` (-1: not there)."""
    if not documents.size:
        return np.full(numbers.size, NO_DOCUMENT)
    hit = documents[:, None] == numbers[None, :]
    return np.where(hit.any(axis=0), hit.argmax(axis=0), NO_DOCUMENT)
