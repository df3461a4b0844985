"""A collection's settings: chosen at creation, recorded in its manifest."""

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from seoga.errors import InputError
from seoga.index.dense import INDEX_KINDS
from seoga.index.sparse import DEFAULT_B, DEFAULT_K1, DEFAULT_METHOD
from seoga.models.registry import DEFAULT_EMBEDDER, DEFAULT_EXTRA_EMBEDDERS
from seoga.search.fusion import FusionSettings
from seoga.text.analyzers import DEFAULT_ANALYZER

DEFAULT_CHUNK_TOKENS = 256
DEFAULT_CHUNK_OVERLAP = 32
NO_EMBEDDER = "none"


@dataclass
class Bm25Settings:
    method: str = DEFAULT_METHOD
    k1: float = DEFAULT_K1
    b: float = DEFAULT_B


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


# Of the settings a collection is created with, only the main bi-encoder may change later
# (every chunk is re-encoded with the new one); the others shape the stored indexes.
CHANGEABLE_SETTINGS = ("embedder",)


def settings_changes(
    current: CollectionSettings, chosen: dict[str, Any], where: object
) -> list[str]:
    """The names of `chosen` settings (CollectionSettings' arguments) that differ from the
    `current` ones of the collection at `where`; refused when one of them is fixed at creation,
    or would take the main bi-encoder away rather than change it."""
    now = current.to_dict()
    requested = CollectionSettings(**chosen).to_dict()
    differing = [name for name in chosen if now.get(name) != requested[name]]
    fixed = [n for n in differing if n not in CHANGEABLE_SETTINGS or requested[n] is None]
    if fixed:
        raise InputError(
            f"{where} was created with other {', '.join(fixed)} settings; they are "
            "fixed at creation. Index into a new collection to change them."
        )
    return differing
