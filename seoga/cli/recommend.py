"""`seoga recommend`: fit a recommender on a log, then ask it for lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from seoga.cli.output import console, print_json
from seoga.errors import InputError

app = typer.Typer(help="Recommend items from interaction logs.", no_args_is_help=True)

NEW_USER = "new"
LOG_FORMATS = ("log", "baskets")
REASONS_SHOWN = 3
MODEL_NAMES = "popular, mf, als, itemknn, fm, rules, sr, sknn or gru4rec"

UserColumn = Annotated[str | None, typer.Option("--user", help="User column (name or 0-based).")]
SessionColumn = Annotated[
    str | None, typer.Option("--session", help="Session column: a session log's 'user'.")
]
SessionGap = Annotated[
    float | None,
    typer.Option(
        help="Cut each --user's events into sessions at idle gaps longer than this many "
        "seconds (needs --time; 3600 is usual)."
    ),
]
ItemColumn = Annotated[str | None, typer.Option("--item", help="Item column (name or 0-based).")]
RatingColumn = Annotated[str | None, typer.Option("--rating", help="Rating column (explicit).")]
WeightColumn = Annotated[
    str | None, typer.Option("--weight", help="Weight column (implicit: clicks, plays).")
]
TimeColumn = Annotated[str | None, typer.Option("--time", help="Time column (Unix s or ISO).")]
ItemTables = Annotated[
    list[Path] | None,
    typer.Option("--items", help="Item side table (repeatable; rows of one id merge)."),
]
UserTables = Annotated[list[Path] | None, typer.Option("--users", help="User side table.")]
TextFields = Annotated[
    list[str] | None,
    typer.Option("--text-field", help="Item field(s) whose text the FM encodes (repeatable)."),
]
TextModel = Annotated[
    str | None,
    typer.Option(help="Embedder for item text: a model name or path, or a collection folder."),
]
Implicit = Annotated[
    bool, typer.Option("--implicit", help="Read ratings as implicit feedback (positives).")
]
MinRating = Annotated[
    float | None, typer.Option(help="Ratings below this are not positives (top-N, --implicit).")
]
Seed = Annotated[int, typer.Option(help="Random seed (initialisation, order, splits).")]
Settings = Annotated[
    list[str] | None,
    typer.Option("--set", help="A model setting, NAME=VALUE (repeatable), e.g. factors=128."),
]
Debias = Annotated[
    str | None,
    typer.Option(help="ipw: weigh each rating by 1 / P(observed) (mf, fm; needs --propensities)."),
]
Propensities = Annotated[
    str | None,
    typer.Option(
        help="P(observed) of each rating: a users × items matrix file, logistic (fitted to "
        "who rates and what is rated), or naive-bayes (with --random-ratings)."
    ),
]
RandomRatings = Annotated[
    Path | None,
    typer.Option(help="Ratings missing at random (naive-bayes propensities' P(rating))."),
]
ModelFolder = Annotated[Path, typer.Option("--model", help="A model folder from `fit`.")]
TopK = Annotated[int, typer.Option("-k", help="How many items.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def read_log(
    path: Path,
    user: str | None,
    item: str | None,
    rating: str | None,
    weight: str | None,
    time: str | None,
    implicit: bool,
    min_rating: float | None,
    session_gap: float | None = None,
):
    from seoga.recommend import Columns, read_interactions

    log = read_interactions(path, Columns(user, item, rating, weight, time))
    if session_gap is not None:
        from seoga.recommend.sessions import sessions_from_gaps

        if session_gap <= 0:
            raise InputError(
                f"--session-gap must be a positive number of seconds, not {session_gap}."
            )
        log = sessions_from_gaps(log, session_gap)
    return log.positives(min_rating) if implicit else log


def with_propensities(log, debias: str | None, propensities: str | None, random_ratings, seed: int):
    """The log with its ratings' propensities attached when `debias` asks for them;
    `random_ratings` is a log file, or the ratings themselves (an array)."""
    from dataclasses import replace

    from seoga.recommend import propensity, read_interactions

    if debias is None:
        if propensities is not None:
            raise InputError("--propensities weigh ratings only with --debias ipw.")
        return log
    if debias != "ipw":
        raise InputError(f"unknown --debias {debias!r}; use ipw.")
    if propensities is None:
        raise InputError(
            "--debias ipw needs --propensities: a matrix file, logistic or naive-bayes."
        )
    if propensities == "logistic":
        found = propensity.logistic_propensities(log, seed)
    elif propensities == "naive-bayes":
        if random_ratings is None:
            raise InputError("naive-bayes propensities need --random-ratings FILE.")
        if isinstance(random_ratings, Path):
            random_ratings = read_interactions(random_ratings).values
        found = propensity.naive_bayes_propensities(log, random_ratings)
    else:
        found = propensity.given_propensities(log, Path(propensities))
    return replace(log, propensities=found)


def debias_settings(model: str, debias: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    if debias is None:
        return settings
    if model not in ("mf", "fm"):
        raise InputError(
            f"--debias trains mf or fm with weighted ratings; {model} takes no weights."
        )
    return settings | {"debias": debias}


def read_sides(
    items: list[Path] | None, users: list[Path] | None, text_fields: list[str] | None
) -> tuple[Any, Any]:
    from seoga.recommend import read_features

    item_table = read_features(items, text_fields=text_fields or ()) if items else None
    user_table = read_features(users, side="user") if users else None
    return item_table, user_table


def model_settings(
    pairs: list[str] | None, seed: int, text_model: str | None, text_fields: list[str] | None
) -> dict[str, Any]:
    """`--set NAME=VALUE` pairs as settings (values read as JSON when they parse)."""
    settings: dict[str, Any] = {"seed": seed}
    for pair in pairs or []:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise InputError(f"--set {pair!r}: write NAME=VALUE, e.g. --set factors=128.")
        try:
            settings[name.strip().replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            settings[name.strip().replace("-", "_")] = value
    if text_model is not None:
        settings["text_model"] = None if text_model == "none" else text_model
    if text_fields:
        settings["text_fields"] = list(text_fields)
    return settings


def settings_for(model: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Drop the text options for models that read no text (they are FM settings)."""
    if model != "fm":
        settings = {k: v for k, v in settings.items() if k not in ("text_model", "text_fields")}
    return settings


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
) -> None:
    """Fit a model on LOG and save it as a folder (manifest, arrays, id maps)."""
    from seoga.recommend import make_recommender, read_baskets

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
    recommender = make_recommender(model, **settings)
    recommender.fit(interactions, items=item_table, users=user_table, show_progress=True)
    recommender.save(out)
    data = recommender.data
    console.print(
        f"{out}: {model} fitted on {data['rows']} rows ({data['users']} users, "
        f"{data['items']} items) in {recommender.fit_seconds:.1f} s"
        + (f"; {recommender.metrics}" if recommender.metrics else ""),
        highlight=False,
    )


