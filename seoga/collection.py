"""A collection: one folder holding documents, their sparse and dense indexes, and a manifest."""

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seoga import __version__
from seoga.errors import CollectionError, InputError
from seoga.index.dense import DenseIndex
from seoga.index.generations import (
    MANIFEST_NAME,
    GenerationWriter,
    remove_unreferenced,
    write_json_atomic,
    writer_lock,
)
from seoga.index.hits import Hits, no_hits
from seoga.index.sparse import SparseIndex
from seoga.index.store import STORE_NAME, Store
from seoga.parallel.executors import InProcess
from seoga.parallel.pipeline import (
    DEFAULT_BATCH_FILES,
    MODELS,
    FileTask,
    IngestSpec,
    NewChunks,
    Processed,
    batched,
    passage_text,
)
from seoga.progress import track
from seoga.search.filters import DocumentFilter
from seoga.search.fusion import fuse_arrays
from seoga.search.rankings import ChunkDocuments, Retrieval
from seoga.search.results import SearchResult
from seoga.search.snippets import find_highlights, make_snippet
from seoga.settings import DENSE, SPARSE, CollectionSettings, FusionSettings
from seoga.text.analyzers import Analyzer, build_analyzer
from seoga.text.documents import Document, LoadProblem
from seoga.text.loaders import discover
from seoga.text.scripts import can_read

if TYPE_CHECKING:
    from seoga.models.embedders import Embedder
    from seoga.parallel.executors import Executor

# Bump when the on-disk layout changes; older layouts are refused with a clear message.
FORMAT_VERSION = 2
MODES = ("hybrid", SPARSE, DENSE)
EXTRA_DIR = "extra-{position}"
MAX_QUERY_CHARS = 2_000
# Each retriever proposes this many chunks per wanted result, so that enough distinct
# documents survive when several chunks of one document score high.
CANDIDATES_PER_RESULT = 3
# ... and at least this many: the fused top k then does not depend on k, and z-scores are taken
# over lists long enough to be stable (chosen by measurement, BENCHMARKS.md "Retrieval quality").
FUSION_DEPTH = 1000
# A single retriever's list goes this many times deeper when chunks of too few documents fill it.
DEEPEN_FACTOR = 4
HASH_BLOCK_BYTES = 1 << 20
SKIPPED_SHOWN = 5
WORD_CACHE_SIZE = 100_000
# What `reopened` carries over from the object it was made from (its loaded state).
SHARED_MODELS = ("embedder", "dense_slots")
SHARED_ANALYZER = ("analyzer", "analyze_word")


