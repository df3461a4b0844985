"""Cut a readable window from a chunk and mark the words that match the query."""

import re
from collections.abc import Callable

from seoga.search.results import Highlight

SNIPPET_CHARS = 240
WORD = re.compile(r"\w+")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ELLIPSIS = "…"


def find_highlights(
    text: str, query_terms: set[str], analyze_word: Callable[[str], list[str]]
) -> list[Highlight]:
    """Spans of `text` that match the analysed query terms.

    Korean morphemes are found as substrings (a noun inside an inflected word); other words
    match when the analyzer turns them into a query term (so "running" matches "run").
    """
    spans: list[tuple[int, int]] = []
    hangul_terms = [term for term in query_terms if HANGUL.search(term)]
    for term in hangul_terms:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(term), text)]
    for match in WORD.finditer(text):
        word = match.group()
        if not HANGUL.search(word) and query_terms.intersection(analyze_word(word)):
            spans.append((match.start(), match.end()))
    return [Highlight(start, end) for start, end in merge_spans(spans)]


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
