"""Atomic collection updates: every write builds a new generation folder beside the live one.

The manifest names the live generation. A writer copies the live generation into a temporary
folder, changes it there, renames it into place and only then swaps the manifest (a single
`os.replace`). A crash or kill at any point leaves the previous generation live and whole.
"""

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seoga.errors import CollectionError

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"
GENERATION_PREFIX = "gen-"
TEMP_MARKER = ".tmp-"
GENERATION_DIGITS = 6


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON beside `path`, flush it to disk, then rename over `path`."""
    temp = path.with_name(f"{path.name}{TEMP_MARKER}{os.getpid()}")
    with temp.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(path: Path) -> None:
    """Flush every file under `path` to disk before it is renamed into place."""
    for file in path.rglob("*"):
        if file.is_file():
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(path)


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


@contextmanager
def building(out: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `out`; on success it replaces `out` in one rename.

    An interrupted run leaves any previous folder at `out` untouched.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f"{out.name}{TEMP_MARKER}{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    try:
        yield temp
        fsync_tree(temp)
        if out.exists():
            retired = out.with_name(f"{out.name}{TEMP_MARKER}old-{os.getpid()}")
            os.replace(out, retired)
            os.replace(temp, out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