@dataclass
class IndexReport:
    """What one `add` did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files of a kind seoga does not read
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
            "problems": [str(problem) for problem in self.problems],
            "skipped": skipped_summary(self.skipped),
        }


@dataclass(frozen=True)
class DenseSlot:
    """One bi-encoder's dense index: the main one at the generation's top, extras below it."""

    key: str  # its name among the retrievers (in rankings and result scores)
    directory: str  # relative to the generation; "" for the main one
    embedder: "Embedder"

    def reads(self, text: str) -> bool:
        return can_read(self.embedder.languages, text)


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


def candidate_depth(k: int) -> int:
    """How many chunks each retriever proposes when `k` documents are wanted."""
    return max(FUSION_DEPTH, k * CANDIDATES_PER_RESULT)


class Collection:
    """Index a folder of documents and search it: `create`/`open`, `add`, `remove`, `search`."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        self.settings = CollectionSettings.from_dict(manifest["settings"])
        # (the pid that made it, the pool): see `_query_threads`.
        self._query_pool: tuple[int, ThreadPoolExecutor] | None = None

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def create(
        cls, path: str | Path, settings: CollectionSettings | None = None, *, exist_ok: bool = False
    ) -> "Collection":
        """Make a new, empty collection folder (or open it when `exist_ok` and it exists)."""
        root = Path(path)
        if (root / MANIFEST_NAME).exists():
            if exist_ok:
                return cls.open(root)
            raise CollectionError(f"{root} already holds a collection; open it instead.")
        if root.exists() and any(root.iterdir()):
            raise CollectionError(f"{root} is a non-empty folder that is not a seoga collection.")
        root.mkdir(parents=True, exist_ok=True)
        settings = settings or CollectionSettings()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {
            "format": FORMAT_VERSION,
            "seoga_version": __version__,
            "created": now,
            "updated": now,
            "generation": None,
            "settings": settings.to_dict(),
            "analyzer": build_analyzer(settings.analyzer).config(),
            "embedder": None,
            "extra_embedders": [],
            "counts": {"files": 0, "documents": 0, "chunks": 0},
        }
        write_json_atomic(root / MANIFEST_NAME, manifest)
        return cls(root, manifest)

    @classmethod
    def open(cls, path: str | Path) -> "Collection":
        root = Path(path)
        return cls(root, read_manifest(root))

    def reopened(self) -> "Collection":
        """This collection at its live generation (another writer may have committed since),
        sharing the models and analyzer already loaded here when the settings still name them:
        a server follows new generations this way without loading its models again."""
        fresh = Collection.open(self.root)
        same_models = (fresh.settings.embedder, fresh.settings.extra_embedders) == (
            self.settings.embedder,
            self.settings.extra_embedders,
        )
        shared = (SHARED_MODELS if same_models else ()) + (
            SHARED_ANALYZER if fresh.manifest["analyzer"] == self.manifest["analyzer"] else ()
        )
        for name in shared:
            if name in self.__dict__:
                fresh.__dict__[name] = self.__dict__[name]
        return fresh

    @property
    def generation(self) -> Path | None:
        name = self.manifest.get("generation")
        return self.root / name if name else None

    @cached_property
    def analyzer(self) -> Analyzer:
        return build_analyzer(self.manifest["analyzer"])

    @cached_property
    def analyze_word(self) -> Callable[[str], list[str]]:
        """The analyzer on single words, memoised: snippets look at the same words often."""
        return lru_cache(maxsize=WORD_CACHE_SIZE)(self.analyzer.tokenize)

    @cached_property
    def embedder(self) -> "Embedder | None":
        name = self.settings.embedder
        if not name:
            return None
        # torch loads only when a dense model is needed: BM25-only work starts fast.
        from seoga.models.embedders import load_embedder

        return load_embedder(name)

    @cached_property
    def dense_slots(self) -> list[DenseSlot]:
        """Every bi-encoder with its index place: the main one first, then the extras."""
        if self.embedder is None:
            return []
        from seoga.models.embedders import load_embedder

        slots = [DenseSlot(DENSE, "", self.embedder)]
        for position, name in enumerate(self.settings.extra_embedders):
            embedder = load_embedder(name)
            slots.append(
                DenseSlot(
                    f"{DENSE}:{Path(embedder.name).name}",
                    EXTRA_DIR.format(position=position),
                    embedder,
                )
            )
        return slots

    @cached_property
    def store(self) -> Store:
        return Store(self.generation / STORE_NAME, read_only=True)

    @cached_property
    def sparse(self) -> SparseIndex:
        return SparseIndex.load(self.generation)

    @cached_property
    def dense_indexes(self) -> dict[str, DenseIndex]:
        return {
            slot.key: DenseIndex.load(self.generation / slot.directory) for slot in self.dense_slots
        }

    @property
    def dense(self) -> DenseIndex:
        """The main bi-encoder's index."""
        return self.dense_indexes[DENSE]

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

    def _reload(self, manifest: dict[str, Any]) -> None:
        for name in ("store", "sparse", "dense_indexes", "chunk_documents", "chunk_map"):
            cached = self.__dict__.pop(name, None)
            if isinstance(cached, Store):
                cached.close()
        self.manifest = manifest

    # ---- writing -------------------------------------------------------------------------

    def add(
        self,
        paths: Iterable[str | Path],
        *,
        prune: bool = False,
        show_progress: bool = False,
        executor: "Executor | None" = None,
        batch_files: int = DEFAULT_BATCH_FILES,
    ) -> IndexReport:
        """Index files and folders: new files are added, changed ones re-indexed, the rest kept.

        With `prune`, files indexed earlier from under these paths that are gone are removed.
        Loading, chunking, analysing and encoding run on `executor` (this process when None:
        see seoga.parallel), `batch_files` files per task; this process writes the results.
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
                self._write(batched(tasks, batch_files), gone, report, executor, show_progress)
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
                texts = [passage_text(chunk.title, chunk.text) for chunk in stored]
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

    def ingest_spec(self) -> IngestSpec:
        """What a worker needs to process this collection's batches."""
        return IngestSpec(
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

    def _write(
        self,
        batches: list[list[FileTask]],
        gone: list[str],
        report: IndexReport,
        executor: "Executor | None",
        show_progress: bool,
    ) -> None:
        """Process the batches (on `executor`) and commit them, less the `gone` files, as one
        new generation, in batch order; nothing is written when nothing changed."""
        spec = self.ingest_spec()
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

    # ---- reading -------------------------------------------------------------------------

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
            order = order[where.keeps(self.store, retrieval.documents.ids(documents[order]))]
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
            for slot in self.dense_slots
            if (mode == "hybrid" or (mode == DENSE and slot.key == DENSE))
            # An extra model that cannot read the query sits this one out.
            and (slot.key == DENSE or slot.reads(query))
        ]
        # Each model encodes and searches in its own thread, beside BM25 in this one: ONNX
        # Runtime, PyTorch and faiss release the GIL, so the work overlaps on the cores.
        searches = [
            (slot.key, self._query_threads.submit(self._dense_search, slot, query, depth))
            for slot in wanted
        ]
        if mode in ("hybrid", SPARSE):
            retrieval.add(SPARSE, self.sparse.search(retrieval.terms, depth))
        for key, search in searches:
            retrieval.add(key, search.result())
        return retrieval

    @property
    def default_mode(self) -> str:
        """Hybrid when there is a dense index, else BM25."""
        return "hybrid" if self.settings.embedder else SPARSE

    def _mode(self, mode: str | None) -> str:
        """The search mode asked for, checked; hybrid by default when there is a dense index."""
        mode = mode or self.default_mode
        if mode not in MODES:
            raise InputError(f"search mode must be one of {', '.join(MODES)}, not {mode!r}.")
        if mode != SPARSE and self.settings.embedder is None:
            raise InputError(
                f"{self.root} has no dense index (made with --embedder none); use --mode bm25."
            )
        return mode

    def _new_retrieval(self, query: str, mode: str) -> Retrieval:
        """An empty retrieval: the query terms, and the chunk map unless nothing is indexed."""
        retrieval = Retrieval(mode=mode, terms=self.analyzer.tokenize(query))
        if self.generation is not None:
            retrieval.documents = self.chunk_map
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
            search = partial(self.sparse.search, retrieval.terms)
        else:
            search = partial(self.dense.search, self.embedder.encode_queries([query])[0])
        depth = k * CANDIDATES_PER_RESULT
        while True:
            retrieval.add(mode, search(depth))
            if retrieval.chunk_hits[mode] < depth or retrieval.found[mode].documents.size >= k:
                return retrieval
            depth *= DEEPEN_FACTOR

    def _dense_search(self, slot: DenseSlot, query: str, depth: int) -> Hits:
        vector = slot.embedder.encode_queries([query])[0]
        return self.dense_indexes[slot.key].search(vector, depth)

    @property
    def _query_threads(self) -> ThreadPoolExecutor:
        """Threads for the query encoders, one per model; made anew in a forked child, where
        the parent's threads do not exist (a server that forks its workers after a search)."""
        if self._query_pool is None or self._query_pool[0] != os.getpid():
            pool = ThreadPoolExecutor(
                max_workers=max(1, len(self.dense_slots)), thread_name_prefix="seoga-query"
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
        fusion = fusion or self.settings.fusion
        return fuse_arrays(
            {name: (found.documents, found.scores) for name, found in retrieval.found.items()},
            fusion.weights(list(retrieval.found)),
            method=fusion.method,
            normalization=fusion.normalization,
            rrf_k=fusion.rrf_k,
        )

    @cached_property
    def chunk_documents(self) -> dict[int, str]:
        """Which document each chunk belongs to."""
        return self.store.chunk_documents()

    @cached_property
    def chunk_map(self) -> ChunkDocuments:
        """Which document each chunk belongs to, as arrays kept in memory for fast collapsing
        (read from the store itself, so a search does not also hold `chunk_documents`)."""
        return ChunkDocuments.from_mapping(self.store.chunk_documents())

    def _results(
        self, top: np.ndarray, scores: np.ndarray, retrieval: Retrieval
    ) -> list[SearchResult]:
        if not top.size:
            return []
        details = retrieval.details(top)
        stored = self.store.chunks([chunk for chunk, _ in details])
        chunks = [stored[chunk] for chunk, _ in details]
        marks = find_highlights(
            [chunk.text for chunk in chunks], set(retrieval.terms), self.analyze_word
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
                )
            )
        return results

    def stats(self) -> dict[str, Any]:
        return {
            "path": str(self.root),
            "seoga_version": self.manifest["seoga_version"],
            "generation": self.manifest.get("generation"),
            "counts": self.manifest["counts"],
            "analyzer": self.manifest["analyzer"],
            "embedder": self.manifest.get("embedder") or self.settings.embedder,
            "extra_embedders": self.manifest.get("extra_embedders")
            or self.settings.extra_embedders,
            "settings": self.settings.to_dict(),
        }

    def documents(self) -> list[dict[str, Any]]:
        return list(self.store.documents()) if self.generation else []


def read_manifest(root: Path) -> dict[str, Any]:
    manifest_path = root / MANIFEST_NAME
    if not manifest_path.exists():
        raise CollectionError(
            f"{root} is not a seoga collection (no {MANIFEST_NAME}); "
            "create one with `seoga index FILES --collection PATH`."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CollectionError(f"{manifest_path} cannot be read: {error}") from error
    check_compatible(manifest, manifest_path)
    return manifest


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


def is_under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def check_compatible(manifest: dict[str, Any], manifest_path: Path) -> None:
    """Refuse collections whose layout or seoga release line differs from this one."""
    made_by = manifest.get("seoga_version", "unknown")
    layout = manifest.get("format")
    if layout != FORMAT_VERSION or release_line(made_by) != release_line(__version__):
        raise CollectionError(
            f"{manifest_path.parent} was made by seoga {made_by} (format {layout}); this is "
            f"seoga {__version__} (format {FORMAT_VERSION}). Re-index the files into a new "
            "collection with this version, or use the seoga version that made it."
        )


def release_line(version: str) -> str:
    """Major.minor: collections are compatible within one release line."""
    return ".".join(version.split(".")[:2])
