"""Which documents a search may return: a source prefix and exact metadata values."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from seoga.errors import InputError

if TYPE_CHECKING:
    from seoga.index.store import Store

FIELD_SEPARATOR = ":"
KEY_PATH_SEPARATOR = "."  # `author.name` names the `name` of an `author` object
_MISSING = object()


@dataclass(frozen=True)
class DocumentFilter:
    """Keep documents whose source starts with `source` and whose metadata holds every
    `metadata` key with that value.

    Values are compared as text, `true`, `false` and `null` as JSON writes them. A list matches
    when one of its items does (`tags:법` keeps `{"tags": ["법", "계약"]}`); a key with dots
    reaches into nested objects (`author.name:홍길동`) unless the metadata holds that key as
    it is; an object itself matches no value.
    """

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
            (doc_id in known and self.passes(*known[doc_id]) for doc_id in doc_ids),
            dtype=bool,
            count=len(doc_ids),
        )

    def passes(self, source: str, metadata: Mapping[str, Any]) -> bool:
        """Whether a document of this source and metadata passes."""
        if self.source and not source.startswith(self.source):
            return False
        return all(_matches(_lookup(metadata, key), value) for key, value in self.metadata.items())


def _lookup(metadata: Mapping[str, Any], key: str) -> Any:
    """The value `key` names, through nested objects at its dots; _MISSING when there is none."""
    if key in metadata:
        return metadata[key]
    found: Any = metadata
    for part in key.split(KEY_PATH_SEPARATOR):
        if not isinstance(found, Mapping) or part not in found:
            return _MISSING
        found = found[part]
    return found


def _matches(found: Any, wanted: str) -> bool:
    if isinstance(found, list):
        return any(_matches(item, wanted) for item in found)
    if found is _MISSING or isinstance(found, Mapping):
        return False
    # Metadata came from JSON: its true, false and null are written as JSON writes them.
    text = json.dumps(found) if isinstance(found, bool) or found is None else str(found)
    return text == wanted
