"""Plain text files as logs and side tables come: their text, lines, JSONL objects, matrices.

The low-level reading that interaction logs, side tables and causal logs share: decoding (UTF-8,
else Latin-1), splitting on line ends only, one JSON object a line, header names compared loosely,
and dense whitespace-separated matrices. Nothing here knows what a column means.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from seoga.errors import InputError


def read_text(path: Path) -> str:
    """A table file's text: UTF-8 (with or without BOM), else Latin-1 (ML-100k, old exports)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return path.read_text(encoding="latin-1")
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error}") from error


def text_lines(text: str) -> list[str]:
    """Lines split on line ends only (str.splitlines also splits on \\x85, \\u2028, ...)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def json_objects(path: Path, text: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) per non-blank JSONL line; anything else is an InputError."""
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{number}: not a JSON object ({error.msg}).") from error
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: each line must be a JSON object.")
        yield number, record


def normalise_name(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "").replace(" ", "")


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_matrix(path: Path | str) -> np.ndarray:
    """A dense numeric matrix from a whitespace-separated text file, rows checked."""
    path = Path(path)
    rows = []
    width = None
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = [float(value) for value in line.split()]
            except ValueError:
                raise InputError(f"{path}:{number}: a matrix row holds numbers only.") from None
            if width is not None and len(row) != width:
                raise InputError(f"{path}:{number}: {len(row)} values where rows have {width}.")
            width = len(row)
            rows.append(row)
    if not rows:
        raise InputError(f"{path} holds no matrix rows.")
    return np.asarray(rows)
