"""Intermediate losses on token states and attention, over the real (unpadded) tokens only."""

from __future__ import annotations

import torch

from seoga.distill.losses.masks import masked_mean


def hidden_mse(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE of (batch, tokens, dim) states over the tokens the mask marks, every dimension.

    A student narrower than its teacher goes through a learned projection first (projections.py).
    """
    squared = ((student - teacher) ** 2).mean(-1)
    return masked_mean(squared, mask.bool())


def attention_kl(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """KL(teacher ‖ student) of attention probabilities (batch, heads, queries, keys), per row.

    On probabilities, as Hugging Face returns them with `output_attentions`: each row is a
    distribution over real keys, so padding needs no guess from the values (TextBrewer's score
    losses treat values ≤ −1e-3 as padding, which breaks on probabilities). Students with a
    different number of heads are compared on the heads' mean.
    """
    if student.shape[1] != teacher.shape[1]:
        student, teacher = student.mean(1, keepdim=True), teacher.mean(1, keepdim=True)
    keys = mask.bool()[:, None, None, :]
    rows = mask.bool()[:, None, :].expand(-1, student.shape[1], -1)
    tiny = torch.finfo(student.dtype).tiny
    terms = teacher * (torch.log(teacher.clamp_min(tiny)) - torch.log(student.clamp_min(tiny)))
    per_row = terms.masked_fill(~keys, 0).sum(-1)
    return masked_mean(per_row, rows)
