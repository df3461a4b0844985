"""The event log of a served collection: impressions and clicks, one JSON object per line.

The page reports which results it showed (impressions) and which one was opened (clicks); they
are appended to `events.jsonl` in the collection folder, the interactions that recommenders
(`seoga recommend fit kb --user-column user --item-column item`) and the causal analysis read
later. One write per batch under a lock, so lines never interleave.

The log is capped: when the next lines would take `events.jsonl` past `max_bytes`, it is rotated
(events.jsonl → events.1.jsonl → … → events.{keep-1}.jsonl, the oldest dropped), so the log never
holds more than `keep` files of at most `max_bytes` each. Files are created readable by their
owner only (0600): the log names users, sessions and what they searched for.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

EVENTS_NAME = "events.jsonl"
EVENT_TYPES = ("impression", "click")
# Where an item was shown; related and recommend lists are recommendations.
EVENT_LISTS = ("search", "related", "recommend")
RECOMMENDATION_LISTS = ("related", "recommend")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_KEEP = 5  # files: events.jsonl and events.1.jsonl … events.4.jsonl
FILE_MODE = 0o600  # the owner only: the log names users and their queries
ROTATED = re.compile(r"^events\.(\d+)\.jsonl$")


def rotated_name(number: int) -> str:
    return f"events.{number}.jsonl"


def event_files(folder: Path) -> list[Path]:
    """The event log files in a collection folder, oldest first (events.N.jsonl … events.1.jsonl,
    then events.jsonl): whatever a server with any `keep` left there."""
    folder = Path(folder)
    numbered = sorted(
        (int(match.group(1)), path)
        for path in (folder.iterdir() if folder.is_dir() else [])
        if (match := ROTATED.match(path.name)) and path.is_file()
    )
    current = folder / EVENTS_NAME
    return [path for _, path in reversed(numbered)] + ([current] if current.is_file() else [])


def read_events(folder: Path) -> list[dict[str, Any]]:
    """Every event kept in a collection folder, oldest first."""
    events = []
    for path in event_files(folder):
        with path.open(encoding="utf-8") as handle:
            events.extend(json.loads(line) for line in handle if line.strip())
    return events


class EventLog:
    """`events.jsonl` of one collection folder, size-capped and rotated."""

    def __init__(
        self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES, keep: int = DEFAULT_KEEP
    ) -> None:
        if max_bytes < 1 or keep < 1:
            raise ValueError("an event log keeps at least one file of at least one byte.")
        self.root = Path(root)
        self.path = self.root / EVENTS_NAME
        self.max_bytes = max_bytes
        self.keep = keep
        self._lock = threading.Lock()

    def append(self, events: Iterable[dict[str, Any]]) -> int:
        """Add events (each already checked by the API), stamped with the server's time; the
        log is rotated before a line that would take the current file past the cap, so every
        file stays under it (a single line longer than the cap is written alone)."""
        now = time.time()
        lines = [
            (
                json.dumps({**event, "time": now}, ensure_ascii=False, separators=(",", ":")) + "\n"
            ).encode("utf-8")
            for event in events
        ]
        if not lines:
            return 0
        with self._lock:
            size = self._size()
            batch: list[bytes] = []
            for line in lines:
                if size + len(line) > self.max_bytes and size > 0:
                    self._write(b"".join(batch))
                    batch = []
                    self._rotate()
                    size = 0
                batch.append(line)
                size += len(line)
            self._write(b"".join(batch))
        return len(lines)

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def _write(self, payload: bytes) -> None:
        if not payload:
            return
        # O_CREAT applies FILE_MODE to a new file only: an existing file keeps its mode.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            os.write(descriptor, payload)
        finally:
            os.close(descriptor)

    def _rotate(self) -> None:
        """Shift every file one place older (os.replace: each step atomic), dropping those past
        `keep`; called under the lock, so no append sees a half-rotated log."""
        for path in event_files(self.root)[:-1]:
            if int(ROTATED.match(path.name).group(1)) >= self.keep - 1:
                path.unlink()
        for number in range(self.keep - 2, 0, -1):
            older = self.root / rotated_name(number)
            if older.exists():
                os.replace(older, self.root / rotated_name(number + 1))
        if self.keep > 1:
            os.replace(self.path, self.root / rotated_name(1))
        else:
            self.path.unlink()

    def files(self) -> list[Path]:
        """The kept files, oldest first."""
        return event_files(self.root)

    def read(self) -> list[dict[str, Any]]:
        """Every kept event, oldest first."""
        return read_events(self.root)
