"""Documents → chunks of whole sentences, sized for the embedding model, with overlap."""

import math
import re
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from seoga.errors import InputError
from seoga.progress import track
from seoga.text.documents import Chunk, Document
from seoga.text.formats.structure import SECTIONS
from seoga.text.sentences import Span, split_sentences_many

_LATIN_WORD = re.compile(r"[^\W\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u4e00-\u9fff\uac00-\ud7a3]+")
_CJK_CHAR = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u4e00-\u9fff\uac00-\ud7a3]")
_WORD = re.compile(r"\S+")
# Subword tokenizers give roughly one token per two Hangul/CJK characters.
CJK_CHARS_PER_TOKEN = 2

# A unit to pack: (start, end, tokens) — a sentence, or a piece of one that was too long.
Unit = tuple[int, int, int]
# A run of a document's text chunked on its own: (start, end, section path in force over it).
Part = tuple[int, int, str]


def approximate_tokens(text: str) -> int:
    """A cheap stand-in for a subword tokenizer's count: words plus CJK characters / 2."""
    cjk = len(_CJK_CHAR.findall(text))
    return len(_LATIN_WORD.findall(text)) + math.ceil(cjk / CJK_CHARS_PER_TOKEN)


def section_starts(sections: Any) -> list[tuple[int, str]]:
    """A document's `sections` metadata as (start offset, path) pairs in text order; none when
    it is not a list of such pairs (a JSONL record may bring a "sections" field of its own)."""
    if not isinstance(sections, list):
        return []
    pairs = []
    for entry in sections:
        match entry:
            case [int() as start, str() as path] if not isinstance(start, bool):
                pairs.append((start, path))
            case _:
                return []
    return sorted(pairs, key=itemgetter(0))


def document_parts(document: Document) -> list[Part]:
    """The runs of a document's text that no chunk straddles: the whole text when it has no
    sections, else the text before its first heading and then each section."""
    length = len(document.text)
    sections = section_starts(document.metadata.get(SECTIONS))
    if not sections:
        return [(0, length, "")]
    starts = [min(max(start, 0), length) for start, _ in sections]
    # Two headings at one offset leave the first an empty part: the later path holds there.
    parts = [(0, starts[0], "")] if starts[0] else []
    ends = [*starts[1:], length]
    return parts + [
        (start, end, path) for start, end, (_, path) in zip(starts, ends, sections, strict=True)
    ]


class Chunker:
    """Packs whole sentences into chunks of at most max_tokens.

    Consecutive chunks share trailing sentences worth about overlap_tokens. A sentence longer
    than max_tokens is cut at whitespace (a single over-long word by characters). count_tokens
    should count a text's tokens without special tokens; a chunk's size is the sum of its
    sentences' counts. A document with sections (headings) is chunked section by section, so
    that each chunk lies in one section and carries its path.
    """

    def __init__(
        self,
        *,
        max_tokens: int = 256,
        overlap_tokens: int = 32,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        if max_tokens < 1:
            raise InputError(f"max_tokens must be at least 1, got {max_tokens}")
        if not 0 <= overlap_tokens < max_tokens:
            raise InputError(
                f"overlap_tokens must be from 0 to below max_tokens ({max_tokens}), "
                f"got {overlap_tokens}"
            )
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.count_tokens = count_tokens or approximate_tokens

    def chunk(self, document: Document) -> list[Chunk]:
        """The document's chunks, in order; no chunks for an empty text."""
        return self.chunk_many([document])

    def chunk_many(self, documents: Iterable[Document], show_progress: bool = False) -> list[Chunk]:
        """Chunks of all documents, sentence splitting batched across them."""
        documents = list(documents)
        parts = [document_parts(document) for document in documents]
        # A part that fits in one chunk needs no sentence splitting (Kiwi is the slow part).
        whole = [
            [self._whole(document.text, part) for part in own_parts]
            for document, own_parts in zip(documents, parts, strict=True)
        ]
        spans = iter(
            split_sentences_many(
                document.text[start:end]
                for document, own_parts, fits in zip(documents, parts, whole, strict=True)
                for (start, end, _), single in zip(own_parts, fits, strict=True)
                if single is None
            )
        )
        chunks: list[Chunk] = []
        for document, own_parts, fits in track(
            zip(documents, parts, whole, strict=True),
            "Chunking",
            total=len(documents),
            enabled=show_progress,
        ):
            text = document.text
            first = len(chunks)
            for (start, _, section), single in zip(own_parts, fits, strict=True):
                bounds = [single] if single else self._bounds(text, start, next(spans))
                chunks.extend(
                    Chunk(
                        doc_id=document.doc_id,
                        position=len(chunks) - first,
                        text=text[chunk_start:chunk_end],
                        start=chunk_start,
                        end=chunk_end,
                        section=section,
                    )
                    for chunk_start, chunk_end in bounds
                )
        return chunks

    def _whole(self, text: str, part: Part) -> Span | None:
        """The part, trimmed, as its only chunk when it fits; None when it must be split."""
        start, end, _ = part
        piece = text[start:end]
        trimmed_start = start + len(piece) - len(piece.lstrip())
        trimmed_end = start + len(piece.rstrip())
        if trimmed_start >= trimmed_end or self.count_tokens(piece) > self.max_tokens:
            return None
        return trimmed_start, trimmed_end

    def _bounds(self, text: str, offset: int, sentences: list[Span]) -> list[Span]:
        """(start, end) of each chunk of the part at `offset`, whose sentences are given
        relative to it."""
        units = self._units(text, [(offset + start, offset + end) for start, end in sentences])
        return [(units[first][0], units[last][1]) for first, last in self._pack(units)]

    def _units(self, text: str, sentences: list[Span]) -> list[Unit]:
        units: list[Unit] = []
        for start, end in sentences:
            tokens = self.count_tokens(text[start:end])
            if tokens <= self.max_tokens:
                units.append((start, end, tokens))
            else:
                units.extend(self._cut(text, start, end))
        return units

    def _cut(self, text: str, start: int, end: int) -> list[Unit]:
        """An over-long sentence as word units; a word still too long is cut by characters."""
        units: list[Unit] = []
        for word in _WORD.finditer(text, start, end):
            tokens = self.count_tokens(word.group())
            if tokens <= self.max_tokens:
                units.append((word.start(), word.end(), tokens))
                continue
            step = max(1, (word.end() - word.start()) * self.max_tokens // tokens)
            for piece in range(word.start(), word.end(), step):
                piece_end = min(piece + step, word.end())
                units.append((piece, piece_end, self.count_tokens(text[piece:piece_end])))
        return units

    def _pack(self, units: list[Unit]) -> list[tuple[int, int]]:
        """(first, last) unit indexes of each chunk."""
        bounds = []
        first = 0
        while first < len(units):
            last = first
            total = units[first][2]
            while last + 1 < len(units) and total + units[last + 1][2] <= self.max_tokens:
                last += 1
                total += units[last][2]
            bounds.append((first, last))
            if last + 1 == len(units):
                break
            first = self._overlap_start(units, first, last)
        return bounds

    def _overlap_start(self, units: list[Unit], first: int, last: int) -> int:
        """Where the next chunk starts: the trailing units nearest overlap_tokens in size, cut
        back until the unit after `last` fits beside them."""
        start = last + 1
        kept = 0
        while start - 1 > first and abs(kept + units[start - 1][2] - self.overlap_tokens) < abs(
            kept - self.overlap_tokens
        ):
            start -= 1
            kept += units[start][2]
        while start <= last and kept + units[last + 1][2] > self.max_tokens:
            kept -= units[start][2]
            start += 1
        return start
