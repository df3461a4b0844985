"""Peer recommender libraries run on the same train/test data as seoga, for side-by-side figures.

Rating prediction (test RMSE and MAE):
    surprise_rating_peers  Surprise SVD, SVD++ and KNNBaseline with the library's defaults
    myfm_rating_peer       myFM Bayesian factorization machine (Gibbs sampling) on one-hot ids
    xlearn_rating_peer     xLearn factorization machine (SGD, early stop on 10% of train)

Top-N recommendation (HR, recall, nDCG, MRR at k and catalogue coverage):
    implicit_topn_peers    implicit ALS, BPR, item-kNN (cosine) and a most-popular baseline
    topn_metrics           the metrics themselves, pure numpy

Every function takes plain numpy arrays (RatingData) or a scipy CSR matrix, a seed, and returns
dicts with "model", "fit_seconds", a predict/recommend time and the metrics. Rating predictions
are clipped to the rating scale.

Smoke check on MovieLens latest-small (random 80/20 split for ratings, leave-last-out by
timestamp for top-N), run from the repository root:
    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/recommend_peers.py
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

RATING_SCALE = (0.5, 5.0)
TOP_K = 10

MYFM_RANK = 10
MYFM_N_ITER = 200
MYFM_N_KEPT = 195

XLEARN_K = 8
XLEARN_LR = 0.2
XLEARN_LAMBDA = 0.002
XLEARN_EPOCHS = 30
XLEARN_VALID_FRACTION = 0.1
# One thread: xLearn's lock-free (Hogwild) updates are not reproducible with more.
XLEARN_THREADS = 1
XLEARN_TAIL_CHARS = 2000
XLEARN_USER_FALLBACK = "xlearn"
XLEARN_EARLY_STOP = re.compile(r"Early-stopping at epoch (\d+), best \w+: ([0-9.]+)")

# implicit's BPR updates shared factors from every thread without locks (Hogwild): one thread
# for a reproducible run. ALS and item-kNN give the same result on any number of threads.
BPR_THREADS = 1
# CosineRecommender.fit hands its own COO matrix to implicit's kNN and warns about it.
IMPLICIT_COO_WARNING = "Method expects CSR input, and was passed coo_matrix"

MOVIELENS_RATINGS = (
    Path(__file__).resolve().parent.parent.parent / "shared/data/movielens_latest_small/ratings.csv"
)
SMOKE_SEED = 42
SMOKE_TEST_FRACTION = 0.2
SMOKE_MYFM_N_ITER = 50
SMOKE_MYFM_N_KEPT = 45

# Run in a fresh interpreter: xLearn is an alpha C++ library that can abort the process, and it
# prints its banner and per-epoch tables straight to the C stdout.
XLEARN_CHILD = """
import json, sys, time
import xlearn as xl
train, valid, test, model, out, timing, params = sys.argv[1:]
fm = xl.create_fm()
fm.setTrain(train)
fm.setValidate(valid)
start = time.perf_counter()
fm.fit(json.loads(params), model)
fit_seconds = time.perf_counter() - start
fm.setTest(test)
start = time.perf_counter()
fm.predict(model, out)
predict_seconds = time.perf_counter() - start
with open(timing, "w") as handle:
    json.dump({"fit_seconds": fit_seconds, "predict_seconds": predict_seconds}, handle)
"""


@dataclass(frozen=True)
class RatingData:
    """One split of explicit ratings: dense user and item indices and the rating given."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray

    def __len__(self) -> int:
        return len(self.ratings)

    def subset(self, rows: np.ndarray) -> RatingData:
        return RatingData(self.users[rows], self.items[rows], self.ratings[rows])


def rating_metrics(predicted: np.ndarray, truth: np.ndarray) -> dict:
    """Test RMSE and MAE of predicted ratings."""
    error = np.asarray(predicted, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "n_test": len(error),
    }


