"""How a recommender fit runs: on the threads its settings name, stopping when validation stops
improving, and saying how it goes (seconds per epoch, the validation figure)."""

import torch

from seoga.progress import PlainLines
from seoga.recommend import make_recommender
from seoga.recommend.models.popular import PopularRecommender
from tests.recommend_data import clustered_log

FAST_FM = {"batch_size": 64, "learning_rate": 0.02, "factors": 8, "text_model": None}
MANY_THREADS = 2
SECONDS_PER_EPOCH = 12.0


def test_a_fit_runs_on_its_threads_and_gives_the_rest_back(monkeypatch):
    log, _, _ = clustered_log(n_users=20, n_items=12, per_user=5)
    during = []
    fit = PopularRecommender._fit

    def spy(self, *arguments):
        during.append(torch.get_num_threads())
        return fit(self, *arguments)

    monkeypatch.setattr(PopularRecommender, "_fit", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(MANY_THREADS)
    try:
        make_recommender("popular").fit(log)
        make_recommender("popular", threads=MANY_THREADS).fit(log)
        assert during == [1, MANY_THREADS]
        assert torch.get_num_threads() == MANY_THREADS
    finally:
        torch.set_num_threads(before)


def test_fm_stops_when_validation_improves_by_less_than_it_should():
    log, items, _ = clustered_log(n_users=30, n_items=20, per_user=8)
    patience = 2
    strict = make_recommender(
        "fm", seed=0, epochs=30, patience=patience, min_improvement=10.0, **FAST_FM
    ).fit(log, items=items)
    # The first epoch improves on nothing; the next `patience` improve by less than 10.
    assert strict.metrics["epochs"] == 1 + patience
    lenient = make_recommender("fm", seed=0, epochs=30, patience=patience, **FAST_FM)
    assert lenient.fit(log, items=items).metrics["epochs"] > 1 + patience


def test_fm_progress_shows_the_validation_figure(capsys):
    log, items, _ = clustered_log(n_users=30, n_items=20, per_user=8)
    make_recommender("fm", seed=0, epochs=3, **FAST_FM).fit(log, items=items, show_progress=True)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("fm: epochs: 3 done") and "validation rmse" in last


def test_slow_steps_show_seconds_each_not_a_rate_rounded_to_zero(monkeypatch, capsys):
    now = [0.0]
    monkeypatch.setattr("seoga.progress.time.perf_counter", lambda: now[0])
    shown = PlainLines(10, "fm: epochs")
    for _ in range(5):
        now[0] += SECONDS_PER_EPOCH
        shown.update()
    halfway = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{SECONDS_PER_EPOCH:.1f} s each" in halfway and "0.0/s" not in halfway
