"""Where trained answer models live on disk: a folder, written beside and renamed into place."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seoga.errors import InputError, ModelUnavailableError
from seoga.index.generations import write_json_atomic

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


def quiet_unless(trainer, show_progress: bool) -> None:
    """Without progress bars a Trainer prints its logs to stdout; keep stdout for --json."""
    from transformers.trainer_callback import PrinterCallback

    if not show_progress:
        trainer.remove_callback(PrinterCallback)


@contextmanager
def transformers_quiet() -> Iterator[None]:
    """Hide transformers' warnings (such as the load report of a new, untrained head)."""
    from transformers.utils import logging

    before = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(before)
