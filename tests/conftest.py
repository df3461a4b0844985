"""Shared fixtures: a tiny random bi-encoder built in code, and paths to real data."""

import json
import os
import string
from pathlib import Path

import numpy as np
import pytest

# Before torch loads: on a busy machine OpenMP spin-waiting makes small torch jobs many times
# slower (DESIGN.md, "Measured facts").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TINY_HIDDEN = 32
TINY_LAYERS = 2
TINY_HEADS = 2
TINY_FFN = 64
TINY_POSITIONS = 128
TINY_MAX_TOKENS = 64
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ":"]
TINY_WORDS = ["hello", "world", "search", "engine", "korean", "english", "offline"]
TINY_WORDS += ["query", "passage", "document", "the", "a", "of"]
HANGUL_SAMPLE = "전세계약갱신조건검색하이브리드문서모델학습한국어"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


def build_tiny_model(
    directory: Path, prompts: dict[str, str] | None = None, layers: int = TINY_LAYERS
) -> Path:
    """A random BERT sentence-transformers model (2 layers unless told), built offline.

    Its WordPiece vocabulary has a few whole words plus every Latin letter, digit and some
    Hangul syllables (with ## forms), so any text tokenises to real pieces, not [UNK].
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    backbone = directory / "backbone"
    backbone.mkdir(parents=True)
    characters = sorted(set(string.ascii_lowercase + string.digits + HANGUL_SAMPLE))
    vocabulary = SPECIAL_TOKENS + TINY_WORDS + characters + [f"##{c}" for c in characters]
    (backbone / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    # transformers 5 ignores vocab_file= (every word becomes [UNK]); loading the folder works.
    tokenizer = BertTokenizerFast.from_pretrained(backbone)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocabulary),
        hidden_size=TINY_HIDDEN,
        num_hidden_layers=layers,
        num_attention_heads=TINY_HEADS,
        intermediate_size=TINY_FFN,
        max_position_embeddings=TINY_POSITIONS,
    )
    BertModel(config).save_pretrained(backbone)
    tokenizer.save_pretrained(backbone)
    transformer = Transformer(str(backbone), max_seq_length=TINY_MAX_TOKENS)
    pooling = Pooling(TINY_HIDDEN, pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], prompts=prompts)
    target = directory / "model"
    model.save(str(target))
    return target


@pytest.fixture(scope="session", autouse=True)
def seoga_home(tmp_path_factory):
    """seoga's own files (ONNX exports, demo, caches) go to a temporary home, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEOGA_HOME", str(tmp_path_factory.mktemp("seoga_home")))
        yield


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """With E5-style query/passage prompts."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), E5_PROMPTS)


@pytest.fixture(scope="session")
def tiny_english_model(tmp_path_factory) -> Path:
    """With no prompts, and a model card saying it reads English only."""
    folder = build_tiny_model(tmp_path_factory.mktemp("tiny-english"))
    (folder / "README.md").write_text("---\nlanguage: en\n---\n# tiny\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_plain_model(tmp_path_factory) -> Path:
    """With no prompts."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-plain"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real evaluation data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def main_run(capsys, monkeypatch):
    """`seoga ARGS` through its real entry point, as a user's shell runs it (exit code, output)."""
    import sys

    from seoga.cli import main
    from tests.test_train_cli import Result

    def invoke(*args: str) -> "Result":
        monkeypatch.setattr(sys, "argv", ["seoga", *args])
        with pytest.raises(SystemExit) as stop:
            main()
        captured = capsys.readouterr()
        return Result(stop.value.code, captured.out, captured.err)

    return invoke


RERANKER_QUERIES = 12


@pytest.fixture(scope="session")
def tiny_reranker(tmp_path_factory):
    """A cross-encoder: the tiny 4-layer encoder mean-pooled into a new one-logit head."""
    from seoga.rerank.training import new_cross_encoder

    folder = tmp_path_factory.mktemp("reranker")
    model = new_cross_encoder(str(build_tiny_model(folder / "base", layers=4)), 32)
    model.save(str(folder / "teacher"))
    return folder / "teacher"


@pytest.fixture(scope="session")
def reranker_pairs(tmp_path_factory):
    """Labelled pairs: each query with one relevant and two irrelevant passages."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("pairs") / "pairs.jsonl"
    lines = []
    for number in range(RERANKER_QUERIES):
        query = " ".join(rng.choice(TINY_WORDS, size=2))
        for label in (1, 0, 0):
            passage = " ".join(rng.choice(TINY_WORDS, size=5))
            lines.append({"query": f"{query} {number}", "passage": passage, "label": label})
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    return path
