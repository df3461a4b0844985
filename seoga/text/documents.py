"""The records that flow from loaders through the chunker into the store."""

from dataclasses import dataclass, field
from typing import Any


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
