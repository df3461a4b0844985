"""What the server does, apart from HTTP: one collection followed across generations, the
reader, related documents and an optional recommender, the writer's task queue, the event log
and the keys. The FastAPI app (seoga.serve.app) is a thin layer over this class.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from queue import Queue
from typing import TYPE_CHECKING, Any

from seoga.collection import Collection
from seoga.errors import InputError, SeogaError
from seoga.eventlog import EventLog
from seoga.index.generations import MANIFEST_NAME
from seoga.models.query_encoding import QueryEncoding
from seoga.search.filters import DocumentFilter
from seoga.serve.keys import KeyStore
from seoga.serve.memory import release_freed_memory
from seoga.serve.tasks import Task, TaskQueue
from seoga.settings import FusionSettings
from seoga.text.documents import Document
from seoga.text.loaders import ReadOptions

if TYPE_CHECKING:
    from seoga.answer.base import Answer
    from seoga.answer.pipeline import Asker
    from seoga.recommend.base import Recommender
    from seoga.recommend.related import RelatedDocuments

API_SOURCE = "api:"  # documents added through the API are each filed under api:<id>
WARM_QUERY = "warm up"
DEFAULT_WARM_PASSAGES = 5
STREAM_END = object()


class ForbiddenError(SeogaError):
    """A request the key or the server's settings do not allow (HTTP 403)."""


class NotFoundError(SeogaError):
    """Something the request names does not exist (HTTP 404)."""


class BusyError(SeogaError):
    """Too many searches are waiting; the client should retry shortly (HTTP 503)."""


@dataclass
class ServeSettings:
    """How `seoga serve` runs; the CLI fills it from its options."""

    collection: Path
    reader: str = "highlighter"
    llm: Path | None = None
    rerank: Path | None = None
    recommender: Path | None = None
    allowed_roots: list[Path] = field(default_factory=list)
    open_search: bool = False  # requests without a key may search (admin still needs a key)
    cors_origins: list[str] = field(default_factory=list)
    max_body_bytes: int = 8 * 1024 * 1024
    search_slots: int = os.cpu_count() or 1  # searches that run at once
    search_queue: int = 64  # searches that may wait for a slot; more are answered 503
    queue_seconds: float = 10.0  # the longest a search waits for a slot before a 503
    int8_queries: bool = False  # encode queries with int8 copies of the models
    # One ONNX Runtime thread per query: `search_slots` searches at once already fill the cores.
    query_threads: int = 1


class SearchGate:
    """At most `slots` searches at once and `queue` waiting; beyond that a fast 503, as
    Meilisearch bounds its search queue on small machines."""

    def __init__(self, slots: int, queue: int, seconds: float) -> None:
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._queue = queue
        self._seconds = seconds
        self._waiting = 0
        self._lock = threading.Lock()

    def __enter__(self) -> SearchGate:
        if self._slots.acquire(blocking=False):
            return self
        with self._lock:
            if self._waiting >= self._queue:
                raise BusyError("too many searches are waiting; retry in a moment.")
            self._waiting += 1
        try:
            if not self._slots.acquire(timeout=self._seconds):
                raise BusyError("searches are queued too long; retry in a moment.")
        finally:
            with self._lock:
                self._waiting -= 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


