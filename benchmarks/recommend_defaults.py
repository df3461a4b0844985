"""Recommender defaults across data sets: do seoga's defaults hold on data they were not tuned on?

Top-N (every row an implicit positive; full ranking; each user's training items left out; a test
item the user already has in training is no target): MovieLens latest-small with leave-last-out
and two global time cuts, Coat (its own train / random test, positives rated ≥ 4), Groceries (one
random item of each basket held out) and rsc15 (each session's last click). For each set an inner
split of the training part (the same protocol) scores every point of the ALS and item-kNN grids of
`seoga recommend fit --tune` (seoga.tune.choosing.GRIDS); the point with the best mean share of
each set's best inner nDCG@10 is the cross-set choice, which the defaults should equal. The test
parts then score seoga's models with their defaults, with `--tune`, and implicit's peers.

Ratings (test RMSE): MovieLens random 80/20 and time cut 0.8, Coat: seoga mf / fm defaults and mf
`--tune` beside Surprise and myFM.

    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/recommend_defaults.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace

import numpy as np

from benchmarks import recommend_peers as peers
from benchmarks.report import DATA, ROOT, machine_line, write_section
from seoga.recommend import Columns, make_recommender, read_baskets, read_interactions
from seoga.recommend.data.interactions import Interactions, align
from seoga.recommend.data.splits import Split, split_interactions
from seoga.recommend.registry import model_class
from seoga.tune.choosing import GRIDS, fit_recommender, grid_points

COMMAND = "flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/recommend_defaults.py"
HEADING = "## Recommender defaults across data sets"
RESULTS = ROOT / "benchmarks" / "results" / "recommend_defaults.json"
MOVIELENS = DATA / "movielens_latest_small" / "ratings.csv"
COAT = DATA / "coat"
GROCERIES = DATA / "groceries" / "groceries.csv"
RSC15 = DATA / "rsc15_sample" / "yoochoose-clicks-100k_train_full.txt"
RSC15_COLUMNS = Columns(user="SessionId", item="ItemId", time="Time")
K = 10
METRIC = f"ndcg@{K}"
RMSE = "rmse"
SEED = 42
LIKED = 4.0  # Coat's test positives: ratings of 4 and 5 on its 1–5 scale
TUNE_BUDGET = 60.0  # seconds of trials for each `--tune` row
ALL_CORES = 0  # the benchmark's own fits may use both cores: speed only, not results
GRID_MODELS = ("als", "itemknn")
RATING_MODELS = ("mf", "fm")
# A default changes only for a larger gain in mean share: smaller gains flip between a set's
# inner and test splits (MF's and FM's did here).
MIN_GAIN = 0.01
STAGES = ("grid", "topn", "rating-grid", "ratings")
# The defaults before this benchmark (ALS's chosen on MovieLens latest-small alone).
PREVIOUS = {
    "als": {"weighting": "bm25", "factors": 64, "regularization": 0.05, "recency_half_life": 0.0},
    "itemknn": {"neighbours": 100, "similarity": "cosine"},
    "mf": {"factors": 128, "regularization": 0.08, "learning_rate": 0.005},
    "fm": {"learning_rate": 0.001, "regularization": 0.05},
}
RATING_SCALES = {"movielens": (0.5, 5.0), "coat": (1.0, 5.0)}


@dataclass
class Task:
    name: str
    split: Split
    inner: Split
    min_rating: float | None = None


def topn_tasks() -> list[Task]:
    movielens = read_interactions(MOVIELENS).positives(None)
    tasks = []
    for spec in ("leave-last-out", "time:0.8", "time:0.9"):
        split = split_interactions(movielens, spec, SEED)
        tasks.append(Task(f"ml-latest-small {spec}", split, split_interactions(split.train, spec)))
    train, test = _coat()
    # Coat's train part is every self-chosen rating, as events; its targets are ratings ≥ LIKED.
    inner = split_interactions(train, "random:0.2", SEED)
    tasks.append(
        Task(
            "coat",
            Split(train.positives(None), test, "coat given"),
            Split(inner.train.positives(None), inner.test, "random:0.2"),
            LIKED,
        )
    )
    baskets = read_baskets(GROCERIES)
    # A random order inside each basket, so that "last" is one random item of it.
    order = np.random.default_rng(SEED).random(len(baskets))
    baskets = replace(baskets, times=order)
    split = split_interactions(baskets, "leave-last-out")
    tasks.append(Task("groceries", split, split_interactions(split.train, "leave-last-out")))
    clicks = read_interactions(RSC15, RSC15_COLUMNS)
    split = split_interactions(clicks, "leave-last-out")
    tasks.append(Task("rsc15 sessions", split, split_interactions(split.train, "leave-last-out")))
    return tasks


def _coat() -> tuple[Interactions, Interactions]:
    train = read_interactions(COAT / "train.ascii")
    test, train = align(read_interactions(COAT / "test.ascii"), train)
    return train, test


def truth_of(split: Split, min_rating: float | None) -> dict[int, set[int]]:
    """Each test user's target items: relevant, and not already among their training items.

    Only users with training rows count, as in `seoga eval recommend`: one without gets the most
    popular items from any model (a time cut's late newcomers)."""
    seen = split.train.matrix().tocsr()
    history = np.diff(seen.indptr)
    truth: dict[int, set[int]] = {}
    test = split.test
    relevant = np.ones(len(test), bool) if min_rating is None else test.values >= min_rating
    for user, item in zip(test.users[relevant], test.items[relevant], strict=True):
        if user >= len(history) or not history[user] or seen[user, item] > 0:
            continue
        truth.setdefault(int(user), set()).add(int(item))
    return truth


def score_model(model, split: Split, truth: dict[int, set[int]]) -> dict:
    """Top-N metrics of a fitted seoga model over the users in `truth`."""
    users = np.asarray(sorted(truth), dtype=np.int64)
    started = time.perf_counter()
    ranked = model.rank_users(users, K)
    seconds = time.perf_counter() - started
    lists = {int(user): row[row >= 0] for user, row in zip(users, ranked, strict=True)}
    metrics = peers.topn_metrics(lists, truth, K, split.train.n_items)
    return {**metrics, "fit_seconds": model.fit_seconds, "recommend_seconds": seconds}


def grid_stage(tasks: list[Task], record: dict) -> None:
    """Every grid point of the list models on every task's inner split (nDCG@10)."""

    def score(model, task: Task) -> float:
        truth = truth_of(task.inner, task.min_rating)
        return score_model(model.fit(task.inner.train), task.inner, truth)[METRIC]

    for name in GRID_MODELS:
        record.setdefault("grid", {})[name] = grid_scores(name, tasks, score, METRIC)


def grid_scores(name: str, tasks: list, score, metric: str) -> dict:
    """Each point of the model's `--tune` grid scored on each task; the cross-set choice."""
    points = grid_points(GRIDS[name])
    scores = np.zeros((len(points), len(tasks)))
    for column, task in enumerate(tasks):
        for row, point in enumerate(points):
            model = make_recommender(name, seed=SEED, threads=ALL_CORES, **point)
            scores[row, column] = score(model, task)
        _say({"grid": name, "task": task.name, "scores": scores[:, column].tolist()})
    best = int(np.argmax(shares_of(scores, metric).mean(axis=1)))
    _say({"grid": name, "choice": points[best]})
    return {
        "tasks": [task.name for task in tasks],
        "points": points,
        "scores": scores.tolist(),
        "choice": points[best],
        "metric": metric,
    }


def shares_of(scores: np.ndarray, metric: str) -> np.ndarray:
    """Each point's score as a share of its set's best (for RMSE: the best over its own)."""
    if metric == RMSE:
        return scores.min(axis=0, keepdims=True) / scores
    return scores / np.maximum(scores.max(axis=0, keepdims=True), np.finfo(float).tiny)


def topn_stage(tasks: list[Task], record: dict) -> None:
    rows = record.setdefault("topn", [])
    for task in tasks:
        truth = truth_of(task.split, task.min_rating)
        seoga_rows = (
            ("seoga popular", "popular", {}, False),
            ("seoga als (defaults)", "als", {}, False),
            ("seoga als (previous defaults)", "als", PREVIOUS["als"], False),
            ("seoga itemknn (defaults)", "itemknn", {}, False),
            ("seoga als --tune", "als", {}, True),
        )
        for label, name, settings, tune in seoga_rows:
            model = fit_recommender(
                name, {"seed": SEED, "threads": ALL_CORES, **settings}, task.split.train,
                tune=tune, budget=TUNE_BUDGET,
            )  # fmt: skip
            row = {"task": task.name, "model": label, **score_model(model, task.split, truth)}
            if tune:
                row["tuning"] = model.metrics["tuning"]
            rows.append(row)
            _say(row)
        matrix = task.split.train.matrix().tocsr()
        results = peers.implicit_topn_peers(matrix, truth, SEED, K)
        results.append(implicit_tfidf_als(matrix, truth))
        for result in results:
            rows.append({"task": task.name, **result})
            _say(rows[-1])


def implicit_tfidf_als(matrix, truth: dict[int, set[int]]) -> dict:
    """implicit's ALS with its defaults on implicit's own TF-IDF weighting of the counts."""
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import tfidf_weight

    return peers.implicit_topn(
        "implicit ALS + tf-idf",
        lambda: AlternatingLeastSquares(random_state=SEED, use_gpu=False),
        tfidf_weight(matrix).tocsr(),
        truth,
        K,
    )


@dataclass
class RatingTask:
    name: str
    split: Split
    inner: Split
    scale: str


def rating_tasks() -> list[RatingTask]:
    movielens = read_interactions(MOVIELENS)
    tasks = []
    for spec in ("random:0.2", "time:0.8"):
        split = split_interactions(movielens, spec, SEED)
        inner = split_interactions(split.train, spec, SEED)
        tasks.append(RatingTask(f"ml-latest-small {spec}", split, inner, "movielens"))
    train, test = _coat()
    inner = split_interactions(train, "random:0.2", SEED)
    tasks.append(RatingTask("coat", Split(train, test, "coat given"), inner, "coat"))
    return tasks


def rmse_of(model, part: Interactions) -> float:
    predicted = model.predict_indices(part.users, part.items)
    return peers.rating_metrics(predicted, part.values)[RMSE]


def rating_grid_stage(record: dict) -> None:
    """Every grid point of the rating models on each rating task's inner split (RMSE)."""

    def score(model, task: RatingTask) -> float:
        return rmse_of(model.fit(task.inner.train), task.inner.test)

    for name in RATING_MODELS:
        record.setdefault("rating_grid", {})[name] = grid_scores(name, rating_tasks(), score, RMSE)


def ratings_stage(record: dict) -> None:
    rows = record.setdefault("ratings", [])
    for task in rating_tasks():
        name, split, scale = task.name, task.split, task.scale
        seoga_rows = (
            ("seoga mf (defaults)", "mf", False),
            ("seoga fm (defaults, ids)", "fm", False),
            ("seoga mf --tune", "mf", True),
        )
        for label, model_name, tune in seoga_rows:
            model = fit_recommender(
                model_name, {"seed": SEED, "threads": ALL_CORES}, split.train,
                tune=tune, budget=TUNE_BUDGET,
            )  # fmt: skip
            predicted = model.predict_indices(split.test.users, split.test.items)
            row = {"task": name, "model": label, "fit_seconds": model.fit_seconds}
            row.update(peers.rating_metrics(predicted, split.test.values))
            if tune:
                row["tuning"] = model.metrics["tuning"]
            rows.append(row)
            _say(row)
        train = peers.RatingData(split.train.users, split.train.items, split.train.values)
        test = peers.RatingData(split.test.users, split.test.items, split.test.values)
        n_users, n_items = split.train.n_users, split.train.n_items
        results = peers.surprise_rating_peers(train, test, SEED, RATING_SCALES[scale])
        results.append(
            peers.myfm_rating_peer(
                train, test, n_users, n_items, SEED, rating_scale=RATING_SCALES[scale]
            )
        )
        for result in results:
            rows.append({"task": name, **result})
            _say(rows[-1])


def _say(row: dict) -> None:
    print(json.dumps(row, default=str), file=sys.stderr, flush=True)


def report(record: dict) -> str:
    lines = [
        f"Command: `{COMMAND}` ("
        + ", ".join(f"{stage} {spent:.1f} min" for stage, spent in record["minutes"].items())
        + ")",
        f"Machine: {record['machine']}",
        "",
    ]
    lines += [NOTES, ""]
    for name, grid in {**record.get("grid", {}), **record.get("rating_grid", {})}.items():
        lines += _grid_table(name, grid)
    if "topn" in record:
        lines += _metric_table(
            record["topn"], f"hr@{K}", higher=True, title="Top-N: HR@10 / nDCG@10 (test parts)"
        )
    if "ratings" in record:
        lines += _metric_table(record["ratings"], RMSE, higher=False, title="Ratings: test RMSE")
    return "\n".join(lines) + "\n"


NOTES = """\
- Top-N sets (every row an implicit positive; full ranking, training items left out): \
MovieLens latest-small split leave-last-out and at the 0.8 / 0.9 quantiles of time; Coat's own \
train (every self-chosen rating) against its random test (ratings ≥ 4); Groceries with one random \
item of each basket held out; rsc15 clicks with each session's last click held out.
- The cross-set choice: every grid point of `--tune`'s grid fitted on an inner split of each \
set's training part (same protocol); a point's score on a set is its share of that set's best \
inner nDCG@10; the choice has the best mean share. The test parts never took part in it.
- `--tune` rows: `seoga recommend fit --tune` as a user runs it (60 s budget; its own inner split \
of the training part). Peers run with their libraries' defaults (implicit ALS: 100 factors, \
regularization 0.01; BPR; cosine item-kNN).
- Only test users with training rows are scored (as `seoga eval recommend` scores them): any \
model gives a user without them the most popular items. On MovieLens' time cuts that leaves 23 \
and 22 users (most users active after a cut arrived after it), so those two columns are noisy. \
An earlier run scored the newcomers too and found the most popular items far ahead of every \
factor model: seoga's `rank_users` then ranked arbitrary items for a user without history \
(fixed: it gives them the popular items, as `recommend` does); implicit's models still do.
- `--tune` scores the most popular items on its inner split too and says so when they beat \
every setting it tried (Groceries here: 0.2016 against 0.1226).
- MF's and FM's cross-set choices gain less than 1% mean share, so their defaults stay. A first \
run with those choices as defaults gave test RMSE mf 0.8915 / 1.0264 / 1.1190 and fm (ids) \
0.8902 / 1.0528 / 1.0992 on the three rating sets, worse than the kept defaults on two of three \
for mf and one of three for fm: gains that small do not carry from inner to test splits.
- seoga's fits here use both cores (`threads=0`), which changes their speed, not their results."""


def _grid_table(name: str, grid: dict) -> list[str]:
    """The cross-set choice, the defaults and the previous ones: shares of each set's best."""
    tasks, points = grid["tasks"], grid["points"]
    scores = np.asarray(grid["scores"])
    metric = grid["metric"]
    shares = shares_of(scores, metric)
    defaults = model_class(name).settings_class()
    today = {key: getattr(defaults, key) for key in points[0]}
    share = (
        "each set's best inner RMSE over the point's"
        if metric == RMSE
        else "share of each set's best inner"
    )
    lines = [f"### {name}: {share} {metric}", ""]
    lines.append("| settings | " + " | ".join(tasks) + " | mean |")
    lines.append("|---" * (len(tasks) + 2) + "|")
    rows = (
        ("cross-set choice", grid["choice"]),
        ("defaults", today),
        ("previous defaults", PREVIOUS[name]),
    )
    for label, point in rows:
        row = shares[points.index(point)]
        figures = " | ".join(f"{share:.3f}" for share in row)
        lines.append(f"| {label}: {_settings(point)} | {figures} | {row.mean():.3f} |")
    choice, kept = shares[points.index(grid["choice"])].mean(), shares[points.index(today)].mean()
    if grid["choice"] == today:
        verdict = "the defaults are the cross-set choice"
    elif choice - kept < MIN_GAIN:
        verdict = (
            f"the cross-set choice gains {choice - kept:+.3f} mean share over the defaults, "
            f"under the {MIN_GAIN} that changes a default: the defaults stay"
        )
    else:
        verdict = f"the defaults trail the cross-set choice by {choice - kept:.3f}: change them"
    return [*lines, "", f"- {verdict}", ""]


def _metric_table(rows: list[dict], metric: str, higher: bool, title: str) -> list[str]:
    tasks = list(dict.fromkeys(row["task"] for row in rows))
    models = list(dict.fromkeys(row["model"] for row in rows))
    cell = {(row["task"], row["model"]): row for row in rows}
    lines = [f"### {title}", "", "| model | " + " | ".join(tasks) + " |"]
    lines.append("|---" * (len(tasks) + 1) + "|")
    for model in models:
        figures = []
        for task in tasks:
            row = cell.get((task, model))
            if row is None:
                figures.append("—")
            elif metric == RMSE:
                figures.append(f"{row['rmse']:.4f}")
            else:
                figures.append(f"{row[metric]:.4f} / {row[METRIC]:.4f}")
        lines.append(f"| {model} | " + " | ".join(figures) + " |")
    lines.append("")
    pick = max if higher else min
    for task in tasks:
        ours = [row for row in rows if row["task"] == task and row["model"].startswith("seoga")]
        theirs = [
            row for row in rows if row["task"] == task and not row["model"].startswith("seoga")
        ]
        best_ours, best_theirs = (
            pick(ours, key=lambda r: r[metric]),
            pick(theirs, key=lambda r: r[metric]),
        )
        ratio = best_ours[metric] / best_theirs[metric]
        lines.append(
            f"- {task}: seoga's best, {best_ours['model'].removeprefix('seoga ')}, "
            f"{best_ours[metric]:.4f}; the best peer, "
            f"{best_theirs['model']}, {best_theirs[metric]:.4f} ({ratio:.2f}×)"
        )
    for row in (row for row in rows if "tuning" in row):
        tuning = row["tuning"]
        tried = f"{len(tuning['trials'])} of {tuning['grid_points']} settings"
        inner = f"inner {tuning['metric']} {tuning['chosen_score']:.4f}"
        if tuning.get("popular_score") is not None:
            inner += f", most popular {tuning['popular_score']:.4f}"
        lines.append(
            f"- `--tune` on {row['task']}: {_settings(tuning['chosen'])} ({tried}; {inner})"
        )
    return lines + [""]


def _settings(settings: dict) -> str:
    return ", ".join(f"{name} {value}" for name, value in settings.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=STAGES, action="append", help="run these stages, keep the others' results"
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    parser.add_argument(
        "--report", action="store_true", help="run nothing: report the last run's results"
    )
    args = parser.parse_args()
    stages = [] if args.report else [stage for stage in STAGES if stage in (args.only or STAGES)]
    # A run of some stages keeps the others' results from the last run (the grid takes longest).
    record: dict = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    if stages:
        record["machine"] = machine_line()
    minutes = record.setdefault("minutes", {})
    tasks = topn_tasks() if {"grid", "topn"} & set(stages) else []
    for task in tasks:
        _say({"task": task.name, "train": len(task.split.train), "test": len(task.split.test)})
    runs = {
        "grid": lambda: grid_stage(tasks, record),
        "topn": lambda: topn_stage(tasks, record),
        "rating-grid": lambda: rating_grid_stage(record),
        "ratings": lambda: ratings_stage(record),
    }
    for stage in stages:
        started = time.perf_counter()
        record.pop(stage.replace("-", "_"), None)  # this run's results replace the last run's
        runs[stage]()
        minutes[stage] = (time.perf_counter() - started) / 60
    if stages:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    text = report(record)
    print(text)
    if not args.no_write:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
