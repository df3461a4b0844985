"""`seoga eval qa`: answer a labelled question set through the ask pipeline and score it."""

from pathlib import Path
from typing import Annotated

import typer

from seoga.answer.loading import ReaderChoice, build_asker
from seoga.answer.pipeline import DEFAULT_PASSAGES
from seoga.cli.options import (
    ExamplesOption,
    JsonOption,
    LlmBackendOption,
    LlmOption,
    PassagesOption,
    ReaderOption,
    RerankOption,
)
from seoga.cli.output import report_metrics
from seoga.evaluate.qa import evaluate_qa, open_or_build, read_qa_set

TABLE_COLUMNS = [
    "exact_match",
    "f1",
    "accuracy",
    "gold_passage_recall",
    "abstention_rate",
    "ece",
    "n_questions",
    "seconds_per_question_p50",
]


def qa_command(
    data: Annotated[Path, typer.Argument(help="A BEIR-layout folder with answers.jsonl (QA set).")],
    collection: Annotated[
        Path | None,
        typer.Option(
            "--collection",
            "-c",
            help="Collection to ask (built from DATA's corpus if it does not exist; "
            "default: a cached one).",
        ),
    ] = None,
    reader: ReaderOption = "highlighter",
    llm: LlmOption = None,
    llm_backend: LlmBackendOption = "auto",
    examples: ExamplesOption = None,
    rerank: RerankOption = None,
    passages: PassagesOption = DEFAULT_PASSAGES,
    limit: Annotated[
        int | None, typer.Option(help="Evaluate a seeded sample of this many questions.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the metrics as JSON here.")
    ] = None,
    records: Annotated[
        Path | None, typer.Option(help="Write every question's outcome as JSONL here.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """EM/F1, gold-passage recall, abstention rate and ECE of a reader on a QA set."""
    qa_set = read_qa_set(data)
    opened = open_or_build(qa_set, collection, show_progress=True)
    asker = build_asker(opened, ReaderChoice(reader, llm, llm_backend, examples, rerank, passages))
    metrics = evaluate_qa(
        asker, qa_set, limit=limit, seed=seed, show_progress=True, records_path=records
    )
    metrics["collection"] = str(opened.root)
    title = f"{metrics['dataset']} · {reader}"
    report_metrics(metrics, title, TABLE_COLUMNS, as_json=as_json, out=output)


def register(eval_app: typer.Typer) -> None:
    eval_app.command("qa")(qa_command)
