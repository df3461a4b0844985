"""The `recommend:` section of a grid file: its fields checked, the settings a grid may vary."""

from __future__ import annotations

from typing import Any

from seoga.errors import InputError

PROTOCOLS = ("top-n", "next-item")
RECOMMEND_FIELDS = frozenset(
    {
        "model", "protocol", "k", "columns", "settings", "implicit", "min_rating",
        "drop_repeats", "min_session_length", "min_item_support",
    }
)  # fmt: skip


def check_recommend(spec: dict[str, Any], where: str) -> dict[str, Any]:
    """The `recommend:` section of a grid file, checked; the model's setting names."""
    from seoga.recommend.registry import model_class

    if not isinstance(spec, dict) or "model" not in spec:
        raise InputError(f"{where}: a recommend grid needs `recommend:` with `model:`.")
    spec = dict(spec)
    spec.setdefault("protocol", "top-n")
    if spec["protocol"] not in PROTOCOLS:
        raise InputError(
            f"{where}: recommend protocol must be one of {', '.join(PROTOCOLS)}, "
            f"not {spec['protocol']!r}."
        )
    unknown = sorted(set(spec) - RECOMMEND_FIELDS)
    if unknown:
        raise InputError(
            f"{where}: unknown recommend options {unknown}; "
            f"use: {', '.join(sorted(RECOMMEND_FIELDS))}."
        )
    model_class(spec["model"])  # a clear error for an unknown model name
    return spec


def recommend_keys(model: str) -> tuple[str, ...]:
    """The settings a recommend grid may vary: the model's own."""
    from seoga.recommend.registry import model_class

    return tuple(model_class(model).settings_class.__dataclass_fields__)
