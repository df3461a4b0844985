"""Relation losses of Park, Kim & Yang (EMNLP 2021, "Distilling Linguistic Context").

Word relation (WR): how a sentence's tokens relate to each other in one layer. Layer-transforming
relation (LTR): how one token's state relates to itself across the matched layers. Both compare
relations, not states, so a 384-wide student needs no projection to a wider teacher.

Distances are cosine similarities turned into a distribution per row (self excluded) and matched
by KL; angles are cos∠(h_j − h_i, h_k − h_i) matched by mean squared error. Angles come from the
Gram matrix (⟨h_j − h_i, h_k − h_i⟩ = G_jk − G_ij − G_ik + G_ii), so a window of w neighbours
costs n·w² numbers rather than the reference code's n·w²·d.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional

from seoga.distill.losses.masks import masked_mean

# CKD's default: a token's angles use the 10 tokens on each side.
DEFAULT_WINDOW = 21
# Squared distances below this are "the same point"; the angle there is taken as 0.
SAME_POINT = 1e-12


def _distance_kl(student: torch.Tensor, teacher: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Rows of cosine similarities over (..., m, d) points, softmaxed, KL(teacher ‖ student).

    `valid` (..., m) marks real points; a row counts when its point is real and it has another.
    """
    size = student.shape[-2]
    eye = torch.eye(size, dtype=torch.bool, device=student.device)
    allowed = valid[..., None, :] & ~eye
    rows = valid & (allowed.sum(-1) > 0)

    def log_rows(points: torch.Tensor) -> torch.Tensor:
        unit = functional.normalize(points, dim=-1)
        similarity = unit @ unit.transpose(-1, -2)
        # The dtype's lowest value rather than −inf: a row with nothing allowed stays finite.
        lowest = torch.finfo(similarity.dtype).min
        return functional.log_softmax(similarity.masked_fill(~allowed, lowest), dim=-1)

    teacher_log, student_log = log_rows(teacher), log_rows(student)
    terms = teacher_log.exp() * (teacher_log - student_log)
    return masked_mean(terms.masked_fill(~allowed, 0).sum(-1), rows)


def _angles(points: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
    """cos∠(h_j − h_i, h_k − h_i) for each anchor i and its neighbours j, k: (..., m, w, w).

    `points` (..., m, d); `neighbours` (m, w) indices into m.
    """
    gram = points @ points.transpose(-1, -2)
    anchors = torch.arange(points.shape[-2], device=points.device)[:, None]
    own = torch.diagonal(gram, dim1=-2, dim2=-1)
    with_anchor = gram[..., anchors, neighbours]
    between = gram[..., neighbours[:, :, None], neighbours[:, None, :]]
    dots = between - with_anchor[..., :, None] - with_anchor[..., None, :] + own[..., :, None, None]
    squared = own[..., neighbours] - 2 * with_anchor + own[..., :, None]
    lengths = squared.clamp_min(SAME_POINT).sqrt()
    return dots / (lengths[..., :, None] * lengths[..., None, :])


def _angle_mse(
    student: torch.Tensor, teacher: torch.Tensor, valid: torch.Tensor, neighbours: torch.Tensor
) -> torch.Tensor:
    """MSE of the angles over pairs of distinct real neighbours of a real anchor."""
    size = student.shape[-2]
    inside = (neighbours >= 0) & (neighbours < size)
    index = neighbours.clamp(0, size - 1)
    real = inside & valid[..., index] & valid[..., :, None]
    width = neighbours.shape[-1]
    distinct = ~torch.eye(width, dtype=torch.bool, device=student.device)
    pairs = real[..., :, None] & real[..., None, :] & distinct
    difference = _angles(student, index) - _angles(teacher, index)
    return masked_mean(difference**2, pairs)


def _window(size: int, window: int | None, device: torch.device) -> torch.Tensor:
    """Each position's neighbours (size, w): the others within ±window//2, or all others."""
    reach = size - 1 if window is None else window // 2
    offsets = torch.cat([torch.arange(-reach, 0), torch.arange(1, reach + 1)]).to(device)
    return torch.arange(size, device=device)[:, None] + offsets


def wr_distance(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Word-relation distance over (batch, tokens, dim) states of one matched layer pair."""
    return _distance_kl(student, teacher, mask.bool())


def wr_angle(
    student: torch.Tensor,
    teacher: torch.Tensor,
    mask: torch.Tensor,
    window: int | None = DEFAULT_WINDOW,
) -> torch.Tensor:
    """Word-relation angle over token triples within a window (None: the whole sentence)."""
    neighbours = _window(student.shape[-2], window, student.device)
    return _angle_mse(student, teacher, mask.bool(), neighbours)


def _per_token(layers: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.stack(list(layers), dim=-2)


def ltr_distance(
    student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor], mask: torch.Tensor
) -> torch.Tensor:
    """Layer-transforming distance: per real token, the relations of its matched layers' states."""
    s, t = _per_token(student), _per_token(teacher)
    valid = mask.bool()[..., None].expand(s.shape[:-1])
    return _distance_kl(s[mask.bool()], t[mask.bool()], valid[mask.bool()])


def ltr_angle(
    student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor], mask: torch.Tensor
) -> torch.Tensor:
    """Layer-transforming angle: per real token, angles among all its matched layers' states."""
    s, t = _per_token(student)[mask.bool()], _per_token(teacher)[mask.bool()]
    valid = torch.ones(s.shape[:-1], dtype=torch.bool, device=s.device)
    neighbours = _window(s.shape[-2], None, s.device)
    return _angle_mse(s, t, valid, neighbours)
