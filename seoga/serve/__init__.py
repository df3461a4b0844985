"""seoga as a server: an HTTP API with keys and scopes, an event log and a web page."""

from seoga.serve.service import Service
from seoga.serve.settings import ServeSettings

__all__ = ["Service", "ServeSettings", "create_app"]


def create_app(settings: ServeSettings, **options):
    """The FastAPI app (imported on demand: FastAPI loads only when serving)."""
    from seoga.serve.app import create_app as make

    return make(settings, **options)
