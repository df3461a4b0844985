"""A recommender on disk: one folder, written beside its place and renamed into it.

    manifest.json       seoga version, model name, settings, seed, data fingerprint, metrics
    ids.json            raw user and item ids in index order
    arrays.safetensors  every learned array (factors, biases, the seen-items matrix, ...)
    state.json          anything else the model needs (feature vocabularies, text fields)

No pickle: a model folder can come from anyone and loading it runs no code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from seoga.atomic import building
from seoga.errors import InputError, ModelUnavailableError

KIND = "recommender"
MANIFEST, IDS, ARRAYS, STATE = "manifest.json", "ids.json", "arrays.safetensors", "state.json"
FORMAT = 1


def write_model_folder(
    out: Path,
    manifest: dict[str, Any],
    ids: dict[str, list[str]],
    arrays: dict[str, np.ndarray],
    state: dict[str, Any],
) -> None:
    with building(Path(out)) as folder:
        for name, payload in ((MANIFEST, manifest), (IDS, ids), (STATE, state)):
            (folder / name).write_text(
                json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        save_file(
            {name: np.ascontiguousarray(array) for name, array in arrays.items()}, folder / ARRAYS
        )


# manifest, ids, arrays, state
ModelFolder = tuple[dict[str, Any], dict[str, list[str]], dict[str, np.ndarray], dict[str, Any]]


def read_model_folder(path: Path) -> ModelFolder:
    path = Path(path)
    if not (path / MANIFEST).is_file():
        raise ModelUnavailableError(
            f"{path} is not a recommender folder (no {MANIFEST}); make one with "
            "`seoga recommend fit LOG --out FOLDER`."
        )
    manifest = _json(path / MANIFEST)
    if manifest.get("kind") != KIND:
        raise InputError(f"{path} holds a {manifest.get('kind')} model, not a recommender.")
    if manifest.get("format") != FORMAT:
        raise InputError(
            f"{path} was written in recommender format {manifest.get('format')}; this seoga "
            f"reads format {FORMAT}. Fit the model again with this version."
        )
    try:
        arrays = load_file(path / ARRAYS)
    except (OSError, ValueError) as error:
        raise InputError(f"{path / ARRAYS} cannot be read: {error}") from error
    return manifest, _json(path / IDS), arrays, _json(path / STATE)


def _json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"{path} cannot be read: {error}") from error
