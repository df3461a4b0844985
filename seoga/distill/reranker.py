"""Reranker students: a cross-encoder distilled from a trained one (`seoga distill reranker`).

The student learns the teacher's raw relevance logits and its hidden states through a layer
map by default; soft labels at a temperature (× T²), the gold labels (hard labels) and
attention probabilities are there to ask for. Pairs come as for `seoga train reranker`:
positives from a BEIR split's qrels with negatives mined by BM25, or a JSONL of labelled pairs.
Some queries are held out: their candidates score each epoch (reranking nDCG@10, which picks
the student kept) and then fit the student's temperature, so its probabilities are calibrated
like the teacher's; the ECE before and after is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seoga.atomic import write_json_atomic
from seoga.distill.cache import default_cache_dir
from seoga.distill.checkpoint import check_out
from seoga.distill.config import DistillationConfig, preset
from seoga.distill.distiller import Distiller
from seoga.distill.students import depth, kept_layers, layer_dropped
from seoga.distill.training import (
    CARD_NAME,
    LABELS_FEATURE,
    LOGITS_FEATURE,
    DistillResult,
    Forward,
    TrainingConfig,
    backbone,
)
from seoga.errors import InputError
from seoga.models.folders import read_model_config, write_model_config
from seoga.models.onnx_queries import EAGER_ATTENTION, MODEL_INPUTS
from seoga.rerank.training import (
    PAIRS_SUFFIX,
    RELEVANT,
    Pair,
    RerankerTrainingConfig,
    calibrate_on,
    mine_pairs,
    read_pairs,
    split_by_query,
)

KIND = "reranker"
# Best of the recipes measured on SciFact (BENCHMARKS.md "Reranker student"): the student alone
# reached nDCG@10 0.41 with these, 0.31 with soft-kd + hard-label.
DEFAULT_LOSSES = "logit-mse,hidden-mse"
# Joins a pair into one cache key; never part of a query or passage text.
PAIR_SEPARATOR = "\x1f"
RERANK_AT = 10


class RerankerDistiller(Distiller):
    """Distils a sentence-transformers cross-encoder into a smaller one."""

    output_feature = LOGITS_FEATURE
    term_features = (LOGITS_FEATURE, LABELS_FEATURE)
    kind = KIND

    def _example_key(self, pair: Pair) -> str:
        return f"{pair.query}{PAIR_SEPARATOR}{pair.passage}"

    def _prepare(self) -> None:
        for model in (self.teacher, self.student):
            model[0].max_seq_length = self.training.max_seq_length
            if self.needs_attention:
                # Fused attention returns no probabilities; the plain kernel computes the same.
                backbone(model).set_attn_implementation(EAGER_ATTENTION)

    def _targets(self, pairs: list[Pair]) -> torch.Tensor:
        def score(keys: list[str]) -> np.ndarray:
            logits = self.teacher.predict(
                [tuple(key.split(PAIR_SEPARATOR, 1)) for key in keys],
                batch_size=self.training.batch_size,
                activation_fn=torch.nn.Identity(),
                show_progress_bar=False,
            )
            return np.asarray(logits, dtype=np.float32).reshape(len(keys), -1)

        keys = [self._example_key(pair) for pair in pairs]
        return torch.from_numpy(self.cache.vectors(keys, score))

    def _labels(self, pairs: list[Pair]) -> torch.Tensor:
        return torch.tensor([pair.label for pair in pairs], dtype=torch.float32)

    def _features(self, pairs: list[Pair]) -> dict[str, Any]:
        return dict(self.student.preprocess([(pair.query, pair.passage) for pair in pairs]))

    def _forward(
        self, model: Any, features: dict[str, Any], *, layers: bool, attentions: bool
    ) -> Forward:
        encoder = backbone(model)
        inputs = {name: features[name] for name in MODEL_INPUTS if name in features}
        outputs = encoder(
            **inputs, output_hidden_states=layers, output_attentions=attentions, return_dict=True
        )
        if getattr(outputs, "logits", None) is not None:
            scores = outputs.logits
        else:
            # A mean-pooled encoder with a linear head: the later modules score the states.
            states = {**features, model[0].module_output_name: outputs.last_hidden_state}
            for module in list(model)[1:]:
                states = module(states)
            scores = states["scores"]
        return Forward(
            scores.reshape(len(features["input_ids"]), -1),
            features["attention_mask"],
            outputs.hidden_states or (),
            outputs.attentions or (),
        )


@dataclass
class RerankerRequest:
    """Everything `distill_reranker` needs; the CLI fills it from its options."""

    teacher: Path
    data: Path
    out: Path
    split: str = "train"
    student_layers: int = 4
    keep: str | None = None
    losses: str | None = None  # None: DEFAULT_LOSSES
    match_weight: float = 1.0
    config: Path | None = None
    temperature: float = 1.0
    negatives: int = 4
    max_queries: int | None = None
    held_out: float = 0.1
    training: TrainingConfig = field(default_factory=TrainingConfig)
    cache_dir: Path | None = None
    overwrite: bool = False
    show_progress: bool = True


def read_training_pairs(request: RerankerRequest) -> list[Pair]:
    """Pairs from a BEIR folder (qrels + BM25-mined negatives) or a JSONL file of pairs."""
    data = Path(request.data)
    if data.is_dir():
        mining = RerankerTrainingConfig(
            split=request.split,
            negatives=request.negatives,
            max_queries=request.max_queries,
            seed=request.training.seed,
        )
        return mine_pairs(data, mining, show_progress=request.show_progress)
    if data.suffix == PAIRS_SUFFIX and data.is_file():
        return read_pairs(data)
    raise InputError(f"{data} is neither a BEIR-layout folder nor a {PAIRS_SUFFIX} file of pairs.")


def reranking_evaluator(held: list[Pair], batch_size: int):
    """nDCG@10 of the held-out queries' candidates, each reordered by the model."""
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator

    samples: dict[str, dict[str, Any]] = {}
    for pair in held:
        sample = samples.setdefault(
            pair.group, {"query": pair.query, "positive": [], "documents": []}
        )
        sample["documents"].append(pair.passage)
        if pair.label >= RELEVANT:
            sample["positive"].append(pair.passage)
    judged = [sample for sample in samples.values() if sample["positive"]]
    if not judged:
        return None
    evaluator = CrossEncoderRerankingEvaluator(
        judged, at_k=RERANK_AT, batch_size=batch_size, name="held-out", write_csv=False
    )

    def evaluate(model: Any) -> dict[str, float]:
        metrics = evaluator(model)
        return {evaluator.primary_metric: float(metrics[evaluator.primary_metric])}

    return evaluate


