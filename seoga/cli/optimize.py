"""`seoga optimize`: a model made smaller and faster on CPU (ONNX Runtime, int8, a trimmed
vocabulary)."""

from pathlib import Path
from typing import Annotated

import typer

from seoga.cli.options import JsonOption
from seoga.cli.output import console, print_json
from seoga.distill.data import distillation_texts

MEGA = 1_000_000
OverwriteOption = Annotated[bool, typer.Option(help="Replace --out if it exists.")]


def optimize_command(
    model: Annotated[str, typer.Argument(help="A model folder, registry name or hub id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the result to.")],
    int8: Annotated[
        bool, typer.Option(help="Quantise weights to int8 (else an ONNX float32 graph).")
    ] = True,
    trim_vocab: Annotated[
        list[Path] | None,
        typer.Option(
            help="Keep only the vocabulary this text uses (repeatable; like --data of distill) "
            "plus a base Korean/English list."
        ),
    ] = None,
    base_vocab: Annotated[
        bool, typer.Option(help="With --trim-vocab: also keep Hangul, ASCII and single chars.")
    ] = True,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Make a model smaller and faster on CPU: ONNX Runtime, int8, a trimmed vocabulary."""
    from seoga.models.optimize import optimize

    texts = distillation_texts(trim_vocab, {}) if trim_vocab else None
    report = optimize(
        model,
        out,
        int8=int8,
        trim_texts=texts,
        base_vocabulary=base_vocab,
        overwrite=overwrite,
    )
    if as_json:
        print_json(report.to_dict())
        return
    if report.vocabulary is not None:
        vocabulary = report.vocabulary
        console.print(
            f"vocabulary: {vocabulary.after} of {vocabulary.before} pieces kept "
            f"({vocabulary.from_corpus} used by the text)",
            highlight=False,
        )
    drift = report.drift
    console.print(
        f"{'int8' if report.int8 else 'float32'} graph: {report.sizes['graph'] / MEGA:.1f} MB; "
        f"cosine to the float32 model on samples: mean {drift['mean_cosine']}, "
        f"min {drift['min_cosine']}",
        highlight=False,
    )
    console.print(
        f"model written to {report.out} ({report.sizes['model_folder'] / MEGA:.0f} MB; "
        f"the source was {report.sizes['source_folder'] / MEGA:.0f} MB)",
        highlight=False,
    )


def register(parent: typer.Typer) -> None:
    parent.command("optimize")(optimize_command)