def surprise_rating_peers(
    train: RatingData,
    test: RatingData,
    seed: int,
    rating_scale: tuple[float, float] = RATING_SCALE,
) -> list[dict]:
    """Surprise SVD, SVD++ and KNNBaseline (defaults: user-based MSD similarity, ALS baselines).

    Raw ids are the dense indices; a test pair whose user or item is unknown to the trainset gets
    Surprise's fallback (counted in "n_impossible"). Surprise clips its estimates to the scale.
    """
    import pandas as pd
    from surprise import SVD, Dataset, KNNBaseline, Reader, SVDpp

    frame = pd.DataFrame(
        {"user": train.users, "item": train.items, "rating": train.ratings.astype(np.float64)}
    )
    trainset = Dataset.load_from_df(frame, Reader(rating_scale=rating_scale)).build_full_trainset()
    testset = list(
        zip(test.users.tolist(), test.items.tolist(), test.ratings.tolist(), strict=True)
    )
    algorithms = [
        ("surprise SVD", lambda: SVD(random_state=seed)),
        ("surprise SVD++", lambda: SVDpp(random_state=seed)),
        ("surprise KNNBaseline", lambda: KNNBaseline(verbose=False)),
    ]
    results = []
    for name, build in algorithms:
        np.random.seed(seed)
        algo = build()
        start = time.perf_counter()
        algo.fit(trainset)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predictions = algo.test(testset)
        predict_seconds = time.perf_counter() - start
        estimates = np.array([prediction.est for prediction in predictions])
        impossible = sum(
            bool(prediction.details.get("was_impossible")) for prediction in predictions
        )
        results.append(
            {
                "model": name,
                "fit_seconds": fit_seconds,
                "predict_seconds": predict_seconds,
                **rating_metrics(estimates, test.ratings),
                "n_impossible": impossible,
            }
        )
    return results


def one_hot_design(
    data: RatingData, n_users: int, n_items: int, item_features: sp.csr_matrix | None = None
) -> sp.csr_matrix:
    """Rows [one-hot user | one-hot item | the item's feature row] for each rating."""
    rows = np.arange(len(data))
    ones = np.ones(len(data), dtype=np.float64)
    blocks = [
        sp.csr_matrix((ones, (rows, data.users)), shape=(len(data), n_users)),
        sp.csr_matrix((ones, (rows, data.items)), shape=(len(data), n_items)),
    ]
    if item_features is not None:
        blocks.append(sp.csr_matrix(item_features, dtype=np.float64)[data.items])
    return sp.hstack(blocks, format="csr")


