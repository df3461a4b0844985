"""The HTTP API and the page: a thin FastAPI layer over `Service`.

Every `/v1` route names the scope it needs (`search` or `admin`, seoga.serve.auth); keys come
as `Authorization: Bearer KEY`. `/health`, `/ready`, the page and the OpenAPI docs need none.
Errors are JSON `{"detail": ...}` with the status their kind implies; highlights are text
segments, never HTML.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from seoga import __version__
from seoga.serve.errors import add_error_handlers
from seoga.serve.routes import STATIC, add_routes
from seoga.serve.service import ServeSettings, Service


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
