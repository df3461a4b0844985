"""`seoga recommend related` and `seoga eval related`: documents like one of a collection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seoga.cli.options import (
    Blend,
    CollectionOption,
    ItemColumn,
    JsonOption,
    Readers,
    Seed,
    Settings,
    TimeColumn,
    UserColumn,
    WeightColumn,
)
from seoga.cli.output import console, print_json, report
from seoga.collection import Collection
from seoga.errors import InputError

SIDES = ("content", "readers")


def related_command(
    doc_id: Annotated[str, typer.Argument(help="A document id of the collection.")],
    collection: CollectionOption,
    k: Annotated[int, typer.Option("-k", help="How many documents.")] = 5,
    interactions: Readers = None,
    blend: Blend = None,
    user: UserColumn = None,
    item: ItemColumn = None,
    weight: WeightColumn = None,
    time: TimeColumn = None,
    as_json: JsonOption = False,
) -> None:
    """The k documents most like DOC_ID: by the collection's dense vectors, blended with what
    the same users also read when --interactions is given."""
    from seoga.recommend.related import open_readers, related_documents

    readers = open_readers(interactions, user, item, weight, time)
    found = related_documents(Collection.open(collection), readers, blend).related(doc_id, k)
    if as_json:
        print_json([hit.to_dict() for hit in found])
        return
    table = Table(title=escape(f"related to {doc_id}"))
    for column in ("rank", "doc_id", "title", "score", "content", "readers"):
        table.add_column(column)
    for rank, hit in enumerate(found, start=1):
        sides = [f"{hit.scores[side]:.3f}" if side in hit.scores else "" for side in SIDES]
        table.add_row(str(rank), escape(hit.doc_id), escape(hit.title), f"{hit.score:.4f}", *sides)
    console.print(table if found else "no related document.")


def eval_related_command(
    interactions: Annotated[Path, typer.Argument(help="Who read what: user, doc id, ...")],
    collection: CollectionOption,
    user: UserColumn = None,
    item: ItemColumn = None,
    weight: WeightColumn = None,
    time: TimeColumn = None,
    model: Annotated[str, typer.Option(help="The readers' model: itemknn or als.")] = "itemknn",
    test_share: Annotated[
        float, typer.Option(help="Share of the users held out as readers to score.")
    ] = 0.2,
    blends: Annotated[
        str | None, typer.Option(help="Blend weights to score, '0,0.5,1' (default: tenths).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="List length scored.")] = 10,
    seed: Seed = 0,
    set_: Settings = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the metrics as JSON here.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Score related-document lists for each blend weight on held-out readers: one document
    they read is shown, the others they read are the hits; prints the best weight."""
    from seoga.evaluate.related import DEFAULT_BLENDS, evaluate_related
    from seoga.recommend import split_interactions
    from seoga.recommend.data.logs import read_log
    from seoga.recommend.registry import model_settings

    log = read_log(interactions, user, item, None, weight, time, False, None)
    split = split_interactions(log, f"users:{test_share}", seed=seed)
    metrics = evaluate_related(
        Collection.open(collection),
        split,
        blends=parse_blends(blends) if blends else DEFAULT_BLENDS,
        k=k,
        model=model,
        settings=model_settings(set_, seed, None, None),
        seed=seed,
        show_progress=True,
    )
    metrics["interactions"] = str(interactions)
    metrics["collection"] = str(collection)
    report(metrics, as_json=as_json, out=output, draw=lambda: _print_blends(metrics, k))


def _print_blends(metrics: dict, k: int) -> None:
    table = Table(title=f"related documents, {metrics['readers']} held-out readers")
    names = list(next(iter(metrics["blends"].values())))
    for column in ("blend", *names, "ms/lookup"):
        table.add_column(column)
    for blend, scores in metrics["blends"].items():
        table.add_row(
            blend, *(f"{scores[name]:.4f}" for name in names), f"{metrics['ms_per_lookup'][blend]}"
        )
    console.print(table)
    console.print(f"best blend by ndcg@{k}: {metrics['best_blend']:g}", highlight=False)


def parse_blends(text: str) -> list[float]:
    try:
        blends = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise InputError(f"--blends {text!r}: write weights such as '0,0.5,1'.") from error
    if not blends or not all(0.0 <= blend <= 1.0 for blend in blends):
        raise InputError(f"--blends {text!r}: each weight lies between 0 and 1.")
    return blends


def register(recommend_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    recommend_app.command("related")(related_command)
    evaluate_app.command("related")(eval_related_command)
