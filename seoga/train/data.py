"""Training data readers: every format becomes `Examples`, named columns of equal length.

Formats (`--format`): unlabeled corpus (a collection folder, or text files and folders),
(anchor, positive) pairs, (anchor, positive, negative) triplets, scored pairs (s1, s2, score;
KorSTS / STS-B files read as they are), NLI (premise, hypothesis, label: entailment = positive,
contradiction = hard negative), labelled texts (text, class label), and BEIR-layout queries + qrels
(+ split). A bad row stops reading with an `InputError` naming file:line and what was expected.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seoga.datasets.beir import (
    CORPUS_NAME,
    QUERIES_NAME,
    qrels_path,
    read_corpus_texts,
    read_qrels,
    read_queries,
)
from seoga.errors import InputError
from seoga.text.loaders import CSV_FIELD_LIMIT

FORMATS = ("auto", "corpus", "pairs", "triplets", "scored-pairs", "nli", "labeled", "beir")
# Example kinds after reading: which columns the examples carry.
PAIRS, TRIPLETS, SCORED, LABELED, TEXTS = "pairs", "triplets", "scored-pairs", "labeled", "texts"
MANIFEST_NAME = "manifest.json"
TABLE_SUFFIXES = (".tsv", ".csv", ".jsonl")
# A header with a text field and one of these is a document file (BEIR corpus.jsonl, CSV).
DOCUMENT_FIELDS = ("_id", "id", "title")
# STS-B / KorSTS layout: genre, file, year, id, score, sentence1, sentence2 (+ licence fields).
STS_LAYOUT_COLUMNS = 7
STS_SCORE, STS_FIRST, STS_SECOND = 4, 5, 6
PAIR_COLUMNS, SCORED_COLUMNS = 2, 3
NLI_LABELS = {
    "entailment": "entailment",
    "contradiction": "contradiction",
    "neutral": "neutral",
    "0": "entailment",
    "1": "neutral",
    "2": "contradiction",
}
# Header names recognised for each role (case-insensitive), first match wins.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "anchor": ("anchor", "query", "question", "sentence1", "s1", "text1", "premise"),
    "positive": ("positive", "pos", "document", "passage", "sentence2", "s2", "text2"),
    "negative": ("negative", "neg", "hard_negative", "sentence3"),
    "score": ("score", "label", "similarity", "gold_score"),
    "hypothesis": ("hypothesis", "sentence2"),
    "nli_label": ("gold_label", "label"),
    "text": ("text", "sentence", "sentence1"),
    "class": ("label", "class", "category"),
}
FORMAT_ROLES = {
    "pairs": ("anchor", "positive"),
    "triplets": ("anchor", "positive", "negative"),
    "scored-pairs": ("anchor", "positive", "score"),
    "nli": ("anchor", "hypothesis", "nli_label"),
    "labeled": ("text", "class"),
}


@dataclass
class Examples:
    """Training examples as named columns (the shape `datasets.Dataset.from_dict` takes).

    kind: pairs (anchor, positive), triplets (anchor, positive, negative_1..n), scored-pairs
    (sentence1, sentence2, score), labeled (text, label) or texts (text: unlabeled).
    """

    kind: str
    columns: dict[str, list[Any]]
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))

    def rows(self) -> Iterator[dict[str, Any]]:
        names = list(self.columns)
        for values in zip(*self.columns.values(), strict=True):
            yield dict(zip(names, values, strict=True))

    def sample(self, count: int, seed: int) -> Examples:
        """`count` examples drawn at random (by `seed`), in their original order."""
        if count >= len(self):
            return self
        keep = sorted(random.Random(seed).sample(range(len(self)), count))
        columns = {name: [values[i] for i in keep] for name, values in self.columns.items()}
        notes = [*self.notes, f"{count} of {len(self)} examples drawn at random"]
        return Examples(self.kind, columns, self.source, notes)

    def text_columns(self) -> list[str]:
        return [name for name in self.columns if name not in ("score", "label")]


@dataclass(frozen=True)
class Passage:
    """A unit of an unlabeled corpus: a collection chunk, or a chunk of a loaded file."""

    doc_id: str
    text: str
    title: str = ""
    section: str = ""  # the chunk's section path, when its document has headings


@dataclass
class BeirPairs:
    """Queries with their relevant documents, and the corpus they come from."""

    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    corpus: dict[str, str]  # doc id -> "title\ntext", as seoga indexes it
    source: str

    def examples(self) -> Examples:
        """One (query, relevant document) pair per judgement."""
        anchors, positives = [], []
        for query_id, relevant in self.qrels.items():
            for doc_id in relevant:
                anchors.append(self.queries[query_id])
                positives.append(self.corpus[doc_id])
        return Examples(PAIRS, {"anchor": anchors, "positive": positives}, self.source)


def _raise(path: Path, line: int, message: str) -> None:
    raise InputError(f"{path}:{line}: {message}")


def delimiter_of(path: Path) -> str:
    """Tab when the first line has one (STS-B's .csv files are tab-separated), else comma."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    return "\t" if "\t" in first or path.suffix.lower() == ".tsv" else ","


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of a TSV/CSV file, or of a JSONL file's objects' values.

    Tab-separated files are read unquoted (csv.QUOTE_NONE): STS-B and KorSTS contain bare quote
    characters inside sentences.
    """
    if not path.is_file():
        raise InputError(f"{path} is not a file; give a TSV, CSV or JSONL file of examples.")
    if path.suffix.lower() == ".jsonl":
        yield from _jsonl_rows(path)
        return
    csv.field_size_limit(CSV_FIELD_LIMIT)
    delimiter = delimiter_of(path)
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, quoting=quoting)
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield reader.line_num, row
    except UnicodeDecodeError as error:
        raise InputError(f"{path} is not UTF-8 text ({error}); save it as UTF-8.") from error
    except csv.Error as error:
        raise InputError(f"{path}: malformed CSV ({error}).") from error


def _jsonl_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    header: list[str] | None = None
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                _raise(path, number, f"invalid JSON ({error}).")
            if not isinstance(record, dict):
                _raise(path, number, "expected a JSON object with named fields.")
            if header is None:
                header = list(record)
                yield 0, header
            yield number, [str(record.get(name, "")) for name in header]


def _header_roles(header: list[str], roles: tuple[str, ...]) -> dict[str, int] | None:
    """Column index of each role when the first row is a header naming all of them."""
    names = [cell.strip().lower() for cell in header]
    found: dict[str, int] = {}
    for role in roles:
        index = next(
            (names.index(name) for name in HEADER_NAMES[role] if name in names and name), None
        )
        if index is None or index in found.values():
            return None
        found[role] = index
    return found


def _positions(fmt: str, first: list[str], path: Path) -> tuple[dict[str, int], bool]:
    """Column of each role for `fmt`, and whether the first row is a header."""
    roles = FORMAT_ROLES[fmt]
    named = _header_roles(first, roles)
    if named is not None:
        return named, True
    if fmt == "scored-pairs" and len(first) >= STS_LAYOUT_COLUMNS:
        return {"anchor": STS_FIRST, "positive": STS_SECOND, "score": STS_SCORE}, False
    if len(first) < len(roles):
        _raise(
            path,
            1,
            f"{fmt} needs {len(roles)} columns ({', '.join(roles)}), found {len(first)}; "
            "separate columns with a tab (.tsv) or a comma (.csv).",
        )
    return {role: index for index, role in enumerate(roles)}, False


def _table(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {role: cell}) for each data row of a `fmt` table, checking cell counts."""
    rows = read_rows(path)
    first = next(rows, None)
    if first is None:
        raise InputError(f"{path} has no rows.")
    line, cells = first
    if line == 0:  # a JSONL file: the "row" is the field names
        named = _header_roles(cells, FORMAT_ROLES[fmt])
        if named is None:
            wanted = ", ".join(HEADER_NAMES[role][0] for role in FORMAT_ROLES[fmt])
            raise InputError(f"{path}: {fmt} JSONL objects need the fields {wanted}.")
        positions, has_header = named, True
    else:
        positions, has_header = _positions(fmt, cells, path)
    if not has_header:
        rows = iter([(line, cells), *rows])
    needed = max(positions.values()) + 1
    for number, row in rows:
        if len(row) < needed:
            _raise(
                path,
                number,
                f"expected at least {needed} columns for {fmt}, found {len(row)} "
                "(a missing tab or comma?).",
            )
        values = {role: row[index].strip() for role, index in positions.items()}
        empty = [role for role, value in values.items() if not value]
        if empty:
            _raise(path, number, f"empty {', '.join(empty)}.")
        yield number, values


def read_pairs(path: Path) -> Examples:
    """(anchor, positive) rows: a query and a passage that answers it, or two paraphrases."""
    anchors, positives = [], []
    for _, values in _table(path, "pairs"):
        anchors.append(values["anchor"])
        positives.append(values["positive"])
    return Examples(PAIRS, {"anchor": anchors, "positive": positives}, str(path))


def read_triplets(path: Path) -> Examples:
    """(anchor, positive, negative) rows."""
    columns: dict[str, list[Any]] = {"anchor": [], "positive": [], "negative_1": []}
    for _, values in _table(path, "triplets"):
        columns["anchor"].append(values["anchor"])
        columns["positive"].append(values["positive"])
        columns["negative_1"].append(values["negative"])
    return Examples(TRIPLETS, columns, str(path))


def read_scored_pairs(path: Path) -> Examples:
    """(sentence1, sentence2, score) rows; KorSTS and STS-B files are read as distributed."""
    columns: dict[str, list[Any]] = {"sentence1": [], "sentence2": [], "score": []}
    for number, values in _table(path, "scored-pairs"):
        try:
            score = float(values["score"])
        except ValueError:
            _raise(path, number, f"the score {values['score']!r} is not a number.")
        columns["sentence1"].append(values["anchor"])
        columns["sentence2"].append(values["positive"])
        columns["score"].append(score)
    return Examples(SCORED, columns, str(path))


def read_labeled(path: Path) -> Examples:
    """(text, class label) rows, for the batch triplet losses; labels become integers."""
    texts, labels = [], []
    classes: dict[str, int] = {}
    for _, values in _table(path, "labeled"):
        texts.append(values["text"])
        labels.append(classes.setdefault(values["class"], len(classes)))
    return Examples(LABELED, {"text": texts, "label": labels}, str(path))


def read_nli(path: Path) -> Examples:
    """Supervised SimCSE triplets: (premise, entailed hypothesis, contradicting hypothesis).

    Every entailment of a premise is paired with every contradiction of the same premise;
    neutral hypotheses are not used. Premises lacking either kind are left out (counted in notes).
    """
    hypotheses: dict[str, dict[str, list[str]]] = {}
    for number, values in _table(path, "nli"):
        label = NLI_LABELS.get(values["nli_label"].lower())
        if label is None:
            _raise(
                path,
                number,
                f"unknown NLI label {values['nli_label']!r}; use entailment, neutral or "
                "contradiction (or 0, 1, 2).",
            )
        by_label = hypotheses.setdefault(values["anchor"], {})
        by_label.setdefault(label, []).append(values["hypothesis"])
    columns: dict[str, list[Any]] = {"anchor": [], "positive": [], "negative_1": []}
    incomplete = 0
    for premise, by_label in hypotheses.items():
        entailed, contradicted = by_label.get("entailment", []), by_label.get("contradiction", [])
        if not entailed or not contradicted:
            incomplete += 1
        for positive in entailed:
            for negative in contradicted:
                columns["anchor"].append(premise)
                columns["positive"].append(positive)
                columns["negative_1"].append(negative)
    if not columns["anchor"]:
        raise InputError(
            f"{path}: no premise has both an entailment and a contradiction hypothesis, so no "
            "(anchor, positive, negative) triplet can be made."
        )
    notes = [f"{incomplete} premises without both an entailment and a contradiction skipped"]
    return Examples(TRIPLETS, columns, str(path), notes if incomplete else [])


def read_beir(root: Path, split: str | None = None) -> BeirPairs:
    """Queries, the qrels of `split` and the corpus of a BEIR-layout folder."""
    for name in (CORPUS_NAME, QUERIES_NAME):
        if not (root / name).is_file():
            raise InputError(f"{root} is not a BEIR-layout folder: {name} is missing.")
    judged = qrels_path(root, split)
    qrels = read_qrels(judged)
    queries = read_queries(root / QUERIES_NAME)
    corpus = read_corpus_texts(root / CORPUS_NAME)
    missing_queries = sorted(set(qrels) - set(queries))
    if missing_queries:
        raise InputError(
            f"{judged} judges queries missing from {QUERIES_NAME}: {missing_queries[:5]}"
        )
    missing_docs = sorted({d for docs in qrels.values() for d in docs} - set(corpus))
    if missing_docs:
        raise InputError(
            f"{judged} judges documents missing from {CORPUS_NAME}: {missing_docs[:5]}"
        )
    if not qrels:
        raise InputError(f"{judged} has no positive judgements.")
    return BeirPairs({q: queries[q] for q in qrels}, qrels, corpus, f"{root}:{judged.stem}")


def read_passages(path: Path, *, max_tokens: int = 256) -> list[Passage]:
    """The passages of an unlabeled corpus: a collection's chunks, or files chunked like one."""
    if (path / MANIFEST_NAME).is_file():
        return collection_passages(path)
    return file_passages(path, max_tokens=max_tokens)


def collection_passages(root: Path) -> list[Passage]:
    """Every chunk of a seoga collection, with its document's title."""
    from seoga.collection import Collection

    collection = Collection.open(root)
    if collection.generation is None:
        raise InputError(f"{root} is an empty collection; index some files into it first.")
    return [Passage(c.doc_id, c.text, c.title, c.section) for c in collection.store.iter_chunks()]


def file_passages(root: Path, *, max_tokens: int = 256) -> list[Passage]:
    """Files (txt, md, html, pdf, jsonl, csv) loaded as `seoga index` would, then chunked."""
    from seoga.text.chunker import Chunker
    from seoga.text.loaders import discover, load_file

    if not root.exists():
        raise InputError(f"{root} does not exist; give a collection folder or text files.")
    documents = []
    problems = []
    for file in discover(root).files:
        loaded = load_file(file)
        documents += loaded.documents
        problems += loaded.problems
    if not documents:
        reasons = "; ".join(str(problem) for problem in problems[:3])
        raise InputError(
            f"no readable documents under {root}" + (f" ({reasons})" if reasons else "")
        )
    titles = {document.doc_id: document.title for document in documents}
    chunks = Chunker(max_tokens=max_tokens, overlap_tokens=0).chunk_many(documents)
    return [
        Passage(chunk.doc_id, chunk.text, titles[chunk.doc_id], chunk.section) for chunk in chunks
    ]


def detect_format(path: Path) -> str:
    """Guess the format: a folder is a collection, a BEIR set or text files; a table by header."""
    if path.is_dir():
        if (path / QUERIES_NAME).is_file():
            return "beir"
        return "corpus"
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return "corpus"
    first = next(read_rows(path), None)
    if first is None:
        raise InputError(f"{path} has no rows.")
    names = {cell.strip().lower() for cell in first[1]}
    if "text" in names and names & set(DOCUMENT_FIELDS):
        return "corpus"
    for fmt in ("nli", "scored-pairs", "triplets", "labeled", "pairs"):
        if _header_roles(first[1], FORMAT_ROLES[fmt]) is not None:
            return fmt
    cells = first[1]
    if len(cells) >= STS_LAYOUT_COLUMNS or (len(cells) == SCORED_COLUMNS and _is_number(cells[-1])):
        return "scored-pairs"
    if len(cells) == SCORED_COLUMNS:
        return "triplets"
    if len(cells) == PAIR_COLUMNS:
        return "pairs"
    raise InputError(
        f"cannot tell the format of {path} from its first line; give --format "
        f"({', '.join(f for f in FORMATS if f != 'auto')}) or a header row such as "
        "anchor<TAB>positive."
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


TABLE_READERS = {
    "pairs": read_pairs,
    "triplets": read_triplets,
    "scored-pairs": read_scored_pairs,
    "nli": read_nli,
    "labeled": read_labeled,
}


def read_examples(path: Path, fmt: str = "auto") -> Examples:
    """Read a table of labelled examples (not a corpus or BEIR folder) in format `fmt`."""
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in TABLE_READERS:
        raise InputError(f"{fmt!r} is not a table format; use one of {', '.join(TABLE_READERS)}.")
    return TABLE_READERS[fmt](path)
