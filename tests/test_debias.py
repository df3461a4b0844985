"""Debiased recommenders: rating matrices, propensities (given, logistic, naive Bayes), MF
trained with inverse propensity weights against plain MF on ratings missing not at random."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from seoga.cli import app
from seoga.errors import InputError
from seoga.recommend import make_recommender
from seoga.recommend.data.propensity import (
    given_propensities,
    logistic_propensities,
    matrix_interactions,
    naive_bayes_propensities,
)

USERS, ITEMS = 120, 80
FAST_MF = {"factors": 4, "epochs": 40, "learning_rate": 0.02, "validation_share": 0.0}
FAST = {
    "mf": FAST_MF,
    "fm": {"factors": 4, "epochs": 60, "learning_rate": 0.02, "batch_size": 128,
           "validation_share": 0.0, "text_model": None},
}  # fmt: skip


def write_matrix(path, matrix, fmt="%d"):
    np.savetxt(path, matrix, fmt=fmt)
    return path


def test_a_rating_matrix_is_a_log_of_its_nonzero_cells(tmp_path):
    path = write_matrix(tmp_path / "train.ascii", np.array([[0, 5, 0], [3, 0, 1]]))
    log = matrix_interactions(path)
    assert len(log) == 3 and log.n_users == 2 and log.n_items == 3
    rows = zip(log.user_ids.raw(log.users), log.item_ids.raw(log.items), log.values, strict=True)
    assert sorted(rows) == [("0", "1", 5.0), ("1", "0", 3.0), ("1", "2", 1.0)]
    ragged = tmp_path / "bad.ascii"
    ragged.write_text("1 2 3\n4 5\n")
    with pytest.raises(InputError, match="bad.ascii:2"):
        matrix_interactions(ragged)


def test_given_propensities_follow_the_rows(tmp_path):
    log = matrix_interactions(write_matrix(tmp_path / "train.ascii", np.array([[0, 5], [3, 0]])))
    matrix = write_matrix(tmp_path / "p.ascii", np.array([[0.1, 0.2], [0.3, 0.4]]), "%.2f")
    found = given_propensities(log, matrix)
    assert dict(zip(log.values.tolist(), found.tolist(), strict=True)) == {5.0: 0.2, 3.0: 0.3}
    small = write_matrix(tmp_path / "small.ascii", np.array([[0.5]]), "%.2f")
    with pytest.raises(InputError, match="1 × 1"):
        given_propensities(log, small)


def test_naive_bayes_by_hand(tmp_path):
    # 4 of 8 cells observed: ratings 5, 5, 5, 1. At random, 5 and 1 are equally common.
    log = matrix_interactions(
        write_matrix(tmp_path / "t.ascii", np.array([[5, 5, 0, 0], [5, 1, 0, 0]]))
    )
    found = naive_bayes_propensities(log, np.array([5.0, 1.0]))
    # P(obs | 5) = (3/4 · 1/2) / (1/2) = 3/4; P(obs | 1) = (1/4 · 1/2) / (1/2) = 1/4.
    assert dict(zip(log.values.tolist(), found.tolist(), strict=False)) == pytest.approx(
        {5.0: 0.75, 1.0: 0.25}
    )
    with pytest.raises(InputError, match="no rating 1"):
        naive_bayes_propensities(log, np.array([5.0, 5.0]))


def world(seed: int):
    """True ratings for every cell, and which cells a user rated: high ratings far likelier
    to be rated (missing not at random), as in Schnabel et al.'s simulations."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(USERS, 2)) @ rng.normal(size=(2, ITEMS))
    truth = np.clip(np.rint(3 + taste + rng.normal(0, 0.3, (USERS, ITEMS))), 1, 5)
    chance = 0.02 * 2.2 ** (truth - 1)
    observed = rng.random((USERS, ITEMS)) < chance
    return truth, np.where(observed, truth, 0), chance


