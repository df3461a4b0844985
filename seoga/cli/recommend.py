"""`seoga recommend`: fit a recommender on a log, then ask it for lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seoga.cli.options import (
    MODEL_NAMES,
    Debias,
    Implicit,
    ItemColumn,
    ItemTables,
    JsonOption,
    MinRating,
    ModelFolder,
    Propensities,
    RandomRatings,
    RatingColumn,
    Seed,
    SessionColumn,
    SessionGap,
    Settings,
    TextFields,
    TextModel,
    TimeColumn,
    TopK,
    Tune,
    TuneBudget,
    UserColumn,
    UserTables,
    WeightColumn,
)
from seoga.cli.output import console, error_console, format_value, print_json
from seoga.errors import InputError

app = typer.Typer(help="Recommend items from interaction logs.", no_args_is_help=True)

NEW_USER = "new"
LOG_FORMATS = ("log", "baskets")
REASONS_SHOWN = 3


@app.command("fit")
def fit_command(
    log: Annotated[Path, typer.Argument(help="Interaction log: CSV, TSV, JSONL or MovieLens.")],
    out: Annotated[Path, typer.Option(help="Write the model folder here.")],
    model: Annotated[str, typer.Option(help=MODEL_NAMES)] = "als",
    user: UserColumn = None,
    session: SessionColumn = None,
    session_gap: SessionGap = None,
    item: ItemColumn = None,
    rating: RatingColumn = None,
    weight: WeightColumn = None,
    time: TimeColumn = None,
    items: ItemTables = None,
    users: UserTables = None,
    text_field: TextFields = None,
    text_model: TextModel = None,
    implicit: Implicit = False,
    min_rating: MinRating = None,
    log_format: Annotated[
        str, typer.Option("--format", help="log (rows of user, item, ...) or baskets.")
    ] = "log",
    min_support: Annotated[
        float | None, typer.Option(help="rules: the least share of baskets an itemset is in.")
    ] = None,
    debias: Debias = None,
    propensities: Propensities = None,
    random_ratings: RandomRatings = None,
    seed: Seed = 0,
    set_: Settings = None,
    tune: Tune = False,
    tune_budget: TuneBudget = None,
    as_json: JsonOption = False,
) -> None:
    """Fit a model on LOG and save it as a folder (manifest, arrays, id maps)."""
    from seoga.recommend import read_baskets
    from seoga.recommend.base import require_writable
    from seoga.recommend.data.features import read_sides
    from seoga.recommend.data.logs import read_log
    from seoga.recommend.data.propensity import with_propensities
    from seoga.recommend.registry import debias_settings, model_settings, settings_for
    from seoga.tune.choosing import TUNING, fit_recommender, tuning_summary

    require_writable(out)
    if log_format not in LOG_FORMATS:
        raise InputError(f"unknown --format {log_format!r}; use {' or '.join(LOG_FORMATS)}.")
    if log_format == "baskets":
        interactions = read_baskets(log)
    else:
        interactions = read_log(
            log, session or user, item, rating, weight, time, implicit, min_rating, session_gap
        )
    interactions = with_propensities(interactions, debias, propensities, random_ratings, seed)
    item_table, user_table = read_sides(items, users, text_field)
    settings = settings_for(model, model_settings(set_, seed, text_model, text_field))
    settings = debias_settings(model, debias, settings)
    if min_support is not None:
        settings["min_support"] = min_support
    recommender = fit_recommender(
        model, settings, interactions, item_table, user_table,
        tune=tune, budget=tune_budget, show_progress=True,
    )  # fmt: skip
    recommender.save(out)
    data, metrics = recommender.data, recommender.metrics
    if as_json:
        print_json({"out": str(out), "model": model, "data": data, "metrics": metrics})
        return
    shown = {name.replace("_", " "): v for name, v in metrics.items() if name != TUNING}
    figures = ", ".join(f"{name} {format_value(v)}" for name, v in shown.items())
    console.print(
        f"{out}: {model} fitted on {data['rows']} rows ({data['users']} users, "
        f"{data['items']} items) in {recommender.fit_seconds:.1f} s"
        + (f"; {figures}" if figures else ""),
        highlight=False,
    )
    if TUNING in metrics:
        console.print(tuning_summary(metrics[TUNING]), highlight=False)


@app.command("for-user")
def for_user_command(
    user: Annotated[str, typer.Argument(help=f"A user id, or '{NEW_USER}' with --history.")],
    model: ModelFolder,
    k: TopK = 10,
    history: Annotated[
        list[str] | None,
        typer.Option(
            help="An item a new user chose, ITEM or ITEM:RATING (repeatable; 'a,b:4,c' for ids "
            "without commas; an unknown id stops the command)."
        ),
    ] = None,
    include_seen: Annotated[
        bool, typer.Option("--include-seen", help="Keep items the user already has.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="als: which of the user's items drove each item.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Top-k items for a user (seen items left out); a new user by their --history. A rating
    model's scores are predicted ratings clipped to its rating scale, as `predict` gives them;
    a user the model does not know gets the most popular items, and a note saying so."""
    from seoga.recommend import load_recommender
    from seoga.recommend.lists import for_user

    recommender = load_recommender(model)
    asked = None if user == NEW_USER else user
    found = for_user(
        recommender, model, asked, k, history=history, include_seen=include_seen, explain=explain
    )
    show_list(found, as_json, recommender.item_labels)