class Service:
    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.root = Path(settings.collection)
        self.keys = KeyStore(self.root)
        self.events = EventLog(self.root)
        self.tasks = TaskQueue()
        self.gate = SearchGate(settings.search_slots, settings.search_queue, settings.queue_seconds)
        self.allowed_roots = [Path(root).resolve() for root in settings.allowed_roots]
        self._collection = Collection.open(
            self.root,
            queries=QueryEncoding(int8=settings.int8_queries, threads=settings.query_threads),
        )
        self._stamp = self._manifest_stamp()
        self._lock = threading.Lock()
        self._per_generation: dict[str, Any] = {}
        self._reader = None
        self._reranker = None
        self.recommender: Recommender | None = None
        self.ready = False
        self.started = time.time()

    # ---- the collection, followed across generations ------------------------------------

    def _manifest_stamp(self) -> tuple[int, int]:
        stat = (self.root / MANIFEST_NAME).stat()
        return stat.st_mtime_ns, stat.st_size

    def collection(self) -> Collection:
        """The collection at its live generation: a committed write (by this server's writer or
        another process) is picked up by the next request, with the models already loaded."""
        stamp = self._manifest_stamp()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    fresh = self._collection.reopened()
                    if fresh.manifest.get("generation") != self._collection.manifest.get(
                        "generation"
                    ):
                        self._collection = fresh
                        self._per_generation = {}
                    self._stamp = stamp
        return self._collection

    def warm(self) -> None:
        """Load every model and index once, so the first request is as fast as the rest."""
        from seoga.answer.loading import load_reader

        collection = self.collection()
        self._reader = load_reader(self.settings.reader, collection, llm=self.settings.llm)
        if self.settings.rerank is not None:
            from seoga.search.rerank import Reranker

            self._reranker = Reranker(self.settings.rerank)
        if self.settings.recommender is not None:
            from seoga.recommend import load_recommender

            self.recommender = load_recommender(self.settings.recommender)
        if collection.generation is not None:
            # The reader's first answer allocates what it keeps: pay for it before /ready.
            self._asker(DEFAULT_WARM_PASSAGES).ask(WARM_QUERY)
        self.ready = True

    def _cached(self, name: str, make):
        """One object per generation (the asker, the related-documents tables)."""
        collection = self.collection()
        with self._lock:
            if name not in self._per_generation:
                self._per_generation[name] = make(collection)
            return self._per_generation[name]

    # ---- reading -----------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int,
        offset: int = 0,
        mode: str | None = None,
        fusion: dict[str, Any] | None = None,
        source: str | None = None,
        filters: list[str] | None = None,
    ) -> dict[str, Any]:
        collection = self.collection()
        where = DocumentFilter.parse(source, filters or [])
        settings = None
        if fusion:
            settings = FusionSettings.from_dict({**collection.settings.fusion.to_dict(), **fusion})
        started = time.perf_counter()
        with self.gate:
            if collection.generation is None:
                results = []
            else:
                results = collection.search(
                    query, k=k, offset=offset, mode=mode, fusion=settings, where=where
                )
        return {
            "query": query,
            "k": k,
            "offset": offset,
            "mode": mode or collection.default_mode,
            "generation": collection.manifest.get("generation"),
            "processing_ms": round((time.perf_counter() - started) * 1000, 2),
            "hits": [
                {
                    "id": hit.doc_id,
                    "title": hit.title,
                    "section": hit.section,
                    "source": hit.source,
                    "score": hit.score,
                    "chunk_id": hit.chunk_id,
                    "snippet": hit.segments(),
                    "scores": hit.scores,
                }
                for hit in results
            ],
        }

    def document(self, doc_id: str) -> dict[str, Any]:
        collection = self.collection()
        found = collection.store.document(doc_id) if collection.generation else None
        if found is None:
            raise NotFoundError(f"no document {doc_id!r} in {self.root.name}.")
        found.pop("file")
        return {"id": found.pop("doc_id"), **found}

    def related(self, doc_id: str, k: int) -> dict[str, Any]:
        self.document(doc_id)
        related: RelatedDocuments = self._cached("related", self._make_related)
        with self.gate:
            found = related.related(doc_id, k=k)
        return {"id": doc_id, "related": [item.to_dict() for item in found]}

    def _make_related(self, collection: Collection) -> RelatedDocuments:
        from seoga.recommend.related import RelatedDocuments

        # A recommender joins in when it can compare items (popularity cannot).
        readers = self.recommender if self.recommender and self.recommender.compares_items else None
        return RelatedDocuments(collection, readers)

    def recommend(self, user: str | None, history: list[str], k: int) -> dict[str, Any]:
        if self.recommender is None:
            raise NotFoundError(
                "no recommender is attached; start the server with --recommender MODEL "
                "(a folder saved by `seoga recommend fit`)."
            )
        if not user and not history:
            raise InputError("name a user or give a history of document ids.")
        if history:
            found = self.recommender.recommend_for_history(history, k)
        else:
            found = self.recommender.recommend(user, k)
        collection = self.collection()
        titles = collection.store.titles([r.item for r in found]) if collection.generation else {}
        return {
            "user": user,
            "history": history,
            "items": [
                {
                    "id": r.item,
                    "score": r.score,
                    "source": r.source,
                    "title": titles.get(r.item, (r.label, ""))[0],
                }
                for r in found
            ],
        }

    def _asker(self, passages: int) -> Asker:
        """The generation's asker, reading `passages` passages for this request."""
        from seoga.answer.pipeline import Asker

        def make(collection: Collection) -> Asker:
            return Asker(collection, self._reader, reranker=self._reranker)

        chosen = copy(self._cached("asker", make))
        chosen.settings = replace(chosen.settings, passages=passages)
        return chosen

    def ask(self, question: str, passages: int) -> dict[str, Any]:
        with self.gate:
            answer = self._asker(passages).ask(question)
        return answer_payload(answer)

    def ask_stream(self, question: str, passages: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, data) pairs: the passages found, the answer's pieces as a generating
        reader writes them, then the answer; an error ends the stream with an error event."""
        asker = self._asker(passages)
        pieces: Queue = Queue()

        def work() -> None:
            try:
                with self.gate:
                    found = asker.passages(question)
                    pieces.put(("passages", {"passages": [p.to_dict() for p in found]}))
                    answer = asker.read(
                        question, found, on_token=lambda text: pieces.put(("token", {"text": text}))
                    )
                pieces.put(("answer", answer_payload(answer)))
            except SeogaError as error:
                pieces.put(("error", {"detail": str(error)}))
            finally:
                pieces.put(STREAM_END)

        threading.Thread(target=work, name="seoga-ask", daemon=True).start()
        while (item := pieces.get()) is not STREAM_END:
            yield item

    def info(self) -> dict[str, Any]:
        collection = self.collection()
        return {
            **collection.stats(),
            "reader": self.settings.reader,
            "reranker": str(self.settings.rerank) if self.settings.rerank else None,
            "recommender": str(self.settings.recommender) if self.settings.recommender else None,
            "tasks_pending": self.tasks.pending(),
            "uptime_seconds": round(time.time() - self.started, 1),
        }

    def record_events(self, events: list[dict[str, Any]]) -> int:
        return self.events.append(events)

    # ---- writing (one task at a time) ---------------------------------------------------

    def _write_task(self, kind: str, work) -> Task:
        """Queue a write; after it, the writer thread itself moves the server to the new
        generation and hands the pages the older ones freed back to the system, so that no
        request waits for either."""

        def run() -> dict[str, Any]:
            result = work()
            self.collection()
            release_freed_memory()
            return result

        return self.tasks.submit(kind, run)

    def _writer(self) -> Collection:
        """A collection object for one write, sharing the loaded models."""
        return self.collection().reopened()

    def add_documents(self, documents: list[Document]) -> Task:
        ids = [document.doc_id for document in documents]
        if len(set(ids)) != len(ids):
            raise InputError("two documents of the request share an id; ids must be unique.")
        collection = self.collection()
        for doc_id in ids if collection.generation else []:
            found = collection.store.document(doc_id)
            if found is not None and found["file"] != API_SOURCE + doc_id:
                raise InputError(
                    f"document id {doc_id!r} is taken by a document read from {found['file']}; "
                    "give the new document another id."
                )

        def work() -> dict[str, Any]:
            collection = self._writer()
            report = collection.put_documents(documents, prefix=API_SOURCE)
            return report.to_dict()

        return self._write_task("documents.add", work)

    def delete_document(self, doc_id: str) -> Task:
        collection = self.collection()
        found = collection.store.document(doc_id) if collection.generation else None
        if found is None:
            raise NotFoundError(f"no document {doc_id!r} in {self.root.name}.")
        siblings = collection.store.file_documents(found["file"])
        if siblings > 1:
            raise InputError(
                f"document {doc_id!r} is one of {siblings} read from {found['file']}; remove that "
                "file from the folder and index it again (POST /v1/index with prune)."
            )

        def work() -> dict[str, Any]:
            return {"removed": self._writer().remove([found["file"]])}

        return self._write_task("documents.delete", work)

    def index(self, paths: list[str], prune: bool, ocr: str = "auto") -> Task:
        checked = [self.allowed_path(path) for path in paths]
        options = ReadOptions(ocr=ocr)

        def work() -> dict[str, Any]:
            return self._writer().add(checked, prune=prune, read_options=options).to_dict()

        return self._write_task("index", work)

    def allowed_path(self, raw: str) -> Path:
        """`raw` if it lies under an allowed root, with no symbolic link on the way or below."""
        if not self.allowed_roots:
            raise ForbiddenError(
                "indexing paths is off: start the server with --allow-root FOLDER to let admin "
                "keys index files under that folder."
            )
        path = Path(raw)
        if not path.is_absolute():
            raise InputError(f"{raw} is not an absolute path; give the full path.")
        if ".." in path.parts:
            raise ForbiddenError(f"{raw} goes up with '..'; give the path itself.")
        for step in [path, *path.parents]:
            if step.is_symlink():
                raise ForbiddenError(f"{raw} passes through the symbolic link {step}; refused.")
        if not any(path == root or root in path.parents for root in self.allowed_roots):
            raise ForbiddenError(f"{raw} is outside the allowed roots; refused.")
        if not path.exists():
            raise NotFoundError(f"{raw} does not exist.")
        if path.is_dir():
            for folder, folders, files in os.walk(path, followlinks=False):
                for name in folders + files:
                    if (Path(folder) / name).is_symlink():
                        raise ForbiddenError(
                            f"{Path(folder) / name} under {raw} is a symbolic link; refused."
                        )
        return path

    def close(self) -> None:
        self.tasks.shutdown()


def answer_payload(answer: Answer) -> dict[str, Any]:
    payload = answer.to_dict()
    payload["seconds"] = round(payload["seconds"], 3)
    return payload
