"""Students made from a teacher: a copy that keeps some of its transformer layers.

Keeping the teacher's own weights starts the student warm, which sentence-transformers and
TextBrewer both find better than a fresh small model. Which layers to keep is a preset (evenly
spaced, ending with the last: 12→6 keeps 2,4,…,12 and 12→4 keeps 3,6,9,12) or a user's list.
"""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

from seoga.errors import InputError


def spaced_layers(teacher_depth: int, student_depth: int) -> list[int]:
    """Evenly spaced layers to keep, 1-based, the last always kept."""
    if not 0 < student_depth <= teacher_depth:
        raise InputError(
            f"a student of a {teacher_depth}-layer teacher has 1 to {teacher_depth} layers, "
            f"not {student_depth}."
        )
    return [round((index + 1) * teacher_depth / student_depth) for index in range(student_depth)]


def parse_layers(text: str, teacher_depth: int) -> list[int]:
    """A user's 1-based, comma-separated list of layers to keep ("3,6,9,12"), checked."""
    try:
        layers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"layers to keep are numbers like 3,6,9,12, not {text!r}.") from None
    if (
        not layers
        or sorted(set(layers)) != layers
        or not 1 <= layers[0] <= layers[-1] <= teacher_depth
    ):
        raise InputError(
            f"layers to keep must rise, without repeats, within 1..{teacher_depth}; got {text!r}."
        )
    return layers


def kept_layers(text: str | None, teacher_depth: int, student_depth: int) -> list[int]:
    """The user's list of layers to keep when given ("3,6,9,12"), else evenly spaced ones."""
    if text:
        return parse_layers(text, teacher_depth)
    return spaced_layers(teacher_depth, student_depth)


def _layer_list(backbone: nn.Module) -> tuple[Any, str]:
    """The module holding the layer list and its attribute name (BERT family, DistilBERT);
    a model with a task head (a sequence classifier) is searched in its base model."""
    backbone = getattr(backbone, "base_model", backbone)
    for owner_name, list_name in (("encoder", "layer"), ("transformer", "layer")):
        owner = getattr(backbone, owner_name, None)
        if isinstance(getattr(owner, list_name, None), nn.ModuleList):
            return owner, list_name
    raise InputError(
        f"cannot drop layers of a {type(backbone).__name__}: seoga knows BERT-style encoders "
        "(encoder.layer) and DistilBERT (transformer.layer); start a fresh student instead."
    )


def depth(backbone: nn.Module) -> int:
    """How many transformer layers a Hugging Face encoder has."""
    owner, name = _layer_list(backbone)
    return len(getattr(owner, name))


def drop_layers(backbone: nn.Module, keep: list[int]) -> nn.Module:
    """A copy of a Hugging Face encoder with only the 1-based layers `keep`, in order."""
    student = copy.deepcopy(backbone)
    _keep_only(student, keep)
    return student


def layer_dropped(teacher: Any, keep: list[int]) -> Any:
    """A copy of a sentence-transformers model or cross-encoder keeping the layers `keep`.

    Pooling, heads, normalisation and prompts are the teacher's, so the student is a normal
    folder of the same kind.
    """
    student = copy.deepcopy(teacher)
    _keep_only(student[0].auto_model, keep)
    return student


def _keep_only(backbone: nn.Module, keep: list[int]) -> None:
    owner, name = _layer_list(backbone)
    layers = getattr(owner, name)
    parse_layers(",".join(map(str, keep)), len(layers))
    setattr(owner, name, nn.ModuleList(layers[index - 1] for index in keep))
    backbone.config.num_hidden_layers = len(keep)


def hidden_map(keep: list[int]) -> dict[int, int]:
    """Student hidden-state index → the teacher's (0 is the embeddings' output on both)."""
    return {0: 0, **{position + 1: layer for position, layer in enumerate(keep)}}
