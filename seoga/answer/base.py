"""What every reader shares: passages in, an answer with citations and a confidence out."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from seoga.calibrate.temperature import TemperatureScaling
from seoga.errors import InputError
from seoga.search.results import Passage

ABSTAIN_MESSAGE = "The collection does not answer this."
CONTEXT_CHARS = 320

# Called with each piece of text as a generating reader produces it (streaming).
TokenCallback = Callable[[str], None]


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of the passage numbered `passage` that the answer rests on."""

    passage: int
    start: int
    end: int


@dataclass
class Answer:
    """A reader's answer.

    `scores` are the raw scores of the candidate answers the reader weighed, the chosen one
    first, then the `support - 1` others that give the same answer: calibration turns them
    into `confidence` (see seoga.calibrate.temperature).
    """

    text: str
    citations: list[int]
    confidence: float
    reader: str
    spans: list[Span] = field(default_factory=list)
    sentence: Span | None = None  # the sentence an answer span was found in, when a reader says
    scores: list[float] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    support: int = 1
    abstained: bool = False
    threshold: float | None = None
    calibrated: bool = False
    seconds: float = 0.0

    @property
    def shown_text(self) -> str:
        return ABSTAIN_MESSAGE if self.abstained else self.text

    def passage(self, number: int) -> Passage:
        for passage in self.passages:
            if passage.number == number:
                return passage
        raise KeyError(number)

    def cited(self) -> list[Passage]:
        return [self.passage(number) for number in self.citations]

    def marked_context(
        self, span: Span, open_mark: str, close_mark: str, width: int = CONTEXT_CHARS
    ) -> str:
        """The passage around `span`, the span wrapped in the marks: the answer in context."""
        text = self.passage(span.passage).text
        room = max(0, width - (span.end - span.start)) // 2
        start, end = max(0, span.start - room), min(len(text), span.end + room)
        return (
            ("…" if start else "")
            + text[start : span.start]
            + open_mark
            + text[span.start : span.end]
            + close_mark
            + text[span.end : end]
            + ("…" if end < len(text) else "")
        )

    def to_dict(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["shown_text"] = self.shown_text
        return payload


class Reader(ABC):
    """Reads retrieved passages and answers a question from them."""

    name: str = "reader"

    @property
    def calibration_key(self) -> str:
        """Names this reader in a collection's stored calibration."""
        return self.name

    @property
    def default_scaling(self) -> TemperatureScaling:
        """How raw scores become a confidence before any calibration was fitted."""
        return TemperatureScaling()

    @abstractmethod
    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        """Answer `question` from `passages`; generating readers stream text to `on_token`."""

    def answer(
        self,
        text: str,
        citations: list[int],
        scores: Sequence[float],
        passages: Sequence[Passage],
        *,
        spans: Sequence[Span] = (),
        support: int = 1,
    ) -> Answer:
        """An answer whose confidence is this reader's default scaling of `scores`; the pipeline
        replaces it when a calibration was fitted."""
        return Answer(
            text=text,
            citations=citations,
            confidence=self.default_scaling.confidence(scores, support),
            reader=self.name,
            spans=list(spans),
            scores=list(scores),
            passages=list(passages),
            support=support,
        )

    def no_passages(self, question: str) -> Answer:
        """Nothing was retrieved: an empty answer with no confidence."""
        del question  # the same for every question
        return Answer(text="", citations=[], confidence=0.0, reader=self.name)


def cited_numbers(answer_text: str, passages: Sequence[Passage]) -> list[int]:
    """Passages whose text contains the answer, in passage order (case-insensitive)."""
    needle = answer_text.strip().casefold()
    if not needle:
        return []
    return [p.number for p in passages if needle in p.text.casefold()]


def passage_pairs(passages: Any, where: str) -> tuple[tuple[str, str], ...]:
    """(title, text) pairs from a JSON list of passages, each a string or {"title", "text"}."""
    if not isinstance(passages, list):
        raise InputError(f"{where}: 'passages' must be a list.")
    pairs = []
    for passage in passages:
        if isinstance(passage, str):
            pairs.append(("", passage))
        elif isinstance(passage, dict) and isinstance(passage.get("text"), str):
            pairs.append((str(passage.get("title", "")), passage["text"]))
        else:
            raise InputError(f"{where}: a passage must be a string or an object with 'text'.")
    return tuple(pairs)
