"""MovieLens as sequences: gru4rec beside the best top-N model and the session baselines.

ml-latest-small, every rating an event in time order, each user one long session; leave-last-out
by time (each user's last rating is the test). Every model ranks all movies the user has not
rated, HR@10 and nDCG@10 through `evaluate_recommender` (ranx). gru4rec's loss and epochs are
chosen on an inner leave-last-out split of the training part; ALS keeps the settings the
"Recommendation" benchmark chose for every rating (its best top-N model). MovieLens timestamps
are weak evidence of sequence: many users rated dozens of films in one sitting.

    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/sequences.py
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time

from benchmarks.report import DATA, machine_line, write_section
from seoga.evaluate.recommend import evaluate_recommender
from seoga.recommend import make_recommender, read_interactions, split_interactions

HEADING = "## MovieLens as sequences (leave-last-out)"
RATINGS = DATA / "movielens_latest_small" / "ratings.csv"
K = 10
SEED = 0
# The "Recommendation" benchmark's tuned ALS for every rating (BENCHMARKS.md).
BEST_TOPN = ("als", {"weighting": "none", "factors": 32, "regularization": 5.0,
                     "recency_half_life": 30.0})  # fmt: skip
GRU_GRID = {"loss": ("cross-entropy", "bpr-max"), "epochs": (5, 10)}
BASELINES = (("popular", {}), ("sr", {}), ("sknn", {}))


def scored(name: str, settings: dict, split, seed: int) -> dict:
    metrics = evaluate_recommender(make_recommender(name, seed=seed, **settings), split, k=K)
    row = {
        "model": name,
        "settings": settings,
        **{key: metrics[key] for key in (f"hr@{K}", f"ndcg@{K}", "coverage", "fit_seconds")},
        "users": metrics["topn_users"],
    }
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    log = read_interactions(RATINGS).positives()
    split = split_interactions(log, "leave-last-out")
    inner = split_interactions(split.train, "leave-last-out")
    grid = [
        scored("gru4rec", dict(zip(GRU_GRID, values, strict=True)), inner, args.seed)
        for values in itertools.product(*GRU_GRID.values())
    ]
    chosen = max(grid, key=lambda row: row[f"ndcg@{K}"])["settings"]
    rows = [scored("gru4rec", chosen, split, args.seed), scored(*BEST_TOPN, split, args.seed)]
    rows += [scored(name, settings, split, args.seed) for name, settings in BASELINES]
    minutes = (time.perf_counter() - started) / 60
    lines = [
        f"Command: `flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/sequences.py` "
        f"({minutes:.1f} min)",
        f"Machine: {machine_line()}",
        "",
        f"{len(log):,} ratings as events, each user's ratings one session in time order; the "
        f"last rating of each of {rows[0]['users']} users is the test, ranked among every movie "
        "the user has not rated (seoga's top-N protocol, ranx).",
        "",
        f"| model | settings | HR@{K} | nDCG@{K} | coverage | fit s |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        settings = ", ".join(f"{k} {v}" for k, v in row["settings"].items()) or "—"
        lines.append(
            f"| {row['model']} | {settings} | {row[f'hr@{K}']:.4f} | {row[f'ndcg@{K}']:.4f} | "
            f"{row['coverage']:.3f} | {row['fit_seconds']:.1f} |"
        )
    lines += [
        "",
        f"gru4rec's loss and epochs chosen by nDCG@{K} on an inner leave-last-out split of the "
        "training part: "
        + "; ".join(
            f"{row['settings']['loss']} × {row['settings']['epochs']} epochs {row[f'ndcg@{K}']:.4f}"
            for row in grid
        )
        + ". The other gru4rec settings are the rsc15 ones (100 units, batch 32, Adagrad 0.05).",
    ]
    if not args.no_report:
        write_section(HEADING, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
