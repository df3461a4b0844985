"""Document ids and sources as the API shows them: no absolute server path leaves the server.

A file's document is stored under its absolute path; the API names it `label/relative/path`,
where `label` is the recorded name of the folder (or file) it was indexed from
(seoga.index.roots), and maps such ids back on the way in. Documents added through the API keep
the ids they were given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from seoga.index.roots import SEPARATOR, Root, read_roots, roots_of

PART = "#"  # a sheet of a workbook: `path#sheet`


class PublicIds:
    def __init__(self, roots: list[Root], collection: Path) -> None:
        # Longest paths first, so that text naming a nested root is rewritten by the nearest.
        self.roots = roots
        self._by_length = sorted(roots, key=lambda root: len(root.path), reverse=True)
        self.collection = collection

    @classmethod
    def of(
        cls, manifest: dict[str, Any], files: Callable[[], Iterable[str]], collection: Path
    ) -> PublicIds:
        """The ids of a generation: its recorded roots, or for a collection indexed before roots
        were recorded, the folder its `files` share (listed only then)."""
        return cls(read_roots(roots_of(manifest, files)), collection)

    def public(self, value: str) -> str:
        """`value` (an id or a source) as the API shows it."""
        for root in self.roots:
            if root.holds(value):
                rest = value[len(root.path) :].replace(os.sep, SEPARATOR)
                if rest and rest[0] not in (SEPARATOR, PART):
                    rest = SEPARATOR + rest  # a root that ends in a separator: the file system's
                return root.label + rest
        return value

    def internal(self, value: str) -> str:
        """An id the API was given, as the collection stores it."""
        root, rest = self._split(value)
        if root is None:
            return value
        path = rest.lstrip(SEPARATOR) if root.path.endswith(os.sep) else rest
        return root.path + path.replace(SEPARATOR, os.sep)

    def label_of(self, value: str) -> str | None:
        """The root label an id begins with, if any (such ids name indexed files)."""
        root, _ = self._split(value)
        return root.label if root else None

    def _split(self, value: str) -> tuple[Root | None, str]:
        for root in self.roots:
            if value == root.label:
                return root, ""
            if value.startswith(root.label) and value[len(root.label)] in (SEPARATOR, PART):
                return root, value[len(root.label) :]
        return None, value

    def scrub(self, text: str) -> str:
        """`text` (an error message) with every root's path and the collection's path replaced
        by their names."""
        for root in self._by_length:
            text = text.replace(root.path, root.label)
        return text.replace(str(self.collection), self.collection.name)

    def fields(self, payload: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
        """`payload` with the named fields made public."""
        return {
            name: self.public(value) if name in names and isinstance(value, str) else value
            for name, value in payload.items()
        }


def without_paths(value: Any) -> Any:
    """`value` (settings, model names) with every absolute path cut to its last part."""
    if isinstance(value, dict):
        return {name: without_paths(item) for name, item in value.items()}
    if isinstance(value, list):
        return [without_paths(item) for item in value]
    if isinstance(value, str) and os.path.isabs(value):
        return Path(value).name
    return value
