"""What a search returns: one hit per document, its best chunk as the snippet; and a retrieved
chunk as readers and the reranker take it (`Passage`)."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Highlight:
    """A character span of the snippet that matched a query term."""

    start: int
    end: int


@dataclass(frozen=True)
class SearchResult:
    doc_id: str
    title: str
    source: str
    score: float
    snippet: str
    chunk_id: int
    highlights: list[Highlight] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    section: str = ""  # the section path of the best chunk, "" when its document has none

    def marked_snippet(self, open_mark: str = "[", close_mark: str = "]") -> str:
        """The snippet with each highlight wrapped in the given marks."""
        pieces: list[str] = []
        cursor = 0
        for highlight in self.highlights:
            pieces += [
                self.snippet[cursor : highlight.start],
                open_mark,
                self.snippet[highlight.start : highlight.end],
                close_mark,
            ]
            cursor = highlight.end
        pieces.append(self.snippet[cursor:])
        return "".join(pieces)

    def segments(self) -> list[dict[str, Any]]:
        """The snippet as pieces of plain text, each saying whether it matched: a page builds
        its marks from these as text nodes, never as HTML made from document text."""
        pieces: list[dict[str, Any]] = []
        cursor = 0
        for highlight in self.highlights:
            if highlight.start > cursor:
                pieces.append({"text": self.snippet[cursor : highlight.start], "hit": False})
            pieces.append({"text": self.snippet[highlight.start : highlight.end], "hit": True})
            cursor = highlight.end
        if cursor < len(self.snippet):
            pieces.append({"text": self.snippet[cursor:], "hit": False})
        return pieces

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Passage:
    """A retrieved chunk given to a reader; `number` is its citation number, from 1."""

    number: int
    doc_id: str
    title: str
    text: str
    source: str = ""
    score: float = 0.0
    chunk_id: int | None = None
    relevance: float | None = None  # the reranker's calibrated probability, when reranked
    section: str = ""  # the chunk's section path, "" when its document has none

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
