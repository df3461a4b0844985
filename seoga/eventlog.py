"""The event log of a served collection: impressions and clicks, one JSON object per line.

The page reports which results it showed (impressions) and which one was opened (clicks); they
are appended to `events.jsonl` in the collection folder, the interactions that recommenders
(`seoga recommend fit --interactions kb/events.jsonl --user user --item item`) and the causal
analysis read later. One write per batch under a lock, so lines never interleave.
"""

from __future__ import annotations

import json
import os
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


class EventLog:
    def __init__(self, root: Path) -> None:
        self.path = Path(root) / EVENTS_NAME
        self._lock = threading.Lock()

    def append(self, events: Iterable[dict[str, Any]]) -> int:
        """Add events (each already checked by the API), stamped with the server's time."""
        now = time.time()
        lines = [
            json.dumps({**event, "time": now}, ensure_ascii=False, separators=(",", ":"))
            for event in events
        ]
        if not lines:
            return 0
        payload = ("\n".join(lines) + "\n").encode("utf-8")
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, payload)
            finally:
                os.close(descriptor)
        return len(lines)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
