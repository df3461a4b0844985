"""Errors as JSON `{"detail": ...}` with the status their kind implies.

A message never carries an absolute server path (seoga.serve.public), and a request that fails
validation is answered with where and why, never with what was sent: a client's 8 MB field or
a lone surrogate must not come back, nor break the answer.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from seoga.errors import CollectionError, InputError, SeogaError
from seoga.serve.limits import RateLimitedError
from seoga.serve.problems import BusyError, ForbiddenError, NotFoundError

RETRY_SECONDS = "1"
BUSY = 503
TOO_MANY = 429
INVALID = 422
INTERNAL = 500
MAX_PROBLEMS = 20  # validation problems listed in one answer
MAX_PART_CHARS = 120  # of a problem's message and of each part of its location


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
            detail = request.app.state.service.public_ids().scrub(str(error))
            return JSONResponse({"detail": safe(detail)}, status_code=status, headers=headers)

        app.add_exception_handler(kind, handler)

    async def rate_limited(request: Request, error: RateLimitedError):
        headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse({"detail": str(error)}, status_code=TOO_MANY, headers=headers)

    app.add_exception_handler(RateLimitedError, rate_limited)

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, internal_error)


async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with each problem's location, message and type; the input is left out."""
    problems = [
        {
            "loc": [safe(str(part))[:MAX_PART_CHARS] for part in problem.get("loc", ())],
            "msg": safe(str(problem.get("msg", "")))[:MAX_PART_CHARS],
            "type": safe(str(problem.get("type", "")))[:MAX_PART_CHARS],
        }
        for problem in error.errors()[:MAX_PROBLEMS]
    ]
    return JSONResponse({"detail": problems}, status_code=INVALID)


async def internal_error(request: Request, error: Exception) -> JSONResponse:
    """A bug: the client gets no more than this (Starlette raises the error on, to the server's
    log, with its traceback)."""
    return JSONResponse(
        {"detail": "the server failed on this request; its log has the details."},
        status_code=INTERNAL,
    )


def safe(text: str) -> str:
    """`text` as valid UTF-8: a lone surrogate becomes '?' instead of failing the answer."""
    return text.encode("utf-8", "replace").decode("utf-8")
