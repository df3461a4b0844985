"""Korean answer boundaries: a span cut at morpheme boundaries, without its trailing particles.

Korean attaches particles (조사) and endings (어미) to words, so a span read off the text often
carries them: "1989년에", "서울에서", "임수경을", "한국인이다". Every reader passes its span
through `trim_span`, which analyses the span in its context with Kiwi, widens it to whole
morphemes and drops the trailing particles, punctuation and a copula with its endings. Verb
endings stay: "설립했다" without its ending is not a word.
"""

from __future__ import annotations

from dataclasses import replace

from seoga.answer.base import Answer
from seoga.text.kiwi import get_kiwi
from seoga.text.scripts import has_hangul

# Kiwi tags dropped from the end of an answer: particles, and punctuation that closes a sentence.
PARTICLE_PREFIX = "J"
TRAILING_PUNCTUATION = {"SF", "SP", "SE"}
# The copula 이다 and the endings it takes ("한국인이었던" → "한국인").
COPULA = "VCP"
ENDING_PREFIX = "E"
# Characters of context analysed on each side of a span: enough for Kiwi to read its word.
CONTEXT_CHARS = 40


def _droppable(tags: list[str]) -> int:
    """How many of the last tags to drop: particles and punctuation, then a copula's endings."""
    dropped = 0
    while dropped < len(tags):
        tag = tags[len(tags) - 1 - dropped]
        if tag.startswith(PARTICLE_PREFIX) or tag in TRAILING_PUNCTUATION:
            dropped += 1
            continue
        if tag.startswith(ENDING_PREFIX):
            endings = dropped
            while endings < len(tags) and tags[len(tags) - 1 - endings].startswith(ENDING_PREFIX):
                endings += 1
            if endings < len(tags) and tags[len(tags) - 1 - endings] == COPULA:
                dropped = endings + 1
                continue
        if tag == COPULA:
            dropped += 1
            continue
        break
    return dropped


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) of `text` widened to whole morphemes, trailing particles dropped.

    Text without Hangul is returned as given. A span that is nothing but particles is kept
    as it was, since an answer must not vanish.
    """
    answer = text[start:end]
    if not answer.strip() or not has_hangul(answer):
        return start, end
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    tokens = [
        token
        for token in get_kiwi().tokenize(text[left:right])
        if left + token.start < end and left + token.start + token.len > start
    ]
    kept = tokens[: len(tokens) - _droppable([token.tag for token in tokens])]
    if not kept:
        return start, end
    new_start = min(start, left + kept[0].start)
    new_end = left + max(token.start + token.len for token in kept)
    # A contraction ("했" = 하 + 었) shares a character between a kept and a dropped morpheme.
    return new_start, max(new_end, new_start + 1)


def trim_answer(answer: str) -> str:
    """An answer string without its trailing particles (the span is the whole string)."""
    start, end = trim_span(answer, 0, len(answer))
    return answer[start:end]


def trim_particles(answer: Answer) -> Answer:
    """`answer` with its span (or, for generated text, its text) cut at morpheme boundaries and
    without trailing particles. A whole sentence given as the answer is left as it is."""
    if not answer.text or answer.abstained:
        return answer
    if not answer.spans:
        answer.text = trim_answer(answer.text)
        return answer
    span = answer.spans[0]
    if span == answer.sentence:
        return answer
    try:
        passage = answer.passage(span.passage)
    except KeyError:
        return answer
    if passage.text[span.start : span.end].strip() != answer.text:
        return answer
    start, end = trim_span(passage.text, span.start, span.end)
    answer.spans[0] = replace(span, start=start, end=end)
    answer.text = passage.text[start:end].strip()
    return answer