@app.command("for-user")
def for_user_command(
    user: Annotated[str, typer.Argument(help=f"A user id, or '{NEW_USER}' with --history.")],
    model: ModelFolder,
    k: TopK = 10,
    history: Annotated[
        str | None,
        typer.Option(help="Items a new user chose: 'a,b,c' (optionally 'a:5,b:4' with ratings)."),
    ] = None,
    include_seen: Annotated[
        bool, typer.Option("--include-seen", help="Keep items the user already has.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="als: which of the user's items drove each item.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Top-k items for a user (seen items left out); a new user by their --history."""
    from seoga.recommend import load_recommender
    from seoga.recommend.interactions import parse_history

    recommender = load_recommender(model)
    if history is not None or user == NEW_USER:
        if history is None:
            raise InputError(f"user '{NEW_USER}' needs --history 'item,item,...'.")
        chosen, ratings = parse_history(history)
        found = recommender.recommend_for_history(
            chosen, k, ratings=ratings, filter_seen=not include_seen
        )
    else:
        found = recommender.recommend(user, k, filter_seen=not include_seen)
    reasons = {}
    if explain and history is None and recommender.knows_user(user):
        require_able(recommender, model, "explain", "an als")
        reasons = {hit.item: recommender.explain(user, hit.item) for hit in found}
    show_list(found, f"for {user}", as_json, reasons, recommender.item_labels)


@app.command("similar-items")
def similar_items_command(
    item: Annotated[str, typer.Argument(help="An item id.")],
    model: ModelFolder,
    k: TopK = 10,
    as_json: AsJson = False,
) -> None:
    """The k items most like ITEM (cosine of the model's item vectors)."""
    from seoga.recommend import load_recommender

    show_list(load_recommender(model).similar_items(item, k), f"like {item}", as_json, {})


@app.command("predict")
def predict_command(
    user: Annotated[str, typer.Argument(help="A user id.")],
    items: Annotated[list[str], typer.Argument(help="Item ids.")],
    model: ModelFolder,
    as_json: AsJson = False,
) -> None:
    """The model's score (a rating, for rating models) of USER for each item."""
    from seoga.recommend import load_recommender

    recommender = load_recommender(model)
    scores = recommender.predict([user] * len(items), items)
    rows = [
        {
            "user": user,
            "item": item,
            "score": round(float(score), 4),
            "known_user": recommender.knows_user(user),
            "known_item": recommender.knows_item(item),
        }
        for item, score in zip(items, scores, strict=True)
    ]
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
        str, typer.Option(help="The session's items so far, oldest first: 'a,b,c'.")
    ],
    k: TopK = 20,
    as_json: AsJson = False,
) -> None:
    """The items most likely clicked next in a session (sr, or any model by its history)."""
    from seoga.recommend import load_recommender

    recommender = load_recommender(model)
    clicked = split_items(session_items)
    if not clicked:
        raise InputError("--session-items is empty; give the session's items, oldest first.")
    found = recommender.recommend_for_history(clicked, k, filter_seen=False)
    show_list(found, f"after {clicked[-1]}", as_json, {}, recommender.item_labels)


@app.command("together")
def together_command(
    basket: Annotated[str, typer.Argument(help="Items of a partial basket: 'a,b,c'.")],
    model: ModelFolder,
    k: TopK = 5,
    as_json: AsJson = False,
) -> None:
    """Items often bought with BASKET, by lift (ties by confidence), from a rules model."""
    recommender = load_able(model, "together", "a rules")
    items = split_items(basket)
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


@app.command("rules")
def rules_command(
    model: ModelFolder,
    sort: Annotated[str, typer.Option(help="lift, confidence or support.")] = "lift",
    top: Annotated[int, typer.Option(help="How many rules.")] = 20,
    as_json: AsJson = False,
) -> None:
    """The association rules of a rules model, best first."""
    recommender = load_able(model, "rules", "a rules")
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


def split_items(text: str) -> list[str]:
    """'a, b,c' → ['a', 'b', 'c'] (empty parts dropped)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def load_able(model: Path, ability: str, kind: str):
    """The model in folder `model`, which must offer `ability` (a method of some models only)."""
    from seoga.recommend import load_recommender

    recommender = load_recommender(model)
    require_able(recommender, model, ability, kind)
    return recommender


def require_able(recommender, model: Path, ability: str, kind: str) -> None:
    if not hasattr(recommender, ability):
        raise InputError(f"{ability} needs {kind} model; {model} is {recommender.name}.")


def show_list(
    found, title: str, as_json: bool, reasons: dict, labels: dict[str, str] | None = None
) -> None:
    """A list as a table (items' titles beside their ids) or as JSON (ids, labels, scores)."""
    labels = labels or {}
    if as_json:
        print_json(
            [
                {"item": hit.item, "label": hit.label, "score": hit.score, "source": hit.source}
                | ({"because": reasons[hit.item]} if hit.item in reasons else {})
                for hit in found
            ]
        )
        return
    table = Table(title=escape(title))
    labelled = any(hit.label for hit in found)
    for column in ("rank", "item", *(["title"] if labelled else []), "score", "source"):
        table.add_column(column)
    if reasons:
        table.add_column("because")
    for rank, hit in enumerate(found, start=1):
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
