"""`seoga train ...`: the training lab's commands (one sub-app; each model kind adds a command)."""

from pathlib import Path
from typing import Annotated

import typer

from seoga.cli.options import FreezeEmbeddingsOption
from seoga.cli.output import console, print_json
from seoga.train.trainer import TrainConfig, train_embedder

app = typer.Typer(help="Train models on your data (the training lab).", no_args_is_help=True)

PERCENT_DIGITS = 4


@app.command("embedder")
def embedder_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the model to.")],
    data: Annotated[
        Path | None,
        typer.Option(help="Training data: a TSV/CSV/JSONL file, a BEIR folder, or text files."),
    ] = None,
    collection: Annotated[
        Path | None, typer.Option("--collection", "-c", help="Learn from a collection's text.")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="auto, corpus, pairs, triplets, scored-pairs, nli, labeled or beir.",
        ),
    ] = "auto",
    split: Annotated[
        str | None, typer.Option(help="BEIR qrels split (qrels/SPLIT.tsv), e.g. train.")
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(help="supervised, simcse, ict or dpr (default: from the data)."),
    ] = None,
    loss: Annotated[
        str | None,
        typer.Option(help="A sentence-transformers loss by name (default: from the data)."),
    ] = None,
    hard_negatives: Annotated[
        int | None, typer.Option(help="BM25-mined hard negatives per query (dpr; default 1).")
    ] = None,
    analyzer: Annotated[str, typer.Option(help="BM25 analyzer for mining negatives.")] = "mixed",
    base: Annotated[
        str,
        typer.Option(help="Model to start from: a registry name or an earlier output folder."),
    ] = "multilingual-e5-small",
    lora_rank: Annotated[int, typer.Option(help="LoRA rank; 0 trains every weight.")] = 0,
    lora_alpha: Annotated[float | None, typer.Option(help="LoRA alpha (default 2 × rank).")] = None,
    lora_save: Annotated[
        str, typer.Option(help="merged (self-contained) or adapter (small; needs the base).")
    ] = "merged",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same model.")] = 42,
    epochs: Annotated[float, typer.Option(help="Passes over the data.")] = 1.0,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many steps (overrides --epochs).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Examples per step.")] = 16,
    lr: Annotated[
        float | None,
        typer.Option("--learning-rate", help="Learning rate (default 2e-5; 5e-4 with LoRA)."),
    ] = None,
    max_seq_length: Annotated[
        int, typer.Option("--max-length", help="Tokens per text (longer are cut).")
    ] = 128,
    max_examples: Annotated[
        int | None, typer.Option(help="Use at most this many examples (drawn by --seed).")
    ] = None,
    scale: Annotated[
        float | None, typer.Option(help="Loss scale = 1 / temperature (MNRL, CoSENT).")
    ] = None,
    margin: Annotated[float | None, typer.Option(help="Margin (triplet/contrastive).")] = None,
    eval_data: Annotated[
        Path | None,
        typer.Option("--eval", help="Dev data scored during training: STS pairs or BEIR."),
    ] = None,
    eval_split: Annotated[str | None, typer.Option(help="BEIR split of --eval, e.g. dev.")] = None,
    eval_steps: Annotated[int | None, typer.Option(help="Evaluate every N steps.")] = None,
    freeze_embeddings: FreezeEmbeddingsOption = True,
    group_by_length: Annotated[
        bool,
        typer.Option(
            help="Batch texts of like length together (CoSENT, contrastive, triplet losses): "
            "less padding, faster steps."
        ),
    ] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the card as JSON.")] = False,
) -> None:
    """Train a bi-encoder (embedding model) and write a sentence-transformers folder + card."""
    config = TrainConfig(
        out=out,
        base=base,
        data=data,
        collection=collection,
        format=fmt,
        split=split,
        objective=objective,
        loss=loss,
        hard_negatives=hard_negatives,
        analyzer=analyzer,
        max_examples=max_examples,
        lora_rank=lora_rank,
        lora_alpha=lora_alpha,
        lora_save=lora_save,
        seed=seed,
        epochs=epochs,
        max_steps=max_steps,
        batch_size=batch_size,
        lr=lr,
        max_seq_length=max_seq_length,
        scale=scale,
        margin=margin,
        eval=eval_data,
        eval_split=eval_split,
        eval_steps=eval_steps,
        freeze_embeddings=freeze_embeddings,
        group_by_length=group_by_length,
        overwrite=overwrite,
        show_progress=not as_json,
    )
    result = train_embedder(config)
    if as_json:
        print_json(result.card)
        return
    card = result.card
    console.print(
        f"trained {card['objective']} / {card['loss']['name']} on "
        f"{card['data']['training_rows']} rows from {card['data']['source']} in "
        f"{card['training']['steps']} steps ({card['training']['seconds']} s)",
        highlight=False,
    )
    if result.lora is not None:
        console.print(result.lora.describe(), highlight=False)
    for stage in ("before", "after"):
        if stage in result.metrics:
            shown = {k: v for k, v in result.metrics[stage].items() if "ndcg" in k or "spear" in k}
            console.print(f"{stage}: {shown}", highlight=False)
    console.print(f"model written to {result.out}", highlight=False)
