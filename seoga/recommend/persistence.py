"""What every recommender writes beside its own parameters, and reads back: the shared state.

The manifest (seoga version, model name, settings, data, metrics), the seen-items matrix, item
popularity and which items were trained; `seoga.recommend.storage` puts them in the folder.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from seoga.errors import InputError
from seoga.recommend.storage import FORMAT, KIND
from seoga.version import __version__

# Rounding of the saved fit time: milliseconds are plenty for a figure people read.
FIT_SECONDS_DIGITS = 3


def manifest(
    name: str, settings: Any, data: dict, metrics: dict, fit_seconds: float
) -> dict[str, Any]:
    """The manifest of a fitted model (settings: its settings dataclass)."""
    return {
        "kind": KIND,
        "format": FORMAT,
        "seoga_version": __version__,
        "model": name,
        "settings": asdict(settings),
        "seed": settings.seed,
        "data": data,
        "metrics": metrics,
        "fit_seconds": round(fit_seconds, FIT_SECONDS_DIGITS),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def shared_arrays(
    seen: sparse.csr_matrix, popularity: np.ndarray, trained_items: np.ndarray
) -> dict[str, np.ndarray]:
    """The arrays every model saves: seen items (CSR parts), popularity, trained items."""
    return {
        "seen.indptr": seen.indptr.astype(np.int64),
        "seen.indices": seen.indices.astype(np.int64),
        "seen.data": seen.data.astype(np.float32),
        "popularity": popularity,
        "trained_items": trained_items.astype(np.uint8),
    }


def read_settings(settings_class: type, manifest: dict[str, Any], path: Path) -> Any:
    """The saved settings, or an InputError when this seoga does not know them."""
    try:
        return settings_class(**manifest["settings"])
    except TypeError as error:
        raise InputError(
            f"{path} was saved with settings this seoga does not know ({error}); "
            "fit the model again with this version."
        ) from error


def seen_matrix(arrays: dict[str, np.ndarray], n_users: int, n_items: int) -> sparse.csr_matrix:
    """The users × items seen matrix from its saved CSR parts."""
    return sparse.csr_matrix(
        (arrays["seen.data"], arrays["seen.indices"], arrays["seen.indptr"]),
        shape=(n_users, n_items),
    )
