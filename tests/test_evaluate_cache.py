"""`seoga eval retrieval` caches the collection it builds: a model folder retrained in place
(same path, new weights) must get a new collection, not the vectors of the old model."""

import shutil

import torch
from sentence_transformers import SentenceTransformer

from seoga.evaluate.retrieval import evaluate_retrieval
from seoga.settings import CollectionSettings
from tests.test_train_data import make_beir


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
