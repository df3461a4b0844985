"""`seoga eval retrieval` caches the collection it builds: a model folder retrained in place
(same path, new weights) must get a new collection, not the vectors of the old model; another
main model re-encodes a copy of a cached collection, keeping its BM25 and extra vectors."""

import json
import shutil
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer

from seoga.collection import Collection
from seoga.evaluate.retrieval import evaluate_retrieval
from seoga.settings import CollectionSettings
from tests.test_train_data import make_beir

SCORE_TOLERANCE = 1e-5


def test_model_retrained_in_place_is_not_served_from_the_cache(tiny_model, tmp_path):
    beir = make_beir(tmp_path / "beir")
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    settings = CollectionSettings(embedder=str(model), analyzer="english")
    cache = tmp_path / "cache"
    first = evaluate_retrieval(beir, "dense", settings=settings, cache_dir=cache)
    again = evaluate_retrieval(beir, "dense", settings=settings, cache_dir=cache)
    assert again["collection"] == first["collection"], "unchanged model: the cache serves"

    retrained = SentenceTransformer(str(model), device="cpu")
    with torch.no_grad():
        for parameter in retrained.parameters():
            parameter.add_(torch.randn_like(parameter))
    retrained.save(str(model))
    after = evaluate_retrieval(beir, "dense", settings=settings, cache_dir=cache)
    assert after["collection"] != first["collection"]
    assert len(list((cache / "eval").glob("*.build.json"))) == 2


def test_another_main_model_reuses_bm25_and_the_extra_vectors(
    tiny_model, tiny_plain_model, tiny_english_model, tmp_path
):
    beir = make_beir(tmp_path / "beir")
    extras = [str(tiny_english_model)]
    first = CollectionSettings(embedder=str(tiny_model), extra_embedders=extras)
    second = CollectionSettings(embedder=str(tiny_plain_model), extra_embedders=extras)
    cache = tmp_path / "cache"
    before = evaluate_retrieval(beir, "hybrid", settings=first, cache_dir=cache)
    reused = evaluate_retrieval(beir, "hybrid", settings=second, cache_dir=cache)
    record = json.loads(Path(f"{reused['collection']}.build.json").read_text())
    assert record["reused_from"] == Path(before["collection"]).name
    assert reused["embedder"]["name"] == str(tiny_plain_model)

    fresh = evaluate_retrieval(beir, "hybrid", settings=second, cache_dir=tmp_path / "fresh")
    assert "reused_from" not in json.loads(Path(f"{fresh['collection']}.build.json").read_text())
    for metric in ("ndcg@10", "recall@100", "mrr@10"):
        assert reused[metric] == fresh[metric]
    assert_same_rankings(reused["collection"], fresh["collection"])
    unchanged = evaluate_retrieval(beir, "hybrid", settings=first, cache_dir=cache)
    assert unchanged["collection"] == before["collection"]
    assert unchanged["ndcg@10"] == before["ndcg@10"]


def assert_same_rankings(reused: str, fresh: str) -> None:
    """Every retriever, the extra bi-encoder included, ranks alike in both collections."""
    query = "dense vectors for passages"
    one = Collection.open(reused).retrieve(query, mode="hybrid", depth=10).rankings
    two = Collection.open(fresh).retrieve(query, mode="hybrid", depth=10).rankings
    assert one.keys() == two.keys() and len(one) == 3
    for name, ranking in one.items():
        assert ranking.keys() == two[name].keys()
        for doc, score in ranking.items():
            assert abs(score - two[name][doc]) < SCORE_TOLERANCE


def test_a_folder_of_another_name_with_the_same_corpus_shares_the_collection(tmp_path):
    beir = make_beir(tmp_path / "beir")
    dev = tmp_path / "beir-dev"
    dev.mkdir()
    for name in ("corpus.jsonl", "queries.jsonl"):
        (dev / name).symlink_to(beir / name)
    (dev / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    settings = CollectionSettings(embedder=None, analyzer="english")
    cache = tmp_path / "cache"
    shipped = evaluate_retrieval(beir, "bm25", settings=settings, cache_dir=cache)
    split = evaluate_retrieval(dev, "bm25", settings=settings, cache_dir=cache)
    assert split["collection"] == shipped["collection"]
    assert split["n_queries"] == 1
