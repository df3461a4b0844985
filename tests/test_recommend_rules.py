"""Association rules: the same itemsets and rules as mlxtend's own run, 'together' lists by
lift, the memory guard and the bound on itemsets, baskets files and the CLI."""

import csv
import json
import re
from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder
from scipy import sparse

from seoga.errors import InputError
from seoga.recommend import load_recommender, make_recommender, read_baskets
from seoga.recommend.models.itemset_bound import mining_size
from tests.test_train_cli import run

BASKETS = [
    "milk,bread,butter",
    "milk,bread",
    "milk,bread,butter,jam",
    "beer,chips",
    "beer,chips,salsa",
    "milk,butter",
    "bread,jam",
    "beer,salsa",
    "milk,bread,butter",
    "chips,salsa",
]


def write_baskets(path, lines=BASKETS):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mlxtend_rules(rows, min_support, max_len=None):
    """mlxtend's own run: TransactionEncoder → fpgrowth → association_rules."""
    encoder = TransactionEncoder()
    table = pd.DataFrame(encoder.fit(rows).transform(rows), columns=encoder.columns_)
    itemsets = fpgrowth(table, min_support=min_support, use_colnames=True, max_len=max_len)
    found = association_rules(itemsets, num_itemsets=len(rows), min_threshold=0.0)
    rules = {
        (tuple(sorted(a)), tuple(sorted(c))): (s, conf, lift)
        for a, c, s, conf, lift in zip(
            found["antecedents"], found["consequents"], found["support"],
            found["confidence"], found["lift"], strict=True,
        )
    }  # fmt: skip
    return len(itemsets), rules


def seoga_rules(model):
    return {
        (tuple(sorted(r.antecedent)), tuple(sorted(r.consequent))): (
            r.support,
            r.confidence,
            r.lift,
        )
        for r in model.rules(top=10**9)
    }


