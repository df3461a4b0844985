"""Shared fixtures: a tiny random bi-encoder built in code, and paths to real data."""

import string
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TINY_HIDDEN = 32
TINY_LAYERS = 2
TINY_HEADS = 2
TINY_FFN = 64
TINY_POSITIONS = 128
TINY_MAX_TOKENS = 64
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
HANGUL_SAMPLE = "전세계약갱신조건검색하이브리드문서모델학습한국어"


def build_tiny_model(directory: Path, seed: int = 0) -> Path:
    """A 2-layer random BERT with a character vocabulary, saved as a sentence-transformers dir."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    characters = sorted(set(string.ascii_lowercase + string.digits + HANGUL_SAMPLE))
    vocabulary = SPECIAL_TOKENS + characters + [f"##{c}" for c in characters]
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocabulary),
        hidden_size=TINY_HIDDEN,
        num_hidden_layers=TINY_LAYERS,
        num_attention_heads=TINY_HEADS,
        intermediate_size=TINY_FFN,
        max_position_embeddings=TINY_POSITIONS,
    )
    backbone_dir = directory / "backbone"
    BertModel(config).save_pretrained(backbone_dir)
    tokenizer.save_pretrained(backbone_dir)
    transformer = models.Transformer(str(backbone_dir), max_seq_length=TINY_MAX_TOKENS)
    pooling = models.Pooling(TINY_HIDDEN, pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, models.Normalize()])
    target = directory / "model"
    model.save(str(target))
    return target


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real evaluation data not found at {SHARED_DATA}")
    return SHARED_DATA
