"""Answers with citations: readers (highlighter, span, Fusion-in-Decoder, in-context LLM) and
the ask pipeline that feeds them retrieved passages."""

from seoga.answer.base import ABSTAIN_MESSAGE, Answer, Passage, Reader, Span
from seoga.answer.loading import load_reader
from seoga.answer.pipeline import Asker, AskSettings

__all__ = [
    "ABSTAIN_MESSAGE",
    "Answer",
    "AskSettings",
    "Asker",
    "Passage",
    "Reader",
    "Span",
    "load_reader",
]
