"""Recommenders by name: `make_recommender("als", factors=128)`, `model_class("fm")`."""

from __future__ import annotations

from typing import Any

from seoga.errors import InputError
from seoga.recommend.als import ALSRecommender
from seoga.recommend.base import Recommender
from seoga.recommend.fm import FMRecommender
from seoga.recommend.mf import MFRecommender
from seoga.recommend.popular import PopularRecommender

MODELS: dict[str, type[Recommender]] = {
    model.name: model
    for model in (PopularRecommender, MFRecommender, ALSRecommender, FMRecommender)
}


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
    return model_type(**settings)
