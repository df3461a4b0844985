"""seoga (서가, "the stacks"): offline, Korean-first search over your documents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("seoga")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

from seoga.collection import Collection, IndexReport  # noqa: E402
from seoga.search.results import SearchResult  # noqa: E402
from seoga.settings import CollectionSettings  # noqa: E402
from seoga.text.documents import Document  # noqa: E402

__all__ = ["Collection", "CollectionSettings", "Document", "IndexReport", "SearchResult"]
