"""The mean over the entries a mask keeps, zero (still in the graph) when it keeps none."""

from __future__ import annotations

import torch


def masked_mean(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean of values[keep]; a batch with nothing to compare adds nothing to the loss."""
    kept = values[keep.expand_as(values)]
    if kept.numel() == 0:
        return values.sum() * 0
    return kept.mean()
