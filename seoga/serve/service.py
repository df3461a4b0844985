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
from seoga.eventlog import DEFAULT_KEEP, DEFAULT_MAX_BYTES, EventLog
from seoga.index.generations import MANIFEST_NAME
from seoga.models.query_encoding import QueryEncoding
from seoga.search.filters import DocumentFilter
from seoga.serve.keys import EVENTS, SEARCH, KeyStore
from seoga.serve.limits import RateLimiter
from seoga.serve.memory import release_freed_memory
from seoga.serve.public import PublicIds, without_paths
from seoga.serve.security import LOOPBACK_HOSTS
from seoga.serve.tasks import Task, TaskQueue
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
ID_FIELDS = ("doc_id", "source")  # the fields of passages and related documents that name files
# Who may post events: keys of the events scope (and admin); also search keys; also requests
# without a key, when the server is --open (the page of a public demo reports its impressions).
ANYONE = "anyone"
EVENT_WRITERS = (EVENTS, SEARCH, ANYONE)
# A page shows ten results as you type: a few searches a second are well under this, a script
# posting a thousand events a request is not.
DEFAULT_EVENTS_PER_MINUTE = 3_000
UNKNOWN_ITEMS_NAMED = 5  # an error names this many of the unknown items


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
    # Host header names served (seoga.serve.security): loopback ones by default, `*` for any.
    allowed_hosts: list[str] = field(default_factory=lambda: list(LOOPBACK_HOSTS))
    max_body_bytes: int = 8 * 1024 * 1024
    search_slots: int = os.cpu_count() or 1  # searches that run at once
    search_queue: int = 64  # searches that may wait for a slot; more are answered 503
    queue_seconds: float = 10.0  # the longest a search waits for a slot before a 503
    int8_queries: bool = False  # encode queries with int8 copies of the models
    # One ONNX Runtime thread per query: `search_slots` searches at once already fill the cores.
    query_threads: int = 1
    event_writers: str = EVENTS  # one of EVENT_WRITERS
    events_per_minute: int = DEFAULT_EVENTS_PER_MINUTE  # per key, or per address without one
    events_max_bytes: int = DEFAULT_MAX_BYTES  # each file of the event log
    events_keep: int = DEFAULT_KEEP  # files of the event log kept, the current one included

    def __post_init__(self) -> None:
        if self.event_writers not in EVENT_WRITERS:
            raise InputError(
                f"event writers are one of {', '.join(EVENT_WRITERS)}, not {self.event_writers!r}."
            )
        if self.events_per_minute < 1 or self.events_max_bytes < 1 or self.events_keep < 1:
            raise InputError(
                "events a minute, the event log's file size and the files kept are each at least 1."
            )


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
        self.events = EventLog(self.root, settings.events_max_bytes, settings.events_keep)
        self.event_limiter = RateLimiter(settings.events_per_minute)
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
            from seoga.rerank.model import Reranker

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
        ids = self.public_ids()
        where = DocumentFilter.parse(ids.internal(source) if source else source, filters or [])
        settings = replace(collection.settings.fusion, **fusion) if fusion else None
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
                    "id": ids.public(hit.doc_id),
                    "title": hit.title,
                    "section": hit.section,
                    "source": ids.public(hit.source),
                    "score": hit.score,
                    "chunk_id": hit.chunk_id,
                    "snippet": hit.segments(),
                    "scores": hit.scores,
                }
                for hit in results
            ],
        }

    def public_ids(self) -> PublicIds:
        """How the live generation's ids and sources are shown (seoga.serve.public)."""
        return self._cached(
            "public",
            lambda collection: PublicIds.of(
                collection.manifest,
                list(collection.store.file_hashes()) if collection.generation else [],
                self.root,
            ),
        )

    def _stored(self, doc_id: str) -> dict[str, Any]:
        """The stored document an API id names, or NotFoundError."""
        collection = self.collection()
        internal = self.public_ids().internal(doc_id)
        found = collection.store.document(internal) if collection.generation else None
        if found is None:
            raise NotFoundError(f"no document {doc_id!r} in {self.root.name}.")
        return found

    def document(self, doc_id: str) -> dict[str, Any]:
        found = self._stored(doc_id)
        found.pop("file")
        found.pop("doc_id")
        return {"id": doc_id, **self.public_ids().fields(found, ID_FIELDS)}

    def related(self, doc_id: str, k: int) -> dict[str, Any]:
        internal = self._stored(doc_id)["doc_id"]
        related: RelatedDocuments = self._cached("related", self._make_related)
        with self.gate:
            found = related.related(internal, k=k)
        ids = self.public_ids()
        return {"id": doc_id, "related": [ids.fields(item.to_dict(), ID_FIELDS) for item in found]}

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
        ids = self.public_ids()
        if history:
            found = self.recommender.recommend_for_history([ids.internal(h) for h in history], k)
        else:
            found = self.recommender.recommend(user, k)
        collection = self.collection()
        titles = collection.store.titles([r.item for r in found]) if collection.generation else {}
        return {
            "user": user,
            "history": history,
            "items": [
                {
                    "id": ids.public(r.item),
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
        return self._answer_payload(answer)

    def _answer_payload(self, answer: Answer) -> dict[str, Any]:
        payload = answer.to_dict()
        payload["seconds"] = round(payload["seconds"], 3)
        payload["passages"] = self._public_passages(payload["passages"])
        return payload

    def _public_passages(self, passages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = self.public_ids()
        return [ids.fields(passage, ID_FIELDS) for passage in passages]

    def ask_stream(self, question: str, passages: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, data) pairs: the passages found, the answer's pieces as a generating
        reader writes them, then the answer; an error ends the stream with an error event."""
        asker = self._asker(passages)
        pieces: Queue = Queue()

        def work() -> None:
            try:
                with self.gate:
                    found = asker.passages(question)
                    passages = self._public_passages([p.to_dict() for p in found])
                    pieces.put(("passages", {"passages": passages}))
                    answer = asker.read(
                        question, found, on_token=lambda text: pieces.put(("token", {"text": text}))
                    )
                pieces.put(("answer", self._answer_payload(answer)))
            except SeogaError as error:
                pieces.put(("error", {"detail": str(error)}))
            finally:
                pieces.put(STREAM_END)

        threading.Thread(target=work, name="seoga-ask", daemon=True).start()
        while (item := pieces.get()) is not STREAM_END:
            yield item

    def info(self) -> dict[str, Any]:
        collection = self.collection()
        # Model and collection folders are named, never shown with their server paths.
        return without_paths(
            {
                **collection.stats(),
                "path": self.root.name,
                "reader": self.settings.reader,
                "reranker": str(self.settings.rerank) if self.settings.rerank else None,
                "recommender": (
                    str(self.settings.recommender) if self.settings.recommender else None
                ),
                "tasks_pending": self.tasks.pending(),
                "uptime_seconds": round(time.time() - self.started, 1),
            }
        )

    def known_items(self, ids: list[str]) -> set[str]:
        """Those of `ids` that are documents of the collection or items of the attached
        recommender's catalogue: the ids an event may name."""
        collection = self.collection()
        known = set(collection.store.titles(ids)) if collection.generation else set()
        if self.recommender is not None:
            known.update(item for item in ids if self.recommender.item_ids.get(item) is not None)
        return known

    def record_events(self, events: list[dict[str, Any]], client: str) -> int:
        """Append `client`'s events (a key id, or an address) if it is within its rate and every
        item exists; otherwise nothing is written. The rate is checked first: it is cheap, and a
        client over it gets no lookups done for it."""
        self.event_limiter.take(client, len(events))
        # The log holds ids as the collection stores them, as recommenders fitted on it need.
        ids = self.public_ids()
        events = [{**event, "item": ids.internal(event["item"])} for event in events]
        items = sorted({event["item"] for event in events})
        known = self.known_items(items)
        unknown = [item for item in items if item not in known]
        if unknown:
            named = ", ".join(repr(ids.public(item)) for item in unknown[:UNKNOWN_ITEMS_NAMED])
            more = len(unknown) - UNKNOWN_ITEMS_NAMED
            raise InputError(
                f"unknown item {named}{f' and {more} more' if more > 0 else ''}: an event names a "
                "document of this collection or an item of the recommender's catalogue; no event "
                "of this request was recorded."
            )
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
        public = self.public_ids()
        for doc_id in ids:
            label = public.label_of(doc_id)
            if label is not None:
                raise InputError(
                    f"document id {doc_id!r} begins with {label!r}, the name the server gives "
                    f"files indexed from the folder {label}; give the new document another id."
                )
            found = collection.store.document(doc_id) if collection.generation else None
            if found is not None and found["file"] != API_SOURCE + doc_id:
                raise InputError(
                    f"document id {doc_id!r} is taken by a document read from "
                    f"{public.public(found['file'])}; give the new document another id."
                )

        def work() -> dict[str, Any]:
            collection = self._writer()
            report = collection.put_documents(documents, prefix=API_SOURCE)
            return report.to_dict()

        return self._write_task("documents.add", work)

    def delete_document(self, doc_id: str) -> Task:
        found = self._stored(doc_id)
        siblings = self.collection().store.file_documents(found["file"])
        if siblings > 1:
            raise InputError(
                f"document {doc_id!r} is one of {siblings} read from "
                f"{self.public_ids().public(found['file'])}; remove that file from the folder and "
                "index it again (POST /v1/index with prune)."
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