def assert_same(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for key, values in theirs.items():
        assert ours[key] == pytest.approx(values, rel=1e-9), key


def test_same_itemsets_and_rules_as_mlxtend(tmp_path):
    log = read_baskets(write_baskets(tmp_path / "baskets.csv"))
    assert log.n_users == len(BASKETS) and log.user_ids.ids[0] == "basket-1"
    model = make_recommender("rules", min_support=0.2, max_len=None).fit(log)
    count, theirs = mlxtend_rules([line.split(",") for line in BASKETS], 0.2)
    assert model.itemsets == count
    assert_same(seoga_rules(model), theirs)


def test_together_ranks_by_lift_then_confidence(tmp_path):
    model = make_recommender("rules", min_support=0.1).fit(
        read_baskets(write_baskets(tmp_path / "b.csv"))
    )
    found = model.together(["milk", "bread"], k=10)
    assert found and all("milk" != hit.item != "bread" for hit in found)
    keys = [(-hit.lift, -hit.confidence) for hit in found]
    assert keys == sorted(keys)
    best = found[0]
    assert set(best.because) <= {"milk", "bread"}
    # The best rule for butter given milk & bread, by hand: lift = P(butter | A) / P(butter).
    butter = next(hit for hit in found if hit.item == "butter")
    candidates = [
        (rule.lift, rule.confidence)
        for rule in model.rules(top=10**9)
        if rule.consequent == ("butter",) and set(rule.antecedent) <= {"milk", "bread"}
    ]
    assert (butter.lift, butter.confidence) == max(candidates)
    # The base API ranks by P(item | basket): the best applicable rule's confidence.
    confidence = {}
    for rule in model.rules(top=10**9):
        if len(rule.consequent) == 1 and set(rule.antecedent) <= {"milk", "bread"}:
            item = rule.consequent[0]
            confidence[item] = max(confidence.get(item, 0.0), rule.confidence)
    confidence.pop("milk", None), confidence.pop("bread", None)
    top = model.recommend_for_history(["milk", "bread"], k=1)[0]
    assert top.score == pytest.approx(max(confidence.values()))
    with pytest.raises(InputError, match="none of"):
        model.together(["caviar"])
    with pytest.raises(InputError, match="unknown sort"):
        model.rules(sort="fun")
    loaded = load_recommender(model.save(tmp_path / "rules"))
    assert loaded.together(["milk", "bread"], k=10) == found


def test_memory_guard_and_bad_support(tmp_path, monkeypatch):
    log = read_baskets(write_baskets(tmp_path / "b.csv"))
    monkeypatch.setattr("seoga.recommend.models.rules.MAX_FREQUENT_ITEMS", 2)
    with pytest.raises(InputError, match="7 items are frequent.* allows 2 items"):
        make_recommender("rules", min_support=0.1).fit(log)
    with pytest.raises(InputError, match="min_support must lie in"):
        make_recommender("rules", min_support=1.5).fit(log)
    # Milk, the most common item, is in 5 of the 10 baskets.
    with pytest.raises(InputError, match="no item is in more than 5; lower --min-support to 0.5"):
        make_recommender("rules", min_support=0.9).fit(log)


def brute_force_itemsets(rows: list[list[str]], count: int, max_len: int | None) -> int:
    """Itemsets (of up to max_len items) in at least `count` of the baskets, by enumeration."""
    held = Counter(
        subset
        for row in rows
        for size in range(1, len(row) + 1)
        for subset in combinations(sorted(set(row)), size)
    )
    return sum(1 for subset, n in held.items() if n >= count and len(subset) <= (max_len or 99))


def test_itemset_bound_is_never_below_the_itemsets_found():
    rng = np.random.default_rng(0)
    for _ in range(40):
        matrix = rng.random((int(rng.integers(2, 12)), 6)) < rng.uniform(0.2, 0.9)
        rows = [[str(item) for item in np.flatnonzero(row)] for row in matrix]
        baskets = sparse.csr_matrix(matrix.astype(np.int8))
        for count in range(1, len(rows) + 1):
            for max_len in (None, 2):
                found = brute_force_itemsets(rows, count, max_len)
                assert mining_size(baskets, count, max_len).itemsets >= found


def test_an_exploding_support_is_refused_with_one_that_fits(tmp_path, capsys):
    # Three long baskets sharing 12 items: at one basket every one of their subsets is frequent.
    long = ",".join("abcdefghijkl")
    log = read_baskets(write_baskets(tmp_path / "b.csv", [long] * 3 + ["a,b", "c,d", "e,f"]))
    with pytest.raises(InputError, match=r"--min-support (\S+) fits") as refused:
        make_recommender("rules", min_support=0.1, max_itemsets=100).fit(log)
    message = str(refused.value)
    assert "baskets hold up to 12 of them" in message and "100 itemsets" in message
    fitting = float(re.search(r"--min-support (\S+) fits", message).group(1))
    model = make_recommender("rules", min_support=fitting, max_itemsets=100)
    model.fit(log, show_progress=True)
    assert 0 < model.itemsets <= 100
    assert "rules: mining (at most" in capsys.readouterr().err
    # Every basket the same 12 items: even at support 1 all 4,095 of their subsets are frequent.
    same = read_baskets(write_baskets(tmp_path / "same.csv", [long] * 3))
    with pytest.raises(InputError, match="no support fits at this max_len"):
        make_recommender("rules", min_support=0.5, max_len=None, max_itemsets=1000).fit(same)


def test_rules_from_the_command_line(tmp_path, main_run):
    baskets = write_baskets(tmp_path / "groceries.csv")
    out = tmp_path / "basket"
    fitted = run(
        "recommend", "fit", str(baskets), "--model", "rules", "--format", "baskets",
        "--min-support", "0.1", "--out", str(out),
    )  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    together = json.loads(
        run(
            "recommend", "together", "milk,bread", "--recommender", str(out), "-k", "2", "--json"
        ).stdout
    )
    assert len(together) == 2 and {"lift", "confidence", "support", "because"} <= set(together[0])
    listed = json.loads(
        run(
            "recommend", "rules", "--recommender", str(out), "--sort", "confidence", "--json"
        ).stdout
    )
    confidences = [rule["confidence"] for rule in listed]
    assert confidences == sorted(confidences, reverse=True) and len(listed) == 20
    wrong = main_run("recommend", "fit", str(baskets), "--format", "orders", "--out", str(out))
    assert wrong.returncode == 2 and "unknown --format 'orders'" in wrong.stderr
    not_rules = tmp_path / "popular"
    run("recommend", "fit", str(baskets), "--format", "baskets", "--model", "popular",
        "--out", str(not_rules))  # fmt: skip
    refused = main_run("recommend", "together", "milk", "--recommender", str(not_rules))
    assert refused.returncode == 2 and "needs a rules model" in refused.stderr


@pytest.mark.shared_data
def test_groceries_as_mlxtend_at_one_percent(shared_data):
    path = shared_data / "groceries" / "groceries.csv"
    with path.open(encoding="utf-8") as handle:
        rows = [[c.strip() for c in row if c.strip()] for row in csv.reader(handle)]
    rows = [row for row in rows if row]
    model = make_recommender("rules", min_support=0.01, max_len=None).fit(read_baskets(path))
    count, theirs = mlxtend_rules(rows, 0.01)
    assert model.itemsets == count and len(theirs) > 0
    assert_same(seoga_rules(model), theirs)
    assert np.isfinite([hit.lift for hit in model.together(["whole milk"], k=5)]).all()
