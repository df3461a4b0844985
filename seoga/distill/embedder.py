"""Embedder students: their distiller, and `seoga distill embedder` as one call (teacher,
student, data, evaluation, distiller).

The student is a layer-dropped copy of the teacher (the default), an ALBERT-style model
(factorised embeddings, shared layers) or a fresh model from any Hugging Face config. Dev sets
(an STS pair file: Spearman; a BEIR folder: nDCG@10) score each epoch and pick the student kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seoga.distill.built_students import albert_student, fresh_student
from seoga.distill.cache import default_cache_dir
from seoga.distill.checkpoint import check_out
from seoga.distill.config import DistillationConfig, preset
from seoga.distill.data import distillation_texts
from seoga.distill.distiller import Distiller
from seoga.distill.losses import LOSSES
from seoga.distill.students import depth, kept_layers, layer_dropped
from seoga.distill.training import (
    ATTENTION_FEATURE,
    EMBEDDING_FEATURE,
    DistillResult,
    Forward,
    TrainingConfig,
    backbone,
)
from seoga.errors import InputError
from seoga.models.embedders import TransformerEmbedder
from seoga.models.registry import DEFAULT_EMBEDDER, resolve_model
from seoga.train.evaluators import build_evaluator, primary_score

STUDENT_KINDS = ("layers", "albert")


class EmbedderDistiller(Distiller):
    """Distils a sentence-transformers teacher into a sentence-transformers student.

    Both models read the texts as given (the caller adds the prompts seoga encodes with), so
    the student learns the teacher's map from text to vector.
    """

    output_feature = EMBEDDING_FEATURE
    kind = "embedder"

    def __init__(self, teacher: Any, student: Any, config: DistillationConfig, *args, **kwargs):
        if any(LOSSES[match.loss].feature == ATTENTION_FEATURE for match in config.matches):
            raise InputError(
                "attention matches are for reranker students (sentence-transformers runs "
                "fused attention, which returns no probabilities); use hidden or relation matches."
            )
        super().__init__(teacher, student, config, *args, **kwargs)

    def _prepare(self) -> None:
        for model in (self.teacher, self.student):
            model.max_seq_length = self.training.max_seq_length
            backbone(model).config.output_hidden_states = bool(self.config.matches)

    def _targets(self, examples: list[str]) -> torch.Tensor:
        def encode(missing: list[str]) -> np.ndarray:
            return self.teacher.encode(
                missing, batch_size=self.training.batch_size, convert_to_numpy=True
            )

        return torch.from_numpy(self.cache.vectors(examples, encode))

    def _features(self, examples: list[str]) -> dict[str, Any]:
        return dict(self.student.preprocess(examples))

    def _forward(
        self, model: Any, features: dict[str, Any], *, layers: bool, attentions: bool
    ) -> Forward:
        if model is self.teacher:
            # Only the teacher's layers are needed: the transformer alone runs.
            output = model[0](dict(features))
            return Forward(
                output["token_embeddings"],
                features["attention_mask"],
                output["all_layer_embeddings"],
            )
        output = model(dict(features))
        hidden = output.get("all_layer_embeddings", ()) if layers else ()
        return Forward(output["sentence_embedding"], features["attention_mask"], hidden)

    def fit(self, texts: list[str], out: Path, **kwargs) -> DistillResult:
        """Train on `texts` (deduplicated, blank ones dropped); see `Distiller.fit`."""
        texts = list(dict.fromkeys(text for text in texts if text.strip()))
        if not texts:
            raise InputError("no text to distil on: give passages or sentences.")
        return super().fit(texts, out, **kwargs)


@dataclass
class EmbedderRequest:
    """Everything `distill_embedder` needs; the CLI fills it from its options."""

    data: list[Path]
    out: Path
    teacher: str = DEFAULT_EMBEDDER
    student: str = "layers"
    student_layers: int = 4
    keep: str | None = None
    losses: str = "mse"
    match_weight: float = 1.0
    config: Path | None = None
    embedding_size: int = 128
    share_layers: str = "all"
    evaluate: list[Path] = field(default_factory=list)
    eval_split: str | None = None
    training: TrainingConfig = field(default_factory=TrainingConfig)
    max_texts: int | None = None
    sentence_queries: bool = True
    cache_dir: Path | None = None
    overwrite: bool = False
    show_progress: bool = True


def prompts_of(model: Any) -> dict[str, str]:
    """The query and passage prompts a sentence-transformers model was saved with."""
    return TransformerEmbedder._prompts_from_config(model.prompts)


def load_teacher(name: str) -> tuple[Any, str]:
    """The teacher as a sentence-transformers model, and where it was loaded from."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # seoga shows its own progress; transformers' per-load and per-save bars are noise here.
    transformers_logging.disable_progress_bar()
    spec = resolve_model(name)
    if spec.backend != "sentence-transformers":
        raise InputError(f"{name} is not a transformer model; it cannot teach a student.")
    return SentenceTransformer(spec.location).eval(), spec.location


def make_student(teacher: Any, request: EmbedderRequest) -> tuple[Any, list[int]]:
    """The student and the teacher layers it stands for (1-based, for layer matches)."""
    keep = kept_layers(request.keep, depth(backbone(teacher)), request.student_layers)
    if request.student == "layers":
        return layer_dropped(teacher, keep), keep
    if request.student == "albert":
        return albert_student(teacher, keep, request.embedding_size, request.share_layers), keep
    config_path = Path(request.student)
    if config_path.is_file() or (config_path / "config.json").is_file():
        return fresh_student(teacher, config_path), keep
    raise InputError(
        f"--student is {', '.join(STUDENT_KINDS)} or a Hugging Face config.json; "
        f"got {request.student!r}."
    )


def evaluation(paths: list[Path], split: str | None, prompts: dict[str, str]):
    """A function scoring a model on every dev set (the first set's metric picks the best
    epoch), or None without dev sets."""
    evaluators = [build_evaluator(path, split, prompts=prompts) for path in paths]
    if not evaluators:
        return None

    def evaluate(model: Any) -> dict[str, float]:
        scores = {}
        for evaluator in evaluators:
            name, value, _all = primary_score(evaluator, model)
            scores[name] = value
        return scores

    return evaluate


def distill_embedder(request: EmbedderRequest) -> DistillResult:
    """Distil the teacher into a student folder at `request.out` (the best epoch, with a card)."""
    check_out(request.out, request.overwrite)
    if not request.data:
        raise InputError("give distillation text with --data (a collection, folder or table).")
    teacher, location = load_teacher(request.teacher)
    prompts = prompts_of(teacher)
    texts = distillation_texts(
        request.data,
        prompts,
        sentence_queries=request.sentence_queries,
        max_texts=request.max_texts,
        seed=request.training.seed,
    )
    student, keep = make_student(teacher, request)
    if request.config is not None:
        config = DistillationConfig.from_file(request.config)
    else:
        config = preset(request.losses, keep, match_weight=request.match_weight)
    evaluate = evaluation(request.evaluate, request.eval_split, prompts)
    distiller = EmbedderDistiller(
        teacher,
        student,
        config,
        request.training,
        teacher_name=location,
        cache_dir=request.cache_dir or default_cache_dir(),
    )
    return distiller.fit(
        texts,
        request.out,
        evaluate=evaluate,
        show_progress=request.show_progress,
        data_sources=[str(path) for path in request.data],
        student_kind=request.student,
    )
