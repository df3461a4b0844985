"""Committing a write: the writer lock, and one new generation built beside the live one
(store, BM25, dense indexes, manifest) from the pipeline's processed batches, made live by one
rename.

`Committer` is what the parts that change a collection share (seoga.collection.writing adds and
removes documents, seoga.collection.configuring changes its models and settings): given the
`CollectionState`, it holds the writer lock and writes generations for them. Loading,
chunking, analysing and encoding go through seoga.parallel's pipeline (here, in local processes
or on Dask); this process alone writes, handing out chunk ids in batch order (`NewChunks`).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seoga.collection.reports import IndexReport
from seoga.collection.state import CollectionState
from seoga.index.dense import DenseIndex, DenseSlot
from seoga.index.generations import GenerationWriter, remove_unreferenced, writer_lock
from seoga.index.manifest import read_manifest
from seoga.index.roots import ROOTS_KEY, roots_of, with_roots
from seoga.index.sparse import SparseIndex
from seoga.index.store import STORE_NAME, Store
from seoga.parallel.executors import InProcess
from seoga.parallel.pipeline import MODELS, FileTask, IngestSpec, Processed
from seoga.progress import track
from seoga.text.documents import LoadProblem
from seoga.text.loaders import ReadOptions
from seoga.version import __version__

if TYPE_CHECKING:
    from seoga.parallel.executors import Executor


class NewChunks:
    """The chunks one write adds, across batches: ids handed out in order, and for each dense
    slot the ids and vectors of the chunks its model read."""

    def __init__(self, first_id: int, slots: list[str]) -> None:
        self.next_id = first_id
        self.count = 0
        self.documents = 0
        self._ids: dict[str, list[np.ndarray]] = {key: [] for key in slots}
        self._vectors: dict[str, list[np.ndarray]] = {key: [] for key in slots}

    def take(self, count: int) -> list[int]:
        ids = list(range(self.next_id, self.next_id + count))
        self.next_id += count
        self.count += count
        return ids

    def keep(self, processed: Processed, positions: list[int], ids: list[int]) -> None:
        """Keep the vectors of the batch's chunks at `positions`, now numbered `ids`."""
        numbered = np.full(len(processed.chunks), -1, dtype=np.int64)
        numbered[np.asarray(positions, dtype=np.int64)] = ids
        for key, (readable, vectors) in processed.vectors.items():
            chosen = numbered[readable]
            kept = chosen >= 0
            self._ids[key].append(chosen[kept])
            self._vectors[key].append(vectors[kept])

    def vectors_of(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        if not self._ids[key]:
            return self.nothing()
        return np.concatenate(self._ids[key]), np.concatenate(self._vectors[key])

    @staticmethod
    def nothing() -> tuple[np.ndarray, np.ndarray]:
        """No ids and no vectors (of any width: the index reshapes them to its own)."""
        return np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=np.float32)


