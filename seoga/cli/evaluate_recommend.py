"""`seoga eval recommend`: fit a model on a split of a log and score it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seoga.cli.options import (
    MODEL_NAMES,
    Debias,
    Implicit,
    ItemColumn,
    ItemTables,
    JsonOption,
    MinRating,
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
    UserColumn,
    UserTables,
    WeightColumn,
)
from seoga.cli.output import print_metrics, report
from seoga.errors import InputError

SHOWN = (
    "mse", "rmse", "mae", "hr@{k}", "recall@{k}", "ndcg@{k}", "mrr@{k}", "hr@10", "ndcg@10",
    "coverage", "events", "fit_seconds",
)  # fmt: skip
PROTOCOLS = ("top-n", "next-item")
NEXT_ITEM = "next-item"
TOPN_K = 10
# A folder shipped already split by time (the rsc15 sample): *_train_full.* and *_test.*
SHIPPED_TRAIN, SHIPPED_TEST = "_train_full", "_test"
# A folder of rating matrices (Coat): self-selected training ratings, random test ratings, and
# the training ratings' propensities.
MATRIX_TRAIN, MATRIX_TEST, MATRIX_PROPENSITIES = "train.ascii", "test.ascii", "propensities.ascii"
# Naive-Bayes propensities without --random-ratings: this share of the random test ratings
# gives P(rating) and leaves the evaluation (Schnabel et al. 2016 used 5 %).
RANDOM_SAMPLE_SHARE = 0.05
# Side tables found beside a MovieLens log, and the fields whose text the FM reads.
MOVIELENS_ITEMS = (("movies.csv", "tags.csv"), ("u.item",))
MOVIELENS_USERS = ("u.user",)
MOVIELENS_TEXT = ("title", "tag")


def recommend_command(
    data: Annotated[
        Path | None, typer.Argument(help="A log or MovieLens folder, split by --split.")
    ] = None,
    model: Annotated[str, typer.Option(help=MODEL_NAMES)] = "als",
    split: Annotated[
        str, typer.Option(help="random:0.2, leave-last-out or time:0.8 (with DATA).")
    ] = "random:0.2",
    train: Annotated[Path | None, typer.Option(help="A given training log (with --test).")] = None,
    test: Annotated[Path | None, typer.Option(help="A given test log (with --train).")] = None,
    k: Annotated[
        int | None, typer.Option("-k", help="List length (default 10; next-item: 20).")
    ] = None,
    protocol: Annotated[
        str, typer.Option(help="top-n (lists per user) or next-item (each next click).")
    ] = "top-n",
    session: SessionColumn = None,
    session_gap: SessionGap = None,
    drop_repeats: Annotated[
        bool, typer.Option("--drop-repeats", help="next-item: drop consecutive repeats.")
    ] = False,
    min_session_length: Annotated[
        int, typer.Option(help="next-item: shorter sessions are dropped.")
    ] = 1,
    min_item_support: Annotated[
        int, typer.Option(help="next-item: items seen fewer times are dropped.")
    ] = 1,
    user: UserColumn = None,
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
    debias: Debias = None,
    propensities: Propensities = None,
    random_ratings: RandomRatings = None,
    seed: Seed = 0,
    set_: Settings = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the metrics as JSON here.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Fit MODEL on the train part and report RMSE/MAE and HR/recall/nDCG/MRR@k on the test."""
    from seoga.evaluate.recommend import evaluate_recommender
    from seoga.recommend import make_recommender, split_interactions
    from seoga.recommend.data.features import read_sides
    from seoga.recommend.data.interactions import align
    from seoga.recommend.data.logs import read_log
    from seoga.recommend.data.splits import Split
    from seoga.recommend.registry import debias_settings, model_settings, settings_for

    if protocol not in PROTOCOLS:
        raise InputError(f"unknown --protocol {protocol!r}; use {' or '.join(PROTOCOLS)}.")
    columns = (session or user, item, rating, weight, time, implicit, min_rating, session_gap)
    if data is not None and (train or test):
        raise InputError("give DATA (split by --split) or --train and --test, not both.")
    shipped = _shipped_split(data) if data is not None and data.is_dir() else None
    if shipped is not None:
        (train, test), data = shipped, None
    if data is None:
        if train is None or test is None:
            raise InputError("give DATA, or both --train and --test.")
        test_log, train_log = align(read_log(test, *columns), read_log(train, *columns))
        parts = Split(train_log, test_log, f"given: {train.name} / {test.name}")
        folder = train.parent
    else:
        parts = split_interactions(read_log(data, *columns), split, seed)
        folder = data if data.is_dir() else data.parent
    if not items and not users:
        items, users, text_field = _movielens_sides(folder, text_field)
    if debias is not None:
        parts = debiased_split(parts, debias, propensities, random_ratings, folder, seed)
    item_table, user_table = read_sides(items, users, text_field)
    settings = settings_for(model, model_settings(set_, seed, text_model, text_field))
    settings = debias_settings(model, debias, settings)
    recommender = make_recommender(model, **settings)
    if protocol == NEXT_ITEM:
        from seoga.evaluate.next_item import DEFAULT_K, evaluate_next_item
        from seoga.recommend.data.sessions import SessionSettings, prepare_split

        preparation = SessionSettings(drop_repeats, min_session_length, min_item_support)
        parts = prepare_split(parts, preparation)
        k = k or DEFAULT_K
        metrics = evaluate_next_item(recommender, parts, k=k, show_progress=True)
        metrics["preparation"] = vars(preparation)
    else:
        k = k or TOPN_K
        metrics = evaluate_recommender(
            recommender,
            parts,
            items=item_table,
            users=user_table,
            k=k,
            min_rating=min_rating,
            show_progress=True,
        )
    metrics["seed"] = seed
    if debias is not None:
        metrics["debias"] = {"method": debias, "propensities": propensities}
    report(metrics, as_json=as_json, out=output, draw=lambda: _print(metrics, k))


