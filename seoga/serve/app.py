"""The HTTP API and the page: a thin FastAPI layer over `Service`.

Every `/v1` route names the scope it needs (`search` or `admin`, seoga.serve.auth); keys come
as `Authorization: Bearer KEY`. `/health`, `/ready`, the page and the OpenAPI docs need none.
Errors are JSON `{"detail": ...}` with the status their kind implies; highlights are text
segments, never HTML.

Every response carries a strict Content-Security-Policy and the other hardening headers, and a
request naming a host the server was not told about is refused (seoga.serve.security). The
docs at /docs load Swagger UI from this server (the files fastapi-offline ships), never from a
CDN, so they work on a closed network.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from seoga.serve.errors import add_error_handlers
from seoga.serve.routes import STATIC, add_routes
from seoga.serve.security import HostCheck, HostPattern, SecurityHeaders, docs_policy
from seoga.serve.service import Service
from seoga.serve.settings import ServeSettings
from seoga.version import __version__

DOCS_URL = "/docs"
DOCS_ASSETS_URL = "/docs/assets"
# Swagger UI's bundle, stylesheet and icon, as fastapi-offline ships them (MIT; Swagger UI
# itself is Apache-2.0).
DOCS_ASSETS = files("fastapi_offline") / "static"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


class HardenedAPI(FastAPI):
    """FastAPI with the Host check and the security headers outside Starlette's own error
    middleware: a bad Host never reaches the app, and even a 500 carries the headers."""

    def __init__(self, allowed_hosts: Sequence[str], **options: Any) -> None:
        # Parsed now, so that a malformed name fails at start-up rather than on a request.
        self.allowed_hosts = [HostPattern.parse(host) for host in allowed_hosts]
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(HostCheck(super().build_middleware_stack(), self.allowed_hosts))


def create_app(settings: ServeSettings, *, service: Service | None = None) -> FastAPI:
    """The app for one collection; `service` may be given already warm (tests share one)."""
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not service.ready:
            service.warm()
        yield
        service.close()

    app = HardenedAPI(
        settings.allowed_hosts,
        title="seoga",
        version=__version__,
        summary="Search, answers and recommendations over one collection.",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        # FastAPI's own docs load Swagger UI from a CDN; add_docs serves it from here.
        docs_url=None,
        redoc_url=None,
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
    add_docs(app)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def add_docs(app: FastAPI) -> None:
    """Swagger UI at /docs with its files served from here; its one inline start-up script is
    allowed by its hash, so the page keeps a strict Content-Security-Policy."""
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=f"{app.title} API",
        swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
        oauth2_redirect_url=None,
        # No call to Swagger's online validator: the server may sit on a closed network.
        swagger_ui_parameters={"validatorUrl": None},
    ).body
    policy = docs_policy(script_hash(page.decode()))

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})

    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")


def script_hash(html: str) -> str:
    """The CSP source (`'sha256-…'`) of the one inline script in `html`."""
    (script,) = INLINE_SCRIPT.findall(html)
    digest = hashlib.sha256(script.encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode()
