"""Sentence-vector losses: the student's pooled vector against the teacher's."""

from __future__ import annotations

import torch
from torch.nn import functional


def embedding_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean squared error over every dimension (sentence-transformers' MSELoss)."""
    return functional.mse_loss(student, teacher)


def embedding_cosine(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean of 1 − cos(student, teacher): direction only, which is what cosine search uses."""
    return (1 - functional.cosine_similarity(student, teacher, dim=-1)).mean()
