"""Recommender fit speed on an idle and on a busy machine: seoga's FM beside myFM and Surprise.

Run from the repository root:
    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/recommend_speed.py

Each fit runs in a fresh process on the MovieLens latest-small ratings (a seeded random 80 %:
80,668 ratings, about the size of MovieLens-100k's u1 fold), once on an idle machine and once
beside a CPU hog (one process spinning on a core, as another user's job would). seoga's FM reads
ids, genres and tags, each user's rated items and the title and tag text (e5 vectors); its text
vectors are cached after the first fit, which is timed on its own. Writes the "Recommender fit
speed" section of BENCHMARKS.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from benchmarks.report import DATA, machine_line, write_section

MOVIELENS = DATA / "movielens_latest_small"
TEXT_FIELDS = ["title", "tag"]
SEED = 42
TEST_SHARE = "random:0.2"
HEADING = "## Recommender fit speed"
COMMAND = "flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/recommend_speed.py"
GOAL_SECONDS = 60.0  # issue 35: fm with side features and text, on 2 cores
GOAL_BUSY_RATIO = 2.0  # ... and at most twice that with a second process busy
SEOGA_FITS = {
    "seoga fm (1 thread, the default)": {"model": "fm", "settings": {}},
    "seoga fm (2 threads)": {"model": "fm", "settings": {"threads": 2}},
    "seoga mf": {"model": "mf", "settings": {}},
}
PEERS = ("myfm", "surprise")
# Spins until its parent is gone: a benchmark stopped by a signal leaves no hog behind.
HOG = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass"


def load():
    from seoga.recommend import read_features, read_interactions
    from seoga.recommend.data.splits import split_interactions

    log = read_interactions(MOVIELENS / "ratings.csv")
    items = read_features(
        [MOVIELENS / "movies.csv", MOVIELENS / "tags.csv"], text_fields=TEXT_FIELDS
    )
    return split_interactions(log, TEST_SHARE, seed=SEED), items


def fit_seoga(model: str, settings: dict) -> dict:
    """One seoga fit, timed in this process: seconds, epochs and test RMSE."""
    from seoga.recommend import make_recommender

    split, items = load()
    recommender = make_recommender(model, seed=SEED, **settings)
    started = time.perf_counter()
    recommender.fit(split.train, items=items)
    seconds = time.perf_counter() - started
    predicted = recommender.predict_indices(split.test.users, split.test.items)
    error = predicted.astype(np.float64) - split.test.values
    epochs = recommender.metrics.get("epochs") or recommender.metrics.get("best_epoch")
    return {"seconds": seconds, "rmse": float(np.sqrt(np.mean(error**2))), "epochs": epochs}


def fit_peer(name: str) -> list[dict]:
    """The peers on the same split: myFM (Gibbs sampling, ids) or Surprise's SVD++."""
    from benchmarks import recommend_peers as peers

    split, _ = load()
    train, test = (peers.RatingData(p.users, p.items, p.values) for p in (split.train, split.test))
    if name == "myfm":
        results = [
            peers.myfm_rating_peer(train, test, split.train.n_users, split.train.n_items, SEED)
        ]
    else:
        results = [r for r in peers.surprise_rating_peers(train, test, SEED) if "++" in r["model"]]
    return [{"model": r["model"], "seconds": r["fit_seconds"], "rmse": r["rmse"]} for r in results]


def in_child(call: str, home: Path | None = None) -> list[dict] | dict:
    """Run `call` (a function of this module with its arguments) in a fresh process."""
    environment = {**os.environ, "PYTHONPATH": "."}
    if home is not None:
        environment["SEOGA_HOME"] = str(home)
    code = f"import json; from benchmarks.recommend_speed import *; print(json.dumps({call}))"
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def hog(busy: bool):
    """A process spinning on one core for the block, when `busy`."""
    if not busy:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", HOG])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def cold_text_fit() -> dict:
    """The default FM's first fit, with no text vectors cached (a fresh seoga home that shares
    the installed models)."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        models = Path(os.environ.get("SEOGA_HOME", Path.home() / ".cache" / "seoga")) / "models"
        (home / "models").symlink_to(models)
        return in_child("fit_seoga('fm', {})", home)


def measure() -> dict:
    record: dict = {"machine": machine_line(), "rows": {}}
    record["cold_text"] = cold_text_fit()
    for busy in (False, True):
        mode = "busy" if busy else "idle"
        with hog(busy):
            for label, fit in SEOGA_FITS.items():
                result = in_child(f"fit_seoga({fit['model']!r}, {fit['settings']!r})")
                record["rows"].setdefault(label, {})[mode] = result
                print(label, mode, result, flush=True)
            for peer in PEERS:
                for result in in_child(f"fit_peer({peer!r})"):
                    record["rows"].setdefault(result["model"], {})[mode] = result
                    print(result["model"], mode, result, flush=True)
    return record


def report(record: dict) -> str:
    lines = [
        "| model | idle fit s | busy fit s | busy / idle | epochs | s / epoch (idle, busy) | "
        "test RMSE |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, modes in record["rows"].items():
        idle, busy = modes["idle"], modes["busy"]
        epochs = idle.get("epochs")
        pace = (
            f"{idle['seconds'] / epochs:.2f}, {busy['seconds'] / busy['epochs']:.2f}"
            if epochs
            else ""
        )
        lines.append(
            f"| {label} | {idle['seconds']:.1f} | {busy['seconds']:.1f} | "
            f"{busy['seconds'] / idle['seconds']:.2f}× | {epochs or ''} | {pace} | "
            f"{idle['rmse']:.4f} |"
        )
    default = record["rows"]["seoga fm (1 thread, the default)"]
    cold = record["cold_text"]
    idle, busy = default["idle"]["seconds"], default["busy"]["seconds"]
    verdict = (
        f"- Goal (issue 35): fm with side features and text ≤ {GOAL_SECONDS:.0f} s idle: "
        f"{idle:.1f} s, **{'met' if idle <= GOAL_SECONDS else 'missed'}**; ≤ "
        f"{GOAL_BUSY_RATIO:.0f}× that beside a busy process: {busy / idle:.2f}×, "
        f"**{'met' if busy <= GOAL_BUSY_RATIO * idle else 'missed'}**.\n"
        f"- The first fit also encodes the 9,742 item texts with multilingual-e5-small "
        f"(cached after): {cold['seconds']:.1f} s in all, idle."
    )
    return (
        f"`{COMMAND}` — {record['machine']}\n\n"
        "MovieLens latest-small, a seeded random 80 % of the ratings (80,668) to fit, the rest "
        "to test; each fit a fresh process; busy = beside one process spinning on a core. "
        "seoga's FM reads ids, genres and tags, rated items and the title and tag text (cached "
        "e5 vectors); myFM: Bayesian FM on ids, rank 10, 200 Gibbs samples; Surprise SVD++: "
        "its defaults.\n\n" + "\n".join(lines) + "\n\n" + verdict
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    record = measure()
    body = report(record)
    print(body)
    if not args.no_write:
        write_section(HEADING, body)


if __name__ == "__main__":
    main()
