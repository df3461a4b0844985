"""Calibrate a collection's ask pipeline on a labelled dev set: ask every question, fit the
reader's temperature and threshold (and the reranker's temperature, when there is one), draw
the reliability diagram and store the fits in the collection, where `ask` finds them.

`seoga calibrate` is this call and a rendering of its outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seoga.answer.loading import ReaderChoice, build_asker
from seoga.calibrate.fit import DEFAULT_HOLDOUT, DEFAULT_WRONG_COST, CalibrationReport, fit_reader
from seoga.calibrate.metrics import expected_calibration_error
from seoga.calibrate.plot import plot_reliability
from seoga.calibrate.store import READERS, RERANKERS, FittedCalibration, store_calibration
from seoga.calibrate.temperature import TemperatureScaling
from seoga.collection import Collection
from seoga.evaluate.qa import read_qa_set, run_questions
from seoga.rerank.model import judged_logits

if TYPE_CHECKING:
    from seoga.answer.pipeline import Asker
    from seoga.evaluate.qa import QARecord, QASet

# While the dev set is read nothing is withheld: fitting needs every answer.
NO_THRESHOLD = 0.0
PLOT_NAME = "calibration-{kind}.png"
# A reranker orders passages and never abstains: its fit keeps no threshold.
RERANKER_THRESHOLD = 0.0


@dataclass
class CalibrationOutcome:
    """What a calibration fitted and where it went."""

    report: CalibrationReport  # the reader's fit
    reader_name: str
    dev_name: str
    stored: Path
    plot: Path
    reranker: dict[str, Any] | None = None  # pairs judged, ECE before and after

    def to_dict(self) -> dict[str, Any]:
        result = {"reader": self.report.fitted.to_dict(), "stored": str(self.stored)}
        return result | ({"reranker": self.reranker} if self.reranker is not None else {})


def default_plot(collection: Path, reader: str) -> Path:
    """Where the reliability diagram of reader spec `reader` goes unless told otherwise."""
    kind = reader.partition(":")[0].strip().lower()
    return Path(collection) / PLOT_NAME.format(kind=kind)


def calibrate_collection(
    collection: Path,
    data: Path,
    choice: ReaderChoice | None = None,
    *,
    limit: int | None = None,
    holdout: float = DEFAULT_HOLDOUT,
    wrong_cost: float = DEFAULT_WRONG_COST,
    plot: Path | None = None,
    seed: int = 0,
    show_progress: bool = False,
) -> CalibrationOutcome:
    """Fit calibration for the pipeline `choice` makes (the highlighter by default) over
    `collection` on the dev set at `data` (a BEIR-layout folder with answers.jsonl), and store
    it there."""
    choice = choice or ReaderChoice()

    dev = read_qa_set(data)
    asker = build_asker(Collection.open(collection), choice, threshold=NO_THRESHOLD)
    records = run_questions(
        asker, dev, dev.question_ids(limit=limit, seed=seed), show_progress=show_progress
    )
    report = fit_reader(
        [r.scores for r in records],
        [r.correct for r in records],
        asker.reader.default_scaling,
        holdout=holdout,
        wrong_cost=wrong_cost,
        seed=seed,
        supports=[r.support for r in records],
    )
    plot = plot or default_plot(collection, choice.reader)
    plot_reliability(
        plot,
        {"before": (report.before, report.correct), "after": (report.after, report.correct)},
        title=f"{asker.reader.name} on {dev.name}",
    )
    record = {
        "data": str(data.resolve()),
        "reader": asker.reader.calibration_key,
        "seed": seed,
        "limit": limit,
        "passages": choice.passages,
        "plot": str(plot),
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report.fitted.details |= record
    stored = store_calibration(
        Path(collection), READERS, asker.reader.calibration_key, report.fitted
    )
    outcome = CalibrationOutcome(report, asker.reader.name, dev.name, stored, plot)
    if asker.reranker is not None:
        summary = calibrate_reranker(asker, dev, records, record)
        store_calibration(
            Path(collection), RERANKERS, asker.reranker.calibration_key, summary.pop("fitted")
        )
        outcome.reranker = summary
    return outcome


def calibrate_reranker(
    asker: Asker, dev: QASet, records: list[QARecord], record: dict[str, Any]
) -> dict[str, Any]:
    """Temperature of the reranker's logits against the dev qrels of the passages it ranked:
    the pairs judged, ECE before and after, and the fit (under "fitted", `record` in its
    details)."""
    scores, labels = judged_logits(
        ((item.qid, item.passage_scores) for item in records), dev.beir.qrels
    )
    before = asker.reranker.scaling
    after = TemperatureScaling().fit(scores, labels)
    ece_before = expected_calibration_error([before.confidence(s) for s in scores], labels)
    ece_after = expected_calibration_error([after.confidence(s) for s in scores], labels)
    summary = {"pairs": len(scores), "ece_before": ece_before, "ece_after": ece_after}
    return summary | {"fitted": FittedCalibration(after, RERANKER_THRESHOLD, record | summary)}
