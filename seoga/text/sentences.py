"""Sentence spans: Kiwi for paragraphs with Hangul, a punctuation rule for the rest.

Blank lines always end a sentence. Spans are (start, end) character offsets into the text,
with no surrounding whitespace.
"""

import re
from collections.abc import Iterable, Iterator

from seoga.text.kiwi import get_kiwi
from seoga.text.scripts import has_hangul

Span = tuple[int, int]

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
_SENTENCE_END = re.compile(r"[.!?。！？…]+[\"'”’)\]]*\s+")
_WORD_BEFORE = re.compile(r"(\w+)$")
# How far back to look for the word a full stop ends.
WORD_WINDOW = 32
# Words whose trailing full stop does not end a sentence ("e.g." and "U.S." are caught as dotted).
ABBREVIATIONS = frozenset(
    {"al", "cf", "dr", "etc", "fig", "inc", "jr", "ltd", "mr", "mrs", "ms", "no", "prof", "sr"}
    | {"st", "vs"}
)


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of one text."""
    return next(split_sentences_many([text]))


def split_sentences_many(texts: Iterable[str]) -> Iterator[list[Span]]:
    """Sentence spans of each text, in order; all Hangul paragraphs go to Kiwi in one batch."""
    texts = list(texts)
    paragraphs = [_paragraph_spans(text) for text in texts]
    korean = [
        text[start:end]
        for text, spans in zip(texts, paragraphs, strict=True)
        for start, end in spans
        if has_hangul(text[start:end])
    ]
    kiwi_sentences = get_kiwi().split_into_sents(iter(korean)) if korean else iter(())
    for text, spans in zip(texts, paragraphs, strict=True):
        sentences: list[Span] = []
        for start, end in spans:
            paragraph = text[start:end]
            if has_hangul(paragraph):
                # Kiwi leaves runs of English sentences whole; the rule splits those.
                found = [
                    span
                    for sentence in next(kiwi_sentences)
                    for span in _rule_sentences(
                        paragraph[sentence.start : sentence.end], start + sentence.start
                    )
                ]
            else:
                found = _rule_sentences(paragraph, start)
            sentences.extend(_strip(text, s, e) for s, e in found if text[s:e].strip())
        yield sentences


def _paragraph_spans(text: str) -> list[Span]:
    spans = []
    start = 0
    for blank in _BLANK_LINE.finditer(text):
        spans.append((start, blank.start()))
        start = blank.end()
    spans.append((start, len(text)))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _rule_sentences(paragraph: str, offset: int) -> list[Span]:
    spans = []
    start = 0
    for end in _SENTENCE_END.finditer(paragraph):
        if _ends_sentence(paragraph, end):
            spans.append((offset + start, offset + end.end()))
            start = end.end()
    spans.append((offset + start, offset + len(paragraph)))
    return spans


def _ends_sentence(paragraph: str, end: re.Match[str]) -> bool:
    if paragraph[end.end() : end.end() + 1].islower():
        return False
    before = _WORD_BEFORE.search(paragraph[max(0, end.start() - WORD_WINDOW) : end.start()])
    word = before.group(1) if before else ""
    if has_hangul(word):
        return False  # Kiwi has already judged where Korean sentences end
    if not end.group().startswith(".") or not word:
        return True
    is_initial = len(word) == 1 and word.isupper()
    # A number before a full stop is more often a list item ("1. 개요") than a sentence end.
    return not (
        is_initial or word.isdigit() or word.lower() in ABBREVIATIONS or _dotted(paragraph, end)
    )


def _dotted(paragraph: str, end: re.Match[str]) -> bool:
    """True for dotted abbreviations such as "e.g." or "U.S." (a full stop two characters back)."""
    return paragraph[max(0, end.start() - 2) : end.start() - 1] == "."


def _strip(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
