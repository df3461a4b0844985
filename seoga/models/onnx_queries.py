"""Encoding through ONNX Runtime: queries always, passages too for an optimised model.

One short query at a time, PyTorch spends most of its time in Python (hundreds of small module
calls per forward pass); the same graph exported to ONNX Runtime answers about three times
faster with the same vectors (within float rounding), and ONNX Runtime's transformer optimizer
then fuses each layer's attention, layer norms and GELU into a few kernels (about 1.4× faster
again on one short query). Passages are encoded in large batches, where the matrix products
dominate and the two run at the same speed in float32, so they stay on PyTorch, unless the
model folder carries a graph of its own (`seoga optimize`: int8 weights, which only ONNX
Runtime runs), named by its `seoga-onnx.json`; then queries and passages both use it.

sentence-transformers has its own ONNX backend, but it needs optimum-onnx, which pins
transformers below the version seoga runs on; the export here uses torch.onnx and onnxruntime
directly, and only for the transformer itself: pooling and normalising stay the model's own
modules.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seoga.paths import seoga_home

ONNX_FOLDER = "onnx"
ONNX_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
ONNX_OPSET = 17
# The inputs a BERT-like encoder may take; each model exports the ones its tokenizer gives.
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "token_embeddings"
DYNAMIC_AXES = {0: "batch", 1: "tokens"}
# onnxruntime logs at warning level and above by default; 3 = errors only.
ORT_ERRORS_ONLY = 3
SAMPLE_QUERY = "query"
# Float32 rounding differs between the two runtimes' kernels; real disagreement is far larger.
EXPORT_TOLERANCE = 1e-4
# The optimizer's fusions for BERT-like encoders (BERT, RoBERTa, XLM-R, MiniLM, e5...); they
# recognise attention only in its plain form, so the export is traced with eager attention.
FUSION_MODEL_TYPE = "bert"
EAGER_ATTENTION = "eager"
# Part of the cache key: a change to how graphs are made gives every model a fresh export.
GRAPH_RECIPE = "fused-1"
# In a model folder: the graph it runs on ONNX Runtime, written by `seoga optimize`.
STORED_MANIFEST = "seoga-onnx.json"
# torch.onnx keeps its export state in globals: two models exporting at once (a hybrid search
# encodes the query with each model in its own thread) break each other's export.
_EXPORT_LOCK = threading.Lock()


class OnnxUnavailableError(RuntimeError):
    """The model cannot run on ONNX Runtime here; queries go through PyTorch instead."""


class OnnxTransformer:
    """The transformer module of a sentence-transformers model, run by ONNX Runtime."""

    def __init__(self, session, input_names: list[str], output_key: str) -> None:
        self.session = session
        self.input_names = input_names
        self.output_key = output_key

    @classmethod
    def load(cls, model, location: str, *, threads: int, int8: bool = False) -> OnnxTransformer:
        """Export `model`'s transformer once (cached under seoga's home), then open it; with
        `int8`, its dynamically quantised copy (made once, cached beside the export)."""
        _require_onnxruntime()
        transformer = check_supported(model)
        input_names = model_inputs(model)
        path = export_path(location)
        with _EXPORT_LOCK:
            if not path.exists():
                export(transformer.auto_model, model.preprocess([SAMPLE_QUERY]), input_names, path)
            if int8:
                path = quantized(path)
        try:
            return cls.open(path, input_names, transformer.module_output_name, threads=threads)
        # A damaged export: drop it so that the next process exports afresh.
        except OnnxUnavailableError:
            path.unlink(missing_ok=True)
            raise

    @classmethod
    def stored(cls, model, folder: str | Path, *, threads: int) -> OnnxTransformer | None:
        """The graph a model folder carries (`seoga optimize`), or None when it has none."""
        manifest = stored_manifest(folder)
        if manifest is None:
            return None
        _require_onnxruntime()
        transformer = check_supported(model)
        path = Path(folder) / manifest["graph"]
        return cls.open(path, manifest["inputs"], transformer.module_output_name, threads=threads)

    @classmethod
    def open(
        cls, path: Path, input_names: list[str], output_key: str, *, threads: int
    ) -> OnnxTransformer:
        """An ONNX Runtime session on the graph at `path`."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = ORT_ERRORS_ONLY
        # Spinning worker threads would keep the cores busy after each query, slowing the
        # BM25 and faiss work that follows it.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:
            raise OnnxUnavailableError(f"{path} could not be opened ({error})") from error
        return cls(session, input_names, output_key)

    def __call__(self, features: dict[str, Any]) -> dict[str, Any]:
        """`features` with the token embeddings added, as the transformer module would."""
        feed = {name: features[name].numpy() for name in self.input_names}
        (token_embeddings,) = self.session.run([OUTPUT_NAME], feed)
        return {**features, self.output_key: torch.from_numpy(token_embeddings)}

    def encode(self, model, features: dict[str, Any]) -> dict[str, Any]:
        """`model`'s whole forward pass with this graph in place of its transformer: the
        graph's token embeddings go through the model's own later modules (pooling, ...)."""
        features = self(features)
        for module in list(model)[1:]:
            features = module(features)
        return features


def _require_onnxruntime() -> None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError as error:
        raise OnnxUnavailableError("onnxruntime is not installed") from error


def model_inputs(model) -> list[str]:
    """The encoder inputs the model's tokenizer gives, in the graph's order."""
    features = model.preprocess([SAMPLE_QUERY])
    return [name for name in MODEL_INPUTS if name in features]


