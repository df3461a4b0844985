"""Atomic collection updates: every write builds a new generation folder beside the live one.

The manifest names the live generation. A writer copies the live generation into a temporary
folder, changes it there, renames it into place and only then swaps the manifest (a single
`os.replace`). A crash or kill at any point leaves the previous generation live and whole.
The generic crash-safe writes it builds on live in seoga.atomic.
"""

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seoga.atomic import TEMP_MARKER, fsync_dir, fsync_tree, write_json_atomic
from seoga.errors import CollectionError

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"
GENERATION_PREFIX = "gen-"
GENERATION_DIGITS = 6


def generation_name(number: int) -> str:
    return f"{GENERATION_PREFIX}{number:0{GENERATION_DIGITS}d}"


def generation_number(name: str) -> int:
    return int(name.removeprefix(GENERATION_PREFIX))


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer at a time per collection; readers never take it."""
    with (root / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise CollectionError(
                f"{root} is being changed by another seoga process; wait for it to finish."
            ) from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_unreferenced(root: Path, live: str | None) -> None:
    """Delete generations and temporary folders that the manifest does not name."""
    for entry in root.iterdir():
        if entry.name.startswith(GENERATION_PREFIX) and entry.name != live and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        elif TEMP_MARKER in entry.name and entry.is_file():
            entry.unlink(missing_ok=True)


class GenerationWriter:
    """Builds the next generation in a temporary folder; `commit` makes it live."""

    def __init__(self, root: Path, live: str | None) -> None:
        self.root = root
        self.live = live
        next_number = generation_number(live) + 1 if live else 1
        self.name = generation_name(next_number)
        self.path = root / f"{self.name}{TEMP_MARKER}{os.getpid()}"
        self.path.mkdir()

    def commit(self, manifest: dict[str, Any]) -> None:
        fsync_tree(self.path)
        final = self.root / self.name
        os.replace(self.path, final)
        fsync_dir(self.root)
        write_json_atomic(self.root / MANIFEST_NAME, {**manifest, "generation": self.name})
        remove_unreferenced(self.root, self.name)

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
