"""What to distil, as data: output terms, intermediate matches, temperature (TextBrewer's shape).

A term compares the models' outputs (`soft-kd`, `hard-label`, `mse`, `cosine`). A match
compares inside the models: a teacher layer and a student layer (`hidden-mse`, `attention`,
`wr-dist`, `wr-angle`; 0 is the embeddings' output), or lists of them (`ltr-dist`,
`ltr-angle`). Weights and the temperature are numbers or schedules. The whole config goes
into the student's card as JSON and comes back from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seoga.distill.losses import LOSSES, loss_units
from seoga.distill.losses.relation import DEFAULT_WINDOW
from seoga.distill.projections import ACTIVATIONS
from seoga.distill.schedules import Schedule, schedule
from seoga.distill.students import hidden_map
from seoga.errors import InputError

OUTPUT_FEATURES = {"logits", "labels", "embedding"}
LAYER_FEATURES = {"hidden", "attention"}


@dataclass(frozen=True)
class Term:
    """An output loss and its weight."""

    loss: str
    weight: Schedule = field(default_factory=Schedule)

    def __post_init__(self) -> None:
        feature = loss_units([self.loss])[0].feature
        if feature not in OUTPUT_FEATURES:
            raise InputError(f"{self.loss} compares layers: write it as a match, not a term.")

    def to_dict(self) -> dict[str, Any]:
        return {"loss": self.loss, "weight": self.weight.to_dict()}


@dataclass(frozen=True)
class Match:
    """An intermediate loss between a teacher layer (or layers) and a student's."""

    loss: str
    teacher_layer: int | tuple[int, ...]
    student_layer: int | tuple[int, ...]
    weight: Schedule = field(default_factory=Schedule)
    projection: str | None = None

    def __post_init__(self) -> None:
        feature = loss_units([self.loss])[0].feature
        if feature in OUTPUT_FEATURES:
            raise InputError(f"{self.loss} compares outputs: write it as a term, not a match.")
        several = feature == "layers"
        for side in (self.teacher_layer, self.student_layer):
            if isinstance(side, tuple) != several:
                shape = "lists of layers" if several else "one layer on each side"
                raise InputError(f"{self.loss} takes {shape}.")
        if several and len(self.teacher_layer) != len(self.student_layer):
            raise InputError(f"{self.loss} needs as many teacher layers as student layers.")
        if self.projection is not None and (
            self.loss != "hidden-mse" or self.projection not in ACTIVATIONS
        ):
            raise InputError(
                f"a projection ({', '.join(ACTIVATIONS)}) belongs to hidden-mse matches only."
            )

    def to_dict(self) -> dict[str, Any]:
        def side(value: int | tuple[int, ...]) -> int | list[int]:
            return list(value) if isinstance(value, tuple) else value

        payload = {
            "loss": self.loss,
            "teacher_layer": side(self.teacher_layer),
            "student_layer": side(self.student_layer),
            "weight": self.weight.to_dict(),
        }
        if self.projection is not None:
            payload["projection"] = self.projection
        return payload


@dataclass(frozen=True)
class DistillationConfig:
    """Terms, matches, the temperature of soft labels and the window of word-relation angles."""

    terms: tuple[Term, ...] = (Term("mse"),)
    matches: tuple[Match, ...] = ()
    temperature: Schedule = field(default_factory=Schedule)
    window: int = DEFAULT_WINDOW

    def to_dict(self) -> dict[str, Any]:
        return {
            "terms": [term.to_dict() for term in self.terms],
            "matches": [match.to_dict() for match in self.matches],
            "temperature": self.temperature.to_dict(),
            "window": self.window,
        }

    @classmethod
    def from_file(cls, path: Path) -> DistillationConfig:
        """A config from a JSON file (the shape `to_dict` writes, as in a student's card)."""
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path} does not exist.") from None
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{error.lineno}: not valid JSON ({error.msg}).") from None
        if not isinstance(payload, dict):
            raise InputError(f"{path} must hold a JSON object with terms and matches.")
        return cls.from_dict(payload)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> DistillationConfig:
        unknown = sorted(set(payload) - {"terms", "matches", "temperature", "window"})
        if unknown:
            raise InputError(
                f"a distillation config has terms, matches, temperature, window; "
                f"not {', '.join(unknown)}."
            )

        def layers(value: Any) -> int | tuple[int, ...]:
            return tuple(int(item) for item in value) if isinstance(value, list) else int(value)

        try:
            terms = tuple(
                Term(item["loss"], schedule(item.get("weight", 1.0)))
                for item in payload.get("terms", [])
            )
            matches = tuple(
                Match(
                    item["loss"],
                    layers(item["teacher_layer"]),
                    layers(item["student_layer"]),
                    schedule(item.get("weight", 1.0)),
                    item.get("projection"),
                )
                for item in payload.get("matches", [])
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(
                f"a term or match in the distillation config is incomplete: {error}."
            ) from None
        return cls(
            terms=terms,
            matches=matches,
            temperature=schedule(payload.get("temperature", 1.0)),
            window=int(payload.get("window", DEFAULT_WINDOW)),
        )


def preset(
    names: str,
    keep: list[int],
    weight: float = 1.0,
    temperature: float = 1.0,
    match_weight: float | None = None,
) -> DistillationConfig:
    """A config from loss names ("mse,wr-dist,wr-angle,ltr" or "soft-kd,hard-label,attention").

    Output losses become terms. Layer matches pair every kept layer with its teacher layer
    (CKD's emb+skip alignment: the embeddings, then each kept layer; attention has no
    embeddings entry, so it starts at the first layer); layer-transforming relations take all
    of those layers at once. Terms weigh `weight`, matches `match_weight` (default the same).
    """
    match_weight = weight if match_weight is None else match_weight
    terms: list[Term] = []
    matches: list[Match] = []
    pairs = sorted(hidden_map(keep).items())
    for unit in loss_units(names):
        if unit.feature in OUTPUT_FEATURES:
            terms.append(Term(unit.name, schedule(weight)))
        elif unit.feature == "layers":
            student_side = tuple(student for student, _ in pairs)
            teacher_side = tuple(teacher for _, teacher in pairs)
            matches.append(Match(unit.name, teacher_side, student_side, schedule(match_weight)))
        else:
            matches += [
                Match(unit.name, teacher, student, schedule(match_weight))
                for student, teacher in pairs
                if student > 0 or unit.feature != "attention"
            ]
    if not terms and not matches:
        raise InputError(f"no distillation loss in {names!r}; known: {', '.join(LOSSES)}.")
    return DistillationConfig(
        terms=tuple(terms), matches=tuple(matches), temperature=schedule(temperature)
    )
