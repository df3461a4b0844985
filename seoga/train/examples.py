"""What every training data reader gives: `Examples` (named columns of equal length, by
kind), `Passage` (a unit of an unlabeled corpus) and `BeirPairs` (queries with their judged
documents)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Example kinds after reading: which columns the examples carry.
PAIRS, TRIPLETS, SCORED, LABELED, TEXTS = "pairs", "triplets", "scored-pairs", "labeled", "texts"


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
