"""LoRA (Hu et al. 2021) via peft: low-rank adapters on an encoder's attention and feed-forward
projections, chosen per architecture; kept as an adapter or merged into the weights."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from seoga.errors import InputError

ADAPTER_CONFIG = "adapter_config.json"
SAVE_MODES = ("merged", "adapter")
DEFAULT_LORA_DROPOUT = 0.1
PERCENT = 100
# Regular expressions over module names (peft matches them in full). Encoder layers only: a
# pooler's dense layer does not feed mean pooling, so adapting it would waste parameters.
TARGETS_BY_MODEL_TYPE: dict[str, str] = {
    "bert": r".*encoder\.layer\.\d+\..*(query|key|value|dense)$",
    "xlm-roberta": r".*encoder\.layer\.\d+\..*(query|key|value|dense)$",
    "roberta": r".*encoder\.layer\.\d+\..*(query|key|value|dense)$",
    "camembert": r".*encoder\.layer\.\d+\..*(query|key|value|dense)$",
    "electra": r".*encoder\.layer\.\d+\..*(query|key|value|dense)$",
    "distilbert": r".*transformer\.layer\.\d+\..*(q_lin|k_lin|v_lin|out_lin|lin1|lin2)$",
    "mpnet": r".*encoder\.layer\.\d+\..*(\.q|\.k|\.v|\.o|dense)$",
    "deberta-v2": r".*encoder\.layer\.\d+\..*(query_proj|key_proj|value_proj|dense)$",
    "t5": r".*block\.\d+\..*(\.q|\.k|\.v|\.o|wi|wi_0|wi_1|wo)$",
    "modernbert": r".*layers\.\d+\..*(Wqkv|Wo|Wi)$",
}
FALLBACK_TARGETS = "all-linear"


@dataclass
class LoraReport:
    """What LoRA changed: the rank, the targets and how many parameters train."""

    rank: int
    alpha: float
    targets: str
    trainable_parameters: int
    total_parameters: int

    @property
    def trainable_percent(self) -> float:
        return PERCENT * self.trainable_parameters / max(1, self.total_parameters)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "trainable_percent": round(self.trainable_percent, 4)}

    def describe(self) -> str:
        return (
            f"LoRA rank {self.rank}: {self.trainable_parameters:,} of "
            f"{self.total_parameters:,} parameters train ({self.trainable_percent:.2f} %)"
        )


def target_modules(model_type: str) -> str:
    """The modules LoRA adapts for a transformers `model_type` (every linear layer if unknown)."""
    return TARGETS_BY_MODEL_TYPE.get(model_type, FALLBACK_TARGETS)


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters of a torch module."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def apply_lora(
    model: Any, rank: int, *, alpha: float | None = None, dropout: float = DEFAULT_LORA_DROPOUT
) -> LoraReport:
    """Add LoRA adapters to the sentence-transformers model's encoder; only they train.

    Uses sentence-transformers' own `add_adapter`, so its checkpoints (and the trainer's
    best-checkpoint reload) handle the adapters natively.
    """
    from peft import LoraConfig

    if rank < 1:
        raise InputError(f"--lora-rank must be at least 1, got {rank}.")
    if not model.has_peft_compatible_model():
        raise InputError("LoRA needs a transformers encoder; this model has none.")
    targets = target_modules(model[0].config.model_type)
    alpha = float(alpha if alpha is not None else 2 * rank)
    config = LoraConfig(
        r=rank,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=targets,
        task_type="FEATURE_EXTRACTION",
    )
    model.add_adapter(config)
    trainable, total = count_parameters(model)
    return LoraReport(rank, alpha, targets, trainable, total)


def has_lora(model: Any) -> bool:
    from peft.tuners.tuners_utils import BaseTunerLayer

    return any(isinstance(module, BaseTunerLayer) for module in model.modules())


def merged_encoder(base: str, adapter_folder: str | Path) -> Any:
    """The base encoder with a saved adapter folded into its weights (peft's merge_and_unload)."""
    from peft import PeftModel
    from transformers import AutoModel

    if Path(base).is_absolute() and not Path(base).exists():
        raise InputError(
            f"{adapter_folder} is a LoRA adapter for {base}, which is not there any more; train "
            "again with --lora-save merged for a self-contained model."
        )
    return PeftModel.from_pretrained(
        AutoModel.from_pretrained(base), str(adapter_folder)
    ).merge_and_unload()


def is_adapter_folder(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_CONFIG).is_file()


def adapter_base(path: str | Path) -> str:
    """The base model folder (or hub id) an adapter folder was trained on."""
    config = json.loads((Path(path) / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    return config["base_model_name_or_path"]


def load_sentence_transformer(location: str) -> Any:
    """A sentence-transformers model from a folder; an adapter folder comes back merged, so it
    can be trained further (or given new adapters)."""
    from sentence_transformers import SentenceTransformer

    if not is_adapter_folder(location):
        return SentenceTransformer(location)
    encoder = merged_encoder(adapter_base(location), location)
    encoder.requires_grad_(True)  # peft froze the base weights; the merged model trains whole
    model = SentenceTransformer(location)
    model[0].model = encoder
    return model
