"""`seoga optimize`: a model folder made smaller and faster for CPU encoding.

Two steps, each optional: the vocabulary trimmed to what a corpus (and a base Korean/English
list) uses, then the transformer exported to ONNX Runtime with its kernels fused and its weights
quantised to int8 (dynamic quantisation: weights stored in int8, activations quantised on the
fly — ONNX Runtime's advice for transformers). The result is a normal sentence-transformers
folder (PyTorch still loads it, in float32) that also carries the graph and a `seoga-onnx.json`
naming it; seoga then encodes queries and passages through that graph. The int8 graph is
checked against the float32 model on sample texts, and a large drift is reported.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seoga.atomic import building, write_json_atomic
from seoga.errors import InputError
from seoga.models.onnx_queries import (
    STORED_MANIFEST,
    OnnxTransformer,
    OnnxUnavailableError,
    check_supported,
    export,
    model_inputs,
    quantize_int8,
)
from seoga.models.registry import resolve_model
from seoga.models.vocabulary import TrimReport, trim_vocabulary
from seoga.samples import sample_queries

GRAPH_FOLDER = "onnx"
FLOAT_GRAPH = "transformer.onnx"
INT8_GRAPH = "transformer-int8.onnx"
# Below this cosine between a sample's int8 and float32 vectors, the drift is worth a warning
# (int8 transformers usually stay above 0.99; Elastic's int8 mE5 lost up to 0.07 nDCG there).
DRIFT_WARNING = 0.98
SAMPLE_TEXTS = 64
DRIFT_DIGITS = 5


@dataclass
class OptimizeReport:
    """What `optimize` did: the folder, the vocabulary, the graph and how far it drifts."""

    out: Path
    source: str
    int8: bool
    vocabulary: TrimReport | None = None
    drift: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "source": self.source,
            "int8": self.int8,
            "vocabulary": self.vocabulary.to_dict() if self.vocabulary else None,
            "drift": self.drift,
            "sizes": self.sizes,
            "warnings": self.warnings,
        }


def drift(model: Any, graph: OnnxTransformer, texts: list[str]) -> dict[str, float]:
    """Cosine between the float32 PyTorch vectors and the graph's, over sample texts."""
    import torch

    features = model.preprocess(texts)
    with torch.inference_mode():
        expected = model(dict(features))["sentence_embedding"]
        got = graph.encode(model, dict(features))["sentence_embedding"]
    expected = torch.nn.functional.normalize(expected, dim=1).numpy()
    got = torch.nn.functional.normalize(got, dim=1).numpy()
    cosine = np.einsum("ij,ij->i", expected, got)
    return {
        "min_cosine": round(float(cosine.min()), DRIFT_DIGITS),
        "mean_cosine": round(float(cosine.mean()), DRIFT_DIGITS),
        "max_abs": round(float(np.abs(expected - got).max()), DRIFT_DIGITS),
    }


def _folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def optimize(
    model_name: str,
    out: Path,
    *,
    int8: bool = True,
    trim_texts: list[str] | None = None,
    base_vocabulary: bool = True,
    samples: list[str] | None = None,
    overwrite: bool = False,
) -> OptimizeReport:
    """Write an optimised copy of `model_name` (path or registry name) to `out`.

    `trim_texts`: keep only the vocabulary these texts use (plus the base list unless
    `base_vocabulary` is off); None keeps it whole. `samples`: texts for the drift check (the
    trimming texts, else a few built-in ones).
    """
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # seoga reports what it did; transformers' per-load and per-save bars are noise here.
    transformers_logging.disable_progress_bar()
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"{out} exists; choose another --out or pass --overwrite.")
    spec = resolve_model(model_name)
    if spec.backend != "sentence-transformers":
        raise InputError(f"{model_name} is not a transformer model; only those can be optimised.")
    model = SentenceTransformer(spec.location).eval()
    try:
        check_supported(model)
    except OnnxUnavailableError as reason:
        raise InputError(f"{model_name} cannot be exported to ONNX Runtime: {reason}.") from None
    report = OptimizeReport(out=out, source=spec.location, int8=int8)
    if trim_texts is not None:
        report.vocabulary = trim_vocabulary(model, trim_texts, base=base_vocabulary)
    sample = (samples or trim_texts or _default_samples())[:SAMPLE_TEXTS]
    input_names = model_inputs(model)
    backbone = model[0].auto_model
    with building(out) as folder:
        model.save(str(folder))
        graphs = folder / GRAPH_FOLDER
        graphs.mkdir(exist_ok=True)
        float_graph = graphs / FLOAT_GRAPH
        try:
            export(backbone, model.preprocess(["query"]), input_names, float_graph)
        except OnnxUnavailableError as reason:
            raise InputError(f"{model_name} could not be exported: {reason}.") from None
        graph_name = FLOAT_GRAPH
        if int8:
            quantize_int8(float_graph, graphs / INT8_GRAPH)
            float_graph.unlink()
            graph_name = INT8_GRAPH
        graph = OnnxTransformer.open(
            graphs / graph_name, input_names, model[0].module_output_name, threads=1
        )
        report.drift = drift(model, graph, sample)
        if report.drift["min_cosine"] < DRIFT_WARNING:
            message = (
                f"the optimised model's vectors drift from the float32 model's: cosine as low "
                f"as {report.drift['min_cosine']} on {len(sample)} sample texts; check its "
                "quality (seoga eval retrieval) before you index with it."
            )
            report.warnings.append(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        manifest = {"graph": f"{GRAPH_FOLDER}/{graph_name}", "inputs": input_names}
        manifest |= {key: value for key, value in report.to_dict().items() if key != "out"}
        write_json_atomic(folder / STORED_MANIFEST, manifest)
        report.sizes = {"model_folder": _folder_size(folder)}
        report.sizes["graph"] = (graphs / graph_name).stat().st_size
    report.sizes["source_folder"] = _folder_size(Path(spec.location))
    return report


def _default_samples() -> list[str]:
    return [query.text for query in sample_queries()]


def read_manifest(folder: Path) -> dict[str, Any]:
    """The optimisation record of a folder written by `optimize`."""
    path = Path(folder) / STORED_MANIFEST
    if not path.is_file():
        raise InputError(f"{folder} was not written by seoga optimize ({STORED_MANIFEST} missing).")
    return json.loads(path.read_text(encoding="utf-8"))
