"""Every loss name builds and trains a step through sentence-transformers' trainer; examples are
reshaped to what each loss takes, or refused with a message saying what fits."""

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from seoga.errors import InputError
from seoga.train.examples import Examples
from seoga.train.losses import DEFAULT_LOSS, LOSSES, build_loss, shape_for
from seoga.train.trainer import TrainConfig, train_embedder

TRIPLETS = [
    ("hello world", "hello offline world", "korean passage"),
    ("search engine", "the search engine", "a document of english"),
    ("korean query", "korean passage query", "offline world"),
    ("english document", "the english document", "search hello"),
]


@pytest.fixture(scope="module")
def triplet_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("losses") / "triplets.tsv"
    path.write_text(
        "anchor\tpositive\tnegative\n" + "".join("\t".join(row) + "\n" for row in TRIPLETS),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_trains_a_step(loss, triplet_file, tiny_model, tmp_path):
    config = TrainConfig(
        out=tmp_path / "out",
        base=str(tiny_model),
        data=triplet_file,
        format="triplets",
        loss=loss,
        max_steps=1,
        batch_size=4,
        lr=1e-2,
        warmup_ratio=0.0,
        margin=0.5 if LOSSES[loss].takes_margin else None,
        show_progress=False,
    )
    result = train_embedder(config)
    assert result.card["loss"]["name"] == loss and result.card["training"]["steps"] == 1
    texts = ["hello world", "korean passage"]
    before = SentenceTransformer(str(tiny_model)).encode(texts)
    after = SentenceTransformer(str(result.out)).encode(texts)
    assert not np.allclose(before, after), f"{loss} changed no weight"


def test_shapes():
    triplets = Examples(
        "triplets", {"anchor": ["a", "b"], "positive": ["p", "q"], "negative_1": ["n", "m"]}
    )
    assert shape_for(triplets, "contrastive").columns["label"] == [1, 0, 1, 0]
    assert shape_for(triplets, "cosent").columns["score"] == [1.0, 0.0, 1.0, 0.0]
    classes = shape_for(triplets, "batch-hard-triplet").columns
    assert classes["text"] == ["a", "p", "n", "b", "q", "m"]
    assert classes["label"][0] == classes["label"][1] != classes["label"][2]
    pairs = Examples("pairs", {"anchor": ["a"], "positive": ["p"]})
    with pytest.raises(InputError, match="needs negatives|triplet loss needs"):
        shape_for(pairs, "triplet")
    graded = Examples("scored-pairs", {"sentence1": ["a"], "sentence2": ["b"], "score": [3.5]})
    with pytest.raises(InputError, match="labels 0 or 1"):
        shape_for(graded, "online-contrastive")
    with pytest.raises(InputError, match="unknown loss 'focal'"):
        shape_for(graded, "focal")
    assert DEFAULT_LOSS["scored-pairs"] == "cosent"


def test_scale_and_margin_are_checked(tiny_model):
    model = SentenceTransformer(str(tiny_model))
    assert build_loss("multiple-negatives-ranking", model, scale=50.0).scale == 50.0
    with pytest.raises(InputError, match="has no scale"):
        build_loss("triplet", model, scale=20.0)
    with pytest.raises(InputError, match="has no margin"):
        build_loss("cosent", model, margin=0.2)
