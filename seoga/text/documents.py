"""The records that flow from loaders through the chunker into the store, and the text a
chunk is indexed as."""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from seoga.errors import InputError

# Spaces of every kind, line and paragraph separators, control characters and format
# characters (zero-width space and joiners, word joiner, byte-order mark, direction marks).
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
# Unicode's default-ignorable letters and marks, which show nothing although their categories
# (Lo, Mn) say otherwise: the Hangul fillers (U+3164 looks like a space in Korean text), the
# combining grapheme joiner and the variation selectors.
_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]"
)
BLANK_TEXT = "only spaces, control or invisible characters"


@dataclass(frozen=True)
class Document:
    """One document: a whole file, or one record of a JSONL/CSV file."""

    doc_id: str
    text: str
    title: str = ""
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A piece of a document's text, the unit that is indexed and retrieved."""

    doc_id: str
    position: int
    text: str
    start: int
    end: int
    section: str = ""  # the section path in force at `start` ("" when the document has none)


def passage_text(title: str, text: str, section: str = "") -> str:
    """What the indexes see for a chunk: its document's title, the section path it lies in (so
    that a query naming a heading finds it), then the chunk; each on its own line."""
    if section:
        text = f"{section}\n{text}"
    return f"{title}\n{text}" if title else text


@dataclass(frozen=True)
class LoadProblem:
    """Why (part of) a file was skipped: shown to the user as a per-file report."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass
class LoadResult:
    """What a loader made of one file: the documents it could read and what it skipped."""

    documents: list[Document] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing, so that nothing in it could be found: every loader and
    every API that takes documents refuses such a text by this one rule.

    Private-use characters (symbols and old Hangul in HWP files, drawn by their fonts) and
    code points unassigned in this Python's Unicode version (perhaps assigned in a newer one)
    count as text.
    """
    return all(
        unicodedata.category(char) in _BLANK_CATEGORIES or _INVISIBLE.match(char) for char in text
    )


def blank_text_message(doc_id: str) -> str:
    """What is wrong with a document of blank text, and what to do about it."""
    return (
        f"document {doc_id!r} has a blank text ({BLANK_TEXT}): nothing in it could be "
        "found; give it its text, or leave it out."
    )


def require_text(documents: Iterable[Document]) -> None:
    """Refuse documents made in Python whose text is blank, naming the first."""
    for document in documents:
        if is_blank(document.text):
            raise InputError(blank_text_message(document.doc_id))
