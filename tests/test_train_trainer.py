"""The trainer: reproducible, keeps the best checkpoint, writes its output atomically with a
card, and chains stages (--base an earlier output)."""

import json

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from seoga.errors import InputError
from seoga.train import trainer as trainer_module
from seoga.train.publishing import read_card
from seoga.train.trainer import CARD_NAME, TrainConfig, train_embedder

STS_ROWS = [
    ("hello world", "hello world", 5.0),
    ("hello world", "offline passage", 0.5),
    ("search engine", "the search engine", 4.5),
    ("korean query", "english document", 1.0),
    ("korean passage", "korean document", 3.0),
    ("offline world", "a query of the world", 2.0),
]


@pytest.fixture(scope="module")
def sts_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sts") / "sts.tsv"
    path.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in STS_ROWS), encoding="utf-8")
    return path


def config(tiny_model, data, out, **extra):
    values = {
        "base": str(tiny_model),
        "data": data,
        "max_steps": 4,
        "batch_size": 3,
        "lr": 1e-2,
        "show_progress": False,
    }
    return TrainConfig(out=out, **{**values, **extra})


def test_same_seed_same_metrics(tiny_model, sts_file, tmp_path):
    first = train_embedder(
        config(tiny_model, sts_file, tmp_path / "a", eval=sts_file, eval_steps=2)
    )
    second = train_embedder(
        config(tiny_model, sts_file, tmp_path / "b", eval=sts_file, eval_steps=2)
    )
    assert first.metrics == second.metrics
    texts = ["hello world", "korean passage"]
    np.testing.assert_array_equal(
        SentenceTransformer(str(first.out)).encode(texts),
        SentenceTransformer(str(second.out)).encode(texts),
    )
    other = train_embedder(
        config(tiny_model, sts_file, tmp_path / "c", eval=sts_file, eval_steps=2, seed=7)
    )
    assert other.card["seed"] == 7


def test_card_and_best_checkpoint(tiny_model, sts_file, tmp_path):
    result = train_embedder(
        config(tiny_model, sts_file, tmp_path / "m", eval=sts_file, eval_steps=1)
    )
    card = json.loads((tmp_path / "m" / CARD_NAME).read_text())
    assert card == read_card(tmp_path / "m")
    assert card["objective"] == "supervised" and card["loss"]["name"] == "cosent"
    assert card["loss"]["batches"] == "length_grouped"
    assert card["base"]["location"] == str(tiny_model)
    assert card["data"]["examples"] == len(STS_ROWS) and card["seed"] == 42
    assert card["hyperparameters"]["learning_rate"] == 1e-2
    # Everything but the (frozen by default) word embeddings trains.
    assert 0 < card["parameters"]["trainable"] < card["parameters"]["total"]
    assert card["prompts"] == {"sentence1": "query: ", "sentence2": "query: "}
    history = result.metrics["history"]
    metric = next(iter(result.metrics["before"]))
    best = max(history, key=lambda entry: entry[metric])
    assert result.metrics["best_step"] == best["step"]
    assert result.metrics["after"][metric] == pytest.approx(best[metric], abs=1e-6)
    assert not list(tmp_path.glob(".*tmp-*")), "staging folders must not be left behind"


def test_output_is_atomic(tiny_model, sts_file, tmp_path, monkeypatch):
    out = tmp_path / "m"
    out.mkdir()
    with pytest.raises(InputError, match="already exists"):
        train_embedder(config(tiny_model, sts_file, out))

    def crash(*_args, **_kwargs):
        raise RuntimeError("killed mid-save")

    monkeypatch.setattr(trainer_module, "save_model", crash)
    with pytest.raises(RuntimeError):
        train_embedder(config(tiny_model, sts_file, tmp_path / "new"))
    assert not (tmp_path / "new").exists()
    assert not list(tmp_path.glob(".new*")), "the staging folder is removed on failure"
    with pytest.raises(RuntimeError):
        train_embedder(config(tiny_model, sts_file, out, overwrite=True))
    assert out.is_dir() and not any(out.iterdir()), "the old output is untouched"


def test_stages_chain(tiny_model, sts_file, tmp_path):
    first = train_embedder(config(tiny_model, sts_file, tmp_path / "stage1", max_steps=1))
    second = train_embedder(config(tiny_model, sts_file, tmp_path / "stage2", base=str(first.out)))
    assert second.card["base"]["card"]["base"]["location"] == str(tiny_model)


def test_unsupervised_from_a_collection(tiny_model, tmp_path):
    from seoga import Collection, CollectionSettings
    from seoga.text.documents import Document

    kb = Collection.create(tmp_path / "kb", CollectionSettings(embedder=str(tiny_model)))
    kb.add_documents(
        [
            Document("a", "Hello world of search. The engine is offline. Korean text works too."),
            Document("b", "A query finds a passage. The passage answers the query. Done here."),
        ]
    )
    for objective in ("simcse", "ict"):
        result = train_embedder(
            TrainConfig(
                out=tmp_path / objective,
                base=str(tiny_model),
                collection=tmp_path / "kb",
                objective=objective,
                max_steps=1,
                batch_size=2,
                show_progress=False,
            )
        )
        assert result.card["objective"] == objective and result.card["data"]["format"] == "corpus"
        # In-batch negatives keep sentence-transformers' duplicate-free random batches.
        assert result.card["loss"]["batches"] == "no_duplicates"


def _weights(folder):
    model = SentenceTransformer(str(folder))
    backbone = model[0].auto_model
    embeddings = backbone.get_input_embeddings().weight.detach().clone()
    layer = next(iter(backbone.encoder.parameters())).detach().clone()
    return embeddings, layer


@pytest.mark.parametrize("freeze", [True, False])
def test_word_embeddings_frozen_by_default(tiny_model, sts_file, tmp_path, freeze):
    result = train_embedder(config(tiny_model, sts_file, tmp_path / "m", freeze_embeddings=freeze))
    base_embeddings, base_layer = _weights(tiny_model)
    embeddings, layer = _weights(result.out)
    assert result.card["hyperparameters"]["freeze_embeddings"] is freeze
    assert np.array_equal(embeddings.numpy(), base_embeddings.numpy()) is freeze
    assert not np.array_equal(layer.numpy(), base_layer.numpy())  # the encoder still learns
