"""`seoga recommend together` and `seoga recommend rules`: what a rules model (association
rules mined from baskets) says."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seoga.cli.options import JsonOption, ModelFolder, TopK
from seoga.cli.output import console, print_json

RULES_KIND = "a rules"


def together_command(
    basket: Annotated[
        list[str],
        typer.Argument(
            help="Items of a partial basket, one each (an id may hold commas), or 'a,b,c' for "
            "ids without commas; an unknown id stops the command."
        ),
    ],
    model: ModelFolder,
    k: TopK = 5,
    as_json: JsonOption = False,
) -> None:
    """Items often bought with BASKET, by lift (ties by confidence), from a rules model."""
    from seoga.recommend.lists import known_items
    from seoga.recommend.registry import load_able

    recommender = load_able(model, "together", RULES_KIND)
    items = known_items(recommender, basket, "BASKET")
    found = recommender.together(items, k)
    if as_json:
        print_json([vars(hit) for hit in found])
        return
    table = Table(title=escape(f"with {', '.join(items)}"))
    for column in ("rank", "item", "lift", "confidence", "support", "because"):
        table.add_column(column)
    for rank, hit in enumerate(found, start=1):
        table.add_row(
            str(rank), escape(hit.item), f"{hit.lift:.2f}", f"{hit.confidence:.3f}",
            f"{hit.support:.4f}", escape(", ".join(hit.because)),
        )  # fmt: skip
    console.print(table if found else "no rule applies to this basket.")


def rules_command(
    model: ModelFolder,
    sort: Annotated[str, typer.Option(help="lift, confidence or support.")] = "lift",
    top: Annotated[int, typer.Option("-k", help="How many rules.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The association rules of a rules model, best first."""
    from seoga.recommend.registry import load_able

    recommender = load_able(model, "rules", RULES_KIND)
    found = recommender.rules(sort, top)
    if as_json:
        print_json([vars(rule) for rule in found])
        return
    table = Table(title=f"{len(found)} rules by {sort}")
    for column in ("if", "then", "support", "confidence", "lift"):
        table.add_column(column)
    for rule in found:
        table.add_row(
            escape(", ".join(rule.antecedent)), escape(", ".join(rule.consequent)),
            f"{rule.support:.4f}", f"{rule.confidence:.3f}", f"{rule.lift:.2f}",
        )  # fmt: skip
    console.print(table)


def register(recommend_app: typer.Typer) -> None:
    recommend_app.command("together")(together_command)
    recommend_app.command("rules")(rules_command)