def myfm_rating_peer(
    train: RatingData,
    test: RatingData,
    n_users: int,
    n_items: int,
    seed: int,
    rank: int = MYFM_RANK,
    n_iter: int = MYFM_N_ITER,
    n_kept_samples: int = MYFM_N_KEPT,
    item_features: sp.csr_matrix | None = None,
    rating_scale: tuple[float, float] = RATING_SCALE,
) -> dict:
    """myFM Bayesian FM regressor on one-hot user and item ids (and item features when given).

    The prediction averages the last n_kept_samples Gibbs samples; myFM shows a tqdm bar.
    """
    if n_kept_samples > n_iter:
        raise ValueError(f"n_kept_samples {n_kept_samples} exceeds n_iter {n_iter}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        import myfm

    x_train = one_hot_design(train, n_users, n_items, item_features)
    x_test = one_hot_design(test, n_users, n_items, item_features)
    group_shapes = [n_users, n_items]
    name = f"myfm bayesian fm rank {rank}"
    if item_features is not None:
        group_shapes.append(item_features.shape[1])
        name += " + genres"
    model = myfm.MyFMRegressor(rank=rank, random_seed=seed)
    start = time.perf_counter()
    model.fit(
        x_train,
        train.ratings.astype(np.float64),
        n_iter=n_iter,
        n_kept_samples=n_kept_samples,
        group_shapes=group_shapes,
    )
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = np.clip(model.predict(x_test), *rating_scale)
    predict_seconds = time.perf_counter() - start
    return {
        "model": name,
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        **rating_metrics(predicted, test.ratings),
        "n_iter": n_iter,
        "n_kept_samples": n_kept_samples,
    }


def write_libsvm(
    path: Path,
    data: RatingData,
    n_users: int,
    n_items: int,
    item_features: sp.csr_matrix | None = None,
) -> None:
    """xLearn's libsvm text: "rating user:1 item:1 [feature:value ...]", 0-based feature ids.

    Users take ids [0, n_users), items [n_users, n_users + n_items), features the ids after.
    """
    suffixes = [""] * n_items
    if item_features is not None:
        features = sp.csr_matrix(item_features)
        offset = n_users + n_items
        for item in range(n_items):
            start, stop = features.indptr[item], features.indptr[item + 1]
            suffixes[item] = "".join(
                f" {offset + column}:{value:g}"
                for column, value in zip(
                    features.indices[start:stop].tolist(),
                    features.data[start:stop].tolist(),
                    strict=True,
                )
            )
    with path.open("w") as handle:
        for user, item, rating in zip(
            data.users.tolist(), data.items.tolist(), data.ratings.tolist(), strict=True
        ):
            handle.write(f"{rating:g} {user}:1 {n_users + item}:1{suffixes[item]}\n")


def xlearn_env() -> dict[str, str]:
    """The environment for xLearn, which aborts (std::logic_error) when USER is unset."""
    env = dict(os.environ)
    if not env.get("USER"):
        try:
            env["USER"] = getpass.getuser()
        except (KeyError, OSError):
            env["USER"] = XLEARN_USER_FALLBACK
    return env


def xlearn_rating_peer(
    train: RatingData,
    test: RatingData,
    n_users: int,
    n_items: int,
    seed: int,
    k: int = XLEARN_K,
    lr: float = XLEARN_LR,
    reg_lambda: float = XLEARN_LAMBDA,
    epochs: int = XLEARN_EPOCHS,
    item_features: sp.csr_matrix | None = None,
    rating_scale: tuple[float, float] = RATING_SCALE,
) -> dict | None:
    """xLearn FM ("reg" task) trained on 90% of train, early-stopped on RMSE of the other 10%.

    The seed picks the validation rows (xLearn has no seed of its own; one thread keeps it
    reproducible). Runs in a child interpreter; returns None, with the reason on stderr, when
    xLearn fails.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train))
    n_valid = int(round(XLEARN_VALID_FRACTION * len(train)))
    params = {
        "task": "reg",
        "metric": "rmse",
        "k": k,
        "lr": lr,
        "lambda": reg_lambda,
        "epoch": epochs,
        "nthread": XLEARN_THREADS,
    }
    with tempfile.TemporaryDirectory(prefix="xlearn-") as folder:
        work = Path(folder)
        paths = {name: work / f"{name}.txt" for name in ("train", "valid", "test", "out")}
        params["log"] = str(work / "xlearn_log")
        write_libsvm(paths["train"], train.subset(order[n_valid:]), n_users, n_items, item_features)
        write_libsvm(paths["valid"], train.subset(order[:n_valid]), n_users, n_items, item_features)
        write_libsvm(paths["test"], test, n_users, n_items, item_features)
        timing_path = work / "timing.json"
        command = [
            sys.executable,
            "-c",
            XLEARN_CHILD,
            str(paths["train"]),
            str(paths["valid"]),
            str(paths["test"]),
            str(work / "model.bin"),
            str(paths["out"]),
            str(timing_path),
            json.dumps(params),
        ]
        try:
            child = subprocess.run(
                command, capture_output=True, text=True, cwd=work, env=xlearn_env(), check=False
            )
        except OSError as error:
            print(f"xlearn_rating_peer: could not start xLearn: {error}", file=sys.stderr)
            return None
        if child.returncode != 0 or not paths["out"].exists():
            tail = (child.stdout + child.stderr)[-XLEARN_TAIL_CHARS:]
            print(
                f"xlearn_rating_peer: xLearn failed (exit {child.returncode}):\n{tail}",
                file=sys.stderr,
            )
            return None
        predicted = np.loadtxt(paths["out"], dtype=np.float64, ndmin=1)
        timing = json.loads(timing_path.read_text())
    if len(predicted) != len(test):
        print(
            f"xlearn_rating_peer: {len(predicted)} predictions for {len(test)} test rows",
            file=sys.stderr,
        )
        return None
    stopped = XLEARN_EARLY_STOP.search(child.stdout)
    name = f"xlearn fm k {k}" + (" + genres" if item_features is not None else "")
    return {
        "model": name,
        "fit_seconds": timing["fit_seconds"],
        "predict_seconds": timing["predict_seconds"],
        **rating_metrics(np.clip(predicted, *rating_scale), test.ratings),
        "best_epoch": int(stopped.group(1)) if stopped else epochs,
        "valid_rmse": float(stopped.group(2)) if stopped else None,
    }


def topn_metrics(
    recommended: dict[int, np.ndarray],
    test_positives: dict[int, set[int]],
    k: int,
    n_items: int,
) -> dict:
    """HR, recall, nDCG and MRR at k over the users with test positives, and item coverage.

    Binary relevance; recall divides the hits by all of a user's test positives, the ideal DCG
    counts min(positives, k) hits. A user missing from `recommended` scores zero. Coverage is the
    number of distinct items in the top k of the evaluated users over n_items.
    """
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    hits = recalls = ndcgs = reciprocal_ranks = 0.0
    shown: set[int] = set()
    users = [user for user, positives in test_positives.items() if positives]
    for user in users:
        positives = test_positives[user]
        top = np.asarray(recommended.get(user, ()), dtype=np.int64)[:k]
        shown.update(top.tolist())
        relevant = np.fromiter((item in positives for item in top.tolist()), bool, len(top))
        n_hits = int(relevant.sum())
        if not n_hits:
            continue
        hits += 1.0
        recalls += n_hits / len(positives)
        ideal = float(discounts[: min(len(positives), k)].sum())
        ndcgs += float(discounts[: len(top)][relevant].sum()) / ideal
        reciprocal_ranks += 1.0 / (int(np.argmax(relevant)) + 1)
    n_users = max(len(users), 1)
    return {
        f"hr@{k}": hits / n_users,
        f"recall@{k}": recalls / n_users,
        f"ndcg@{k}": ndcgs / n_users,
        f"mrr@{k}": reciprocal_ranks / n_users,
        f"coverage@{k}": len(shown) / n_items,
        "n_users_evaluated": len(users),
    }


def item_popularity(train_matrix: sp.csr_matrix) -> np.ndarray:
    """Number of stored training interactions per item."""
    return np.bincount(train_matrix.indices, minlength=train_matrix.shape[1])


def most_popular_recommend(
    train_matrix: sp.csr_matrix, counts: np.ndarray, userids: np.ndarray, k: int
) -> dict[int, np.ndarray]:
    """The k most popular items (ties by index) that each user has not interacted with."""
    order = np.argsort(-counts, kind="stable")
    recommended = {}
    for user in userids.tolist():
        seen = train_matrix.indices[train_matrix.indptr[user] : train_matrix.indptr[user + 1]]
        candidates = order[: k + len(seen)]
        recommended[user] = candidates[np.isin(candidates, seen, invert=True)][:k]
    return recommended


def implicit_topn_peers(
    train_matrix: sp.csr_matrix,
    test_positives: dict[int, set[int]],
    seed: int,
    k: int = TOP_K,
) -> list[dict]:
    """implicit ALS, BPR and cosine item-kNN with their defaults, and a most-popular baseline.

    Every test user ranks all items, its training items filtered out. Models are built and fitted
    with BLAS held to one thread, as implicit asks; ALS and item-kNN use all cores (implicit's
    default), BPR one (its lock-free updates are not reproducible on more).
    """
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking
    from implicit.nearest_neighbours import CosineRecommender

    train_matrix = sp.csr_matrix(train_matrix, dtype=np.float32)
    n_items = train_matrix.shape[1]
    userids = np.array(sorted(test_positives), dtype=np.int32)
    models = [
        ("implicit ALS", lambda: AlternatingLeastSquares(random_state=seed, use_gpu=False)),
        (
            "implicit BPR",
            lambda: BayesianPersonalizedRanking(
                random_state=seed, use_gpu=False, num_threads=BPR_THREADS
            ),
        ),
        ("implicit item-kNN cosine", CosineRecommender),
    ]
    results = [
        implicit_topn(name, build, train_matrix, test_positives, k) for name, build in models
    ]
    start = time.perf_counter()
    counts = item_popularity(train_matrix)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    recommended = most_popular_recommend(train_matrix, counts, userids, k)
    recommend_seconds = time.perf_counter() - start
    results.append(
        {
            "model": "most popular",
            "fit_seconds": fit_seconds,
            "recommend_seconds": recommend_seconds,
            **topn_metrics(recommended, test_positives, k, n_items),
            "most_popular_count": int(counts.max()),
        }
    )
    return results


def implicit_topn(
    name: str,
    build: Callable[[], Any],
    train_matrix: sp.csr_matrix,
    test_positives: dict[int, set[int]],
    k: int = TOP_K,
) -> dict:
    """One implicit model, built by `build` and fitted with BLAS held to one thread: its top-k
    lists for the test users (training items filtered out) scored by `topn_metrics`."""
    from threadpoolctl import threadpool_limits

    train_matrix = sp.csr_matrix(train_matrix, dtype=np.float32)
    userids = np.array(sorted(test_positives), dtype=np.int32)
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=IMPLICIT_COO_WARNING)
        model = build()
        start = time.perf_counter()
        model.fit(train_matrix, show_progress=False)
        fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ids, scores = model.recommend(
        userids, train_matrix[userids], N=k, filter_already_liked_items=True
    )
    recommend_seconds = time.perf_counter() - start
    keep = (ids >= 0) & np.isfinite(scores)
    recommended = {
        int(user): row[mask] for user, row, mask in zip(userids.tolist(), ids, keep, strict=True)
    }
    return {
        "model": name,
        "fit_seconds": fit_seconds,
        "recommend_seconds": recommend_seconds,
        **topn_metrics(recommended, test_positives, k, train_matrix.shape[1]),
    }


def load_movielens(path: Path) -> tuple[RatingData, np.ndarray, int, int]:
    """MovieLens ratings.csv as dense indices, plus each rating's timestamp."""
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    user_ids, users = np.unique(table[:, 0].astype(np.int64), return_inverse=True)
    item_ids, items = np.unique(table[:, 1].astype(np.int64), return_inverse=True)
    data = RatingData(
        users.astype(np.int64), items.astype(np.int64), table[:, 2].astype(np.float32)
    )
    return data, table[:, 3].astype(np.int64), len(user_ids), len(item_ids)


def leave_last_out(
    data: RatingData, timestamps: np.ndarray, n_users: int, n_items: int
) -> tuple[sp.csr_matrix, dict[int, set[int]]]:
    """Binary train matrix of all but each user's latest rating, which becomes its test positive.

    Users with a single rating keep it in train and are not evaluated.
    """
    order = np.lexsort((timestamps, data.users))
    last = np.flatnonzero(np.r_[data.users[order][1:] != data.users[order][:-1], True])
    first = np.r_[0, last[:-1] + 1]
    test_rows = order[last[last > first]]
    train_rows = np.setdiff1d(np.arange(len(data)), test_rows)
    train_matrix = sp.csr_matrix(
        (np.ones(len(train_rows), np.float32), (data.users[train_rows], data.items[train_rows])),
        shape=(n_users, n_items),
    )
    positives = {int(data.users[row]): {int(data.items[row])} for row in test_rows}
    return train_matrix, positives


def smoke(path: Path, seed: int) -> list[dict]:
    """Each peer once on MovieLens: random 80/20 for ratings, leave-last-out for top-N."""
    data, timestamps, n_users, n_items = load_movielens(path)
    order = np.random.default_rng(seed).permutation(len(data))
    n_test = int(round(SMOKE_TEST_FRACTION * len(data)))
    train, test = data.subset(np.sort(order[n_test:])), data.subset(np.sort(order[:n_test]))
    results = surprise_rating_peers(train, test, seed)
    results.append(
        myfm_rating_peer(
            train,
            test,
            n_users,
            n_items,
            seed,
            n_iter=SMOKE_MYFM_N_ITER,
            n_kept_samples=SMOKE_MYFM_N_KEPT,
        )
    )
    xlearn_result = xlearn_rating_peer(train, test, n_users, n_items, seed)
    if xlearn_result is not None:
        results.append(xlearn_result)
    train_matrix, positives = leave_last_out(data, timestamps, n_users, n_items)
    results.extend(implicit_topn_peers(train_matrix, positives, seed))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=Path, default=MOVIELENS_RATINGS)
    parser.add_argument("--seed", type=int, default=SMOKE_SEED)
    args = parser.parse_args()
    for result in smoke(args.ratings, args.seed):
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
