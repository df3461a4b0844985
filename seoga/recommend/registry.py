"""Recommenders by name: `make_recommender("als", factors=128)`, `load_recommender(FOLDER)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seoga.errors import InputError
from seoga.recommend.als import ALSRecommender
from seoga.recommend.base import Recommender
from seoga.recommend.fm import FMRecommender
from seoga.recommend.gru4rec import GRU4RecRecommender
from seoga.recommend.itemknn import ItemKNNRecommender
from seoga.recommend.mf import MFRecommender
from seoga.recommend.popular import PopularRecommender
from seoga.recommend.rules import RulesRecommender
from seoga.recommend.sequential import SRRecommender
from seoga.recommend.sknn import SKNNRecommender
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