def distill_reranker(request: RerankerRequest) -> DistillResult:
    """Distil a reranker folder into a smaller one at `request.out`, calibrated on the
    held-out pairs."""
    from sentence_transformers.cross_encoder import CrossEncoder

    check_out(request.out, request.overwrite)
    teacher_config = read_model_config(Path(request.teacher), KIND)
    teacher = CrossEncoder(str(request.teacher)).eval()
    keep = kept_layers(request.keep, depth(backbone(teacher)), request.student_layers)
    student = layer_dropped(teacher, keep)
    if request.config is not None:
        config = DistillationConfig.from_file(request.config)
    else:
        config = preset(
            request.losses or DEFAULT_LOSSES,
            keep,
            temperature=request.temperature,
            match_weight=request.match_weight,
        )
    pairs = read_training_pairs(request)
    train, held = split_by_query(pairs, request.held_out, request.training.seed)
    distiller = RerankerDistiller(
        teacher,
        student,
        config,
        request.training,
        teacher_name=str(Path(request.teacher).resolve()),
        cache_dir=request.cache_dir or default_cache_dir(),
    )
    result = distiller.fit(
        train,
        request.out,
        evaluate=reranking_evaluator(held, request.training.batch_size),
        show_progress=request.show_progress,
        data_sources=[str(request.data)],
    )
    best = CrossEncoder(str(request.out)).eval()
    record = {
        "kind": KIND,
        "max_length": request.training.max_seq_length,
        "distilled_from": str(Path(request.teacher).resolve()),
        "teacher_scaling": teacher_config.get("scaling"),
        "train_pairs": len(train),
        "held_out_pairs": len(held),
        **calibrate_on(best, held, request.training.batch_size),
    }
    write_model_config(request.out, record)
    result.card["calibration"] = {
        key: record[key] for key in record if key.startswith("held_out_ece") or key == "scaling"
    }
    write_json_atomic(request.out / CARD_NAME, result.card)
    return result
