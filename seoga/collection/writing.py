"""Writing a collection: add, replace and remove documents, change its models; each change
is one new generation, written beside the live one and made live by one rename.

`Writing` is the half of `Collection` that changes it (the other, `Searching`, reads): it works
on the collection's manifest, settings and loaded models. Loading, chunking, analysing and
encoding go through seoga.parallel's pipeline (here, in local processes or on Dask); this
process alone writes.
"""

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seoga.atomic import write_json_atomic
from seoga.errors import InputError
from seoga.index.dense import DenseIndex, DenseSlot
from seoga.index.generations import (
    MANIFEST_NAME,
    GenerationWriter,
    remove_unreferenced,
    writer_lock,
)
from seoga.index.manifest import read_manifest
from seoga.index.roots import ROOTS_KEY, derived_roots, with_roots
from seoga.index.sparse import SparseIndex
from seoga.index.store import STORE_NAME, Store
from seoga.parallel.executors import InProcess
from seoga.parallel.pipeline import (
    MODELS,
    FileTask,
    IngestSpec,
    NewChunks,
    Processed,
    batch_size_for,
    batched,
)
from seoga.progress import track
from seoga.search.fusion import DENSE, FusionSettings
from seoga.settings import CollectionSettings
from seoga.text.documents import Document, LoadProblem, passage_text, require_text
from seoga.text.loaders import ReadOptions, discover, format_of
from seoga.text.scripts import can_read
from seoga.version import __version__

if TYPE_CHECKING:
    from seoga.parallel.executors import Executor

HASH_BLOCK_BYTES = 1 << 20
SKIPPED_SHOWN = 5


