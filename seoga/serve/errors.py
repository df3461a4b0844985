"""Errors as JSON `{"detail": ...}` with the status their kind implies."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from seoga.errors import CollectionError, InputError, SeogaError
from seoga.serve.service import BusyError, ForbiddenError, NotFoundError

RETRY_SECONDS = "1"
BUSY = 503


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
