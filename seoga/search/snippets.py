"""Cut a readable window from a chunk and mark the words that match the query."""

import re
from collections.abc import Callable, Sequence

from seoga.search.results import Highlight

SNIPPET_CHARS = 240
WORD = re.compile(r"\w+")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ELLIPSIS = "…"


def find_highlights(
    texts: Sequence[str], query_terms: set[str], analyze_word: Callable[[str], list[str]]
) -> list[list[Highlight]]:
    """For each text, the spans that match the analysed query terms.

    Korean morphemes are found as substrings (a noun inside an inflected word); other words
    match when the analyzer turns them into a query term (so "running" matches "run"). The
    texts are looked at together, so each distinct word is analysed once; the matches are then
    found with str.find, cheaper for a handful of needles than a per-query regex.
    """
    words = {word for text in texts for word in WORD.findall(text)}
    needles = [(term, False) for term in query_terms if HANGUL.search(term)] + [
        (word, True)
        for word in words
        if not HANGUL.search(word) and query_terms.intersection(analyze_word(word))
    ]
    return [
        [
            Highlight(start, end)
            for start, end in merge_spans(
                [span for needle in needles for span in occurrences(text, *needle)]
            )
        ]
        for text in texts
    ]


def occurrences(text: str, needle: str, whole_word: bool) -> list[tuple[int, int]]:
    """Where `needle` occurs in `text`; with whole_word, only as a whole \\w+ word."""
    spans = []
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        if not whole_word or is_whole_word(text, start, end):
            spans.append((start, end))
        start = text.find(needle, start + 1)
    return spans


def is_whole_word(text: str, start: int, end: int) -> bool:
    """No word character touches text[start:end] on either side."""
    before = start > 0 and WORD.match(text, start - 1, start)
    after = WORD.match(text, end, end + 1)
    return not before and not after


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def make_snippet(
    text: str, highlights: list[Highlight], width: int = SNIPPET_CHARS
) -> tuple[str, list[Highlight]]:
    """The `width`-character window holding the most highlights, with shifted spans."""
    if len(text) <= width:
        return text, highlights
    best_start, best_count = 0, -1
    for anchor in highlights or [Highlight(0, 0)]:
        start = max(0, min(anchor.start - width // 4, len(text) - width))
        count = sum(1 for h in highlights if start <= h.start and h.end <= start + width)
        if count > best_count:
            best_start, best_count = start, count
    end = best_start + width
    prefix = ELLIPSIS if best_start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    shift = len(prefix) - best_start
    inside = [
        Highlight(h.start + shift, h.end + shift)
        for h in highlights
        if best_start <= h.start and h.end <= end
    ]
    return prefix + text[best_start:end] + suffix, inside
