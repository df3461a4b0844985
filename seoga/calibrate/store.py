"""A collection's fitted calibration: one small JSON file beside its manifest.

Entries are keyed by component (a reader's or reranker's calibration key). Writes hold the
collection's writer lock and replace the file atomically, so `ask` never reads half a file.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from seoga.atomic import write_json_atomic
from seoga.calibrate.temperature import TemperatureScaling
from seoga.errors import CollectionError
from seoga.index.generations import writer_lock

CALIBRATION_NAME = "calibration.json"
READERS = "readers"
RERANKERS = "rerankers"


@dataclass
class FittedCalibration:
    """Temperature scaling for one component, the abstention threshold and how it was fitted."""

    scaling: TemperatureScaling
    threshold: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"scaling": self.scaling.to_dict(), "threshold": self.threshold, **self.details}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> "FittedCalibration":
        details = {k: v for k, v in payload.items() if k not in ("scaling", "threshold")}
        return cls(
            TemperatureScaling.from_dict(payload.get("scaling", {})),
            float(payload.get("threshold", 0.0)),
            details,
        )


def read_calibration(root: Path) -> dict[str, dict[str, Any]]:
    path = Path(root) / CALIBRATION_NAME
    if not path.exists():
        return {READERS: {}, RERANKERS: {}}
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CollectionError(
            f"{path} cannot be read ({error}); delete it and run `seoga calibrate` again."
        ) from error
    payload.setdefault(READERS, {})
    payload.setdefault(RERANKERS, {})
    return payload


def find_calibration(root: Path, group: str, key: str) -> FittedCalibration | None:
    entry = read_calibration(root)[group].get(key)
    return FittedCalibration.from_dict(entry) if entry else None


def store_calibration(root: Path, group: str, key: str, fitted: FittedCalibration) -> Path:
    """Record `fitted` for component `key`, keeping every other entry."""
    root = Path(root)
    with writer_lock(root):
        payload = read_calibration(root)
        payload[group][key] = fitted.to_dict()
        write_json_atomic(root / CALIBRATION_NAME, payload)
    return root / CALIBRATION_NAME


def fitted_summary(fitted: FittedCalibration) -> dict[str, Any]:
    return asdict(fitted.scaling) | {"threshold": fitted.threshold}
