"""A collection's settings: chosen at creation, recorded in its manifest."""

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from seoga.errors import InputError
from seoga.index.dense import INDEX_KINDS
from seoga.index.sparse import DEFAULT_B, DEFAULT_K1, DEFAULT_METHOD
from seoga.models.registry import DEFAULT_EMBEDDER, DEFAULT_EXTRA_EMBEDDERS
from seoga.search.fusion import FUSION_METHODS, NORMALIZATIONS, RRF_K
from seoga.text.analyzers import DEFAULT_ANALYZER

DEFAULT_CHUNK_TOKENS = 256
DEFAULT_CHUNK_OVERLAP = 32
# Chosen by measurement on autorag_ko, beir_scifact and squad_v1.1_dev together (BENCHMARKS.md,
# "Retrieval quality").
DEFAULT_FUSION = "convex"
DEFAULT_NORMALIZATION = "zscore"
DEFAULT_DENSE_WEIGHT = 0.4
DEFAULT_EXTRA_WEIGHT = 0.7
NO_EMBEDDER = "none"
SPARSE = "bm25"
DENSE = "dense"


@dataclass
class Bm25Settings:
    method: str = DEFAULT_METHOD
    k1: float = DEFAULT_K1
    b: float = DEFAULT_B


@dataclass
class FusionSettings:
    """How retrievers' rankings are fused. In convex fusion BM25 weighs 1 - dense_weight, the
    main bi-encoder dense_weight and each extra bi-encoder extra_weight; the weights of the
    retrievers that took part in a query are rescaled to sum to one."""

    method: str = DEFAULT_FUSION
    dense_weight: float = DEFAULT_DENSE_WEIGHT
    normalization: str = DEFAULT_NORMALIZATION
    rrf_k: int = RRF_K
    extra_weight: float = DEFAULT_EXTRA_WEIGHT

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise InputError(f"fusion must be one of {', '.join(FUSION_METHODS)}.")
        if self.normalization not in NORMALIZATIONS:
            raise InputError(f"fusion normalization must be one of {', '.join(NORMALIZATIONS)}.")
        for name in ("dense_weight", "extra_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"the fusion {name.replace('_', ' ')} must be between 0 and 1.")

    def weights(self, names: list[str]) -> dict[str, float]:
        """Each named retriever's weight before rescaling."""
        fixed = {SPARSE: 1.0 - self.dense_weight, DENSE: self.dense_weight}
        return {name: fixed.get(name, self.extra_weight) for name in names}


@dataclass
class CollectionSettings:
    """Everything that decides how a collection is built and searched."""

    analyzer: str | dict[str, Any] = DEFAULT_ANALYZER
    embedder: str | None = DEFAULT_EMBEDDER
    # More bi-encoders whose rankings join the fusion, each for the texts it can read. None:
    # the default companions of the default embedder (an English model beside e5), else none.
    extra_embedders: list[str] | None = None
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    dense_index: str = "auto"
    bm25: Bm25Settings = field(default_factory=Bm25Settings)
    fusion: FusionSettings = field(default_factory=FusionSettings)

    def __post_init__(self) -> None:
        if self.embedder == NO_EMBEDDER:
            self.embedder = None
        if self.extra_embedders is None:
            default = self.embedder == DEFAULT_EMBEDDER
            self.extra_embedders = list(DEFAULT_EXTRA_EMBEDDERS) if default else []
        self.extra_embedders = [name for name in self.extra_embedders if name != NO_EMBEDDER]
        if self.embedder is None:
            self.extra_embedders = []
        if self.chunk_tokens <= 0 or not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise InputError("chunk overlap must be at least 0 and smaller than the chunk size.")
        if self.dense_index not in INDEX_KINDS:
            raise InputError(f"dense index must be one of {', '.join(INDEX_KINDS)}.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> "CollectionSettings":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in payload.items() if key in known}
        values["bm25"] = Bm25Settings(**payload.get("bm25", {}))
        values["fusion"] = FusionSettings(**payload.get("fusion", {}))
        return cls(**values)
