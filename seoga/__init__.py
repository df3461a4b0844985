"""seoga (서가, "the stacks"): offline, Korean-first search over your documents."""

from seoga.collection import Collection, IndexReport
from seoga.search.results import SearchResult
from seoga.settings import CollectionSettings
from seoga.text.documents import Document
from seoga.text.loaders import ReadOptions, load_file
from seoga.version import __version__

__all__ = [
    "AskSettings",
    "Asker",
    "Collection",
    "CollectionSettings",
    "Document",
    "IndexReport",
    "ReadOptions",
    "SearchResult",
    "__version__",
    "load_file",
]
LAZY = {"Asker", "AskSettings"}


def __getattr__(name: str):
    # The ask pipeline pulls in scipy and the readers: only code that asks pays for them.
    if name in LAZY:
        from seoga.answer import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'seoga' has no attribute {name!r}")
