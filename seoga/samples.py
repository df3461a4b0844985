"""The sample corpus seoga ships (Korean and English documents) and its sample queries and
questions with the answers they expect: what the demo indexes and asks, and what model
optimisation encodes as typical queries."""

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

SAMPLE_DIR = "sample"
QUERIES_NAME = "sample_queries.jsonl"
QUESTIONS_NAME = "sample_questions.jsonl"


@dataclass(frozen=True)
class DemoQuery:
    text: str
    lang: str
    expect: str


@dataclass(frozen=True)
class DemoQuestion:
    text: str
    lang: str
    expect: str  # the answer the sample corpus gives


def sample_corpus() -> Path:
    return Path(str(files("seoga") / "data" / SAMPLE_DIR))


def _samples(name: str) -> list[dict]:
    text = (files("seoga") / "data" / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sample_queries() -> list[DemoQuery]:
    return [DemoQuery(**sample) for sample in _samples(QUERIES_NAME)]


def sample_questions() -> list[DemoQuestion]:
    return [DemoQuestion(**sample) for sample in _samples(QUESTIONS_NAME)]
