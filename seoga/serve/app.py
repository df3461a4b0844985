"""The HTTP API and the page: a thin FastAPI layer over `Service`.

Every `/v1` route names the scope it needs (`search` or `admin`); keys come as
`Authorization: Bearer KEY`. `/health`, `/ready`, the page and the OpenAPI docs need none.
Errors are JSON `{"detail": ...}` with the status their kind implies; highlights are text
segments, never HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import format_sse_event
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from seoga import __version__
from seoga.collection import MAX_QUERY_CHARS, MODES
from seoga.errors import CollectionError, InputError, SeogaError
from seoga.eventlog import EVENT_LISTS, EVENT_TYPES
from seoga.serve.keys import ADMIN, SEARCH, StoredKey
from seoga.serve.service import (
    BusyError,
    ForbiddenError,
    NotFoundError,
    ServeSettings,
    Service,
)
from seoga.text.documents import Document
from seoga.text.formats.base import OcrMode

MAX_K = 100
MAX_WINDOW = 1_000  # offset + k: deeper pages are not served (as Meilisearch's maxTotalHits)
MAX_PASSAGES = 20
MAX_DOCUMENTS = 1_000  # per POST /v1/documents
MAX_EVENTS = 1_000  # per POST /v1/events
MAX_TEXT_CHARS = 1_000_000
MAX_ID_CHARS = 512
MAX_TASKS_LISTED = 100
RETRY_SECONDS = "1"
BUSY = 503
STATIC = files("seoga.serve") / "static"
WAIT_SECONDS = 600.0  # the longest `?wait=true` holds a write request

bearer = HTTPBearer(auto_error=False, description="A key made by `seoga keys create`.")


def scoped(scope: str):
    """A dependency that lets a request through only with a key of `scope` (or admin); with
    --open, a request without any key may search."""

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> StoredKey | None:
        service: Service = request.app.state.service
        if credentials is None and scope == SEARCH and service.settings.open_search:
            return None
        key = service.keys.check(credentials.credentials if credentials else None)
        if key is None:
            raise HTTPException(
                status_code=401,
                detail="a valid key is needed: send `Authorization: Bearer KEY` "
                "(make one with `seoga keys create`).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not key.allows(scope):
            raise HTTPException(status_code=403, detail=f"this key may not do {scope} work.")
        return key

    return Depends(check)


SearchKey = scoped(SEARCH)
AdminKey = scoped(ADMIN)


class Question(BaseModel):
    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The question.")
    k: int = Field(5, ge=1, le=MAX_PASSAGES, description="Passages the reader reads.")
    stream: bool = Field(False, description="Answer as server-sent events.")


class NewDocument(BaseModel):
    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    title: str = ""
    source: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class NewDocuments(BaseModel):
    documents: list[NewDocument] = Field(min_length=1, max_length=MAX_DOCUMENTS)


class IndexRequest(BaseModel):
    paths: list[str] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    prune: bool = Field(False, description="Remove files gone from under these paths.")
    ocr: OcrMode = Field(
        "auto", description="OCR of scanned pages and images: auto (no text layer), always, never."
    )


class Event(BaseModel):
    type: str = Field(pattern="^(" + "|".join(EVENT_TYPES) + ")$")
    item: str = Field(min_length=1, max_length=MAX_ID_CHARS, description="A document id.")
    user: str | None = Field(None, max_length=MAX_ID_CHARS)
    session: str | None = Field(None, max_length=MAX_ID_CHARS)
    query: str | None = Field(None, max_length=MAX_QUERY_CHARS)
    position: int | None = Field(None, ge=0, le=MAX_WINDOW)
    list: str | None = Field(
        None,
        pattern="^(" + "|".join(EVENT_LISTS) + ")$",
        description="Where the item was shown: a recommendation list (related, recommend) "
        "or the search results.",
    )


class Events(BaseModel):
    events: list[Event] = Field(min_length=1, max_length=MAX_EVENTS)


def create_app(settings: ServeSettings, *, service: Service | None = None) -> FastAPI:
    """The app for one collection; `service` may be given already warm (tests share one)."""
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not service.ready:
            service.warm()
        yield
        service.close()

    app = FastAPI(
        title="seoga",
        version=__version__,
        summary="Search, answers and recommendations over one collection.",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.service = service
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    add_error_handlers(app)
    add_routes(app, service)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def add_error_handlers(app: FastAPI) -> None:
    statuses = (
        (BusyError, BUSY),
        (ForbiddenError, 403),
        (NotFoundError, 404),
        (CollectionError, 409),
        (InputError, 400),
        (SeogaError, 400),
    )
    for kind, status in statuses:

        async def handler(request: Request, error: Exception, status: int = status):
            headers = {"Retry-After": RETRY_SECONDS} if status == BUSY else None
            return JSONResponse({"detail": str(error)}, status_code=status, headers=headers)

        app.add_exception_handler(kind, handler)


def add_routes(app: FastAPI, service: Service) -> None:
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"))

    @app.get("/health", tags=["status"])
    def health() -> dict[str, str]:
        """The process answers (no key; no data)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["status"])
    def ready() -> JSONResponse:
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

    @app.get("/v1/documents/{doc_id:path}/related", tags=["documents"], dependencies=[SearchKey])
    def related(
        doc_id: Annotated[str, Path(max_length=MAX_ID_CHARS)],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 5,
    ) -> dict[str, Any]:
        """Documents like this one (and read by the same people, with a recommender)."""
        return service.related(doc_id, k)

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

    @app.post("/v1/events", tags=["events"], dependencies=[SearchKey], status_code=202)
    def events(body: Annotated[Events, Body()]) -> dict[str, int]:
        """Impressions and clicks, appended to the collection's event log."""
        accepted = service.record_events([e.model_dump(exclude_none=True) for e in body.events])
        return {"accepted": accepted}


def answered(service: Service, task, wait: bool) -> dict[str, Any]:
    if wait:
        service.tasks.wait(task, timeout=WAIT_SECONDS)
    return task.to_dict()


def sse(events: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[bytes]:
    for name, data in events:
        yield format_sse_event(data_str=json.dumps(data, ensure_ascii=False), event=name)
