"""`seoga calibrate`: fit the reader's temperature and threshold on a dev set, store them in
the collection, report ECE before and after, and draw the reliability diagram."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seoga.answer.loading import ReaderChoice
from seoga.answer.pipeline import DEFAULT_PASSAGES
from seoga.calibrate.fit import DEFAULT_HOLDOUT, DEFAULT_WRONG_COST
from seoga.cli.options import (
    CollectionOption,
    ExamplesOption,
    JsonOption,
    LlmBackendOption,
    LlmOption,
    PassagesOption,
    ReaderOption,
    RerankOption,
)
from seoga.cli.output import console, print_json
from seoga.evaluate.calibration import calibrate_collection


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
    ] = DEFAULT_HOLDOUT,
    wrong_cost: Annotated[
        float, typer.Option(help="How many right answers one wrong answer costs (threshold).")
    ] = DEFAULT_WRONG_COST,
    plot: Annotated[
        Path | None,
        typer.Option(help="Reliability diagram PNG (default: COLLECTION/calibration-READER.png)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and the held-out split.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Fit calibration on a labelled dev set and store it in the collection for `ask`."""
    outcome = calibrate_collection(
        collection,
        data,
        ReaderChoice(reader, llm, llm_backend, examples, rerank, passages),
        limit=limit,
        holdout=holdout,
        wrong_cost=wrong_cost,
        plot=plot,
        seed=seed,
        show_progress=not as_json,
    )
    if as_json:
        print_json(outcome.to_dict())
        return
    report = outcome.report
    summary = report.summary
    table = Table(title=f"calibration of {outcome.reader_name} on {outcome.dev_name}")
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
    if outcome.reranker is not None:
        rr = outcome.reranker
        console.print(
            f"reranker: ECE {rr['ece_before']:.4f} → {rr['ece_after']:.4f} over "
            f"{rr['pairs']} judged passages",
            highlight=False,
        )
    console.print(
        f"stored in {outcome.stored}; reliability diagram: {outcome.plot}", highlight=False
    )


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_command)
