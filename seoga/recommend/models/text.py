"""Item (or user) texts as dense vectors, by a seoga embedder: the FM's multimodal block.

Vectors are cached by the model and the texts' content, so fitting again (another seed, another
block set) does not re-encode the catalogue.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from seoga.atomic import TEMP_MARKER
from seoga.models.embedders import load_embedder
from seoga.paths import seoga_home

CACHE_FOLDER = "recommend-text"
MANIFEST_NAME = "manifest.json"


def resolve_text_model(name: str) -> str:
    """A collection folder stands for its own main embedder; anything else is a model name."""
    manifest = Path(name) / MANIFEST_NAME
    if manifest.is_file():
        settings = json.loads(manifest.read_text(encoding="utf-8")).get("settings") or {}
        if settings.get("embedder"):
            return settings["embedder"]
    return name


def encode_texts(texts: list[str], model: str, *, show_progress: bool = False) -> np.ndarray:
    """(len(texts), dim) float32 L2-normalised vectors; an empty text gets a zero vector."""
    model = resolve_text_model(model)
    digest = hashlib.sha256(json.dumps([model, texts], ensure_ascii=False).encode()).hexdigest()
    cache = seoga_home() / CACHE_FOLDER / f"{digest[:24]}.npy"
    if cache.is_file():
        return np.load(cache, allow_pickle=False)
    present = [i for i, text in enumerate(texts) if text.strip()]
    embedder = load_embedder(model)
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    if present:
        encoded = embedder.encode_passages([texts[i] for i in present], show_progress=show_progress)
        vectors[present] = encoded
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(f"{cache.stem}{TEMP_MARKER}{os.getpid()}.npy")
    np.save(partial, vectors, allow_pickle=False)
    os.replace(partial, cache)
    return vectors
