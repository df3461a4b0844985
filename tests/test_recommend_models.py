"""The recommenders on generated logs with a known structure: each learns it, folds new users
in, survives a save/load round trip and gives the same metrics for the same seed."""

import numpy as np
import pytest
from implicit.nearest_neighbours import bm25_weight, tfidf_weight

from seoga.errors import InputError, ModelUnavailableError
from seoga.evaluate.recommend import evaluate_recommender
from seoga.recommend import (
    load_recommender,
    make_recommender,
    read_features,
    split_interactions,
)
from seoga.recommend.base import POPULAR_FALLBACK
from seoga.recommend.data.splits import Split
from seoga.recommend.models.als import Weighting
from seoga.recommend.ranking import top_k
from tests.recommend_data import GENRES, clicks_log, clustered_log

FAST_FM = {"epochs": 30, "batch_size": 64, "learning_rate": 0.02, "factors": 8}


def rmse(model, part) -> float:
    predicted = model.predict_indices(part.users, part.items)
    return float(np.sqrt(np.mean((predicted - part.values) ** 2)))


def test_top_k_orders_and_breaks_ties_by_index():
    scores = np.asarray([[0.1, 0.9, 0.5, 0.9, -np.inf]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2]]
    tied = np.asarray([[0.0] + [1.0] * 30 + [2.0]])
    assert top_k(tied, 3).tolist() == [[31, 1, 2]]  # the tie at the cut goes by index too


def test_lists_shorter_than_k_and_zero_weights():
    log = clicks_log(n_users=6, n_items=24)
    model = make_recommender("popular").fit(log)
    ranked = model.rank_users(np.arange(6), 50)
    unrankable = model.seen[0].nnz + int((~model.trained_items).sum())
    assert ranked.shape == (6, 24) and (ranked[0] == -1).sum() == unrankable
    impressions = log.subset(np.arange(len(log)))
    impressions.values = impressions.values.copy()
    impressions.values[0] = 0.0  # shown, not clicked
    fitted = make_recommender("popular").fit(impressions)
    assert fitted.seen[log.users[0], log.items[0]] == 0


def test_mf_learns_ratings_and_folds_in_a_new_user():
    log, _, _ = clustered_log()
    split = split_interactions(log, "random:0.2", seed=1)
    model = make_recommender(
        "mf", seed=0, factors=8, epochs=200, learning_rate=0.03, validation_share=0.0
    ).fit(split.train)
    baseline = float(np.sqrt(np.mean((split.train.values.mean() - split.test.values) ** 2)))
    assert rmse(model, split.test) < 0.5 * baseline
    # A new user who loved the drama items is recommended drama, not the rest.
    drama = [f"i{i}" for i in range(0, 12, len(GENRES))]
    found = model.recommend_for_history(drama, k=5, ratings=[5.0] * len(drama))
    assert all(int(hit.item[1:]) % len(GENRES) == 0 for hit in found)
    assert not {hit.item for hit in found} & set(drama)
    # A user or item with no training rows is predicted from the biases alone.
    stranger = model.predict(["nobody"], ["i1"])[0]
    assert stranger == pytest.approx(np.clip(model.global_mean + model.item_bias[1], 1, 5))


def test_weighting_matches_implicit_and_fold_in_matches_the_closed_form():
    log = clicks_log()
    counts = log.matrix()
    for method, reference in (("bm25", bm25_weight(counts)), ("tfidf", tfidf_weight(counts))):
        ours = Weighting.fit(counts, method, 100.0, 0.8).apply(counts)
        assert np.allclose(ours.toarray(), reference.toarray(), atol=1e-5)
        rows = [Weighting.fit(counts, method, 100.0, 0.8).apply(counts[u]) for u in range(3)]
        assert np.allclose(np.vstack([r.toarray() for r in rows]), ours[:3].toarray())

    model = make_recommender("als", seed=0, factors=6, iterations=10).fit(log)
    user = 5
    history = model.seen[user]
    folded = model.fold_in(history.indices, history.data)
    # The ALS normal equations for one user, confidence c on liked items and 1 elsewhere:
    # (YᵀY + Yᵀ diag(c − 1) Y + λI) x = Yᵀ c.
    y = model.model.item_factors.astype(np.float64)
    c = model.weighting.apply(history).toarray().ravel().astype(np.float64)
    liked = c > 0
    a = y.T @ y + y[liked].T @ np.diag(c[liked] - 1) @ y[liked]
    a += model.settings.regularization * np.eye(y.shape[1])
    assert np.allclose(folded, np.linalg.solve(a, y[liked].T @ c[liked]), atol=1e-4)

    mine = [hit.item for hit in model.recommend_for_history(model.item_ids.raw(history.indices))]
    assert all(int(item[1:]) % len(GENRES) == user % len(GENRES) for item in mine[:3])
    reasons = model.explain(f"u{user}", mine[0])
    assert {item for item, _ in reasons} <= set(model.item_ids.raw(history.indices))


