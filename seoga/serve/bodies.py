"""The bodies the API accepts, with the bounds every field is checked against."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from seoga.collection.searching import MAX_QUERY_CHARS
from seoga.eventlog import EVENT_LISTS, EVENT_TYPES
from seoga.text.documents import blank_text_message, is_blank
from seoga.text.formats.base import OcrMode

MAX_K = 100
MAX_WINDOW = 1_000  # offset + k: deeper pages are not served (as Meilisearch's maxTotalHits)
MAX_PASSAGES = 20
MAX_DOCUMENTS = 1_000  # per POST /v1/documents
MAX_EVENTS = 1_000  # per POST /v1/events
MAX_TEXT_CHARS = 1_000_000
MAX_ID_CHARS = 512
MAX_TASKS_LISTED = 100
CONTROL = "Cc"  # the Unicode category of control characters (tabs, newlines, NUL, escapes)
SURROGATES = re.compile("[\ud800-\udfff]")  # JSON's \ud800 escapes: not text, cannot be stored


class RequestBody(BaseModel):
    """A JSON body: every string in it, keys and nested values too, must be text."""

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogates(cls, data: Any) -> Any:
        pending = [data]
        while pending:  # a loop, not recursion: a body may nest as deep as its size allows
            value = pending.pop()
            if isinstance(value, dict):
                pending += [*value.keys(), *value.values()]
            elif isinstance(value, list):
                pending += value
            elif isinstance(value, str) and SURROGATES.search(value):
                raise ValueError(
                    "the body holds a lone UTF-16 surrogate (such as \\ud800), which is not "
                    "text; send text encoded as UTF-8."
                )
        return data


class Question(RequestBody):
    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The question.")
    k: int = Field(5, ge=1, le=MAX_PASSAGES, description="Passages the reader reads.")
    stream: bool = Field(False, description="Answer as server-sent events.")


class NewDocument(BaseModel):
    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    title: str = ""
    source: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("text")
    @classmethod
    def _has_text(cls, text: str, info: ValidationInfo) -> str:
        """A blank text makes no passage, never found: refused as a file of one is (422)."""
        if is_blank(text):
            raise ValueError(blank_text_message(info.data.get("id", "")))
        return text


class NewDocuments(RequestBody):
    documents: list[NewDocument] = Field(min_length=1, max_length=MAX_DOCUMENTS)


class IndexRequest(RequestBody):
    paths: list[str] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    prune: bool = Field(False, description="Remove files gone from under these paths.")
    ocr: OcrMode = Field(
        "auto", description="OCR of scanned pages and images: auto (no text layer), always, never."
    )


def printable_id(value: str | None) -> str | None:
    """User and session ids become recommenders' user ids and land in CSV exports and terminals:
    no control characters in them."""
    if value is not None and any(unicodedata.category(c) == CONTROL for c in value):
        raise ValueError("an id may not hold control characters")
    return value


PrintableId = Annotated[str | None, AfterValidator(printable_id)]


class Event(BaseModel):
    """One impression or click; every field is bounded, so a stored line is too. The item must
    exist (checked by the service against the collection and the recommender's catalogue)."""

    type: str = Field(pattern="^(" + "|".join(EVENT_TYPES) + ")$")
    item: str = Field(
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="A document id (or an item of the recommender's catalogue).",
    )
    user: PrintableId = Field(None, min_length=1, max_length=MAX_ID_CHARS)
    session: PrintableId = Field(None, min_length=1, max_length=MAX_ID_CHARS)
    query: str | None = Field(None, max_length=MAX_QUERY_CHARS)
    position: int | None = Field(None, ge=0, le=MAX_WINDOW)
    list: str | None = Field(
        None,
        pattern="^(" + "|".join(EVENT_LISTS) + ")$",
        description="Where the item was shown: a recommendation list (related, recommend) "
        "or the search results.",
    )


class Events(RequestBody):
    events: list[Event] = Field(min_length=1, max_length=MAX_EVENTS)
