"""Training data readers: every format becomes `Examples`, named columns of equal length.

Formats (`--format`): unlabeled corpus (a collection folder, or text files and folders),
(anchor, positive) pairs, (anchor, positive, negative) triplets, scored pairs (s1, s2, score;
KorSTS / STS-B files read as they are), NLI (premise, hypothesis, label: entailment = positive,
contradiction = hard negative), labelled texts (text, class label), and BEIR-layout queries + qrels
(+ split). A bad row stops reading with an `InputError` naming file:line and what was expected.

The kinds of examples are in examples.py; the rows and column roles of tables in tables.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seoga.collection import Collection
from seoga.datasets.beir import (
    CORPUS_NAME,
    QUERIES_NAME,
    qrels_path,
    read_corpus_texts,
    read_qrels,
    read_queries,
)
from seoga.errors import InputError
from seoga.text.chunker import Chunker
from seoga.text.loaders import discover, load_file
from seoga.train.examples import LABELED, PAIRS, SCORED, TRIPLETS, BeirPairs, Examples, Passage
from seoga.train.tables import (
    FORMAT_ROLES,
    STS_LAYOUT_COLUMNS,
    header_roles,
    raise_at,
    read_rows,
    table_rows,
)

FORMATS = ("auto", "corpus", "pairs", "triplets", "scored-pairs", "nli", "labeled", "beir")
MANIFEST_NAME = "manifest.json"
TABLE_SUFFIXES = (".tsv", ".csv", ".jsonl")
# A header with a text field and one of these is a document file (BEIR corpus.jsonl, CSV).
DOCUMENT_FIELDS = ("_id", "id", "title")
PAIR_COLUMNS, SCORED_COLUMNS = 2, 3
NLI_LABELS = {
    "entailment": "entailment",
    "contradiction": "contradiction",
    "neutral": "neutral",
    "0": "entailment",
    "1": "neutral",
    "2": "contradiction",
}


def read_pairs(path: Path) -> Examples:
    """(anchor, positive) rows: a query and a passage that answers it, or two paraphrases."""
    anchors, positives = [], []
    for _, values in table_rows(path, "pairs"):
        anchors.append(values["anchor"])
        positives.append(values["positive"])
    return Examples(PAIRS, {"anchor": anchors, "positive": positives}, str(path))


def read_triplets(path: Path) -> Examples:
    """(anchor, positive, negative) rows."""
    columns: dict[str, list[Any]] = {"anchor": [], "positive": [], "negative_1": []}
    for _, values in table_rows(path, "triplets"):
        columns["anchor"].append(values["anchor"])
        columns["positive"].append(values["positive"])
        columns["negative_1"].append(values["negative"])
    return Examples(TRIPLETS, columns, str(path))


def read_scored_pairs(path: Path) -> Examples:
    """(sentence1, sentence2, score) rows; KorSTS and STS-B files are read as distributed."""
    columns: dict[str, list[Any]] = {"sentence1": [], "sentence2": [], "score": []}
    for number, values in table_rows(path, "scored-pairs"):
        try:
            score = float(values["score"])
        except ValueError:
            raise_at(path, number, f"the score {values['score']!r} is not a number.")
        columns["sentence1"].append(values["anchor"])
        columns["sentence2"].append(values["positive"])
        columns["score"].append(score)
    return Examples(SCORED, columns, str(path))


def read_labeled(path: Path) -> Examples:
    """(text, class label) rows, for the batch triplet losses; labels become integers."""
    texts, labels = [], []
    classes: dict[str, int] = {}
    for _, values in table_rows(path, "labeled"):
        texts.append(values["text"])
        labels.append(classes.setdefault(values["class"], len(classes)))
    return Examples(LABELED, {"text": texts, "label": labels}, str(path))


def read_nli(path: Path) -> Examples:
    """Supervised SimCSE triplets: (premise, entailed hypothesis, contradicting hypothesis).

    Every entailment of a premise is paired with every contradiction of the same premise;
    neutral hypotheses are not used. Premises lacking either kind are left out (counted in notes).
    """
    hypotheses: dict[str, dict[str, list[str]]] = {}
    for number, values in table_rows(path, "nli"):
        label = NLI_LABELS.get(values["nli_label"].lower())
        if label is None:
            raise_at(
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
    collection = Collection.open(root)
    if collection.generation is None:
        raise InputError(f"{root} is an empty collection; index some files into it first.")
    return [Passage(c.doc_id, c.text, c.title, c.section) for c in collection.store.iter_chunks()]


def file_passages(root: Path, *, max_tokens: int = 256) -> list[Passage]:
    """Files (txt, md, html, pdf, jsonl, csv) loaded as `seoga index` would, then chunked."""
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
        if header_roles(first[1], FORMAT_ROLES[fmt]) is not None:
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
