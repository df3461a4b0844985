"""How `seoga serve` runs (`ServeSettings`, filled by the CLI from its options) and who may post
events to it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from seoga.errors import InputError
from seoga.eventlog import DEFAULT_KEEP, DEFAULT_MAX_BYTES
from seoga.serve.keys import EVENTS, SEARCH
from seoga.serve.security import LOOPBACK_HOSTS

# Who may post events: keys of the events scope (and admin); also search keys; also requests
# without a key, when the server is --open (the page of a public demo reports its impressions).
ANYONE = "anyone"
EVENT_WRITERS = (EVENTS, SEARCH, ANYONE)
# A page shows ten results as you type: a few searches a second are well under this, a script
# posting a thousand events a request is not.
DEFAULT_EVENTS_PER_MINUTE = 3_000


@dataclass
class ServeSettings:
    """How `seoga serve` runs; the CLI fills it from its options."""

    collection: Path
    reader: str = "highlighter"
    llm: Path | None = None
    rerank: Path | None = None
    recommender: Path | None = None
    allowed_roots: list[Path] = field(default_factory=list)
    open_search: bool = False  # requests without a key may search (admin still needs a key)
    cors_origins: list[str] = field(default_factory=list)
    # Host header names served (seoga.serve.security): loopback ones by default, `*` for any.
    allowed_hosts: list[str] = field(default_factory=lambda: list(LOOPBACK_HOSTS))
    max_body_bytes: int = 8 * 1024 * 1024
    search_slots: int = os.cpu_count() or 1  # searches that run at once
    search_queue: int = 64  # searches that may wait for a slot; more are answered 503
    queue_seconds: float = 10.0  # the longest a search waits for a slot before a 503
    int8_queries: bool = False  # encode queries with int8 copies of the models
    # One ONNX Runtime thread per query: `search_slots` searches at once already fill the cores.
    query_threads: int = 1
    event_writers: str = EVENTS  # one of EVENT_WRITERS
    events_per_minute: int = DEFAULT_EVENTS_PER_MINUTE  # per key, or per address without one
    events_max_bytes: int = DEFAULT_MAX_BYTES  # each file of the event log
    events_keep: int = DEFAULT_KEEP  # files of the event log kept, the current one included

    def __post_init__(self) -> None:
        if self.event_writers not in EVENT_WRITERS:
            raise InputError(
                f"event writers are one of {', '.join(EVENT_WRITERS)}, not {self.event_writers!r}."
            )
        if self.events_per_minute < 1 or self.events_max_bytes < 1 or self.events_keep < 1:
            raise InputError(
                "events a minute, the event log's file size and the files kept are each at least 1."
            )
