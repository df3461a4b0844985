"""The model folder a training run writes: built in a staging folder beside its destination,
saved (LoRA as an adapter or merged), and renamed into place, so that an interrupted run leaves
nothing half-made; its card (`seoga-train.json`) read back."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from seoga.atomic import TEMP_MARKER, fsync_tree
from seoga.errors import InputError
from seoga.train.lora import adapter_base, merged_encoder

CARD_NAME = "seoga-train.json"


def staging_folder(out: Path, overwrite: bool) -> Path:
    """An empty folder beside `out` to build the model in (one left by a crash is cleared)."""
    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists; choose another --out, or pass --overwrite.")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}{TEMP_MARKER}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def publish(staging: Path, out: Path) -> None:
    """Rename the finished folder into place; an older one is swapped out and then deleted."""
    fsync_tree(staging)
    if out.exists():
        retired = out.parent / f".{out.name}.old{TEMP_MARKER}{os.getpid()}"
        os.replace(out, retired)
        os.replace(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out)


def save_model(model: Any, folder: Path, *, lora_save: str | None) -> None:
    """Save as a sentence-transformers folder; LoRA either as an adapter (small, needs the base
    model where it was) or merged into the weights (self-contained)."""
    merge = lora_save == "merged"
    # The model card (README.md) is written once, with the final weights.
    model.save(str(folder), create_model_card=not merge)
    if not merge:
        return

    base = adapter_base(folder)
    model[0].model = merged_encoder(base, folder)
    for name in ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin"):
        (folder / name).unlink(missing_ok=True)
    model.save(str(folder))


def read_card(folder: str | Path) -> dict[str, Any] | None:
    """The training card of a seoga-trained model folder, or None."""
    path = Path(folder) / CARD_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
