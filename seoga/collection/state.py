"""A collection: one folder holding documents, their sparse and dense indexes, and a manifest.

`Collection` opens and creates one and holds what it has loaded (manifest, models, indexes);
what changes its documents lives in seoga.collection.writing, what changes its models and
settings in seoga.collection.configuring, what searches it in seoga.collection.searching.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seoga.atomic import write_json_atomic
from seoga.collection.configuring import Configuring
from seoga.collection.searching import Searching
from seoga.collection.writing import Writing
from seoga.errors import CollectionError
from seoga.index.dense import DenseIndex, DenseSlot
from seoga.index.generations import MANIFEST_NAME
from seoga.index.manifest import FORMAT_VERSION, read_manifest
from seoga.index.sparse import SparseIndex
from seoga.index.store import STORE_NAME, Store
from seoga.models.query_encoding import DEFAULT_QUERY_ENCODING, QueryEncoding
from seoga.search.fusion import DENSE
from seoga.settings import CollectionSettings
from seoga.text.analyzers import Analyzer, build_analyzer
from seoga.version import __version__

if TYPE_CHECKING:
    from seoga.models.embedders import Embedder

EXTRA_DIR = "extra-{position}"
WORD_CACHE_SIZE = 100_000
# What `reopened` carries over from the object it was made from (its loaded state).
SHARED_MODELS = ("embedder", "dense_slots")
SHARED_ANALYZER = ("analyzer", "analyze_word")


class Collection(Writing, Configuring, Searching):
    """Index a folder of documents and search it: `create`/`open`, `add`, `remove`, `search`."""

    def __init__(
        self,
        root: Path,
        manifest: dict[str, Any],
        *,
        queries: QueryEncoding = DEFAULT_QUERY_ENCODING,
    ) -> None:
        self.root = root
        self.manifest = manifest
        self.settings = CollectionSettings.from_dict(manifest["settings"])
        self.queries = queries  # how this process encodes queries (seoga.models.query_encoding)
        # (the pid that made it, the pool): see `_query_threads`.
        self._query_pool: tuple[int, ThreadPoolExecutor] | None = None

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def create(
        cls, path: str | Path, settings: CollectionSettings | None = None, *, exist_ok: bool = False
    ) -> "Collection":
        """Make a new, empty collection folder (or open it when `exist_ok` and it exists)."""
        root = Path(path)
        if (root / MANIFEST_NAME).exists():
            if exist_ok:
                return cls.open(root)
            raise CollectionError(f"{root} already holds a collection; open it instead.")
        if root.exists() and any(root.iterdir()):
            raise CollectionError(f"{root} is a non-empty folder that is not a seoga collection.")
        root.mkdir(parents=True, exist_ok=True)
        settings = settings or CollectionSettings()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {
            "format": FORMAT_VERSION,
            "seoga_version": __version__,
            "created": now,
            "updated": now,
            "generation": None,
            "settings": settings.to_dict(),
            "analyzer": build_analyzer(settings.analyzer).config(),
            "embedder": None,
            "extra_embedders": [],
            "counts": {"files": 0, "documents": 0, "chunks": 0},
        }
        write_json_atomic(root / MANIFEST_NAME, manifest)
        return cls(root, manifest)

    @classmethod
    def open(
        cls, path: str | Path, *, queries: QueryEncoding = DEFAULT_QUERY_ENCODING
    ) -> "Collection":
        root = Path(path)
        return cls(root, read_manifest(root), queries=queries)

    def reopened(self) -> "Collection":
        """This collection at its live generation (another writer may have committed since),
        sharing the models and analyzer already loaded here when the settings still name them:
        a server follows new generations this way without loading its models again."""
        fresh = Collection.open(self.root, queries=self.queries)
        same_models = (fresh.settings.embedder, fresh.settings.extra_embedders) == (
            self.settings.embedder,
            self.settings.extra_embedders,
        )
        shared = (SHARED_MODELS if same_models else ()) + (
            SHARED_ANALYZER if fresh.manifest["analyzer"] == self.manifest["analyzer"] else ()
        )
        for name in shared:
            if name in self.__dict__:
                fresh.__dict__[name] = self.__dict__[name]
        return fresh

    @property
    def generation(self) -> Path | None:
        name = self.manifest.get("generation")
        return self.root / name if name else None

    @cached_property
    def analyzer(self) -> Analyzer:
        return build_analyzer(self.manifest["analyzer"])

    @cached_property
    def analyze_word(self) -> Callable[[str], list[str]]:
        """The analyzer on single words, memoised: snippets look at the same words often."""
        return lru_cache(maxsize=WORD_CACHE_SIZE)(self.analyzer.tokenize)

    @cached_property
    def embedder(self) -> "Embedder | None":
        name = self.settings.embedder
        if not name:
            return None
        # torch loads only when a dense model is needed: BM25-only work starts fast.
        from seoga.models.embedders import load_embedder

        return load_embedder(name, queries=self.queries)

    @cached_property
    def dense_slots(self) -> list[DenseSlot]:
        """Every bi-encoder with its index place: the main one first, then the extras."""
        if self.embedder is None:
            return []
        from seoga.models.embedders import load_embedder

        slots = [DenseSlot(DENSE, "", self.embedder)]
        for position, name in enumerate(self.settings.extra_embedders):
            embedder = load_embedder(name, queries=self.queries)
            slots.append(
                DenseSlot(
                    f"{DENSE}:{Path(embedder.name).name}",
                    EXTRA_DIR.format(position=position),
                    embedder,
                )
            )
        return slots

    @cached_property
    def store(self) -> Store:
        return Store(self.generation / STORE_NAME, read_only=True)

    @cached_property
    def sparse(self) -> SparseIndex:
        return SparseIndex.load(self.generation)

    @cached_property
    def dense_indexes(self) -> dict[str, DenseIndex]:
        return {
            slot.key: DenseIndex.load(self.generation / slot.directory) for slot in self.dense_slots
        }

    @property
    def dense(self) -> DenseIndex:
        """The main bi-encoder's index."""
        return self.dense_indexes[DENSE]

    def _reload(self, manifest: dict[str, Any]) -> None:
        for name in ("store", "sparse", "dense_indexes", "chunk_documents", "chunk_map"):
            cached = self.__dict__.pop(name, None)
            if isinstance(cached, Store):
                cached.close()
        self.manifest = manifest

    def stats(self) -> dict[str, Any]:
        return {
            "path": str(self.root),
            "seoga_version": self.manifest["seoga_version"],
            "generation": self.manifest.get("generation"),
            "counts": self.manifest["counts"],
            "analyzer": self.manifest["analyzer"],
            "embedder": self.manifest.get("embedder") or self.settings.embedder,
            "extra_embedders": self.manifest.get("extra_embedders")
            or self.settings.extra_embedders,
            "settings": self.settings.to_dict(),
        }

    def documents(self) -> list[dict[str, Any]]:
        return list(self.store.documents()) if self.generation else []
