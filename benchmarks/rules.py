"""Association rules on Groceries: seoga's `rules` model beside mlxtend's own run, one run.

For each support: itemset and rule counts, whether every rule and its support / confidence / lift
are identical, and both fit times; then `together` latency and, on a held-out split (one random
item of each basket of 2+ items hidden), HR@10 of rules against most-popular.

    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/rules.py
"""

from __future__ import annotations

import argparse
import csv
import time

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

from benchmarks.report import DATA, machine_line, write_section
from seoga.recommend import make_recommender, read_baskets

GROCERIES = DATA / "groceries" / "groceries.csv"
HEADING = "## Association rules (Groceries)"
SUPPORTS = (0.01, 0.005, 0.001)
HELD_OUT_SUPPORT = 0.001
K = 10
LATENCY_CALLS = 1000
TOLERANCE = 1e-12
SEED = 0


def baskets() -> list[list[str]]:
    with GROCERIES.open(encoding="utf-8") as handle:
        rows = [[cell.strip() for cell in row if cell.strip()] for row in csv.reader(handle)]
    return [row for row in rows if row]


def mlxtend_run(rows, support):
    started = time.perf_counter()
    encoder = TransactionEncoder()
    table = pd.DataFrame.sparse.from_spmatrix(
        encoder.fit(rows).transform(rows, sparse=True), columns=encoder.columns_
    )
    itemsets = fpgrowth(table, min_support=support, use_colnames=True)
    found = association_rules(itemsets, num_itemsets=len(rows), min_threshold=0.0)
    seconds = time.perf_counter() - started
    rules = {
        (frozenset(a), frozenset(c)): (s, conf, lift)
        for a, c, s, conf, lift in zip(
            found["antecedents"], found["consequents"], found["support"],
            found["confidence"], found["lift"], strict=True,
        )
    }  # fmt: skip
    return len(itemsets), rules, seconds


def seoga_run(log, support):
    model = make_recommender("rules", min_support=support, max_len=None).fit(log)
    rules = {
        (frozenset(r.antecedent), frozenset(r.consequent)): (r.support, r.confidence, r.lift)
        for r in model.rules(top=10**9)
    }
    return model, rules


def identical(ours: dict, theirs: dict) -> bool:
    if ours.keys() != theirs.keys():
        return False
    return all(
        np.allclose(ours[key], values, rtol=TOLERANCE, atol=0) for key, values in theirs.items()
    )


def held_out(log, rng):
    """Hide one random item of each basket with two or more; return train log and targets."""
    keep = np.ones(len(log), dtype=bool)
    targets = {}
    for user in range(log.n_users):
        rows = np.flatnonzero(log.users == user)
        if len(rows) >= 2:  # noqa: PLR2004 (a basket needs an item left to recommend from)
            hidden = rng.choice(rows)
            keep[hidden] = False
            targets[user] = int(log.items[hidden])
    return log.subset(keep), targets


def hit_rate(model, targets) -> float:
    users = np.asarray(sorted(targets))
    ranked = model.rank_users(users, K)
    return float(np.mean([targets[u] in row for u, row in zip(users, ranked, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    rows, log = baskets(), read_baskets(GROCERIES)
    lines = [
        "Command: `flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/rules.py`",
        f"Machine: {machine_line()}",
        "",
        f"{len(rows)} baskets, {log.n_items} items; mlxtend's own run is TransactionEncoder → "
        "fpgrowth → association_rules (every rule, confidence ≥ 0); seoga's is `rules` with "
        "max_len unbounded, read by `read_baskets`.",
        "",
        "| support | itemsets | rules | identical | mlxtend s | seoga fit s |",
        "|---|---|---|---|---|---|",
    ]
    model = None
    for support in SUPPORTS:
        count, theirs, mlxtend_seconds = mlxtend_run(rows, support)
        model, ours = seoga_run(log, support)
        same = model.itemsets == count and identical(ours, theirs)
        lines.append(
            f"| {support} | {count} | {len(theirs)} | {'yes' if same else '**no**'} "
            f"| {mlxtend_seconds:.2f} | {model.fit_seconds:.2f} |"
        )
        print(lines[-1], flush=True)
    timings = []
    basket = ["whole milk", "yogurt"]
    for _ in range(LATENCY_CALLS):
        started = time.perf_counter()
        model.together(basket, k=5)
        timings.append(time.perf_counter() - started)
    p50 = 1000 * float(np.median(timings))
    train, targets = held_out(log, np.random.default_rng(SEED))
    rules_hr = hit_rate(make_recommender("rules", min_support=HELD_OUT_SUPPORT).fit(train), targets)
    popular_hr = hit_rate(make_recommender("popular").fit(train), targets)
    lines += [
        "",
        f"- `together` for {basket} at support {SUPPORTS[-1]}: p50 {p50:.3f} ms over "
        f"{LATENCY_CALLS} calls (target ≤ 1 ms: "
        + ("**met**" if p50 <= 1 else "**missed**")
        + ").",
        f"- One item hidden per basket of 2+ ({len(targets)} baskets, seed {SEED}): HR@{K} rules "
        f"{rules_hr:.4f} vs most popular {popular_hr:.4f} ({rules_hr / popular_hr:.2f}×).",
    ]
    print("\n".join(lines[-2:]))
    if not args.no_report:
        write_section(HEADING, "\n".join(lines))


if __name__ == "__main__":
    main()
