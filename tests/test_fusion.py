import pytest

from seoga.search.fusion import convex_fusion, fuse, min_max, reciprocal_rank_fusion


def test_rrf_rewards_agreement_between_lists():
    sparse = {"a": 9.0, "b": 5.0, "c": 1.0}
    dense = {"b": 0.9, "c": 0.8, "d": 0.1}
    fused = reciprocal_rank_fusion([sparse, dense], k=60)
    assert max(fused, key=fused.get) == "b"
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)


def test_min_max_scales_to_unit_range_and_handles_ties():
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 7.0, "b": 7.0}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}


def test_convex_fusion_weights_move_the_winner():
    sparse = {"lexical": 10.0, "semantic": 1.0}
    dense = {"lexical": 0.2, "semantic": 0.9}
    assert max(convex_fusion([sparse, dense], [0.9, 0.1]).items(), key=lambda x: x[1])[0] == (
        "lexical"
    )
    mostly_dense = fuse(
        {"bm25": sparse, "dense": dense}, {"bm25": 0.1, "dense": 0.9}, method="convex"
    )
    assert max(mostly_dense, key=mostly_dense.get) == "semantic"


def test_missing_item_scores_zero_in_that_list():
    fused = convex_fusion([{"a": 1.0, "b": 0.0}, {"c": 1.0}], [0.5, 0.5])
    assert fused == {"a": 0.5, "b": 0.0, "c": 0.5}


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="fusion method"):
        fuse({"bm25": {}}, {"bm25": 1.0}, method="borda")


def test_z_score_fusion_puts_missing_items_below_every_returned_one():
    sparse = {"a": 10.0, "b": 8.0, "c": 1.0}
    dense = {"b": 0.9, "d": 0.5}
    fused = fuse(
        {"bm25": sparse, "dense": dense},
        {"bm25": 0.5, "dense": 0.5},
        method="convex",
        normalization="zscore",
    )
    assert max(fused, key=fused.get) == "b"
    assert fused["c"] < fused["a"]
    with pytest.raises(ValueError, match="normalization"):
        convex_fusion([sparse], [1.0], normalization="rank")


def test_an_empty_ranking_leaves_the_other_in_order():
    fused = fuse(
        {"bm25": {"a": 3.0, "b": 1.0}, "dense": {}}, {"bm25": 0.7, "dense": 0.3}, method="convex"
    )
    assert sorted(fused, key=fused.get, reverse=True) == ["a", "b"]


def test_weights_are_rescaled_over_the_rankings_given():
    """A retriever that sat out (say, a model that cannot read the query) leaves the others'
    weights in the same proportion."""
    rankings = {"bm25": {"a": 2.0, "b": 1.0}, "dense": {"a": 0.1, "b": 0.9}}
    weights = {"bm25": 0.6, "dense": 0.2, "english": 0.2}
    assert fuse(rankings, weights, method="convex") == pytest.approx(
        convex_fusion(list(rankings.values()), [0.75, 0.25], normalization="zscore")
    )
    with pytest.raises(ValueError, match="positive weight"):
        fuse({"english": {"a": 1.0}}, {"english": 0.0}, method="convex")
