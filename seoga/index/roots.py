"""The folders and files a collection was indexed from, each under a short label.

A file's document id is its absolute path on the machine that indexed it. The server shows ids
and sources as `label/relative/path` instead (seoga.serve.public), so no absolute server path
leaves it; the labels are recorded in the manifest as roots are first indexed and never change,
so an id the page or an event log holds stays valid across generations.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOTS_KEY = "roots"
UNNAMED = "files"  # the label of a root without a name of its own (the file system's root)
SEPARATOR = "/"


@dataclass(frozen=True)
class Root:
    path: str
    label: str

    def holds(self, value: str) -> bool:
        """Whether `value` (a path, or a path with a `#part` as sheets have) lies at or under
        this root."""
        if not value.startswith(self.path):
            return False
        rest = value[len(self.path) :]
        return not rest or rest[0] in (os.sep, "#") or self.path.endswith(os.sep)


def read_roots(recorded: Sequence[dict] | None) -> list[Root]:
    return [Root(**entry) for entry in recorded or []]


def with_roots(recorded: Sequence[dict] | None, added: Iterable[Path]) -> list[dict]:
    """The recorded roots, then each added path that no recorded root holds yet, under a label
    no other root has (`docs`, `docs-2`, …). Earlier roots keep their labels."""
    roots = read_roots(recorded)
    for path in added:
        text = str(path)
        if any(root.holds(text) for root in roots):
            continue
        roots.append(Root(text, unique_label(path.name or UNNAMED, {r.label for r in roots})))
    return [asdict(root) for root in roots]


def unique_label(name: str, taken: set[str]) -> str:
    label, number = name, 1
    while label in taken:
        number += 1
        label = f"{name}-{number}"
    return label


def roots_of(manifest: dict, files: Callable[[], Iterable[str]]) -> list[dict]:
    """A manifest's recorded roots; for a collection indexed before roots were recorded, the
    folder its `files` share (read only then)."""
    recorded = manifest.get(ROOTS_KEY)
    return with_roots([], derived_roots(files())) if recorded is None else list(recorded)


def derived_roots(files: Iterable[str]) -> list[Path]:
    """For a collection indexed before roots were recorded: the folder all its files share."""
    folders = [str(Path(file).parent) for file in files if Path(file).is_absolute()]
    return [Path(os.path.commonpath(folders))] if folders else []
