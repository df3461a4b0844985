"""Ingestion as functions over batches: load, chunk, analyse and encode files into plain data.

`process_batch(spec, batch)` turns a batch of files into documents, chunks, BM25 tokens and
float32 vectors — nothing but dataclasses, lists and numpy arrays, so it runs the same in the
calling process, in a process pool or on a Dask worker. The models it needs are loaded once per
process from the names in the `IngestSpec` (never pickled into a task) and kept in this module.
The collection's writer, in the calling process, then gives chunk ids and commits the results
in batch order, so the collection is the same whoever did the work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seoga.text.analyzers import Analyzer, build_analyzer
from seoga.text.chunker import Chunker
from seoga.text.documents import Chunk, Document, LoadProblem, passage_text
from seoga.text.loaders import ReadOptions, load_file
from seoga.text.scripts import can_read

if TYPE_CHECKING:
    from seoga.models.embedders import Embedder

# Files per task at most: big enough that scheduling costs little beside the encoding, small
# enough that the progress moves.
DEFAULT_BATCH_FILES = 32
# Tasks per worker at least, when there are files enough: with a few big tasks the last one
# keeps a worker busy while the others wait (4 tasks of 32 files on 2 workers took 1.7× the
# time of one process); with 4 per worker, the idle tail is at most a quarter of a share.
TASKS_PER_WORKER = 4


@dataclass(frozen=True)
class IngestSpec:
    """What a worker needs to process batches for one collection (plain, picklable data)."""

    analyzer: dict[str, Any]
    chunk_tokens: int
    chunk_overlap: int
    embedders: tuple[tuple[str, str], ...] = ()  # (slot key, model name or path), main first
    read: ReadOptions = ReadOptions()

    @property
    def main_embedder(self) -> str | None:
        return self.embedders[0][1] if self.embedders else None


@dataclass(frozen=True)
class FileTask:
    """A file the writer found new or changed: where it is and what it was when hashed; or,
    with `documents`, records made in Python filed under `path` as one file would be."""

    path: str
    sha256: str
    size: int
    documents: tuple[Document, ...] | None = None


@dataclass
class LoadedFile:
    """One file's documents; `chunk_runs[i]` is how many chunks documents[i] has."""

    task: FileTask
    documents: list[Document] = field(default_factory=list)
    chunk_runs: list[int] = field(default_factory=list)


@dataclass
class Processed:
    """A batch's plain results: its files in order, their chunks (in document order), each
    chunk's BM25 tokens and indexed text, and per dense slot the positions of the chunks the
    slot's model read and their vectors."""

    files: list[LoadedFile] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)


class WorkerModels:
    """The analyzer and embedders of this process, loaded once per spec."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._analyzers: dict[str, Analyzer] = {}
        self._embedders: dict[str, Embedder] = {}

    def remember(self, name: str, embedder: Embedder) -> None:
        """An embedder already loaded here (the calling process shares its own)."""
        self._embedders[name] = embedder

    def embedder(self, name: str) -> Embedder:
        with self._lock:
            if name not in self._embedders:
                from seoga.models.embedders import load_embedder

                self._embedders[name] = load_embedder(name)
            return self._embedders[name]

    def analyzer(self, config: dict[str, Any]) -> Analyzer:
        key = repr(sorted(config.items()))
        with self._lock:
            if key not in self._analyzers:
                self._analyzers[key] = build_analyzer(config)
            return self._analyzers[key]

    def load(self, spec: IngestSpec) -> None:
        """Load everything `spec` names now (a worker does this when it starts)."""
        self.analyzer(spec.analyzer)
        for _, name in spec.embedders:
            self.embedder(name)


MODELS = WorkerModels()


def process_batch(spec: IngestSpec, batch: list[FileTask]) -> Processed:
    """Load, chunk, analyse and encode a batch of files."""
    out = Processed()
    documents: list[Document] = []
    for task in batch:
        if task.documents is not None:
            found = list(task.documents)
        else:
            loaded = load_file(Path(task.path), options=spec.read)
            out.problems += loaded.problems
            found = loaded.documents
        out.files.append(LoadedFile(task, found))
        documents += found
    main = MODELS.embedder(spec.main_embedder) if spec.main_embedder else None
    chunker = Chunker(
        max_tokens=spec.chunk_tokens,
        overlap_tokens=spec.chunk_overlap,
        count_tokens=main.count_tokens if main else None,
    )
    out.chunks = chunker.chunk_many(documents)
    runs = chunk_runs(documents, out.chunks)
    cursor = 0
    for loaded in out.files:
        loaded.chunk_runs = runs[cursor : cursor + len(loaded.documents)]
        cursor += len(loaded.documents)
    titles = [
        document.title for document, run in zip(documents, runs, strict=True) for _ in range(run)
    ]
    out.texts = [
        passage_text(title, chunk.text, chunk.section)
        for title, chunk in zip(titles, out.chunks, strict=True)
    ]
    out.tokens = MODELS.analyzer(spec.analyzer).tokenize_many(out.texts)
    for key, name in spec.embedders:
        embedder = MODELS.embedder(name)
        readable = np.asarray(
            [i for i, text in enumerate(out.texts) if can_read(embedder.languages, text)],
            dtype=np.int64,
        )
        vectors = (
            embedder.encode_passages([out.texts[i] for i in readable])
            if readable.size
            else np.empty((0, embedder.dim), dtype=np.float32)
        )
        out.vectors[key] = (readable, np.asarray(vectors, dtype=np.float32))
    return out


def chunk_runs(documents: list[Document], chunks: list[Chunk]) -> list[int]:
    """How many of `chunks` (made from `documents`, in order) belong to each document: a
    document's run starts at position 0 with its id; one with no text has none."""
    runs = [0] * len(documents)
    index = -1
    for chunk in chunks:
        if chunk.position == 0:
            index += 1
            while documents[index].doc_id != chunk.doc_id:
                index += 1
        runs[index] += 1
    return runs


def batched(tasks: list[FileTask], size: int) -> list[list[FileTask]]:
    return [tasks[start : start + size] for start in range(0, len(tasks), size)]


def batch_size_for(files: int, workers: int) -> int:
    """Files per task so that `workers` share `files` evenly, at most DEFAULT_BATCH_FILES."""
    spread = -(-files // (max(1, workers) * TASKS_PER_WORKER))
    return max(1, min(DEFAULT_BATCH_FILES, spread))