class Committer:
    """The writer lock and the commit of one new generation of a collection."""

    def __init__(self, state: CollectionState) -> None:
        self.state = state

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock, working from the live manifest (another process may have
        committed since this object was opened: building on a stale one would undo that)."""
        with writer_lock(self.state.root):
            live = read_manifest(self.state.root)
            if live.get("generation") != self.state.manifest.get("generation"):
                self.state.reload(live)
            remove_unreferenced(self.state.root, live.get("generation"))
            yield

    def ingest_spec(self, read_options: ReadOptions | None = None) -> IngestSpec:
        """What a worker needs to process this collection's batches."""
        return IngestSpec(
            read=read_options or ReadOptions(),
            analyzer=self.state.manifest["analyzer"],
            chunk_tokens=self.state.settings.chunk_tokens,
            chunk_overlap=self.state.settings.chunk_overlap,
            embedders=tuple(
                zip(
                    [slot.key for slot in self.state.dense_slots],
                    self.state.model_names(),
                    strict=True,
                )
            ),
        )

    def _recorded_roots(self, known: dict[str, str], added: Sequence[Path]) -> list[dict]:
        """The manifest's roots with `added` after them; a collection indexed before roots were
        recorded first records the folder its files share."""
        return with_roots(roots_of(self.state.manifest, lambda: known), added)

    def write(
        self,
        batches: list[list[FileTask]],
        gone: list[str],
        report: IndexReport,
        executor: "Executor | None",
        show_progress: bool,
        read_options: ReadOptions | None = None,
        roots: Sequence[Path] = (),
    ) -> None:
        """Process the batches (on `executor`) and commit them, less the `gone` files, as one
        new generation, in batch order; nothing is written when nothing changed. `roots`, the
        folders and files the batches were found under, are recorded with their labels."""
        spec = self.ingest_spec(read_options)
        # Work done in this process uses the models already loaded here.
        for slot, name in zip(self.state.dense_slots, self.state.model_names(), strict=True):
            MODELS.remember(name, slot.embedder)
        executor = executor or InProcess()
        known = self.state.file_hashes()
        writer = GenerationWriter(self.state.root, self.state.manifest.get("generation"))
        try:
            live_store = self.state.generation / STORE_NAME if self.state.generation else None
            store = Store.copy(live_store, writer.path / STORE_NAME)
            removed_ids = set(store.remove_files(gone))
            new = NewChunks(store.next_chunk_id(), [slot.key for slot in self.state.dense_slots])
            results = executor.map(spec, batches)
            for processed in track(results, "indexing", total=len(batches), enabled=show_progress):
                removed_ids |= self._insert(store, processed, known, new, report)
            if not (report.added or report.updated or gone):
                writer.abort()
                store.close()
                return
            store.commit()
            SparseIndex.build(
                store.iter_chunk_tokens(),
                method=self.state.settings.bm25.method,
                k1=self.state.settings.bm25.k1,
                b=self.state.settings.bm25.b,
            ).save(writer.path)
            counts = store.counts()
            store.close()
            for slot in self.state.dense_slots:
                previous = self.state.dense_indexes[slot.key] if self.state.generation else None
                self.save_dense(writer.path, slot, *new.vectors_of(slot.key), previous, removed_ids)
            manifest = {
                **self.state.manifest,
                "seoga_version": __version__,
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                "embedder": self.state.embedder.spec() if self.state.embedder else None,
                "extra_embedders": [slot.embedder.spec() for slot in self.state.dense_slots[1:]],
                "counts": counts,
                ROOTS_KEY: self._recorded_roots(known, roots),
            }
            writer.commit(manifest)
        except BaseException:
            writer.abort()
            raise
        self.state.reload({**manifest, "generation": writer.name})
        report.documents, report.chunks = new.documents, new.count

    def _insert(
        self,
        store: Store,
        processed: Processed,
        known: dict[str, str],
        new: NewChunks,
        report: IndexReport,
    ) -> set[int]:
        """Store one batch's files, documents and chunks (ids from `new`); return the chunk ids
        of the files' earlier versions, now removed."""
        report.problems += processed.problems
        removed: set[int] = set()
        start = 0
        for loaded in processed.files:
            runs = loaded.chunk_runs
            if not loaded.documents:
                start += sum(runs)
                continue
            key = loaded.task.path
            (report.updated if key in known else report.added).append(key)
            removed |= set(store.remove_files([key]))
            store.add_file(key, loaded.task.sha256, loaded.task.size)
            for document, run in zip(loaded.documents, runs, strict=True):
                owner = store.document_file(document.doc_id)
                if owner is not None:
                    report.problems.append(
                        LoadProblem(
                            document.source,
                            f"document id {document.doc_id!r} is already indexed from {owner}; "
                            "skipped (give it a unique id)",
                        )
                    )
                else:
                    store.add_document(key, document)
                    new.documents += 1
                    positions = range(start, start + run)
                    ids = new.take(run)
                    store.add_chunks(
                        ids,
                        [processed.chunks[i] for i in positions],
                        [processed.tokens[i] for i in positions],
                    )
                    new.keep(processed, positions, ids)
                start += run
        return removed

    def save_dense(
        self,
        generation: Path,
        slot: DenseSlot,
        new_ids: np.ndarray,
        new_vectors: np.ndarray,
        previous: DenseIndex | None,
        removed_ids: set[int],
    ) -> None:
        """Save the slot's index in the new generation: the previous index's vectors less the
        removed chunks, plus the new chunks' vectors."""
        if previous is not None:
            old_vectors, old_ids = previous.without(removed_ids)
        else:
            old_vectors = np.empty((0, slot.embedder.dim), dtype=np.float32)
            old_ids = np.empty(0, dtype=np.int64)
        directory = generation / slot.directory
        directory.mkdir(exist_ok=True)
        DenseIndex.build(
            np.concatenate([old_vectors, new_vectors.reshape(-1, slot.embedder.dim)]),
            np.concatenate([old_ids, new_ids]),
            kind=self.state.settings.dense_index,
            previous=previous if not removed_ids else None,
        ).save(directory)
