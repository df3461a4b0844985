"""The demo: index the bilingual sample corpus seoga ships and run its sample queries."""

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from seoga.answer.base import Answer
from seoga.answer.pipeline import Asker
from seoga.collection import Collection, IndexReport
from seoga.search.results import SearchResult
from seoga.settings import CollectionSettings

SAMPLE_DIR = "sample"
QUERIES_NAME = "sample_queries.jsonl"
QUESTIONS_NAME = "sample_questions.jsonl"
# An answer counts as the expected one when it holds it in at most this many times its length:
# "2020년" for "2020년", not the whole sentence around it.
ANSWER_SLACK = 3


@dataclass(frozen=True)
class DemoQuery:
    text: str
    lang: str
    expect: str


@dataclass(frozen=True)
class DemoAnswer:
    query: DemoQuery
    results: list[SearchResult]

    @property
    def rank(self) -> int | None:
        """Where the expected passage came (1 is first), or None when it was not found."""
        for position, result in enumerate(self.results, start=1):
            if self.query.expect in (result.doc_id, Path(result.doc_id).name):
                return position
        return None


@dataclass(frozen=True)
class DemoQuestion:
    text: str
    lang: str
    expect: str  # the answer the sample corpus gives


@dataclass(frozen=True)
class DemoReply:
    question: DemoQuestion
    answer: Answer

    @property
    def expected(self) -> bool:
        """Whether the answer holds the expected one (and is not much longer than it)."""
        text = self.answer.text
        return self.question.expect in text and len(text) <= ANSWER_SLACK * len(
            self.question.expect
        )


def sample_corpus() -> Path:
    return Path(str(files("seoga") / "data" / SAMPLE_DIR))


def _samples(name: str) -> list[dict]:
    text = (files("seoga") / "data" / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sample_queries() -> list[DemoQuery]:
    return [DemoQuery(**sample) for sample in _samples(QUERIES_NAME)]


def sample_questions() -> list[DemoQuestion]:
    return [DemoQuestion(**sample) for sample in _samples(QUESTIONS_NAME)]


def build_demo(
    root: Path, settings: CollectionSettings | None = None, *, show_progress: bool = False
) -> tuple[Collection, IndexReport]:
    """Index the sample corpus into `root` (only what changed, when it exists)."""
    collection = Collection.create(root, settings, exist_ok=True)
    return collection, collection.add([sample_corpus()], show_progress=show_progress)


def run_queries(collection: Collection, k: int, mode: str | None = None) -> list[DemoAnswer]:
    return [
        DemoAnswer(query, collection.search(query.text, k=k, mode=mode))
        for query in sample_queries()
    ]


def ask_questions(collection: Collection, asker: Asker | None = None) -> list[DemoReply]:
    """The sample questions answered from the collection (by the highlighter by default)."""
    asker = asker or Asker(collection)
    return [DemoReply(question, asker.ask(question.text)) for question in sample_questions()]