def debiased_split(parts, debias, propensities, random_ratings, folder: Path, seed: int):
    """The split with the training ratings' propensities: given, from the folder's matrix, or
    estimated (naive Bayes from --random-ratings, or a seeded sample of the test ratings, which
    then leaves the test)."""
    import numpy as np

    from seoga.recommend.data.propensity import with_propensities
    from seoga.recommend.data.splits import Split

    if propensities is None and (folder / MATRIX_PROPENSITIES).is_file():
        propensities = str(folder / MATRIX_PROPENSITIES)
    test = parts.test
    if propensities == "naive-bayes" and random_ratings is None:
        rng = np.random.default_rng(seed)
        sample = rng.random(len(test)) < RANDOM_SAMPLE_SHARE
        random_ratings, test = test.values[sample], test.subset(~sample)
    train = with_propensities(parts.train, debias, propensities, random_ratings, seed)
    return Split(train, test, parts.name)


def _shipped_split(folder: Path) -> tuple[Path, Path] | None:
    if (folder / MATRIX_TRAIN).is_file() and (folder / MATRIX_TEST).is_file():
        return folder / MATRIX_TRAIN, folder / MATRIX_TEST
    trains = sorted(folder.glob(f"*{SHIPPED_TRAIN}.*"))
    if len(trains) != 1:
        return None
    test = trains[0].with_name(trains[0].name.replace(SHIPPED_TRAIN, SHIPPED_TEST))
    return (trains[0], test) if test.is_file() else None


def _movielens_sides(folder: Path, text_fields: list[str] | None):
    """The side tables MovieLens ships beside its ratings, when the folder has them."""
    items: list[Path] = []
    for names in MOVIELENS_ITEMS:
        if (folder / names[0]).is_file():
            items = [folder / name for name in names if (folder / name).is_file()]
            break
    users = [folder / name for name in MOVIELENS_USERS if (folder / name).is_file()]
    if items and not text_fields:
        text_fields = [field for field in MOVIELENS_TEXT if _has_field(items, field)]
    return items or None, users or None, text_fields


def _has_field(paths: list[Path], field: str) -> bool:
    if any(path.name == "u.item" for path in paths):
        return field == "title"
    return any(field in path.read_text(encoding="utf-8").partition("\n")[0] for path in paths)


def _print(metrics: dict, k: int) -> None:
    names = list(dict.fromkeys(name.format(k=k) for name in SHOWN if name.format(k=k) in metrics))
    print_metrics(f"{metrics['model']} · {metrics['split']}", metrics, names)


def register(parent: typer.Typer) -> None:
    parent.command("recommend")(recommend_command)
