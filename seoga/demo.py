"""The demo: index the bilingual sample corpus seoga ships and run its sample queries."""

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from seoga.collection import Collection, IndexReport
from seoga.search.results import SearchResult
from seoga.settings import CollectionSettings

SAMPLE_DIR = "sample"
QUERIES_NAME = "sample_queries.jsonl"


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


def sample_corpus() -> Path:
    return Path(str(files("seoga") / "data" / SAMPLE_DIR))


def sample_queries() -> list[DemoQuery]:
    text = (files("seoga") / "data" / QUERIES_NAME).read_text(encoding="utf-8")
    return [DemoQuery(**json.loads(line)) for line in text.splitlines() if line.strip()]


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
