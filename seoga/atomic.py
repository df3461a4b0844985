"""Crash-safe file writes: build beside the target, flush to disk, then rename into place.

A reader sees either the old file (or folder) or the new one, never a half-written one; an
interrupted write leaves only a temporary entry whose name holds TEMP_MARKER.
"""

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# In the name of every temporary entry written beside its target, so cleanups can find them.
TEMP_MARKER = ".tmp-"


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
