"""Documents → chunks of whole sentences, sized for the embedding model, with overlap."""

import math
import re
from collections.abc import Callable, Iterable

from seoga.errors import InputError
from seoga.progress import track
from seoga.text.documents import Chunk, Document
from seoga.text.sentences import Span, split_sentences_many

_LATIN_WORD = re.compile(r"[^\W\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u4e00-\u9fff\uac00-\ud7a3]+")
_CJK_CHAR = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u4e00-\u9fff\uac00-\ud7a3]")
_WORD = re.compile(r"\S+")
# Subword tokenizers give roughly one token per two Hangul/CJK characters.
CJK_CHARS_PER_TOKEN = 2

# A unit to pack: (start, end, tokens) — a sentence, or a piece of one that was too long.
Unit = tuple[int, int, int]


def approximate_tokens(text: str) -> int:
    """A cheap stand-in for a subword tokenizer's count: words plus CJK characters / 2."""
    cjk = len(_CJK_CHAR.findall(text))
    return len(_LATIN_WORD.findall(text)) + math.ceil(cjk / CJK_CHARS_PER_TOKEN)


class Chunker:
    """Packs whole sentences into chunks of at most max_tokens.

    Consecutive chunks share trailing sentences worth about overlap_tokens. A sentence longer
    than max_tokens is cut at whitespace (a single over-long word by characters). count_tokens
    should count a text's tokens without special tokens; a chunk's size is the sum of its
    sentences' counts.
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
        # A document that fits in one chunk needs no sentence splitting (Kiwi is the slow part).
        whole = [self._whole(document) for document in documents]
        long_documents = [d for d, chunk in zip(documents, whole, strict=True) if chunk is None]
        spans = iter(split_sentences_many(document.text for document in long_documents))
        chunks: list[Chunk] = []
        for document, single in track(
            zip(documents, whole, strict=True),
            "Chunking",
            total=len(documents),
            enabled=show_progress,
        ):
            chunks.extend([single] if single else self._chunks(document, next(spans)))
        return chunks

    def _whole(self, document: Document) -> Chunk | None:
        """The document as its only chunk when it fits; None when it must be split."""
        text = document.text
        start = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        if start >= end or self.count_tokens(text) > self.max_tokens:
            return None
        return Chunk(doc_id=document.doc_id, position=0, text=text[start:end], start=start, end=end)

    def _chunks(self, document: Document, sentences: list[Span]) -> list[Chunk]:
        text = document.text
        units = self._units(text, sentences)
        return [
            Chunk(
                doc_id=document.doc_id,
                position=position,
                text=text[units[first][0] : units[last][1]],
                start=units[first][0],
                end=units[last][1],
            )
            for position, (first, last) in enumerate(self._pack(units))
        ]

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
