"""What an open collection holds: its folder, manifest and settings, and the models and indexes
of its live generation, each loaded the first time it is needed.

`CollectionState` is the one object the parts of a collection share (seoga.collection.searching
reads it; seoga.collection.committing writes a new generation and points it there): each part
is given it, none assumes what another defines.
"""

from collections.abc import Callable
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seoga.index.dense import DenseIndex, DenseSlot
from seoga.index.sparse import SparseIndex
from seoga.index.store import STORE_NAME, Store
from seoga.models.query_encoding import DEFAULT_QUERY_ENCODING, QueryEncoding
from seoga.search.fusion import DENSE
from seoga.search.rankings import ChunkDocuments
from seoga.settings import CollectionSettings
from seoga.text.analyzers import Analyzer, build_analyzer

if TYPE_CHECKING:
    from seoga.models.embedders import Embedder

EXTRA_DIR = "extra-{position}"
WORD_CACHE_SIZE = 100_000
# What a new generation makes stale: the indexes and what is read from them.
GENERATION_LOADS = ("store", "sparse", "dense_indexes", "chunk_documents", "chunk_map")
# What a reopened collection may share with the one it was made from.
SHARED_MODELS = ("embedder", "dense_slots")
SHARED_ANALYZER = ("analyzer", "analyze_word")


class CollectionState:
    """A collection's folder, manifest and settings, and what is loaded from its live
    generation: analyzer, bi-encoders, store, BM25 and dense indexes, chunk-to-document map."""

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

    def model_names(self) -> list[str]:
        """The names the settings give the dense slots' models (what a worker loads)."""
        if self.embedder is None:
            return []
        return [self.settings.embedder, *self.settings.extra_embedders]

    def use_embedder(self, settings: CollectionSettings, embedder: "Embedder") -> None:
        """Settings naming a new main bi-encoder, already loaded; the slots follow it."""
        self.settings = settings
        self.__dict__.pop("dense_slots", None)
        self.__dict__["embedder"] = embedder

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

    @cached_property
    def chunk_documents(self) -> dict[int, str]:
        """Which document each chunk belongs to."""
        return self.store.chunk_documents()

    @cached_property
    def chunk_map(self) -> ChunkDocuments:
        """Which document each chunk belongs to, as arrays kept in memory for fast collapsing
        (read from the store itself, so a search does not also hold `chunk_documents`)."""
        return ChunkDocuments.from_mapping(self.store.chunk_documents())

    def file_hashes(self) -> dict[str, str]:
        """Each indexed file's SHA-256, by its key."""
        return self.store.file_hashes() if self.generation else {}

    def reload(self, manifest: dict[str, Any]) -> None:
        """Point at the generation `manifest` names: what was loaded from the last is dropped."""
        for name in GENERATION_LOADS:
            cached = self.__dict__.pop(name, None)
            if isinstance(cached, Store):
                cached.close()
        self.manifest = manifest

    def share_loaded(self, fresh: "CollectionState") -> None:
        """Give `fresh` (this collection, opened again) the models and analyzer loaded here,
        where its settings still name them."""
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