@dataclass
class IndexReport:
    """What one `add` did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files of a kind seoga does not read
    formats: dict[str, int] = field(default_factory=dict)  # files found, per format read
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @property
    def nothing_indexed(self) -> bool:
        """True when files were offered but none could be read (the CLI exits non-zero)."""
        return bool(self.problems) and not (self.added or self.updated or self.unchanged)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": len(self.unchanged),
            "removed": self.removed,
            "documents": self.documents,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "formats": self.formats,
            "problems": [str(problem) for problem in self.problems],
            "skipped": skipped_summary(self.skipped),
        }


def skipped_summary(paths: list[str]) -> dict[str, Any]:
    """Files not read, as a count per extension and the first few names."""
    by_suffix: dict[str, int] = {}
    for path in paths:
        suffix = Path(path).suffix.lower() or "(none)"
        by_suffix[suffix] = by_suffix.get(suffix, 0) + 1
    return {"count": len(paths), "by_extension": by_suffix, "first": paths[:SKIPPED_SHOWN]}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def is_under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


class Writing:
    """Adding, replacing and removing documents; mixed into `Collection`."""

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the writer lock, working from the live manifest (another process may have
        committed since this object was opened: building on a stale one would undo that)."""
        with writer_lock(self.root):
            live = read_manifest(self.root)
            if live.get("generation") != self.manifest.get("generation"):
                self._reload(live)
            remove_unreferenced(self.root, live.get("generation"))
            yield

    def add(
        self,
        paths: Iterable[str | Path],
        *,
        prune: bool = False,
        show_progress: bool = False,
        executor: "Executor | None" = None,
        batch_files: int | None = None,
        read_options: ReadOptions | None = None,
    ) -> IndexReport:
        """Index files and folders: new files are added, changed ones re-indexed, the rest kept.

        `read_options` say how files are read (OCR of scanned pages and images: see
        `seoga.text.formats.base.ReadOptions`); they apply to the files read in this call.

        With `prune`, files indexed earlier from under these paths that are gone are removed.
        Loading, chunking, analysing and encoding run on `executor` (this process when None:
        see seoga.parallel), `batch_files` files per task (by default sized so the executor's
        workers share the files evenly); this process writes the results.
        """
        started = time.perf_counter()
        report = IndexReport()
        roots = [Path(path).resolve() for path in paths]
        with self._writing():
            known = self._file_hashes()
            tasks: list[FileTask] = []
            seen: set[str] = set()
            for root in roots:
                if not root.exists():
                    report.problems.append(LoadProblem(str(root), "no such file or folder"))
                    continue
                found = discover(root)
                report.skipped += found.skipped
                for file in track(found.files, "reading files", enabled=show_progress):
                    kind = format_of(file) or "other"
                    report.formats[kind] = report.formats.get(kind, 0) + 1
                    key = str(file)
                    seen.add(key)
                    task = self._changed(file, known, report)
                    if task is not None:
                        tasks.append(task)
            gone = (
                [key for key in known if key not in seen and is_under(Path(key), roots)]
                if prune
                else []
            )
            report.removed = gone
            if tasks or gone:
                size = batch_files or batch_size_for(
                    len(tasks), executor.workers if executor else InProcess.workers
                )
                self._write(
                    batched(tasks, size),
                    gone,
                    report,
                    executor,
                    show_progress,
                    read_options,
                    roots=[root for root in roots if root.exists()],
                )
        report.seconds = time.perf_counter() - started
        return report

    def add_documents(
        self, documents: Iterable[Document], *, source: str = "api", show_progress: bool = False
    ) -> IndexReport:
        """Index documents made in Python; `source` names them as one file would be named.

        Adding under the same `source` again replaces what was added under it before.
        """
        return self._put([(source, list(documents))], show_progress)

    def put_documents(
        self, documents: Iterable[Document], *, prefix: str, show_progress: bool = False
    ) -> IndexReport:
        """Index documents each under its own source, `prefix` + its id, in one generation:
        putting an id again replaces that document, `remove([prefix + id])` deletes it."""
        return self._put([(f"{prefix}{d.doc_id}", [d]) for d in documents], show_progress)

    def _put(self, groups: list[tuple[str, list[Document]]], show_progress: bool) -> IndexReport:
        """Write each (source, documents) group as one indexed file, unless unchanged."""
        # Blank texts make no chunk, so these documents could never be found: as files do.
        require_text(document for _, documents in groups for document in documents)
        started = time.perf_counter()
        report = IndexReport()
        with self._writing():
            known = self._file_hashes()
            pending = []
            for source, documents in groups:
                digest = hashlib.sha256(
                    json.dumps(
                        [(d.doc_id, d.title, d.text, d.metadata) for d in documents],
                        sort_keys=True,
                    ).encode()
                ).hexdigest()
                if known.get(source) == digest:
                    report.unchanged.append(source)
                    continue
                pending.append(FileTask(source, digest, len(documents), tuple(documents)))
            if pending:
                self._write([pending], [], report, None, show_progress)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, paths: Iterable[str | Path]) -> list[str]:
        """Remove files (or everything indexed from under folders) from every index."""
        with self._writing():
            known = self._file_hashes()
            removed: list[str] = []
            for path in paths:
                key = str(path) if str(path) in known else str(Path(path).resolve())
                matches = [k for k in known if k == key or is_under(Path(k), [Path(key)])]
                if not matches:
                    raise InputError(f"{path} is not in the collection {self.root}.")
                removed += matches
            self._write([], removed, IndexReport(removed=removed), None, False)
        return removed

    def change_embedder(self, name: str, *, show_progress: bool = False) -> int:
        """Re-encode every chunk with another main bi-encoder (say, one trained on this
        collection) in a new generation; chunks, BM25 and extra bi-encoders stay. Returns the
        number of chunks encoded."""
        from seoga.models.embedders import load_embedder

        embedder = load_embedder(name)
        settings = replace(self.settings, embedder=name)
        with self._writing():
            writer = GenerationWriter(self.root, self.manifest.get("generation"))
            try:
                live_store = self.generation / STORE_NAME if self.generation else None
                store = Store.copy(live_store, writer.path / STORE_NAME)
                stored = list(store.iter_chunks())
                bm25 = self.settings.bm25
                SparseIndex.build(
                    store.iter_chunk_tokens(), method=bm25.method, k1=bm25.k1, b=bm25.b
                ).save(writer.path)
                store.close()
                stored = [c for c in stored if can_read(embedder.languages, c.text)]
                texts = [passage_text(chunk.title, chunk.text, chunk.section) for chunk in stored]
                chunk_ids = np.asarray([chunk.chunk_id for chunk in stored], dtype=np.int64)
                vectors = (
                    embedder.encode_passages(texts, show_progress=show_progress)
                    if texts
                    else np.empty((0, embedder.dim), dtype=np.float32)
                )
                self._save_dense(
                    writer.path, DenseSlot(DENSE, "", embedder), chunk_ids, vectors, None, set()
                )
                for slot in self.dense_slots[1:]:
                    previous = self.dense_indexes[slot.key] if self.generation else None
                    self._save_dense(writer.path, slot, *NewChunks.nothing(), previous, set())
                manifest = {
                    **self.manifest,
                    "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                    "settings": settings.to_dict(),
                    "embedder": embedder.spec(),
                }
                writer.commit(manifest)
            except BaseException:
                writer.abort()
                raise
        self._reload({**manifest, "generation": writer.name})
        self.settings = settings
        self.__dict__.pop("dense_slots", None)
        self.__dict__["embedder"] = embedder
        return len(chunk_ids)

    def set_fusion(self, fusion: FusionSettings) -> None:
        """Store how searches fuse the retrievers (say, weights `seoga tune` chose). Fusion
        applies at search time, so nothing is re-indexed: only the manifest changes."""
        with self._writing():
            live = read_manifest(self.root)
            settings = replace(CollectionSettings.from_dict(live["settings"]), fusion=fusion)
            manifest = {
                **live,
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                "settings": settings.to_dict(),
            }
            write_json_atomic(self.root / MANIFEST_NAME, manifest)
        self.manifest = manifest
        self.settings = settings

    def _file_hashes(self) -> dict[str, str]:
        return self.store.file_hashes() if self.generation else {}

    def _changed(self, file: Path, known: dict[str, str], report: IndexReport) -> FileTask | None:
        """The file as a task when it is new or changed; unchanged and unreadable files are
        reported instead."""
        key = str(file)
        try:
            sha256, size = file_sha256(file), file.stat().st_size
        except OSError as error:
            report.problems.append(LoadProblem(key, f"cannot be read: {error.strerror}"))
            return None
        if known.get(key) == sha256:
            report.unchanged.append(key)
            return None
        return FileTask(key, sha256, size)

    def ingest_spec(self, read_options: ReadOptions | None = None) -> IngestSpec:
        """What a worker needs to process this collection's batches."""
        return IngestSpec(
            read=read_options or ReadOptions(),
            analyzer=self.manifest["analyzer"],
            chunk_tokens=self.settings.chunk_tokens,
            chunk_overlap=self.settings.chunk_overlap,
            embedders=tuple(
                zip([slot.key for slot in self.dense_slots], self._model_names(), strict=True)
            ),
        )

    def _model_names(self) -> list[str]:
        """The names the settings give the dense slots' models (what a worker loads)."""
        if self.embedder is None:
            return []
        return [self.settings.embedder, *self.settings.extra_embedders]

    def _recorded_roots(self, known: dict[str, str], added: Sequence[Path]) -> list[dict]:
        """The manifest's roots with `added` after them; a collection indexed before roots were
        recorded first records the folder its files share."""
        recorded = self.manifest.get(ROOTS_KEY)
        if recorded is None:
            recorded = with_roots([], derived_roots(known))
        return with_roots(recorded, added)

    def _write(
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
        for slot, name in zip(self.dense_slots, self._model_names(), strict=True):
            MODELS.remember(name, slot.embedder)
        executor = executor or InProcess()
        known = self._file_hashes()
        writer = GenerationWriter(self.root, self.manifest.get("generation"))
        try:
            live_store = self.generation / STORE_NAME if self.generation else None
            store = Store.copy(live_store, writer.path / STORE_NAME)
            removed_ids = set(store.remove_files(gone))
            new = NewChunks(store.next_chunk_id(), [slot.key for slot in self.dense_slots])
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
                method=self.settings.bm25.method,
                k1=self.settings.bm25.k1,
                b=self.settings.bm25.b,
            ).save(writer.path)
            counts = store.counts()
            store.close()
            for slot in self.dense_slots:
                previous = self.dense_indexes[slot.key] if self.generation else None
                self._save_dense(
                    writer.path, slot, *new.vectors_of(slot.key), previous, removed_ids
                )
            manifest = {
                **self.manifest,
                "seoga_version": __version__,
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                "embedder": self.embedder.spec() if self.embedder else None,
                "extra_embedders": [slot.embedder.spec() for slot in self.dense_slots[1:]],
                "counts": counts,
                ROOTS_KEY: self._recorded_roots(known, roots),
            }
            writer.commit(manifest)
        except BaseException:
            writer.abort()
            raise
        self._reload({**manifest, "generation": writer.name})
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

    def _save_dense(
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
            kind=self.settings.dense_index,
            previous=previous if not removed_ids else None,
        ).save(directory)
