"""The demo: index the bilingual sample corpus seoga ships and run its sample queries."""

from dataclasses import dataclass
from pathlib import Path

from seoga.answer.base import Answer
from seoga.answer.pipeline import Asker
from seoga.collection import Collection
from seoga.collection.reports import IndexReport
from seoga.samples import DemoQuery, DemoQuestion, sample_corpus, sample_queries, sample_questions
from seoga.search.results import SearchResult
from seoga.settings import CollectionSettings

# An answer counts as the expected one when it holds it in at most this many times its length:
# "2020년" for "2020년", not the whole sentence around it.
ANSWER_SLACK = 3


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