def test_models_rank_held_out_clicks_above_popular():
    log = clicks_log(n_users=120)
    split = split_interactions(log, "leave-last-out")
    popular = evaluate_recommender(make_recommender("popular"), split, k=5)
    for name, settings in (
        ("als", {"factors": 8}),
        ("itemknn", {}),
        ("fm", {**FAST_FM, "objective": "bpr"}),
    ):
        scored = evaluate_recommender(make_recommender(name, seed=0, **settings), split, k=5)
        assert scored["hr@5"] > popular["hr@5"] + 0.2, (name, scored, popular)
        assert scored["coverage"] > 3 * popular["coverage"] and scored["topn_users"] == 120


def test_topn_metrics_by_hand():
    log = clicks_log(n_users=9)
    split = split_interactions(log, "leave-last-out")
    model = make_recommender("popular").fit(split.train)
    scores = evaluate_recommender(model, split, k=3)
    ranked = model.rank_users(np.arange(log.n_users), 3)
    hits = [
        split.test.items[split.test.users == u][0] in ranked[u].tolist() for u in range(log.n_users)
    ]
    ranks = [
        ranked[u].tolist().index(split.test.items[split.test.users == u][0]) + 1
        for u, hit in enumerate(hits)
        if hit
    ]
    assert scores["hr@3"] == pytest.approx(np.mean(hits), abs=1e-6)
    assert scores["mrr@3"] == pytest.approx(sum(1 / r for r in ranks) / len(hits), abs=1e-6)
    assert scores["recall@3"] == scores["hr@3"]  # one relevant item per user


def test_fm_uses_features_and_text_for_cold_items(monkeypatch):
    def words(texts, model, show_progress=False):
        """A bag-of-words 'embedder': enough for the dense block to carry the genre."""
        vocabulary = sorted({word for text in texts for word in text.split()})
        return np.asarray(
            [[float(word in text.split()) for word in vocabulary] for text in texts],
            dtype=np.float32,
        )

    monkeypatch.setattr("seoga.recommend.models.text.encode_texts", words)
    log, items, cold = clustered_log(cold_items=9)
    split = split_interactions(log, "random:0.1", seed=0)
    bias_only = make_recommender("fm", seed=0, **FAST_FM, features=False, text_model=None)
    bias_only.fit(split.train, items=items)
    text_only = make_recommender(
        "fm", seed=0, **FAST_FM, features=False, block_regularization={"text": 0.01}
    )
    text_only.fit(split.train, items=items)
    with_features = make_recommender("fm", seed=0, **FAST_FM, text_model=None, min_feature_count=1)
    with_features.fit(split.train, items=items)
    assert "text" in text_only.block_names and "item_features" in with_features.block_names
    assert not bias_only.knows_item("i40") and bias_only.item_ids.get("i40") is not None
    cold_bias, cold_text = rmse(bias_only, cold), rmse(text_only, cold)
    assert cold_text < 0.6 * cold_bias, (cold_text, cold_bias)
    assert rmse(with_features, cold) < 0.6 * cold_bias
    # Cold items rank by their features for the FM, and never for MF.
    mf = make_recommender("mf", seed=0, factors=4, epochs=5).fit(split.train, items=items)
    assert not {hit.item for hit in mf.recommend("u0", k=40)} & {f"i{i}" for i in range(40, 49)}
    fm_list = [hit.item for hit in with_features.recommend("u0", k=60)]
    assert {f"i{i}" for i in range(40, 49)} <= set(fm_list)


