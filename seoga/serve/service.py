"""What the server does, apart from HTTP: one collection followed across generations, the
reader, related documents and an optional recommender, the writer's task queue, the event log
and the keys. The FastAPI app (seoga.serve.app) is a thin layer over this class.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from copy import copy
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seoga.collection import Collection
from seoga.errors import InputError
from seoga.eventlog import EventLog
from seoga.index.generations import MANIFEST_NAME
from seoga.models.query_encoding import QueryEncoding
from seoga.search.filters import DocumentFilter
from seoga.serve.answers import ID_FIELDS, answer_payload, stream_answer
from seoga.serve.events import known_items, record_events
from seoga.serve.gate import SearchGate
from seoga.serve.keys import KeyStore
from seoga.serve.limits import RateLimiter
from seoga.serve.problems import NotFoundError
from seoga.serve.public import PublicIds, without_paths
from seoga.serve.settings import ServeSettings
from seoga.serve.tasks import Task, TaskQueue
from seoga.serve.writes import Writes
from seoga.text.documents import Document

if TYPE_CHECKING:
    from seoga.answer.pipeline import Asker
    from seoga.recommend.base import Recommender
    from seoga.recommend.related import RelatedDocuments

WARM_QUERY = "warm up"
DEFAULT_WARM_PASSAGES = 5


class Service:
    """The served collection and everything around it; the routes call its public methods."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.root = Path(settings.collection)
        self.keys = KeyStore(self.root)
        self.events = EventLog(self.root, settings.events_max_bytes, settings.events_keep)
        self.event_limiter = RateLimiter(settings.events_per_minute)
        self.tasks = TaskQueue()
        self.gate = SearchGate(settings.search_slots, settings.search_queue, settings.queue_seconds)
        self.allowed_roots = [Path(root).resolve() for root in settings.allowed_roots]
        self.writes = Writes(
            collection=self.collection,
            public_ids=self.public_ids,
            stored=self._stored,
            tasks=self.tasks,
            allowed_roots=self.allowed_roots,
        )
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
                lambda: collection.store.file_hashes() if collection.generation else {},
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
        return answer_payload(answer, self.public_ids())

    def ask_stream(self, question: str, passages: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, data) pairs: the passages found, the answer's pieces as a generating
        reader writes them, then the answer (seoga.serve.answers.stream_answer)."""
        # A generator, so the asker is made when the stream starts, as the route expects.
        yield from stream_answer(
            self._asker(passages), question, gate=self.gate, public_ids=self.public_ids
        )

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

    # ---- events (seoga.serve.events) ---------------------------------------------------

    def known_items(self, ids: list[str]) -> set[str]:
        """Those of `ids` that are documents of the collection or items of the attached
        recommender's catalogue: the ids an event may name."""
        return known_items(self.collection(), self.recommender, ids)

    def record_events(self, events: list[dict[str, Any]], client: str) -> int:
        """Append `client`'s events if it is within its rate and every item exists; otherwise
        nothing is written (seoga.serve.events.record_events)."""
        # The limiter is read here, at each call: a test (or an operator) may swap it.
        return record_events(
            events,
            client,
            log=self.events,
            limiter=self.event_limiter,
            public_ids=self.public_ids,
            known=self.known_items,
        )

    # ---- writing, one task at a time (seoga.serve.writes) -------------------------------

    def add_documents(self, documents: list[Document]) -> Task:
        return self.writes.add_documents(documents)

    def delete_document(self, doc_id: str) -> Task:
        return self.writes.delete_document(doc_id)

    def index(self, paths: list[str], prune: bool, ocr: str = "auto") -> Task:
        return self.writes.index(paths, prune, ocr)

    def allowed_path(self, raw: str) -> Path:
        """`raw` if it lies under an allowed root, with no symbolic link on the way or below."""
        return self.writes.allowed_path(raw)

    def close(self) -> None:
        self.tasks.shutdown()
