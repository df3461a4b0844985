"""The server's own kinds of error, each answered with its HTTP status (seoga.serve.errors).

They live apart from the service so that the app's error handlers, the routes, the search gate
and the write side can name them without importing one another.
"""

from __future__ import annotations

from seoga.errors import SeogaError


class ForbiddenError(SeogaError):
    """A request the key or the server's settings do not allow (HTTP 403)."""


class NotFoundError(SeogaError):
    """Something the request names does not exist (HTTP 404)."""


class BusyError(SeogaError):
    """Too many searches are waiting; the client should retry shortly (HTTP 503)."""
