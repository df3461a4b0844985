"""Schedules for loss weights and temperatures: a value at training progress x ∈ [0, 1].

`constant` keeps the start value; `linear` goes from start to end. Written as data in a
config: `{"schedule": "linear", "start": 8, "end": 1}` or a plain number for a constant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seoga.errors import InputError


def _constant(start: float, end: float, progress: float) -> float:
    return start


def _linear(start: float, end: float, progress: float) -> float:
    return start + (end - start) * progress


def _cosine(start: float, end: float, progress: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * progress)) / 2


SCHEDULES: dict[str, Callable[[float, float, float], float]] = {
    "constant": _constant,
    "linear": _linear,
    "cosine": _cosine,
}


@dataclass(frozen=True)
class Schedule:
    """A named schedule between two values."""

    name: str = "constant"
    start: float = 1.0
    end: float = 1.0

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            known = ", ".join(SCHEDULES)
            raise InputError(f"unknown schedule {self.name!r}; known: {known}.")

    def at(self, progress: float) -> float:
        """The value at progress (clipped to [0, 1])."""
        return SCHEDULES[self.name](self.start, self.end, min(max(progress, 0.0), 1.0))

    def to_dict(self) -> dict[str, Any]:
        return {"schedule": self.name, "start": self.start, "end": self.end}


def schedule(value: float | dict[str, Any] | Schedule) -> Schedule:
    """A Schedule from a number (constant) or a config mapping."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Schedule("constant", float(value), float(value))
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"schedule", "start", "end"})
        if unknown:
            raise InputError(f"a schedule takes schedule, start, end; not {', '.join(unknown)}.")
        start = float(value.get("start", 1.0))
        return Schedule(
            str(value.get("schedule", "constant")), start, float(value.get("end", start))
        )
    raise InputError(f"a weight or temperature is a number or a schedule mapping, not {value!r}.")
