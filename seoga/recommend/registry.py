"""Recommenders by name: `make_recommender("als", factors=128)`, `load_recommender(FOLDER)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seoga.errors import InputError
from seoga.recommend.base import Recommender
from seoga.recommend.models.als import ALSRecommender
from seoga.recommend.models.fm import FMRecommender
from seoga.recommend.models.gru4rec import GRU4RecRecommender
from seoga.recommend.models.itemknn import ItemKNNRecommender
from seoga.recommend.models.mf import MFRecommender
from seoga.recommend.models.popular import PopularRecommender
from seoga.recommend.models.rules import RulesRecommender
from seoga.recommend.models.sequential import SRRecommender
from seoga.recommend.models.sknn import SKNNRecommender
from seoga.recommend.storage import read_model_folder

MODELS: dict[str, type[Recommender]] = {
    model.name: model
    for model in (
        PopularRecommender,
        MFRecommender,
        ALSRecommender,
        ItemKNNRecommender,
        FMRecommender,
        RulesRecommender,
        SRRecommender,
        SKNNRecommender,
        GRU4RecRecommender,
    )
}


# Models that train on weighted ratings, and so can be debiased (ipw).
WEIGHTED_MODELS = ("mf", "fm")
# Settings of the item-text encoder: FM settings that other models do not take.
TEXT_SETTINGS = ("text_model", "text_fields")
TEXT_MODEL = "fm"
NO_TEXT_MODEL = "none"


def load_recommender(path: Path | str) -> Recommender:
    """Load any recommender folder; its manifest says which model it holds."""
    folder = read_model_folder(Path(path))
    return model_class(folder[0]["model"]).from_folder(Path(path), folder)


def model_class(name: str) -> type[Recommender]:
    try:
        return MODELS[name]
    except KeyError as error:
        raise InputError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}.") from error


def make_recommender(name: str, **settings: Any) -> Recommender:
    """A new, unfitted model; unknown settings are refused with the ones it takes."""
    model_type = model_class(name)
    known = set(model_type.settings_class.__dataclass_fields__)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise InputError(
            f"the {name} model has no setting {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(known))}."
        )
    defaults = model_type.settings_class()
    for setting, value in settings.items():
        default = getattr(defaults, setting)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            settings[setting] = float(value)
        elif value is not None and default is not None and not isinstance(value, type(default)):
            raise InputError(
                f"{setting} (a setting of {name}) must be {type(default).__name__}, not {value!r}."
            )
    return model_type(**settings)


def model_settings(
    pairs: list[str] | None, seed: int, text_model: str | None, text_fields: list[str] | None
) -> dict[str, Any]:
    """`NAME=VALUE` pairs as settings (values read as JSON when they parse), with the seed and
    the item-text options: `text_model` "none" encodes no text (the named fields stay labels)."""
    settings: dict[str, Any] = {"seed": seed}
    for pair in pairs or []:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise InputError(f"--set {pair!r}: write NAME=VALUE, e.g. --set factors=128.")
        try:
            settings[name.strip().replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            settings[name.strip().replace("-", "_")] = value
    if text_model is not None:
        settings["text_model"] = None if text_model == NO_TEXT_MODEL else text_model
    if text_fields:
        settings["text_fields"] = list(text_fields)
    if settings.get("text_model") and not settings.get("text_fields"):
        # Text is encoded only when named: an embedder alone would be silently unused.
        raise InputError(
            f"--text-model {settings['text_model']} encodes the item fields that --text-field "
            "names (repeatable, e.g. --text-field title); name them, or leave --text-model out."
        )
    return settings


def settings_for(model: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Drop the text options for models that read no text (they are FM settings)."""
    if model != TEXT_MODEL:
        settings = {k: v for k, v in settings.items() if k not in TEXT_SETTINGS}
    return settings


def debias_settings(model: str, debias: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings with `debias` added, for the models that take weighted ratings."""
    if debias is None:
        return settings
    if model not in WEIGHTED_MODELS:
        raise InputError(
            f"--debias trains mf or fm with weighted ratings; {model} takes no weights."
        )
    return settings | {"debias": debias}


def require_able(recommender: Recommender, model: Path | str, ability: str, kind: str) -> None:
    """Refuse a model without `ability` (a method of some models only); `kind` names those
    that have it ("an als")."""
    if not hasattr(recommender, ability):
        raise InputError(f"{ability} needs {kind} model; {model} is {recommender.name}.")


def load_able(model: Path | str, ability: str, kind: str) -> Recommender:
    """The model in folder `model`, which must offer `ability` (a method of some models only)."""
    recommender = load_recommender(model)
    require_able(recommender, model, ability, kind)
    return recommender
