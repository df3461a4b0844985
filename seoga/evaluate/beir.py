"""Read a BEIR-layout folder: corpus.jsonl, queries.jsonl and qrels.tsv."""

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from seoga.errors import InputError

CORPUS_NAME = "corpus.jsonl"
QUERIES_NAME = "queries.jsonl"
QRELS_NAME = "qrels.tsv"
QRELS_COLUMNS = 3


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


def read_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                queries[str(record["_id"])] = record["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise InputError(
                    f"{path}:{number}: not a query object with _id and text ({error})."
                ) from error
    return queries


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        next(rows, None)  # the header: query-id, corpus-id, score
        for number, row in enumerate(rows, start=2):
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