@pytest.mark.parametrize("name", ["mf", "fm"])
def test_ipw_beats_plain_training_on_ratings_missing_at_random(tmp_path, name):
    truth, train, chance = world(0)
    train_path = write_matrix(tmp_path / "train.ascii", train)
    log = matrix_interactions(train_path)
    given = given_propensities(log, write_matrix(tmp_path / "p.ascii", chance, "%.6f"))
    from dataclasses import replace

    errors = {}
    for debias, data in (("none", log), ("ipw", replace(log, propensities=given))):
        model = make_recommender(name, debias=debias, seed=1, **FAST[name]).fit(data)
        users, items = np.indices(truth.shape).reshape(2, -1)
        predicted = model.predict_indices(users, items)
        errors[debias] = float(np.mean((predicted - truth[users, items]) ** 2))
    assert errors["ipw"] < 0.9 * errors["none"]


def test_logistic_propensities_rise_with_how_much_is_rated(tmp_path):
    _, train, _ = world(1)
    log = matrix_interactions(write_matrix(tmp_path / "train.ascii", train))
    found = logistic_propensities(log)
    per_user = np.bincount(log.users, minlength=log.n_users)
    busiest, quietest = (
        log.users == per_user.argmax(),
        log.users == np.argmin(np.where(per_user > 0, per_user, per_user.max())),
    )
    assert found[busiest].mean() > found[quietest].mean()
    assert found.min() > 0 and found.max() < 1


def coat_like(folder):
    truth, train, chance = world(2)
    rng = np.random.default_rng(3)
    test = np.where(rng.random(truth.shape) < 0.1, truth, 0)
    folder.mkdir()
    write_matrix(folder / "train.ascii", train)
    write_matrix(folder / "test.ascii", test)
    write_matrix(folder / "propensities.ascii", chance, "%.6f")
    return folder


def test_cli_eval_recommend_with_ipw_on_a_matrix_folder(tmp_path):
    folder = coat_like(tmp_path / "coat")
    runner = CliRunner()
    scores = {}
    for extra in ([], ["--debias", "ipw"], ["--debias", "ipw", "--propensities", "naive-bayes"]):
        output = tmp_path / f"m{len(scores)}.json"
        settings = [f"--set={name}={value}" for name, value in FAST_MF.items()]
        result = runner.invoke(
            app,
            ["eval", "recommend", str(folder), "--model", "mf", *settings, *extra,
             "--out", str(output)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        scores[" ".join(extra)] = json.loads(output.read_text())
    plain, weighted = scores[""], scores["--debias ipw"]
    assert {"mse", "mae"} <= set(plain) and weighted["debias"]["method"] == "ipw"
    assert weighted["mse"] < plain["mse"]
    assert scores["--debias ipw --propensities naive-bayes"]["test_rows"] < plain["test_rows"]


def test_debias_errors_are_clear(tmp_path):
    folder = coat_like(tmp_path / "coat")
    runner = CliRunner()
    result = runner.invoke(
        app, ["recommend", "fit", str(folder / "train.ascii"), "--out", str(tmp_path / "m"),
              "--model", "mf", "--debias", "ipw"]
    )  # fmt: skip
    assert result.exit_code != 0 and "--propensities" in str(result.exception)
    result = runner.invoke(
        app, ["recommend", "fit", str(folder / "train.ascii"), "--out", str(tmp_path / "m"),
              "--model", "als", "--debias", "ipw", "--propensities", "logistic"]
    )  # fmt: skip
    assert result.exit_code != 0 and "als takes no weights" in str(result.exception)


@pytest.mark.shared_data
def test_coat_constant_baselines(shared_data):
    """The constant predictors of Schnabel et al.'s Coat, as measured: the training mean and
    the propensity-weighted mean, scored on the random test ratings."""
    from seoga.recommend.data.propensity import ips_weights

    coat = shared_data / "coat"
    train, test = (matrix_interactions(coat / f"{part}.ascii") for part in ("train", "test"))
    weights = ips_weights(given_propensities(train, coat / "propensities.ascii"))
    plain = np.mean((test.values - train.values.mean()) ** 2)
    weighted = np.mean((test.values - np.average(train.values, weights=weights)) ** 2)
    assert plain == pytest.approx(1.692, abs=1e-3)
    assert weighted == pytest.approx(1.556, abs=1e-3)
