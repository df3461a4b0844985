"""`Collection`: one folder holding documents, their sparse and dense indexes, and a manifest.

It is a `CollectionState` (what is loaded) with three parts given that state: a `Searcher`
(seoga.collection.searching), a `Writer` for documents (seoga.collection.writing) and a
`Configurer` for models and settings (seoga.collection.configuring), the last two sharing one
`Committer` (seoga.collection.committing) that writes each change as a new generation.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seoga.atomic import write_json_atomic
from seoga.collection.committing import Committer
from seoga.collection.configuring import Configurer
from seoga.collection.reports import IndexReport
from seoga.collection.searching import FUSION_DEPTH, Searcher
from seoga.collection.state import CollectionState
from seoga.collection.writing import Writer
from seoga.errors import CollectionError
from seoga.index.generations import MANIFEST_NAME
from seoga.index.manifest import FORMAT_VERSION, read_manifest
from seoga.models.query_encoding import DEFAULT_QUERY_ENCODING, QueryEncoding
from seoga.parallel.pipeline import IngestSpec
from seoga.search.filters import DocumentFilter
from seoga.search.fusion import FusionSettings
from seoga.search.rankings import Retrieval
from seoga.search.results import SearchResult
from seoga.settings import CollectionSettings
from seoga.text.analyzers import build_analyzer
from seoga.text.documents import Document
from seoga.text.loaders import ReadOptions
from seoga.version import __version__

if TYPE_CHECKING:
    from seoga.parallel.executors import Executor


class Collection(CollectionState):
    """Index a folder of documents and search it: `create`/`open`, `add`, `remove`, `search`."""

    def __init__(
        self,
        root: Path,
        manifest: dict[str, Any],
        *,
        queries: QueryEncoding = DEFAULT_QUERY_ENCODING,
    ) -> None:
        super().__init__(root, manifest, queries=queries)
        self.searcher = Searcher(self)
        committer = Committer(self)
        self.writer = Writer(committer)
        self.configurer = Configurer(committer)

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
        self.share_loaded(fresh)
        return fresh

    # ---- reading -------------------------------------------------------------------------

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

    # ---- searching (seoga.collection.searching) ------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: str | None = None,
        offset: int = 0,
        fusion: FusionSettings | None = None,
        where: DocumentFilter | None = None,
    ) -> list[SearchResult]:
        """The `k` best documents for `query` after the first `offset`, each with its best chunk
        as a snippet; `fusion` replaces the collection's for this search, `where` filters."""
        return self.searcher.search(
            query, k=k, mode=mode, offset=offset, fusion=fusion, where=where
        )

    def retrieve(
        self, query: str, *, mode: str | None = None, depth: int = FUSION_DEPTH
    ) -> Retrieval:
        """Each retriever's documents for `query` (up to `depth` chunks each), before fusion."""
        return self.searcher.retrieve(query, mode=mode, depth=depth)

    def combine(
        self, retrieval: Retrieval, fusion: FusionSettings | None = None
    ) -> dict[str, float]:
        """One score per document: the single retriever's, or the fusion of them all."""
        return self.searcher.combine(retrieval, fusion)

    @property
    def default_mode(self) -> str:
        """Hybrid when there is a dense index, else BM25."""
        return self.searcher.default_mode

    # ---- writing (seoga.collection.writing, seoga.collection.configuring) ------------------

    def add(
        self,
        paths: Iterable[str | Path],
        *,
        prune: bool = False,
        show_progress: bool = False,
        executor: "Executor | None" = None,
        batch_files: int | None = None,
        read_options: ReadOptions | None = None,
    ) -> IndexReport:
        """Index files and folders: new files are added, changed ones re-indexed, the rest kept
        (see `Writer.add`)."""
        return self.writer.add(
            paths,
            prune=prune,
            show_progress=show_progress,
            executor=executor,
            batch_files=batch_files,
            read_options=read_options,
        )

    def add_documents(
        self, documents: Iterable[Document], *, source: str = "api", show_progress: bool = False
    ) -> IndexReport:
        """Index documents made in Python; `source` names them as one file would be named."""
        return self.writer.add_documents(documents, source=source, show_progress=show_progress)

    def put_documents(
        self, documents: Iterable[Document], *, prefix: str, show_progress: bool = False
    ) -> IndexReport:
        """Index documents each under its own source, `prefix` + its id, in one generation."""
        return self.writer.put_documents(documents, prefix=prefix, show_progress=show_progress)

    def remove(self, paths: Iterable[str | Path]) -> list[str]:
        """Remove files (or everything indexed from under folders) from every index."""
        return self.writer.remove(paths)

    def ingest_spec(self, read_options: ReadOptions | None = None) -> IngestSpec:
        """What a worker needs to process this collection's batches."""
        return self.writer.committer.ingest_spec(read_options)

    def change_embedder(self, name: str, *, show_progress: bool = False) -> int:
        """Re-encode every chunk with another main bi-encoder in a new generation; returns the
        number of chunks encoded (see `Configurer.change_embedder`)."""
        return self.configurer.change_embedder(name, show_progress=show_progress)

    def set_fusion(self, fusion: FusionSettings) -> None:
        """Store how searches fuse the retrievers; only the manifest changes."""
        self.configurer.set_fusion(fusion)
