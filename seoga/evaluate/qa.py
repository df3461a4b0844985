"""Question answering on BEIR-layout folders with answers.jsonl, through the ask pipeline.

Scores: EM and F1 (SQuAD normalisation; character F1 for Korean answers), recall of the gold
passage among the passages the reader got, the abstention rate, and the ECE of the confidence
against "the answer was right" (it holds a gold answer or reaches F1 0.5).
"""

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seoga.answer.base import Passage
from seoga.answer.pipeline import Asker
from seoga.calibrate.metrics import expected_calibration_error
from seoga.collection import Collection
from seoga.collection.cache import cached_collection
from seoga.datasets.answers import best_scores, is_correct
from seoga.datasets.beir import BeirSet, read_beir, read_jsonl_map
from seoga.errors import InputError
from seoga.index.generations import MANIFEST_NAME
from seoga.progress import track
from seoga.settings import CollectionSettings

if TYPE_CHECKING:
    from seoga.collection import Collection

ANSWERS_NAME = "answers.jsonl"
PERCENT = 100.0
P50 = 50


@dataclass
class QARecord:
    """One question's outcome."""

    qid: str
    question: str
    prediction: str
    golds: list[str]
    exact_match: float
    f1: float
    correct: bool
    confidence: float
    abstained: bool
    gold_retrieved: bool
    seconds: float
    scores: list[float] = field(default_factory=list)
    support: int = 1
    passage_scores: list[tuple[str, float]] = field(default_factory=list)  # (doc id, score)


def read_answers(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        raise InputError(
            f"{path} is missing: QA evaluation needs {ANSWERS_NAME} "
            '(lines of {"_id": query id, "answers": [...]}) beside the BEIR files.'
        )
    return read_jsonl_map(
        path,
        lambda record: (
            str(record["_id"]),
            [str(answer) for answer in record["answers"] if str(answer).strip()],
        ),
        '{"_id": ..., "answers": [...]}',
    )


@dataclass(frozen=True)
class QASet:
    beir: BeirSet
    answers: dict[str, list[str]]

    @property
    def name(self) -> str:
        return self.beir.name

    def question_ids(
        self, *, limit: int | None = None, seed: int = 0, only: set[str] | None = None
    ) -> list[str]:
        """Judged questions that have answers: all, those in `only`, or a seeded sample."""
        ids = sorted(
            qid
            for qid in self.beir.queries
            if self.answers.get(qid) and (only is None or qid in only)
        )
        if limit is not None and len(ids) > limit:
            ids = sorted(random.Random(seed).sample(ids, limit))
        return ids


def read_qa_set(root: str | Path) -> QASet:
    root = Path(root)
    return QASet(read_beir(root), read_answers(root / ANSWERS_NAME))


def open_or_build(
    data: QASet, collection: Path | None, *, show_progress: bool = False
) -> "Collection":
    """The collection to ask: the one given (indexing the set's corpus into it when it does
    not exist yet), or the cached evaluation collection of the set's corpus."""
    if collection is None:
        built, _ = cached_collection(
            data.beir, CollectionSettings(), cache_dir=None, show_progress=show_progress
        )
        return built
    if (collection / MANIFEST_NAME).exists():
        return Collection.open(collection)
    built = Collection.create(collection, CollectionSettings())
    built.add([data.beir.corpus], show_progress=show_progress)
    return built


@dataclass(frozen=True)
class Retrieved:
    """The passages retrieved (and reranked) for one question, and how long that took."""

    passages: list[Passage]
    seconds: float


def retrieve(
    asker: Asker, data: QASet, question_ids: list[str], *, show_progress: bool = False
) -> dict[str, Retrieved]:
    """Each question's passages, retrieved once so that several readers can read the same."""
    found = {}
    for qid in track(question_ids, "retrieving", enabled=show_progress):
        started = time.perf_counter()
        passages = asker.passages(data.beir.queries[qid])
        found[qid] = Retrieved(passages, time.perf_counter() - started)
    return found


def run_questions(
    asker: Asker,
    data: QASet,
    question_ids: list[str],
    *,
    show_progress: bool = False,
    retrieved: dict[str, Retrieved] | None = None,
) -> list[QARecord]:
    """Ask each question; with `retrieved`, read those passages (its seconds are counted in)."""
    records = []
    for qid in track(question_ids, "answering", enabled=show_progress):
        question = data.beir.queries[qid]
        golds = data.answers[qid]
        started = time.perf_counter()
        if retrieved is None:
            answer = asker.ask(question)
            seconds = time.perf_counter() - started
        else:
            answer = asker.read(question, retrieved[qid].passages)
            seconds = time.perf_counter() - started + retrieved[qid].seconds
        em, f1 = best_scores(answer.text, golds)
        records.append(
            QARecord(
                qid=qid,
                question=question,
                prediction=answer.text,
                golds=golds,
                exact_match=em,
                f1=f1,
                correct=bool(answer.text) and is_correct(answer.text, golds),
                confidence=answer.confidence,
                abstained=answer.abstained,
                gold_retrieved=any(
                    p.doc_id in data.beir.qrels.get(qid, {}) for p in answer.passages
                ),
                seconds=seconds,
                scores=list(answer.scores),
                support=answer.support,
                passage_scores=[(p.doc_id, p.score) for p in answer.passages],
            )
        )
    return records


def qa_metrics(records: list[QARecord]) -> dict[str, Any]:
    """Aggregate scores; EM and F1 count every question (abstained ones with their answer)."""
    if not records:
        raise InputError("no question with an answer was evaluated.")
    answered = [record for record in records if not record.abstained]
    return {
        "exact_match": PERCENT * float(np.mean([r.exact_match for r in records])),
        "f1": PERCENT * float(np.mean([r.f1 for r in records])),
        "accuracy": float(np.mean([r.correct for r in records])),
        "gold_passage_recall": float(np.mean([r.gold_retrieved for r in records])),
        "abstention_rate": 1.0 - len(answered) / len(records),
        "answered_accuracy": float(np.mean([r.correct for r in answered])) if answered else 0.0,
        "ece": expected_calibration_error(
            [r.confidence for r in records], [r.correct for r in records]
        ),
        "mean_confidence": float(np.mean([r.confidence for r in records])),
        "n_questions": len(records),
        "seconds_per_question_p50": float(np.percentile([r.seconds for r in records], P50)),
        "seconds_per_question_mean": float(np.mean([r.seconds for r in records])),
    }


def evaluate_qa(
    asker: Asker,
    data: QASet,
    *,
    limit: int | None = None,
    seed: int = 0,
    only: set[str] | None = None,
    show_progress: bool = False,
    records_path: Path | None = None,
    retrieved: dict[str, Retrieved] | None = None,
) -> dict[str, Any]:
    """Answer the set's questions with `asker` and score them."""
    ids = data.question_ids(limit=limit, seed=seed, only=only)
    records = run_questions(asker, data, ids, show_progress=show_progress, retrieved=retrieved)
    if records_path is not None:
        records_path.write_text(
            "\n".join(json.dumps(asdict(r), ensure_ascii=False) for r in records) + "\n",
            encoding="utf-8",
        )
    return {
        "dataset": data.name,
        "reader": asker.reader.calibration_key,
        "reranker": asker.reranker.calibration_key if asker.reranker else None,
        "calibrated": asker.calibration is not None,
        "threshold": asker.threshold,
        "passages": asker.settings.passages,
        "seed": seed,
        **qa_metrics(records),
    }
