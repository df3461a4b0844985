"""`seoga distill ...`: smaller, faster students of seoga's models (`seoga optimize` makes
any model faster on CPU)."""

from pathlib import Path
from typing import Annotated

import typer

from seoga.cli.options import FreezeEmbeddingsOption, JsonOption
from seoga.cli.output import console, print_json

app = typer.Typer(
    help="Distil a teacher model into a smaller, faster student.", no_args_is_help=True
)

DataOption = Annotated[
    list[Path],
    typer.Option(
        "--data",
        help="Unlabeled text (repeatable): a collection, a folder, a BEIR set, a TSV/CSV/JSONL.",
    ),
]
SeedOption = Annotated[int, typer.Option(help="Random seed: same seed, same student.")]
OverwriteOption = Annotated[bool, typer.Option(help="Replace --out if it exists.")]
MatchWeightOption = Annotated[
    float,
    typer.Option(
        help="Weight of the layer matches (hidden, attention, relations) beside the output "
        "losses' 1."
    ),
]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="Folder to write the student to.")]
StudentLayersOption = Annotated[
    int, typer.Option(help="Student depth; the kept layers are evenly spaced.")
]
KeepOption = Annotated[
    str | None, typer.Option(help="Teacher layers to keep, 1-based: e.g. 3,6,9,12.")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(help="A distillation config JSON (terms, matches); replaces --losses."),
]
EpochsOption = Annotated[int, typer.Option(help="Passes over the data.")]
LearningRateOption = Annotated[float, typer.Option("--learning-rate", help="Learning rate.")]
HeadLearningRateOption = Annotated[
    float | None,
    typer.Option(
        "--head-learning-rate", help="Learning rate of the scoring head (default: --learning-rate)."
    ),
]
MaxLengthOption = Annotated[
    int, typer.Option("--max-length", help="Tokens per text or pair (longer are cut).")
]
MEGA = 1_000_000
METRIC_DIGITS = 4


