"""`seoga calibrate`: fit the reader's temperature and threshold on a dev set, store them in
the collection, report ECE before and after, and draw the reliability diagram."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seoga.answer.pipeline import DEFAULT_PASSAGES
from seoga.cli.ask import (
    ExamplesOption,
    LlmBackendOption,
    LlmOption,
    PassagesOption,
    ReaderOption,
    RerankOption,
    build_asker,
)
from seoga.cli.index import CollectionOption, JsonOption
from seoga.cli.output import console, print_json
from seoga.collection import Collection


def calibrate_command(
    data: Annotated[
        Path, typer.Option("--data", help="Dev set: a BEIR-layout folder with answers.jsonl.")
    ],
    collection: CollectionOption,
    reader: ReaderOption = "highlighter",
    llm: LlmOption = None,
    llm_backend: LlmBackendOption = "auto",
    examples: ExamplesOption = None,
    rerank: RerankOption = None,
    passages: PassagesOption = DEFAULT_PASSAGES,
    limit: Annotated[
        int | None, typer.Option(help="Use a seeded sample of this many dev questions.")
    ] = None,
    holdout: Annotated[
        float, typer.Option(help="Share of questions held out to report unseen-question ECE.")
    ] = 0.3,
    wrong_cost: Annotated[
        float, typer.Option(help="How many right answers one wrong answer costs (threshold).")
    ] = 1.0,
    plot: Annotated[
        Path | None,
        typer.Option(help="Reliability diagram PNG (default: COLLECTION/calibration-READER.png)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and the held-out split.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Fit calibration on a labelled dev set and store it in the collection for `ask`."""
    from seoga.calibrate.fit import fit_reader
    from seoga.calibrate.plot import plot_reliability
    from seoga.calibrate.store import READERS, RERANKERS, store_calibration
    from seoga.evaluate.qa import read_qa_set, run_questions

    dev = read_qa_set(data)
    # Fitting needs every answer, so nothing is withheld while the dev set is read.
    asker = build_asker(
        Collection.open(collection),
        reader,
        llm=llm,
        llm_backend=llm_backend,
        examples=examples,
        rerank=rerank,
        passages=passages,
        threshold=0.0,
    )
    records = run_questions(
        asker, dev, dev.question_ids(limit=limit, seed=seed), show_progress=not as_json
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
    kind = reader.partition(":")[0].strip().lower()
    plot = plot or Path(collection) / f"calibration-{kind}.png"
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
        "passages": passages,
        "plot": str(plot),
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report.fitted.details |= record
    stored = store_calibration(
        Path(collection), READERS, asker.reader.calibration_key, report.fitted
    )
    result = {"reader": report.fitted.to_dict(), "stored": str(stored)}
    if asker.reranker is not None:
        reranker_summary = calibrate_reranker(asker, dev, records, record)
        store_calibration(
            Path(collection),
            RERANKERS,
            asker.reranker.calibration_key,
            reranker_summary.pop("fitted"),
        )
        result["reranker"] = reranker_summary
    if as_json:
        print_json(result)
        return
    summary = report.summary
    table = Table(title=f"calibration of {asker.reader.name} on {dev.name}")
    for column in ("questions", "accuracy", "ECE before", "ECE after", "T", "threshold"):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary["n_questions"]),
        f"{summary['accuracy']:.3f}",
        f"{summary['ece_before']:.4f}",
        f"{summary['ece_after']:.4f}",
        f"{report.fitted.scaling.temperature:.4g} ({report.fitted.scaling.form})",
        f"{report.fitted.threshold:.3f}",
    )
    console.print(table)
    if "held_out" in summary:
        held = summary["held_out"]
        console.print(
            f"held-out {held['n_questions']} questions (fitted without them): "
            f"ECE {held['ece_before']:.4f} → {held['ece_after']:.4f}",
            highlight=False,
        )
    if "reranker" in result:
        rr = result["reranker"]
        console.print(
            f"reranker: ECE {rr['ece_before']:.4f} → {rr['ece_after']:.4f} over "
            f"{rr['pairs']} judged passages",
            highlight=False,
        )
    console.print(f"stored in {stored}; reliability diagram: {plot}", highlight=False)


def calibrate_reranker(asker, dev, records, record: dict) -> dict:
    """Temperature of the reranker's logits against the dev qrels of the passages it ranked."""
    from seoga.calibrate.metrics import expected_calibration_error
    from seoga.calibrate.store import FittedCalibration
    from seoga.calibrate.temperature import TemperatureScaling
    from seoga.search.rerank import judged_logits

    scores, labels = judged_logits(
        ((item.qid, item.passage_scores) for item in records), dev.beir.qrels
    )
    before = asker.reranker.scaling
    after = TemperatureScaling().fit(scores, labels)
    ece_before = expected_calibration_error([before.confidence(s) for s in scores], labels)
    ece_after = expected_calibration_error([after.confidence(s) for s in scores], labels)
    summary = {"pairs": len(scores), "ece_before": ece_before, "ece_after": ece_after}
    return summary | {"fitted": FittedCalibration(after, 0.0, record | summary)}


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_command)
