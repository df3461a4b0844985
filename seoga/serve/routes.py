"""The routes: each names the scope it needs and hands the work to `Service`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Annotated, Any

from fastapi import Body, FastAPI, Path, Query
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.sse import format_sse_event

from seoga.collection.searching import MAX_QUERY_CHARS, MODES
from seoga.errors import InputError
from seoga.serve.auth import AdminKey, EventWriter, SearchKey
from seoga.serve.bodies import (
    MAX_ID_CHARS,
    MAX_K,
    MAX_TASKS_LISTED,
    MAX_WINDOW,
    Events,
    IndexRequest,
    NewDocuments,
    Question,
)
from seoga.serve.problems import NotFoundError
from seoga.serve.service import Service
from seoga.text.documents import Document

STATIC = files("seoga.serve") / "static"
WAIT_SECONDS = 600.0  # the longest `?wait=true` holds a write request


def add_routes(app: FastAPI, service: Service) -> None:
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"))

    # The status routes run on the event loop itself, never waiting for a worker thread that
    # searches hold: a balancer's probe answers however busy the server is.
    @app.get("/health", tags=["status"])
    async def health() -> dict[str, str]:
        """The process answers (no key; no data)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["status"])
    async def ready() -> JSONResponse:
        """Models and indexes are loaded: 200, else 503 (no key; no data)."""
        status = 200 if service.ready else 503
        return JSONResponse({"ready": service.ready}, status_code=status)

    @app.get("/v1/search", tags=["search"], dependencies=[SearchKey])
    def search(
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        offset: Annotated[int, Query(ge=0, lt=MAX_WINDOW)] = 0,
        mode: Annotated[str | None, Query(pattern="^(" + "|".join(MODES) + ")$")] = None,
        fusion: Annotated[str | None, Query(pattern="^(convex|rrf)$")] = None,
        dense_weight: Annotated[float | None, Query(ge=0, le=1)] = None,
        source: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
        filter: Annotated[  # noqa: A002 - the API's name for it
            list[str] | None, Query(description="metadata key:value, repeatable")
        ] = None,
    ) -> dict[str, Any]:
        """The best documents for `q`, each with its best passage as highlighted segments."""
        if offset + k > MAX_WINDOW:
            raise InputError(f"offset + k may be at most {MAX_WINDOW}.")
        overrides = {
            name: value
            for name, value in (("method", fusion), ("dense_weight", dense_weight))
            if value is not None
        }
        return service.search(
            q, k=k, offset=offset, mode=mode, fusion=overrides, source=source, filters=filter
        )

    @app.post("/v1/ask", tags=["search"], dependencies=[SearchKey])
    def ask(question: Question) -> Any:
        """An answer with numbered citations and a confidence, or the collection's "does not
        answer this"; with `stream`, server-sent events: passages, token…, answer."""
        if not question.stream:
            return service.ask(question.q, question.k)
        return StreamingResponse(
            sse(service.ask_stream(question.q, question.k)), media_type="text/event-stream"
        )

    # The id is a query parameter: ids hold '/', so a route under /v1/documents/{id} would
    # clash with a document whose id ends in the route's own name.
    @app.get("/v1/related", tags=["documents"], dependencies=[SearchKey])
    def related(
        id: Annotated[str, Query(min_length=1, max_length=MAX_ID_CHARS)],  # noqa: A002
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 5,
    ) -> dict[str, Any]:
        """Documents like the document `id` (and read by the same people, with a
        recommender)."""
        return service.related(id, k)

    @app.get("/v1/documents/{doc_id:path}", tags=["documents"], dependencies=[SearchKey])
    def document(doc_id: Annotated[str, Path(max_length=MAX_ID_CHARS)]) -> dict[str, Any]:
        """One document whole: text, title, source, metadata."""
        return service.document(doc_id)

    @app.get("/v1/recommend", tags=["documents"], dependencies=[SearchKey])
    def recommend(
        user: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
        history: Annotated[list[str] | None, Query(description="document ids, repeatable")] = None,
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    ) -> dict[str, Any]:
        """Documents for a user the recommender knows, or for a history of document ids."""
        return service.recommend(user, history or [], k)

    @app.post("/v1/documents", tags=["documents"], dependencies=[AdminKey], status_code=202)
    def add_documents(body: NewDocuments, wait: Annotated[bool, Query()] = False) -> dict[str, Any]:
        """Add or replace documents (by id): a task; `?wait=true` answers when it is done."""
        documents = [
            Document(d.id, d.text, title=d.title, source=d.source or "api", metadata=d.metadata)
            for d in body.documents
        ]
        return answered(service, service.add_documents(documents), wait)

    @app.delete(
        "/v1/documents/{doc_id:path}", tags=["documents"], dependencies=[AdminKey], status_code=202
    )
    def delete_document(
        doc_id: Annotated[str, Path(max_length=MAX_ID_CHARS)],
        wait: Annotated[bool, Query()] = False,
    ) -> dict[str, Any]:
        """Remove a document (one added through the API, or a file's only document): a task."""
        return answered(service, service.delete_document(doc_id), wait)

    @app.post("/v1/index", tags=["documents"], dependencies=[AdminKey], status_code=202)
    def index(body: IndexRequest, wait: Annotated[bool, Query()] = False) -> dict[str, Any]:
        """Index files and folders under the server's allowed roots: a task."""
        return answered(service, service.index(body.paths, body.prune, body.ocr), wait)

    @app.get("/v1/tasks/{task_id}", tags=["tasks"], dependencies=[AdminKey])
    def task(task_id: int) -> dict[str, Any]:
        """A write task: enqueued, processing, succeeded (with its report) or failed."""
        found = service.tasks.get(task_id)
        if found is None:
            raise NotFoundError(f"no task {task_id} (finished tasks are kept for a while).")
        return found.to_dict()

    @app.get("/v1/tasks", tags=["tasks"], dependencies=[AdminKey])
    def tasks(
        limit: Annotated[int, Query(ge=1, le=MAX_TASKS_LISTED)] = 20,
    ) -> dict[str, Any]:
        """The latest tasks, newest first."""
        return {"tasks": [t.to_dict() for t in service.tasks.recent(limit)]}

    @app.get("/v1/info", tags=["status"], dependencies=[SearchKey])
    def info() -> dict[str, Any]:
        """The collection: counts, generation, models, settings."""
        return service.info()

    @app.post("/v1/events", tags=["events"], status_code=202)
    def events(
        body: Annotated[Events, Body()], client: Annotated[str, EventWriter]
    ) -> dict[str, int]:
        """Impressions and clicks of documents that exist, appended to the collection's event
        log; limited per key (per address without one): over it, 429 and nothing written."""
        events = [e.model_dump(exclude_none=True) for e in body.events]
        return {"accepted": service.record_events(events, client)}


def answered(service: Service, task, wait: bool) -> dict[str, Any]:
    if wait:
        service.tasks.wait(task, timeout=WAIT_SECONDS)
    return task.to_dict()


def sse(events: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[bytes]:
    for name, data in events:
        yield format_sse_event(data_str=json.dumps(data, ensure_ascii=False), event=name)
