"""What the distillation loop (distiller.py) works with: how the student trains
(`TrainingConfig`), what a run gives back (`DistillResult`), what a model gives for a batch
(`Forward`) and the names of its features, and how the rows are seeded and batched."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from seoga.train.sampling import MEGABATCH_BATCHES

CARD_NAME = "distill.json"
EMBEDDING_FEATURE = "embedding"
LOGITS_FEATURE = "logits"
LABELS_FEATURE = "labels"
ATTENTION_FEATURE = "attention"


@dataclass(frozen=True)
class TrainingConfig:
    """How the student trains: TextBrewer's advice is a higher rate than fine-tuning (1e-4)."""

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup: float = 0.1
    seed: int = 0
    max_seq_length: int = 128
    # The token embeddings (most of a multilingual model's weights) stay the teacher's: each
    # step then updates a fifth of mE5-small's parameters, and unseen tokens keep their meaning.
    freeze_embeddings: bool = True
    # The modules after the encoder (a reranker's scoring head) learn at this rate when set:
    # a shallower encoder hands the teacher's head states of another scale to read.
    head_learning_rate: float | None = None


@dataclass
class DistillResult:
    out: Path
    epochs: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    seconds: float = 0.0
    card: dict[str, Any] = field(default_factory=dict)
    resumed_from_epoch: int = 0


@dataclass
class Forward:
    """What a model gives for a batch: its output, the token mask and, when asked, its layers
    (hidden states, 0 = the embeddings) and attention probabilities (0 = the first layer)."""

    output: torch.Tensor
    mask: torch.Tensor
    hidden: Sequence[torch.Tensor] = ()
    attentions: Sequence[torch.Tensor] = ()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch alike, so that a run repeats."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def grouped_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Batches of rows of like length, in random order (seoga.train.sampling's grouping).

    A model pads each batch to its longest text: with passages among short sentences, random
    batches would compute mostly padding.
    """
    order = rng.permutation(len(lengths))
    megabatch = batch_size * MEGABATCH_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, len(order), megabatch):
        group = order[start : start + megabatch]
        group = group[np.argsort(-lengths[group], kind="stable")]
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    return [batches[position] for position in rng.permutation(len(batches))]


def backbone(model: Any) -> nn.Module:
    """The Hugging Face encoder inside a sentence-transformers model or cross-encoder."""
    return model[0].auto_model
