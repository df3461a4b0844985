"""Teacher outputs computed once and kept on disk, reused across epochs and runs.

On 2 CPUs the teacher's forward pass is most of a distillation's cost, so each text's teacher
vector is stored under the text's digest. A cache folder belongs to one teacher output (the
caller names it, e.g. the teacher's path and "embedding"). New vectors go to a new part: its
safetensors file first, then the JSON list of digests that makes it count, each written beside
and renamed, so an interrupted run loses at most the part it was writing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from seoga.atomic import TEMP_MARKER, write_json_atomic
from seoga.paths import seoga_home

PART_DIGITS = 6
CACHE_FOLDER = "distill-cache"
VECTORS_KEY = "vectors"


def default_cache_dir() -> Path:
    """Where teacher outputs are cached unless a caller names a folder: under seoga's home."""
    return seoga_home() / CACHE_FOLDER


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TeacherCache:
    """Vectors by text for one teacher output, in `folder/<digest of the teacher key>/`."""

    def __init__(self, folder: Path, teacher_key: str) -> None:
        self.folder = Path(folder) / text_digest(teacher_key)[:16]
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.folder / "teacher.json", {"teacher": teacher_key})
        self._rows: dict[str, np.ndarray] = {}
        for listing in sorted(self.folder.glob("part-*.json")):
            self._load(listing)

    def _load(self, listing: Path) -> None:
        from safetensors.numpy import load_file

        digests = json.loads(listing.read_text(encoding="utf-8"))["digests"]
        vectors = load_file(str(listing.with_suffix(".safetensors")))[VECTORS_KEY]
        self._rows.update(zip(digests, vectors, strict=True))

    def __len__(self) -> int:
        return len(self._rows)

    def vectors(
        self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]
    ) -> np.ndarray:
        """The texts' vectors (float32, one row each), encoding and storing only unseen texts."""
        digests = [text_digest(text) for text in texts]
        missing = {digest: text for digest, text in zip(digests, texts, strict=True)}
        missing = {digest: text for digest, text in missing.items() if digest not in self._rows}
        if missing:
            encoded = np.asarray(encode(list(missing.values())), dtype=np.float32)
            self._store(list(missing), encoded)
        return np.stack([self._rows[digest] for digest in digests])

    def _store(self, digests: list[str], vectors: np.ndarray) -> None:
        from safetensors.numpy import save_file

        number = len(list(self.folder.glob("part-*.json")))
        listing = self.folder / f"part-{number:0{PART_DIGITS}d}.json"
        tensors = listing.with_suffix(".safetensors")
        temp = tensors.with_name(f"{tensors.name}{TEMP_MARKER}{os.getpid()}")
        save_file({VECTORS_KEY: np.ascontiguousarray(vectors)}, str(temp))
        os.replace(temp, tensors)
        write_json_atomic(listing, {"digests": digests})
        self._rows.update(zip(digests, vectors, strict=True))