@app.command("similar-items")
def similar_items_command(
    item: Annotated[str, typer.Argument(help="An item id.")],
    model: ModelFolder,
    k: TopK = 10,
    as_json: JsonOption = False,
) -> None:
    """The k items most like ITEM (cosine of the model's item vectors)."""
    from seoga.recommend import load_recommender
    from seoga.recommend.lists import ItemList

    found = load_recommender(model).similar_items(item, k)
    show_list(ItemList(f"like {item}", found), as_json)


@app.command("predict")
def predict_command(
    user: Annotated[str, typer.Argument(help="A user id.")],
    items: Annotated[list[str], typer.Argument(help="Item ids (one each: commas are kept).")],
    model: ModelFolder,
    as_json: JsonOption = False,
) -> None:
    """The model's score of USER for each item: for rating models a predicted rating, clipped
    to the rating scale of its training log (as `for-user` lists show them)."""
    from seoga.recommend import load_recommender
    from seoga.recommend.lists import predictions

    rows = predictions(load_recommender(model), user, items)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        note = "" if row["known_user"] and row["known_item"] else "  (fallback: not in training)"
        console.print(f"{escape(row['item'])}\t{row['score']:.4f}{note}", highlight=False)


@app.command("next")
def next_command(
    model: ModelFolder,
    session_items: Annotated[
        list[str],
        typer.Option(
            help="The session's items so far, oldest first: one ITEM each (repeatable), or "
            "'a,b,c' for ids without commas; an unknown id stops the command."
        ),
    ],
    k: TopK = 20,
    as_json: JsonOption = False,
) -> None:
    """The items most likely clicked next in a session (sr, or any model by its history)."""
    from seoga.recommend import load_recommender
    from seoga.recommend.lists import next_items

    recommender = load_recommender(model)
    show_list(next_items(recommender, session_items, k), as_json, recommender.item_labels)


def show_list(found, as_json: bool, labels: dict[str, str] | None = None) -> None:
    """An ItemList as a table (items' titles beside their ids) or as JSON (ids, labels, scores);
    its note, when it has one, on stderr (JSON output stays one document)."""
    labels, reasons = labels or {}, found.reasons
    if found.note:
        error_console.print(f"note: {escape(found.note)}", highlight=False)
    if as_json:
        print_json(
            [
                {"item": hit.item, "label": hit.label, "score": hit.score, "source": hit.source}
                | ({"because": reasons[hit.item]} if hit.item in reasons else {})
                for hit in found.hits
            ]
        )
        return
    table = Table(title=escape(found.title))
    labelled = any(hit.label for hit in found.hits)
    for column in ("rank", "item", *(["title"] if labelled else []), "score", "source"):
        table.add_column(column)
    if reasons:
        table.add_column("because")
    for rank, hit in enumerate(found.hits, start=1):
        cells = [str(rank), escape(hit.item), *([escape(hit.label)] if labelled else [])]
        cells += [f"{hit.score:.4f}", hit.source]
        if reasons:
            shown = reasons[hit.item][:REASONS_SHOWN]
            because = ", ".join(f"{labels.get(item, item)} ({part:+.3f})" for item, part in shown)
            cells.append(escape(because))
        table.add_row(*cells)
    console.print(table)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="recommend")
