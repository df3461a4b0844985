"""Which documents a search may return: a source prefix and exact metadata values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from seoga.errors import InputError

if TYPE_CHECKING:
    from seoga.index.store import Store

FIELD_SEPARATOR = ":"


@dataclass(frozen=True)
class DocumentFilter:
    """Keep documents whose source starts with `source` and whose metadata holds every
    `metadata` key with that value (compared as text)."""

    source: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, source: str | None, fields: Sequence[str]) -> DocumentFilter | None:
        """From `key:value` strings, as the API and CLI take them; None when nothing filters."""
        metadata = {}
        for item in fields:
            key, separator, value = item.partition(FIELD_SEPARATOR)
            if not separator or not key:
                raise InputError(
                    f"filter {item!r} is not key{FIELD_SEPARATOR}value (e.g. year{FIELD_SEPARATOR}"
                    "2024): name a metadata field and the value it must have."
                )
            metadata[key] = value
        if not source and not metadata:
            return None
        return cls(source or None, metadata)

    def keeps(self, store: Store, doc_ids: Sequence[str]) -> np.ndarray:
        """One boolean per document id: whether it passes."""
        known = store.sources_and_metadata(doc_ids)
        return np.fromiter(
            (doc_id in known and self._passes(*known[doc_id]) for doc_id in doc_ids),
            dtype=bool,
            count=len(doc_ids),
        )

    def _passes(self, source: str, metadata: dict) -> bool:
        if self.source and not source.startswith(self.source):
            return False
        return all(
            key in metadata and str(metadata[key]) == value for key, value in self.metadata.items()
        )