@app.command("embedder")
def embedder_command(
    out: OutOption,
    data: DataOption,
    teacher: Annotated[
        str, typer.Option(help="Teacher: a registry name, a folder or a hub id.")
    ] = "multilingual-e5-small",
    student: Annotated[
        str,
        typer.Option(help="layers (the teacher with fewer layers), albert, or a HF config.json."),
    ] = "layers",
    student_layers: StudentLayersOption = 4,
    keep: KeepOption = None,
    losses: Annotated[
        str,
        typer.Option(
            help="Loss names, comma-separated: mse, cosine, hidden-mse, wr-dist, wr-angle, "
            "ltr-dist, ltr-angle (wr, ltr: both of a kind)."
        ),
    ] = "mse",
    config: ConfigOption = None,
    match_weight: MatchWeightOption = 1.0,
    embedding_size: Annotated[
        int, typer.Option(help="ALBERT student: the factorised embedding size E.")
    ] = 128,
    share_layers: Annotated[
        str, typer.Option(help="ALBERT student: all, none, or a number of layer groups.")
    ] = "all",
    eval_data: Annotated[
        list[Path] | None,
        typer.Option("--eval", help="Dev sets scored each epoch (STS pairs, BEIR folder)."),
    ] = None,
    eval_split: Annotated[str | None, typer.Option(help="BEIR split of --eval.")] = None,
    epochs: EpochsOption = 1,
    batch_size: Annotated[int, typer.Option(help="Texts per step.")] = 32,
    lr: LearningRateOption = 1e-4,
    head_lr: HeadLearningRateOption = None,
    max_seq_length: MaxLengthOption = 256,
    max_texts: Annotated[
        int | None, typer.Option(help="Distil on at most this many texts (drawn by --seed).")
    ] = None,
    sentence_queries: Annotated[
        bool,
        typer.Option(help="Also distil each passage's sentences as queries (the query side)."),
    ] = True,
    freeze_embeddings: FreezeEmbeddingsOption = True,
    seed: SeedOption = 0,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Distil a bi-encoder into a smaller student (a sentence-transformers folder + card)."""
    from seoga.distill.embedder import EmbedderRequest, distill_embedder
    from seoga.distill.training import TrainingConfig

    request = EmbedderRequest(
        data=data,
        out=out,
        teacher=teacher,
        student=student,
        student_layers=student_layers,
        keep=keep,
        losses=losses,
        config=config,
        match_weight=match_weight,
        embedding_size=embedding_size,
        share_layers=share_layers,
        evaluate=eval_data or [],
        eval_split=eval_split,
        training=TrainingConfig(
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=lr,
            seed=seed,
            max_seq_length=max_seq_length,
            freeze_embeddings=freeze_embeddings,
        ),
        max_texts=max_texts,
        sentence_queries=sentence_queries,
        overwrite=overwrite,
        show_progress=not as_json,
    )
    report(distill_embedder(request), as_json)


@app.command("reranker")
def reranker_command(
    teacher: Annotated[
        Path, typer.Option(help="The reranker to distil (a seoga reranker folder).")
    ],
    data: Annotated[
        Path,
        typer.Option(help="A BEIR folder (qrels + BM25-mined negatives) or a JSONL of pairs."),
    ],
    out: OutOption,
    split: Annotated[str, typer.Option(help="BEIR qrels split to learn from.")] = "train",
    student_layers: StudentLayersOption = 4,
    keep: KeepOption = None,
    losses: Annotated[
        str | None,
        typer.Option(
            help="Loss names, comma-separated: soft-kd, logit-mse, hard-label, hidden-mse, "
            "attention, wr-dist, wr-angle, ltr-dist, ltr-angle (default: the reranker preset)."
        ),
    ] = None,
    config: ConfigOption = None,
    match_weight: MatchWeightOption = 1.0,
    temperature: Annotated[float, typer.Option(help="Soft-label temperature T.")] = 1.0,
    negatives: Annotated[int, typer.Option(help="Mined negatives per positive (BEIR).")] = 4,
    max_queries: Annotated[
        int | None, typer.Option(help="Use at most this many queries (drawn by --seed).")
    ] = None,
    held_out: Annotated[
        float,
        typer.Option(help="Share of queries held out to pick the epoch and fit the temperature."),
    ] = 0.1,
    epochs: EpochsOption = 1,
    batch_size: Annotated[int, typer.Option(help="Pairs per step.")] = 16,
    lr: LearningRateOption = 1e-4,
    head_lr: HeadLearningRateOption = None,
    max_seq_length: MaxLengthOption = 256,
    freeze_embeddings: FreezeEmbeddingsOption = True,
    seed: SeedOption = 0,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Distil a cross-encoder reranker into a smaller, calibrated student."""
    from seoga.distill.reranker import RerankerRequest, distill_reranker
    from seoga.distill.training import TrainingConfig

    request = RerankerRequest(
        teacher=teacher,
        data=data,
        out=out,
        split=split,
        student_layers=student_layers,
        keep=keep,
        losses=losses,
        config=config,
        match_weight=match_weight,
        temperature=temperature,
        negatives=negatives,
        max_queries=max_queries,
        held_out=held_out,
        training=TrainingConfig(
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=lr,
            seed=seed,
            max_seq_length=max_seq_length,
            freeze_embeddings=freeze_embeddings,
            head_learning_rate=head_lr,
        ),
        overwrite=overwrite,
        show_progress=not as_json,
    )
    report(distill_reranker(request), as_json)


def report(result, as_json: bool) -> None:
    """What a distillation did, epoch by epoch, and where the student went (or its card)."""
    card = result.card
    if as_json:
        print_json(card)
        return
    shape = card["student"]
    resumed = card.get("resumed_from_epoch")
    console.print(
        f"distilled a {shape['layers']}-layer {shape['model_type']} {card['kind']} student "
        f"({shape['parameters'] / MEGA:.1f}M parameters) on {card['data']['examples']} examples "
        f"in {card['seconds']} s" + (f", resumed after epoch {resumed}" if resumed else ""),
        highlight=False,
    )
    for record in card["epochs"]:
        metrics = record.get("metrics", {})
        shown = {name: round(value, METRIC_DIGITS) for name, value in metrics.items()}
        loss = {name: round(value, METRIC_DIGITS) for name, value in record["loss"].items()}
        console.print(f"epoch {record['epoch']}: loss {loss} {shown}", highlight=False)
    calibration = card.get("calibration", {})
    if "held_out_ece_after" in calibration:
        console.print(
            f"held-out ECE {calibration['held_out_ece_before']:.4f} before, "
            f"{calibration['held_out_ece_after']:.4f} after temperature scaling",
            highlight=False,
        )
    console.print(f"student written to {result.out}", highlight=False)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="distill")
