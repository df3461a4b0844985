"""Unlabeled text to distil on, from whatever a user has: collections, folders, BEIR sets, tables.

Passages (a collection's chunks, files chunked as `seoga index` would, a BEIR corpus) get the
teacher's passage prompt and short texts (BEIR queries, the sentences of pair/NLI/STS tables)
its query prompt: the student then learns the teacher's vectors for texts as seoga will encode
them. With `sentence_queries`, each passage's sentences also come as queries: searches are short
questions about the collection, and a corpus is the only in-domain text a user has for that
side. Labels and scores are ignored; duplicates are dropped, order is kept.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

from seoga.datasets.beir import CORPUS_NAME, QUERIES_NAME, read_queries
from seoga.errors import InputError
from seoga.text.sentences import split_sentences_many
from seoga.train.data import (
    MANIFEST_NAME,
    collection_passages,
    detect_format,
    file_passages,
    read_examples,
)

DEFAULT_CHUNK_TOKENS = 256
# Shorter "sentences" (headings, page numbers, OCR debris) teach the query side nothing.
MIN_SENTENCE_CHARACTERS = 10


def sentences_of(passages: list[str]) -> list[str]:
    """The sentences of passages (Kiwi for Korean), long enough to be a query."""
    return [
        passage[start:end]
        for passage, spans in zip(passages, split_sentences_many(passages), strict=True)
        for start, end in spans
        if end - start >= MIN_SENTENCE_CHARACTERS
    ]


def texts_of(
    path: Path,
    prompts: dict[str, str],
    *,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    sentence_queries: bool = False,
) -> list[str]:
    """The prompted texts of one data source."""
    passages, queries = _passages_and_queries(Path(path), chunk_tokens)
    if sentence_queries:
        queries += sentences_of(passages)
    passage, query = prompts.get("passage", ""), prompts.get("query", "")
    return [passage + text for text in passages] + [query + text for text in queries]


def _passages_and_queries(path: Path, chunk_tokens: int) -> tuple[list[str], list[str]]:
    """A source's passages and its short texts, unprompted."""
    if not path.exists():
        raise InputError(
            f"{path} does not exist; give a collection, a folder, a BEIR set or a table."
        )
    if path.is_dir() and (path / MANIFEST_NAME).is_file():
        return [chunk.text for chunk in collection_passages(path)], []
    if path.is_dir() and (path / QUERIES_NAME).is_file():
        chunks = file_passages(path / CORPUS_NAME, max_tokens=chunk_tokens)
        return [chunk.text for chunk in chunks], list(read_queries(path / QUERIES_NAME).values())
    if path.is_dir() or detect_format(path) == "corpus":
        return [chunk.text for chunk in file_passages(path, max_tokens=chunk_tokens)], []
    examples = read_examples(path)
    sentences = [
        text
        for name in examples.text_columns()
        for text in examples.columns[name]
        if isinstance(text, str)
    ]
    return [], sentences


def distillation_texts(
    paths: Iterable[Path],
    prompts: dict[str, str],
    *,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    sentence_queries: bool = False,
    max_texts: int | None = None,
    seed: int = 0,
) -> list[str]:
    """Every source's texts, deduplicated; at most `max_texts`, drawn by `seed`."""
    texts: list[str] = []
    for path in paths:
        texts += texts_of(
            path, prompts, chunk_tokens=chunk_tokens, sentence_queries=sentence_queries
        )
    texts = list(dict.fromkeys(text for text in texts if text.strip()))
    if not texts:
        raise InputError("the distillation data holds no text.")
    if max_texts is not None and len(texts) > max_texts:
        keep = sorted(random.Random(seed).sample(range(len(texts)), max_texts))
        texts = [texts[index] for index in keep]
    return texts