def test_save_load_round_trip(tmp_path):
    log, items, _ = clustered_log(n_users=30, n_items=20, per_user=8)
    for name, settings in (
        ("popular", {}),
        ("mf", {"factors": 4, "epochs": 5}),
        ("als", {"factors": 4}),
        ("itemknn", {"neighbours": 5}),
        ("fm", {**FAST_FM, "epochs": 3, "text_model": None}),
    ):
        model = make_recommender(name, seed=1, **settings).fit(log, items=items)
        out = model.save(tmp_path / name)
        assert sorted(p.name for p in out.iterdir()) == [
            "arrays.safetensors",
            "ids.json",
            "manifest.json",
            "state.json",
        ]
        loaded = load_recommender(out)
        assert type(loaded) is type(model) and loaded.settings == model.settings
        assert np.allclose(
            loaded.predict(["u1", "u2"], ["i3", "i4"]), model.predict(["u1", "u2"], ["i3", "i4"])
        )
        assert loaded.recommend("u3", k=5) == model.recommend("u3", k=5)
        assert loaded.recommend_for_history(["i1", "i2"], k=3) == model.recommend_for_history(
            ["i1", "i2"], k=3
        )
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    with pytest.raises(ModelUnavailableError, match="not a recommender folder"):
        load_recommender(tmp_path)


def test_same_seed_same_metrics():
    log, items, _ = clustered_log(n_users=30, n_items=20, per_user=8)
    split = split_interactions(log, "random:0.2", seed=4)
    for name, settings in (
        ("mf", {"factors": 4, "epochs": 5}),
        ("als", {"factors": 4}),
        ("fm", {**FAST_FM, "epochs": 3, "text_model": None}),
    ):
        runs = [
            evaluate_recommender(make_recommender(name, seed=7, **settings), split, items=items)
            for _ in range(2)
        ]
        keep = ("rmse", "mae", "hr@10", "ndcg@10", "mrr@10", "coverage")
        assert [{k: r.get(k) for k in keep} for r in runs][0] == {
            k: runs[1].get(k) for k in keep
        }, name


def test_unknown_users_fall_back_and_bad_requests_are_messages():
    log, _, _ = clustered_log(n_users=20, n_items=12, per_user=5)
    model = make_recommender("mf", seed=0, factors=4, epochs=3).fit(log)
    stranger = model.recommend("nobody", k=3)
    assert [hit.source for hit in stranger] == [POPULAR_FALLBACK] * 3
    assert model.recommend_for_history(["not-an-item"], k=2)[0].source == POPULAR_FALLBACK
    with pytest.raises(InputError, match="not in this model"):
        model.similar_items("nothing")
    with pytest.raises(InputError, match="k must be at least 1"):
        model.recommend("u1", k=0)
    with pytest.raises(InputError, match="no setting"):
        make_recommender("als", learning_rate=0.1)
    with pytest.raises(InputError, match="factors .* must be int"):
        make_recommender("als", factors="many")
    with pytest.raises(InputError, match="unknown model"):
        make_recommender("svd")
    with pytest.raises(InputError, match="implicit feedback"):
        make_recommender("mf").fit(clicks_log())
    with pytest.raises(InputError, match="no item vectors"):
        make_recommender("popular").fit(log).similar_items("i1")
    empty = Split(log, log.subset(np.zeros(len(log), dtype=bool)), "empty")
    with pytest.raises(InputError, match="test part is empty"):
        evaluate_recommender(make_recommender("popular"), empty)
    strangers = Split(log, log.subset(np.arange(3)), "only-seen")
    with pytest.raises(InputError, match="no test row"):
        evaluate_recommender(make_recommender("popular"), strangers)


