"""`seoga train reranker`, `seoga train reader` and `seoga train fid`: the models of the ask
pipeline (the reranker that orders its passages, the readers that answer from them)."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seoga.answer.train_fid import FidTrainingConfig, train_fid
from seoga.answer.train_span import SYNTHETIC_NAME, SpanTrainingConfig, train_span_reader
from seoga.cli.options import FreezeEmbeddingsOption, JsonOption
from seoga.cli.output import console, print_json
from seoga.collection import Collection
from seoga.models.registry import DEFAULT_EMBEDDER
from seoga.rerank.training import RerankerTrainingConfig, train_reranker

SAMPLE_SHOWN = 5
OutOption = Annotated[Path, typer.Option("--out", help="Folder to write the trained model to.")]
SeedOption = Annotated[int, typer.Option(help="Random seed (sampling, initialisation, order).")]
BaseOption = Annotated[str, typer.Option(help="Model to start from: a name, a folder or a hub id.")]
EpochsOption = Annotated[float, typer.Option(help="Passes over the training data.")]
MaxExamplesOption = Annotated[
    int | None, typer.Option(help="Train on a seeded sample of this many examples.")
]
LearningRateOption = Annotated[float, typer.Option(help="Peak learning rate.")]


def _done(record: dict, out: Path, as_json: bool) -> None:
    if as_json:
        print_json(record)
    else:
        console.print(
            f"trained {record['kind']} in {record['train_seconds']:.0f} s → {out} "
            f"(its recipe: {out}/seoga_model.json)",
            highlight=False,
        )


def reranker_command(
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="BEIR-layout folder (qrels; BM25-mined negatives) or pairs .jsonl."
        ),
    ],
    out: OutOption,
    split: Annotated[str, typer.Option(help="qrels split to train on (qrels/SPLIT.tsv).")] = (
        "train"
    ),
    base: BaseOption = DEFAULT_EMBEDDER,
    negatives: Annotated[int, typer.Option(help="BM25-mined negatives per positive.")] = 4,
    epochs: EpochsOption = 1.0,
    learning_rate: LearningRateOption = 3e-5,
    head_learning_rate: Annotated[
        float, typer.Option(help="Peak learning rate of the new scoring head.")
    ] = 1e-2,
    batch_size: Annotated[int, typer.Option(help="Pairs per step.")] = 16,
    max_length: Annotated[int, typer.Option(help="Tokens per (query, passage) pair.")] = 384,
    max_queries: Annotated[
        int | None, typer.Option(help="Train on a seeded sample of this many queries.")
    ] = None,
    collection: Annotated[
        Path | None,
        typer.Option(
            "--collection",
            "-c",
            help="Mine negatives from this collection's hybrid search (it must index the "
            "same corpus) instead of BM25.",
        ),
    ] = None,
    mining_depth: Annotated[int, typer.Option(help="Negatives come from this many results.")] = 30,
    freeze_embeddings: FreezeEmbeddingsOption = True,
    seed: SeedOption = 42,
    as_json: JsonOption = False,
) -> None:
    """Train a cross-encoder reranker; its temperature is fitted on held-out queries."""
    config = RerankerTrainingConfig(
        base=base,
        split=split,
        negatives=negatives,
        epochs=epochs,
        learning_rate=learning_rate,
        head_learning_rate=head_learning_rate,
        batch_size=batch_size,
        max_length=max_length,
        max_queries=max_queries,
        mining_depth=mining_depth,
        freeze_embeddings=freeze_embeddings,
        seed=seed,
    )
    mined_from = Collection.open(collection) if collection is not None else None
    record = train_reranker(data, out, config, show_progress=not as_json, collection=mined_from)
    _done(record, out, as_json)


def reader_command(
    out: OutOption,
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="SQuAD-format JSON (repeatable).")
    ] = None,
    synthetic: Annotated[
        Path | None,
        typer.Option(
            help="A collection: train on questions made from its passages (no labels needed)."
        ),
    ] = None,
    synthetic_max: Annotated[
        int | None, typer.Option(help="At most this many synthetic questions (a seeded sample).")
    ] = None,
    other_passages: Annotated[
        bool,
        typer.Option(
            help="Read a synthetic question from another passage holding its answer, "
            "where one does (not the passage it was made from)."
        ),
    ] = False,
    synthetic_filters: Annotated[
        bool,
        typer.Option(
            help="Drop synthetic questions that hold their answer, are too short or too long, "
            "or repeat another (--no-synthetic-filters keeps them, to measure the filters)."
        ),
    ] = True,
    base: BaseOption = DEFAULT_EMBEDDER,
    epochs: EpochsOption = 2.0,
    learning_rate: LearningRateOption = 1e-4,
    batch_size: Annotated[int, typer.Option(help="Windows per step.")] = 8,
    max_length: Annotated[int, typer.Option(help="Tokens per window.")] = 384,
    stride: Annotated[int, typer.Option(help="Tokens shared by consecutive windows.")] = 128,
    max_examples: MaxExamplesOption = None,
    freeze_embeddings: FreezeEmbeddingsOption = True,
    seed: SeedOption = 42,
    as_json: JsonOption = False,
) -> None:
    """Train an extractive span reader (a QA head on an encoder) on SQuAD-format data,
    synthetic questions from a collection, or both."""
    config = SpanTrainingConfig(
        base=base,
        epochs=epochs,
        learning_rate=learning_rate,
        batch_size=batch_size,
        max_length=max_length,
        stride=stride,
        max_examples=max_examples,
        freeze_embeddings=freeze_embeddings,
        seed=seed,
        synthetic=str(synthetic) if synthetic else None,
        synthetic_max=synthetic_max,
        synthetic_other_passages=other_passages,
        synthetic_filters=synthetic_filters,
    )
    record = train_span_reader(list(data or []), out, config, show_progress=not as_json)
    if record["synthetic_examples"] and not as_json:
        show_synthetic_sample(out)
    _done(record, out, as_json)


def show_synthetic_sample(out: Path) -> None:
    """How many questions were made from the collection, and a few of them."""
    lines = (out / SYNTHETIC_NAME).read_text(encoding="utf-8").splitlines()
    console.print(f"{len(lines)} synthetic questions (all in {out / SYNTHETIC_NAME}); a sample:")
    for line in lines[:SAMPLE_SHOWN]:
        made = json.loads(line)
        console.print(
            f"  {escape(made['question'])} → [bold]{escape(made['answer'])}[/]", highlight=False
        )


def fid_command(
    data: Annotated[
        Path, typer.Option("--data", help="JSONL: question, answers, passages per line.")
    ],
    out: OutOption,
    base: Annotated[
        str,
        typer.Option(
            help="Any HF encoder–decoder (folder or id), or an encoder to warm-start one from."
        ),
    ],
    epochs: EpochsOption = 3.0,
    learning_rate: LearningRateOption = 1e-4,
    batch_size: Annotated[int, typer.Option(help="Questions per step.")] = 4,
    passages: Annotated[int, typer.Option(help="Passages per question.")] = 5,
    passage_tokens: Annotated[int, typer.Option(help="Tokens per (question, passage).")] = 192,
    answer_tokens: Annotated[int, typer.Option(help="Longest answer, in tokens.")] = 24,
    max_examples: MaxExamplesOption = None,
    freeze_embeddings: FreezeEmbeddingsOption = False,
    seed: SeedOption = 42,
    as_json: JsonOption = False,
) -> None:
    """Train a Fusion-in-Decoder reader."""
    config = FidTrainingConfig(
        base=base,
        epochs=epochs,
        learning_rate=learning_rate,
        batch_size=batch_size,
        max_passages=passages,
        passage_tokens=passage_tokens,
        answer_tokens=answer_tokens,
        max_examples=max_examples,
        freeze_embeddings=freeze_embeddings,
        seed=seed,
    )
    _done(train_fid(data, out, config, show_progress=not as_json), out, as_json)


def register(train_app: typer.Typer) -> None:
    train_app.command("reranker")(reranker_command)
    train_app.command("reader")(reader_command)
    train_app.command("fid")(fid_command)
