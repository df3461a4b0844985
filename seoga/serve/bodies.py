"""The bodies the API accepts, with the bounds every field is checked against."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from seoga.collection import MAX_QUERY_CHARS
from seoga.eventlog import EVENT_LISTS, EVENT_TYPES
from seoga.text.formats.base import OcrMode

MAX_K = 100
MAX_WINDOW = 1_000  # offset + k: deeper pages are not served (as Meilisearch's maxTotalHits)
MAX_PASSAGES = 20
MAX_DOCUMENTS = 1_000  # per POST /v1/documents
MAX_EVENTS = 1_000  # per POST /v1/events
MAX_TEXT_CHARS = 1_000_000
MAX_ID_CHARS = 512
MAX_TASKS_LISTED = 100


class Question(BaseModel):
    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The question.")
    k: int = Field(5, ge=1, le=MAX_PASSAGES, description="Passages the reader reads.")
    stream: bool = Field(False, description="Answer as server-sent events.")


class NewDocument(BaseModel):
    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    title: str = ""
    source: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class NewDocuments(BaseModel):
    documents: list[NewDocument] = Field(min_length=1, max_length=MAX_DOCUMENTS)


class IndexRequest(BaseModel):
    paths: list[str] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    prune: bool = Field(False, description="Remove files gone from under these paths.")
    ocr: OcrMode = Field(
        "auto", description="OCR of scanned pages and images: auto (no text layer), always, never."
    )


class Event(BaseModel):
    type: str = Field(pattern="^(" + "|".join(EVENT_TYPES) + ")$")
    item: str = Field(min_length=1, max_length=MAX_ID_CHARS, description="A document id.")
    user: str | None = Field(None, max_length=MAX_ID_CHARS)
    session: str | None = Field(None, max_length=MAX_ID_CHARS)
    query: str | None = Field(None, max_length=MAX_QUERY_CHARS)
    position: int | None = Field(None, ge=0, le=MAX_WINDOW)
    list: str | None = Field(
        None,
        pattern="^(" + "|".join(EVENT_LISTS) + ")$",
        description="Where the item was shown: a recommendation list (related, recommend) "
        "or the search results.",
    )


class Events(BaseModel):
    events: list[Event] = Field(min_length=1, max_length=MAX_EVENTS)
