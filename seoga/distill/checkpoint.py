"""A distillation's state after an epoch, so that an interrupted run resumes where it stopped.

The student's and projections' weights, the optimizer's moments and the random generators'
states go to safetensors; the step, the epochs' records and the scheduler's counters to JSON.
The folder is written beside and renamed (atomic); a finished run deletes it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seoga.atomic import building, write_json_atomic
from seoga.errors import InputError

STATE_NAME = "state.json"
WEIGHTS_NAME = "weights.safetensors"
OPTIMIZER_NAME = "optimizer.safetensors"
RNG_KEY = "torch_rng"
SUFFIX = ".checkpoint"


def folder_for(out: Path) -> Path:
    """Where the checkpoint of a run writing `out` lives: beside it."""
    return Path(out).with_name(Path(out).name + SUFFIX)


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in [*tensors.items(), *meta["scalars"].items()]:
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save(
    out: Path,
    trained: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    progress: dict[str, Any],
) -> None:
    """Write the state after an epoch (`progress`: epoch, step, best score, records, run key)."""
    from safetensors.torch import save_file, save_model

    with building(folder_for(out)) as folder:
        save_model(trained, str(folder / WEIGHTS_NAME))
        tensors, meta = _flatten_optimizer(optimizer.state_dict())
        tensors[RNG_KEY] = torch.get_rng_state()
        save_file(tensors, str(folder / OPTIMIZER_NAME))
        scheduler_state = {
            key: value for key, value in scheduler.state_dict().items() if key != "lr_lambdas"
        }
        write_json_atomic(
            folder / STATE_NAME,
            {"progress": progress, "optimizer": meta, "scheduler": scheduler_state},
        )


def load(
    out: Path,
    trained: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    run_key: str,
) -> dict[str, Any] | None:
    """Restore the state a run with the same `run_key` left; None when there is none."""
    from safetensors.torch import load_file, load_model

    folder = folder_for(out)
    if not (folder / STATE_NAME).is_file():
        return None
    saved = json.loads((folder / STATE_NAME).read_text(encoding="utf-8"))
    if saved["progress"].get("run_key") != run_key:
        return None
    load_model(trained, str(folder / WEIGHTS_NAME))
    tensors = load_file(str(folder / OPTIMIZER_NAME))
    torch.set_rng_state(tensors.pop(RNG_KEY))
    optimizer.load_state_dict(_unflatten_optimizer(tensors, saved["optimizer"]))
    scheduler.load_state_dict({**scheduler.state_dict(), **saved["scheduler"]})
    return saved["progress"]


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse to replace a finished student unasked; an interrupted run's folder resumes."""
    if Path(out).exists() and not overwrite and not folder_for(out).exists():
        raise InputError(f"{out} exists; choose another --out or pass --overwrite.")


def remove(out: Path) -> None:
    shutil.rmtree(folder_for(out), ignore_errors=True)