def stored_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The `seoga-onnx.json` of a model folder, or None when the folder has none."""
    path = Path(folder) / STORED_MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def check_supported(model):
    """The model's transformer module, when the model is a plain text encoder chain."""
    from sentence_transformers.base.modules import Router, Transformer

    modules = list(model)
    first = modules[0] if modules else None
    if not isinstance(first, Transformer) or any(isinstance(m, Router) for m in modules):
        raise OnnxUnavailableError("the model is not a transformer followed by plain modules")
    if hasattr(first.auto_model, "peft_config"):
        raise OnnxUnavailableError("LoRA adapters are applied by PyTorch (merge them to export)")
    text = first.modality_config.get("text", {})
    if text.get("method") != "forward" or text.get("method_output_name") != "last_hidden_state":
        raise OnnxUnavailableError("the model's text output is not its last hidden state")
    return first


def quantize_int8(float_graph: Path, int8_graph: Path) -> None:
    """Dynamic int8 quantisation of every matrix product, attention and embedding table.

    Per output channel: one scale per column keeps mE5-small's vectors at cosine 0.996 to the
    float32 ones on Korean passages, where one scale per tensor gave 0.983.
    """
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs advice for image models (pre-processing) on the root logger at
    # warning level; it does not apply to a fused transformer, so users are not shown it.
    logging.disable(logging.WARNING)
    try:
        # Shape inference cannot see through the fused (com.microsoft) kernels; their outputs
        # are float32, which is what this tells the quantiser.
        quantize_dynamic(
            float_graph,
            int8_graph,
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
    finally:
        logging.disable(logging.NOTSET)


def quantized(float_graph: Path) -> Path:
    """The int8 copy of an exported graph beside it, made when missing (written beside, then
    renamed into place)."""
    int8_graph = float_graph.with_name(INT8_FILE)
    if not int8_graph.exists():
        partial = int8_graph.with_name(f".{INT8_FILE}.{os.getpid()}")
        quantize_int8(float_graph, partial)
        os.replace(partial, int8_graph)
    return int8_graph


def export_path(location: str) -> Path:
    """Where the export of the model at `location` lives; retraining a model in place (new
    weight files) gives it a new path, so a stale export is never read."""
    digest = hashlib.sha256(str(location).encode())
    folder = Path(location)
    if folder.is_dir():
        for file in sorted(folder.iterdir()):
            if file.is_file():
                stat = file.stat()
                digest.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(f"{torch.__version__}:{ONNX_OPSET}:{GRAPH_RECIPE}".encode())
    return seoga_home() / ONNX_FOLDER / digest.hexdigest()[:16] / ONNX_FILE


class _LastHiddenState(torch.nn.Module):
    """Positional inputs in, the last hidden state out: the shape torch.onnx.export wants."""

    def __init__(self, model, input_names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        named = dict(zip(self.input_names, inputs, strict=True))
        return self.model(**named, return_dict=True).last_hidden_state


def export(model, features: dict[str, Any], input_names: list[str], path: Path) -> None:
    """Write the ONNX graph beside its final name, check it, then rename (atomic)."""
    partial = path.with_suffix(f".{os.getpid()}.partial")
    wrapper = _LastHiddenState(model, input_names).eval()
    inputs = tuple(features[name] for name in input_names)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with eager_attention(model), warnings.catch_warnings(), torch.inference_mode():
            # The tracer warns about Python branches on shapes that are fixed for BERT-like
            # encoders; the export is checked against PyTorch below instead.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                inputs,
                str(partial),
                input_names=input_names,
                output_names=[OUTPUT_NAME],
                dynamic_axes={name: DYNAMIC_AXES for name in [*input_names, OUTPUT_NAME]},
                opset_version=ONNX_OPSET,
                dynamo=False,
            )
            expected = wrapper(*inputs).numpy()
        fuse(partial, model.config)
        check_export(partial, features, input_names, expected)
        os.replace(partial, path)
    except OnnxUnavailableError:
        partial.unlink(missing_ok=True)
        raise
    # Any failure inside the exporter means the same thing to us: this model stays on PyTorch.
    except Exception as error:
        partial.unlink(missing_ok=True)
        raise OnnxUnavailableError(
            f"the ONNX export failed ({type(error).__name__}: {error})"
        ) from error


@contextmanager
def eager_attention(model) -> Iterator[None]:
    """The model with plain attention for a while (the same numbers as SDPA, other ops)."""
    previous = model.config._attn_implementation
    model.set_attn_implementation(EAGER_ATTENTION)
    try:
        yield
    finally:
        model.set_attn_implementation(previous)


def fuse(path: Path, config) -> None:
    """Rewrite the graph at `path` with ONNX Runtime's fused transformer kernels, in place.

    An architecture the optimizer does not know keeps its plain graph (with a warning); either
    way the graph is then checked against PyTorch.
    """
    from onnxruntime.transformers import optimizer

    try:
        fused = optimizer.optimize_model(
            str(path),
            model_type=FUSION_MODEL_TYPE,
            # 0 lets the optimizer read them from the graph.
            num_heads=getattr(config, "num_attention_heads", 0),
            hidden_size=getattr(config, "hidden_size", 0),
            opt_level=0,
        )
        fused.save_model_to_file(str(path))
    # The optimizer raises whatever its pattern matching trips on; any of it means "no fusion".
    except Exception as error:  # noqa: BLE001
        warnings.warn(
            f"ONNX Runtime could not fuse {path.name} ({type(error).__name__}: {error}); "
            "queries run on the plain graph.",
            RuntimeWarning,
            stacklevel=2,
        )


def check_export(
    path: Path, features: dict[str, Any], input_names: list[str], expected: np.ndarray
) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {name: features[name].numpy() for name in input_names}
    (got,) = session.run([OUTPUT_NAME], feed)
    gap = float(np.abs(got - expected).max())
    if gap > EXPORT_TOLERANCE:
        raise OnnxUnavailableError(f"the export differs from PyTorch by {gap:.2g}")
