"""A training run's settings (`TrainConfig`, with the defaults sized for a laptop) and what it
returns (`TrainResult`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from seoga.errors import InputError
from seoga.models.registry import DEFAULT_EMBEDDER
from seoga.text.analyzers import DEFAULT_ANALYZER
from seoga.train.evaluators import DEFAULT_EVAL_CORPUS
from seoga.train.lora import SAVE_MODES, LoraReport

# Defaults sized for 2 CPU cores (README, "Training on a laptop").
DEFAULT_BATCH_SIZE = 16
DEFAULT_LR = 2e-5
DEFAULT_LORA_LR = 5e-4
DEFAULT_MAX_SEQ_LENGTH = 128
DEFAULT_EPOCHS = 1.0
DEFAULT_WARMUP = 0.1
DEFAULT_SEED = 42


@dataclass
class TrainConfig:
    """Everything one training run needs; `to_dict` goes into the card."""

    out: Path
    base: str = DEFAULT_EMBEDDER
    data: Path | None = None
    collection: Path | None = None
    format: str = "auto"
    split: str | None = None
    objective: str | None = None
    loss: str | None = None
    hard_negatives: int | None = None
    analyzer: str = DEFAULT_ANALYZER
    max_examples: int | None = None
    lora_rank: int = 0
    lora_alpha: float | None = None
    lora_save: str = "merged"
    seed: int = DEFAULT_SEED
    epochs: float = DEFAULT_EPOCHS
    max_steps: int | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    lr: float | None = None  # None: DEFAULT_LR, or DEFAULT_LORA_LR with LoRA
    warmup_ratio: float = DEFAULT_WARMUP
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH
    scale: float | None = None
    margin: float | None = None
    eval: Path | None = None
    eval_split: str | None = None
    eval_steps: int | None = None
    eval_corpus_size: int = DEFAULT_EVAL_CORPUS
    # Word embeddings stay as they are (LoRA keeps them anyway): e5-small's 250k-word table is
    # most of its weights, and updating it made a CoSENT step 1.2 times slower (README).
    freeze_embeddings: bool = True
    # Rows of like length batched together where the loss allows any batches (CoSENT,
    # contrastive, triplet): less padding, the same examples (seoga.train.sampling).
    group_by_length: bool = True
    overwrite: bool = False
    show_progress: bool = True

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.lora_save not in SAVE_MODES:
            raise InputError(f"--lora-save must be one of {', '.join(SAVE_MODES)}.")
        if self.batch_size < 1 or self.max_seq_length < 1:
            raise InputError("--batch-size and --max-length must be at least 1.")
        if self.max_steps is not None and self.max_steps < 1:
            raise InputError("--max-steps must be at least 1.")
        if self.epochs <= 0:
            raise InputError("--epochs must be positive.")
        if self.lora_rank < 0:
            raise InputError("--lora-rank must be 0 (no LoRA) or more.")

    @property
    def learning_rate(self) -> float:
        if self.lr is not None:
            return self.lr
        return DEFAULT_LORA_LR if self.lora_rank else DEFAULT_LR

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("show_progress")
        values.pop("overwrite")
        values["learning_rate"] = self.learning_rate
        return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


@dataclass
class TrainResult:
    out: Path
    card: dict[str, Any]
    lora: LoraReport | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
