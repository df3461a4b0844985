"""Output losses: soft labels from the teacher (Hinton et al. 2015), the teacher's raw logits
(the cross-encoder distillation of Hofstätter et al. 2020) and the gold labels.

A single-logit head (a cross-encoder's relevance) is read as two classes, [0, z], so that its
softmax is the sigmoid the model is trained with and one formula serves both head shapes.
"""

from __future__ import annotations

import torch
from torch.nn import functional


def _as_classes(logits: torch.Tensor) -> torch.Tensor:
    if logits.shape[-1] == 1:
        return torch.cat([torch.zeros_like(logits), logits], dim=-1)
    return logits


def soft_kd(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher ‖ student) of the temperature-softened distributions, times T².

    The T² factor keeps the soft term's gradients the same size whatever T is (Hinton et al.),
    so its weight beside the hard-label loss means the same at T=1 and T=8.
    """
    student_log = functional.log_softmax(_as_classes(student) / temperature, dim=-1)
    teacher_log = functional.log_softmax(_as_classes(teacher) / temperature, dim=-1)
    kl = functional.kl_div(student_log, teacher_log, log_target=True, reduction="batchmean")
    return kl * temperature**2


def logit_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of raw logits.

    A single relevance logit read through a sigmoid saturates: two pairs the teacher scores 4
    and 8 look alike to soft labels, but a reranker orders by the logit itself, so this loss
    matches the scale the ranking is read on.
    """
    return functional.mse_loss(student, teacher)


def hard_label(student: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with the gold labels (class ids, or 0/1 relevance for a single logit)."""
    if student.shape[-1] == 1:
        return functional.binary_cross_entropy_with_logits(student.squeeze(-1), labels.float())
    return functional.cross_entropy(student, labels.long())
