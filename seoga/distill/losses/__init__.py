"""Named distillation losses: each name, the feature it compares, and the function.

Features: `logits` (the head's outputs), `embedding` (pooled sentence vectors), `hidden`
(token states of matched layers), `attention` (attention probabilities of matched layers),
`layers` (all matched layers at once, for the layer-transforming relations), and `labels`
(gold labels, no teacher).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seoga.distill.losses.embedding import embedding_cosine, embedding_mse
from seoga.distill.losses.hidden import attention_kl, hidden_mse
from seoga.distill.losses.kd import hard_label, logit_mse, soft_kd
from seoga.distill.losses.relation import ltr_angle, ltr_distance, wr_angle, wr_distance
from seoga.errors import InputError


@dataclass(frozen=True)
class LossUnit:
    """A loss by name: what it compares and how."""

    name: str
    feature: str
    function: Callable
    summary: str
    # Whether the function takes the distillation temperature after the two outputs.
    tempered: bool = False


LOSSES = {
    unit.name: unit
    for unit in (
        LossUnit("soft-kd", "logits", soft_kd, "KL of temperature-softened outputs, × T²", True),
        LossUnit("logit-mse", "logits", logit_mse, "MSE of raw logits (Hofstätter et al.)"),
        LossUnit("hard-label", "labels", hard_label, "cross-entropy with the gold labels"),
        LossUnit("mse", "embedding", embedding_mse, "MSE of sentence vectors"),
        LossUnit("cosine", "embedding", embedding_cosine, "1 − cos of sentence vectors"),
        LossUnit("hidden-mse", "hidden", hidden_mse, "MSE of token states through a layer map"),
        LossUnit("attention", "attention", attention_kl, "KL of attention probabilities"),
        LossUnit("wr-dist", "hidden", wr_distance, "word-relation distance (Park et al.)"),
        LossUnit("wr-angle", "hidden", wr_angle, "word-relation angle, windowed"),
        LossUnit("ltr-dist", "layers", ltr_distance, "layer-transforming distance"),
        LossUnit("ltr-angle", "layers", ltr_angle, "layer-transforming angle"),
    )
}
# Short names a user can write for a family of losses.
ALIASES = {"ltr": ("ltr-dist", "ltr-angle"), "wr": ("wr-dist", "wr-angle")}


def loss_units(names: str | list[str]) -> list[LossUnit]:
    """The units for comma-separated names (aliases expanded, each once, in order)."""
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    expanded: list[str] = []
    for name in names:
        for member in ALIASES.get(name, (name,)):
            if member not in LOSSES:
                known = ", ".join([*LOSSES, *ALIASES])
                raise InputError(f"unknown distillation loss {member!r}; known: {known}.")
            if member not in expanded:
                expanded.append(member)
    return [LOSSES[name] for name in expanded]


__all__ = ["ALIASES", "LOSSES", "LossUnit", "loss_units"]
