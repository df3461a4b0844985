"""Vocabulary trimming and `seoga optimize` on tiny random models."""

import json

import numpy as np
import pytest

from seoga.errors import InputError
from seoga.models.onnx_queries import STORED_MANIFEST
from seoga.models.optimize import INT8_GRAPH, optimize, read_manifest
from seoga.models.vocabulary import in_base_list, trim_vocabulary
from tests.conftest import TINY_WORDS, build_tiny_model

COVERED = ["hello world", "search the document", "전세 계약"]
CORPUS = [*COVERED, "hello search"]
UNCOVERED = ["english offline engine 검색"]


def unigram_model(folder):
    """A tiny XLM-R-style model: SentencePiece-like Unigram pieces with ▁ word starts."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    words = ["▁" + word for word in TINY_WORDS] + ["▁전세", "▁계약", "▁"]
    characters = sorted(set("".join(TINY_WORDS) + "전세계약검색"))
    pieces = specials + words + characters + ["<mask>"]
    vocab = [
        (piece, 0.0 if piece in specials else -float(len(piece) < 2) - 1.0) for piece in pieces
    ]
    backend = Tokenizer(models.Unigram(vocab, unk_id=3))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )
    backbone = folder / "backbone"
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=len(pieces),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=40,
        pad_token_id=1,
    )
    XLMRobertaModel(config).save_pretrained(backbone)
    tokenizer.save_pretrained(backbone)
    transformer = Transformer(str(backbone), max_seq_length=32)
    model = SentenceTransformer(modules=[transformer, Pooling(16, "mean"), Normalize()])
    model.save(str(folder / "model"))
    return folder / "model"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("teacher"))


@pytest.fixture(scope="module")
def tiny_unigram(tmp_path_factory):
    return unigram_model(tmp_path_factory.mktemp("unigram"))


def test_base_list_keeps_hangul_ascii_and_single_characters():
    assert in_base_list("▁전세") and in_base_list("##ing") and in_base_list("東")
    assert not in_base_list("▁東京") and not in_base_list("▁Москва")


@pytest.mark.parametrize("which", ["tiny", "tiny_unigram"])
def test_trimming_keeps_vectors_on_covered_text(which, request, tmp_path):
    from sentence_transformers import SentenceTransformer

    folder = request.getfixturevalue(which)
    model = SentenceTransformer(str(folder))
    before = model.encode(COVERED, convert_to_numpy=True)
    before_ids = [model.tokenizer.tokenize(text) for text in COVERED]
    report = trim_vocabulary(model, CORPUS, base=False)
    assert report.after < report.before
    assert np.abs(model.encode(COVERED, convert_to_numpy=True) - before).max() < 1e-6
    # Text outside the kept pieces still encodes: shorter pieces or the unknown token.
    assert np.isfinite(model.encode(UNCOVERED, convert_to_numpy=True)).all()
    model.save(str(tmp_path / "trimmed"))
    saved = SentenceTransformer(str(tmp_path / "trimmed"))
    assert [saved.tokenizer.tokenize(text) for text in COVERED] == before_ids
    assert len(saved.tokenizer) == report.after
    assert np.abs(saved.encode(COVERED, convert_to_numpy=True) - before).max() < 1e-6


def test_optimize_writes_an_int8_folder_that_encodes_passages_on_onnx_runtime(tiny, tmp_path):
    from seoga.models.embedders import load_embedder

    out = tmp_path / "optimized"
    report = optimize(str(tiny), out, trim_texts=CORPUS)
    manifest = read_manifest(out)
    assert manifest["graph"].endswith(INT8_GRAPH) and (out / manifest["graph"]).is_file()
    assert manifest["vocabulary"]["after"] == report.vocabulary.after
    assert report.drift["mean_cosine"] > 0.9
    optimized = load_embedder(str(out))
    plain = load_embedder(str(tiny), onnx_queries=False)
    assert optimized.stored_graph
    vectors = optimized.encode_passages(COVERED)
    expected = plain.encode_passages(COVERED)
    cosine = np.einsum("ij,ij->i", vectors, expected)
    assert (cosine > 0.9).all() and not np.allclose(vectors, expected, atol=1e-7)
    assert optimized.encode_queries(["hello"]).shape == (1, plain.dim)


def test_optimize_refuses_to_replace_a_folder_unasked(tiny, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(InputError, match="overwrite"):
        optimize(str(tiny), tmp_path / "taken")


def test_float32_graph_matches_pytorch(tiny, tmp_path):
    from seoga.models.embedders import load_embedder

    out = tmp_path / "fp32"
    optimize(str(tiny), out, int8=False)
    manifest = json.loads((out / STORED_MANIFEST).read_text(encoding="utf-8"))
    assert manifest["int8"] is False and manifest["drift"]["min_cosine"] > 0.9999
    vectors = load_embedder(str(out)).encode_passages(COVERED)
    expected = load_embedder(str(tiny), onnx_queries=False).encode_passages(COVERED)
    assert np.abs(vectors - expected).max() < 1e-4