def test_als_recency_decay_weighs_later_events_more(tmp_path):
    log = clicks_log()
    model = make_recommender("als", seed=0, factors=6, recency_half_life=2.0).fit(log)
    user = 4
    rows = np.flatnonzero(log.users == user)
    latest, earliest = rows[np.argmax(log.times[rows])], rows[np.argmin(log.times[rows])]
    weights = model.counts[user].toarray().ravel()
    # The last event keeps its weight; one 5 events older is 2^(-5/2) of its own.
    assert weights[log.items[latest]] == pytest.approx(log.values[latest])
    age = int((log.users[rows] == user).sum()) - 1
    assert weights[log.items[earliest]] == pytest.approx(log.values[earliest] * 0.5 ** (age / 2))
    assert model._decayed(3).tolist() == pytest.approx([0.5, 0.5**0.5, 1.0])
    loaded = load_recommender(model.save(tmp_path / "als"))
    assert loaded.explain(f"u{user}", "i0") == model.explain(f"u{user}", "i0")
    # Without decay (the default decays) every event counts as it is.
    plain = make_recommender("als", seed=0, factors=6, recency_half_life=0).fit(log)
    assert (plain.counts != plain.seen).nnz == 0


def test_fm_scores_a_user_known_only_by_features():
    from seoga.recommend.data.features import FeatureTable

    log, items, _ = clustered_log(n_users=40, n_items=30, per_user=10)
    genre_of = {f"u{u}": GENRES[u % len(GENRES)] for u in range(40)}
    users = FeatureTable({"likes": "categorical"}, {"likes": {**genre_of, "newcomer": "drama"}})
    model = make_recommender("fm", seed=0, **FAST_FM, text_model=None, implicit=False)
    model.fit(log, items=items, users=users)
    assert not model.knows_user("newcomer")
    found = model.recommend("newcomer", k=3)
    assert found and all(hit.source == "model" for hit in found)
    assert (
        make_recommender("mf", factors=2, epochs=1)
        .fit(log, users=users)
        .recommend("newcomer", k=1)[0]
        .source
        == POPULAR_FALLBACK
    )


def test_lists_show_ratings_clipped_as_predict_gives_them():
    log, _, _ = clustered_log(n_users=20, n_items=15, per_user=6)
    model = make_recommender("mf", epochs=3, factors=4).fit(log)
    low, high = np.sort(model.predict(["u0"] * 15, [f"i{i}" for i in range(15)]))[[0, -1]]
    # A scale narrower than the estimates, so that clipping shows.
    model.rating_range = (float(low), float((low + high) / 2))
    listed = model.recommend("u0", k=15, filter_seen=False)
    predicted = model.predict(["u0"] * len(listed), [hit.item for hit in listed])
    assert [hit.score for hit in listed] == pytest.approx(predicted.tolist())
    assert max(hit.score for hit in listed) == pytest.approx(model.rating_range[1])


def test_fm_encodes_item_text_only_when_named(tmp_path):
    log, _, _ = clustered_log(n_users=20, n_items=15, per_user=6)
    movies = tmp_path / "movies.csv"
    movies.write_text("item,title\n" + "".join(f"i{i},Film {i}\n" for i in range(15)))
    # An embedder that cannot load: the fit only gets through when it never encodes.
    settings = {"epochs": 1, "factors": 4, "text_model": "no-such-embedder"}
    model = make_recommender("fm", **settings).fit(log, items=read_features(movies))
    assert "text" not in model.block_names and model.item_labels["i3"] == "Film 3"
    named = read_features(movies, text_fields=["title"])
    with pytest.raises(ModelUnavailableError):
        make_recommender("fm", **settings).fit(log, items=named)


@pytest.mark.parametrize("name", ["als", "itemknn", "mf"])
def test_ranking_many_users_gives_one_without_history_the_popular_items(name):
    log, _, _ = clustered_log()
    # User 0 stays in the id map with no training rows, as a test user of a time split does.
    model = make_recommender(name, seed=0).fit(log.subset(log.users != 0))
    ranked = model.rank_users(np.asarray([0, 1]), 5)
    popular = [item.item for item in model.recommend("u0", k=5)]
    assert model.item_ids.raw(ranked[0]) == popular
    assert ranked[1].tolist() != ranked[0].tolist()
