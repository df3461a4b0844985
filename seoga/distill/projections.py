"""Learned projections from a student's width to its teacher's, for hidden-state matches.

They are trained with the student in their own parameter group and dropped after training
(TextBrewer's design); the initial weights follow BERT's (normal, std 0.02).
"""

from __future__ import annotations

from torch import nn

from seoga.errors import InputError

INIT_STD = 0.02
ACTIVATIONS = {"linear": None, "relu": nn.ReLU, "tanh": nn.Tanh}


def projection(kind: str, student_width: int, teacher_width: int) -> nn.Module:
    """A student_width → teacher_width map: linear, or linear then ReLU / tanh."""
    if kind not in ACTIVATIONS:
        raise InputError(f"unknown projection {kind!r}; known: {', '.join(ACTIVATIONS)}.")
    layer = nn.Linear(student_width, teacher_width)
    nn.init.normal_(layer.weight, std=INIT_STD)
    nn.init.zeros_(layer.bias)
    activation = ACTIVATIONS[kind]
    return layer if activation is None else nn.Sequential(layer, activation())
