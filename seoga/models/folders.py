"""The record (card) in every model folder seoga trains: what the model is and how it was made.

Readers, rerankers and distilled models all read and write it, so it sits at ground level.
"""

import json
from pathlib import Path
from typing import Any

from seoga.atomic import write_json_atomic
from seoga.errors import InputError, ModelUnavailableError

# Every model folder seoga trains records what it is and how it was made here.
CONFIG_NAME = "seoga_model.json"


def write_model_config(folder: Path, payload: dict[str, Any]) -> None:
    write_json_atomic(folder / CONFIG_NAME, payload)


def read_model_config(folder: Path, kind: str) -> dict[str, Any]:
    """The seoga record of a trained model folder, checking it holds a `kind` model."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelUnavailableError(f"{folder} is not a model folder (it does not exist).")
    path = folder / CONFIG_NAME
    if not path.exists():
        return {"kind": kind}
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"{path} cannot be read: {error}") from error
    if payload.get("kind", kind) != kind:
        raise InputError(
            f"{folder} holds a {payload.get('kind')} model, not a {kind} model; "
            f"train one with `seoga train {kind}`."
        )
    return payload
