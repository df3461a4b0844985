"""Ask a collection: hybrid retrieval → optional cross-encoder rerank → reader → answer with
numbered citations and a calibrated confidence, or an abstention below the threshold."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seoga.answer.base import Answer, Passage, Reader, TokenCallback
from seoga.answer.highlighter import Highlighter
from seoga.answer.particles import trim_particles
from seoga.calibrate.store import READERS, RERANKERS, find_calibration
from seoga.calibrate.temperature import TemperatureScaling
from seoga.collection import Collection

if TYPE_CHECKING:
    from seoga.rerank.model import Reranker

DEFAULT_PASSAGES = 5
DEFAULT_RERANK_DEPTH = 20
# With no fitted calibration nothing is withheld: only a fitted threshold means something.
UNCALIBRATED_THRESHOLD = 0.0


@dataclass
class AskSettings:
    passages: int = DEFAULT_PASSAGES  # read by the reader
    rerank_depth: int = DEFAULT_RERANK_DEPTH  # retrieved for the reranker to reorder
    mode: str | None = None  # retrieval mode; the collection's default (hybrid) when None
    threshold: float | None = None  # overrides the calibrated abstention threshold
    trim_particles: bool = True  # Korean answers lose trailing particles (seoga.answer.particles)


class Asker:
    """Answers questions from one collection with one reader (and optionally a reranker)."""

    def __init__(
        self,
        collection: Collection | str | Path,
        reader: Reader | None = None,
        *,
        reranker: "Reranker | None" = None,
        settings: AskSettings | None = None,
    ) -> None:
        self.collection = (
            collection if isinstance(collection, Collection) else Collection.open(collection)
        )
        if reader is None:
            reader = Highlighter(self.collection.analyzer, self.collection.embedder)
        self.reader = reader
        self.reranker = reranker
        if reranker is not None:
            fitted = find_calibration(self.collection.root, RERANKERS, reranker.calibration_key)
            if fitted is not None:
                reranker.scaling = fitted.scaling
        self.settings = settings or AskSettings()
        self.calibration = find_calibration(self.collection.root, READERS, reader.calibration_key)

    @property
    def scaling(self) -> TemperatureScaling:
        return self.calibration.scaling if self.calibration else self.reader.default_scaling

    @property
    def threshold(self) -> float:
        if self.settings.threshold is not None:
            return self.settings.threshold
        return self.calibration.threshold if self.calibration else UNCALIBRATED_THRESHOLD

    def passages(self, question: str) -> list[Passage]:
        """The passages the reader gets: retrieved (and reranked), numbered from 1."""
        depth = self.settings.rerank_depth if self.reranker else self.settings.passages
        results = self.collection.search(question, k=depth, mode=self.settings.mode)
        stored = self.collection.store.chunks([hit.chunk_id for hit in results])
        passages = [
            Passage(
                number=rank,
                doc_id=hit.doc_id,
                title=hit.title,
                text=stored[hit.chunk_id].text,
                source=hit.source,
                score=hit.score,
                chunk_id=hit.chunk_id,
                section=hit.section,
            )
            for rank, hit in enumerate(results, start=1)
        ]
        if self.reranker is not None and passages:
            passages = self.reranker.rerank(question, passages)
        return passages[: self.settings.passages]

    def ask(self, question: str, *, on_token: TokenCallback | None = None) -> Answer:
        started = time.perf_counter()
        passages = self.passages(question)
        answer = self.read(question, passages, on_token=on_token)
        answer.seconds = time.perf_counter() - started
        return answer

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        """Run the reader on given passages and apply calibration and the threshold."""
        answer = (
            self.reader.read(question, passages, on_token=on_token)
            if passages
            else self.reader.no_passages(question)
        )
        answer.passages = list(passages)
        if self.settings.trim_particles:
            trim_particles(answer)
        answer.confidence = (
            self.scaling.confidence(answer.scores, answer.support) if answer.scores else 0.0
        )
        answer.calibrated = self.calibration is not None
        answer.threshold = self.threshold
        answer.abstained = not answer.text or answer.confidence < self.threshold
        return answer
