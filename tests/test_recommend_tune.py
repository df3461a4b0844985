"""`seoga recommend fit --tune`: settings chosen on an inner split of the log being fitted."""

import json

import pytest

from seoga.errors import InputError
from seoga.evaluate.recommend import evaluate_recommender
from seoga.recommend import make_recommender
from seoga.recommend.models.als import ALSSettings
from seoga.tune.choosing import GRIDS, fit_recommender, inner_split, tune_settings, tuning_summary
from tests.recommend_data import clicks_log, clustered_log, write_csv
from tests.test_cli import EXIT_USER_ERROR
from tests.test_train_cli import run


def test_fit_tune_records_what_it_tried_and_fits_the_winner(tmp_path):
    clicks = write_csv(tmp_path / "clicks.csv", clicks_log(), value_name="clicks")
    out = tmp_path / "als"
    fitted = run(
        "recommend", "fit", str(clicks), "--model", "als", "--out", str(out),
        "--set", "factors=8", "--tune", "--tune-budget", "30",
    )  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    assert "tuned on an inner leave-last-out split" in " ".join(fitted.stdout.split())
    manifest = json.loads((out / "manifest.json").read_text())
    tuning = manifest["metrics"]["tuning"]
    # What --set names stays as given; the rest of the grid is tried, the defaults first.
    assert manifest["settings"]["factors"] == 8
    assert all("factors" not in trial["settings"] for trial in tuning["trials"])
    defaults = ALSSettings()
    assert tuning["trials"][0]["settings"] == {
        name: getattr(defaults, name)
        for name in ("weighting", "regularization", "recency_half_life")
    }
    assert tuning["grid_points"] == len(GRIDS["als"]["weighting"]) * 3 * 3
    best = max(trial["ndcg@10"] for trial in tuning["trials"])
    assert tuning["chosen_score"] == best >= tuning["given_score"]
    chosen = next(t["settings"] for t in tuning["trials"] if t["ndcg@10"] == best)
    assert {name: manifest["settings"][name] for name in chosen} == chosen


def test_the_budget_bounds_the_trials():
    tuning = tune_settings("als", {"factors": 8}, clicks_log(), budget=1e-9)
    assert len(tuning.trials) == 1 and tuning.chosen == tuning.trials[0]["settings"]
    with pytest.raises(InputError, match="positive number of seconds"):
        tune_settings("als", {}, clicks_log(), budget=0)


def test_rating_models_are_tuned_on_rmse_and_session_models_on_next_clicks():
    log, _, _ = clustered_log()
    tuning = tune_settings("mf", {"epochs": 5}, log, budget=5)
    assert tuning.metric == "rmse" and tuning.split == "leave-last-out"
    assert tuning.chosen_score == min(trial["rmse"] for trial in tuning.trials)
    model = fit_recommender("mf", {"epochs": 5}, log, tune=True, budget=5)
    assert model.metrics["tuning"]["metric"] == "rmse"
    sessions = tune_settings("sr", {}, clicks_log(), budget=5)
    assert sessions.metric == "mrr@20" and sessions.split == "users:0.2"
    assert [trial["settings"] for trial in sessions.trials][0] == {"steps": 10}


def test_a_log_without_times_is_split_at_random():
    log, _, _ = clustered_log()
    log.times = None
    assert tune_settings("itemknn", {}, log.positives(None), budget=5).split == "random:0.2"


def test_models_without_a_grid_are_refused(tmp_path, main_run):
    clicks = write_csv(tmp_path / "clicks.csv", clicks_log(), value_name="clicks")
    refused = main_run(
        "recommend", "fit", str(clicks), "--model", "popular", "--out", str(tmp_path / "p"),
        "--tune",
    )  # fmt: skip
    message = " ".join(refused.stderr.split())
    assert refused.returncode == EXIT_USER_ERROR and "--tune has no grid for popular" in message
    assert "seoga tune" in message and not (tmp_path / "p").exists()


def test_tuning_scores_the_most_popular_items_beside_the_model():
    log = clicks_log()
    tuning = tune_settings("itemknn", {}, log, budget=5)
    popular = evaluate_recommender(make_recommender("popular"), inner_split("itemknn", log, 0))
    assert tuning.popular_score == popular["ndcg@10"]
    # When popularity beats every setting tried, the summary says so and names the model.
    record = {**tuning.describe(), "popular_score": tuning.chosen_score + 0.1}
    assert "better served by --model popular" in tuning_summary(record)
    assert "popular" not in tuning_summary({**record, "popular_score": 0.0})
    assert tune_settings("mf", {"epochs": 2}, clustered_log()[0], budget=1).popular_score is None
