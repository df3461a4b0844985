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
from seoga.text.loaders import ReadOptions, load_file  # noqa: E402

__all__ = [
    "AskSettings",
    "Asker",
    "Collection",
    "CollectionSettings",
    "Document",
    "IndexReport",
    "ReadOptions",
    "SearchResult",
    "load_file",
]
LAZY = {"Asker", "AskSettings"}


def __getattr__(name: str):
    # The ask pipeline pulls in scipy and the readers: only code that asks pays for them.
    if name in LAZY:
        from seoga.answer import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'seoga' has no attribute {name!r}")
