"""Read a BEIR-layout folder: corpus.jsonl, queries.jsonl and qrels.tsv."""

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from seoga.errors import InputError
from seoga.text.documents import passage_text

CORPUS_NAME = "corpus.jsonl"
QUERIES_NAME = "queries.jsonl"
QRELS_NAME = "qrels.tsv"
QRELS_DIR = "qrels"
TEST_SPLIT = "test"
QRELS_COLUMNS = 3

Value = TypeVar("Value")


@dataclass(frozen=True)
class BeirSet:
    """A retrieval test set; only queries with relevance judgements are kept."""

    root: Path
    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def name(self) -> str:
        return self.root.name


def read_beir(root: Path) -> BeirSet:
    for name in (CORPUS_NAME, QUERIES_NAME, QRELS_NAME):
        if not (root / name).is_file():
            raise InputError(
                f"{root} is not a BEIR-layout folder: {name} is missing "
                f"(it needs {CORPUS_NAME}, {QUERIES_NAME} and {QRELS_NAME})."
            )
    qrels = read_qrels(root / QRELS_NAME)
    queries = {
        query_id: text
        for query_id, text in read_queries(root / QUERIES_NAME).items()
        if query_id in qrels
    }
    missing = sorted(set(qrels) - set(queries))
    if missing:
        raise InputError(
            f"{root / QRELS_NAME} judges queries missing from {QUERIES_NAME}: {missing[:5]}"
        )
    return BeirSet(root, root / CORPUS_NAME, queries, qrels)


def read_jsonl_map(
    path: Path, entry: Callable[[dict[str, Any]], tuple[str, Value]], expected: str
) -> dict[str, Value]:
    """key → value for each non-blank line of a JSON-lines file, as `entry` reads the line's
    object; a line that is not JSON or lacks what `entry` reads is an InputError naming the file,
    the line and what was `expected`."""
    found: dict[str, Value] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                key, value = entry(json.loads(line))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
                raise InputError(f"{path}:{number}: expected {expected} ({error}).") from error
            found[key] = value
    return found


def read_queries(path: Path) -> dict[str, str]:
    return read_jsonl_map(
        path,
        lambda record: (str(record["_id"]), record["text"]),
        "a query object with _id and text",
    )


def read_corpus_texts(path: Path) -> dict[str, str]:
    """doc id → "title\ntext" (what seoga's indexes see) for a BEIR corpus.jsonl."""
    return read_jsonl_map(
        path,
        lambda record: (
            str(record["_id"]),
            passage_text(record.get("title") or "", record["text"]),
        ),
        "a corpus object with _id and text",
    )


def is_header(row: list[str]) -> bool:
    """BEIR qrels start with "query-id, corpus-id, score"; some files leave the header out."""
    if len(row) < QRELS_COLUMNS:
        return False
    try:
        float(row[QRELS_COLUMNS - 1])
    except ValueError:
        return True
    return False


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        for number, row in enumerate(rows, start=1):
            if number == 1 and is_header(row):
                continue
            try:
                query_id, doc_id, score = row[:QRELS_COLUMNS]
                relevance = int(float(score))
            except ValueError as error:
                raise InputError(
                    f"{path}:{number}: expected query-id, corpus-id and score ({error})."
                ) from error
            if relevance > 0:
                qrels.setdefault(query_id, {})[doc_id] = relevance
    return qrels


def qrels_path(root: Path, split: str | None) -> Path:
    """qrels/<split>.tsv, or qrels.tsv when no split is given (or the split is `test` and
    only qrels.tsv exists)."""
    if split:
        candidate = root / QRELS_DIR / f"{split}.tsv"
        if candidate.is_file():
            return candidate
        if split == TEST_SPLIT and (root / QRELS_NAME).is_file():
            return root / QRELS_NAME
        found = sorted(p.stem for p in (root / QRELS_DIR).glob("*.tsv"))
        raise InputError(
            f"{root} has no qrels for split {split!r} ({candidate} is missing); "
            f"splits found: {', '.join(found) or 'none'}."
        )
    if (root / QRELS_NAME).is_file():
        return root / QRELS_NAME
    raise InputError(f"{root} has no {QRELS_NAME}; give --split to pick {QRELS_DIR}/SPLIT.tsv.")
