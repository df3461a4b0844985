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
    mostly_dense = fuse(sparse, dense, method="convex", dense_weight=0.9)
    assert max(mostly_dense, key=mostly_dense.get) == "semantic"


def test_missing_item_scores_zero_in_that_list():
    fused = convex_fusion([{"a": 1.0, "b": 0.0}, {"c": 1.0}], [0.5, 0.5])
    assert fused == {"a": 0.5, "b": 0.0, "c": 0.5}


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="fusion method"):
        fuse({}, {}, method="borda", dense_weight=0.5)


def test_z_score_fusion_puts_missing_items_below_every_returned_one():
    sparse = {"a": 10.0, "b": 8.0, "c": 1.0}
    dense = {"b": 0.9, "d": 0.5}
    fused = fuse(sparse, dense, method="convex", dense_weight=0.5, normalization="zscore")
    assert max(fused, key=fused.get) == "b"
    assert fused["c"] < fused["a"]
    with pytest.raises(ValueError, match="normalization"):
        convex_fusion([sparse], [1.0], normalization="rank")


def test_an_empty_ranking_leaves_the_other_in_order():
    fused = fuse({"a": 3.0, "b": 1.0}, {}, method="convex", dense_weight=0.3)
    assert sorted(fused, key=fused.get, reverse=True) == ["a", "b"]
