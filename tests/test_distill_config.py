"""Distillation configs: presets from loss names, checks, and a JSON round trip."""

import json

import pytest

from seoga.distill.config import DistillationConfig, Match, Term, preset
from seoga.distill.schedules import schedule
from seoga.errors import InputError


def test_preset_maps_kept_layers():
    config = preset("mse,wr-dist,ltr", keep=[3, 6, 9, 12])
    assert [term.loss for term in config.terms] == ["mse"]
    word = [match for match in config.matches if match.loss == "wr-dist"]
    assert [(m.student_layer, m.teacher_layer) for m in word] == [
        (0, 0),
        (1, 3),
        (2, 6),
        (3, 9),
        (4, 12),
    ]
    layer = [match for match in config.matches if match.loss.startswith("ltr")]
    assert [match.loss for match in layer] == ["ltr-dist", "ltr-angle"]
    assert layer[0].teacher_layer == (0, 3, 6, 9, 12) and layer[0].student_layer == (0, 1, 2, 3, 4)


def test_config_round_trips_through_json():
    config = DistillationConfig(
        terms=(Term("soft-kd", schedule({"schedule": "linear", "start": 1, "end": 0.5})),),
        matches=(Match("hidden-mse", 12, 4, schedule(2), "linear"),),
        temperature=schedule({"schedule": "linear", "start": 8, "end": 1}),
        window=11,
    )
    again = DistillationConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


def test_config_errors_say_what_to_write():
    with pytest.raises(InputError, match="write it as a match"):
        Term("wr-dist")
    with pytest.raises(InputError, match="write it as a term"):
        Match("mse", 1, 1)
    with pytest.raises(InputError, match="lists of layers"):
        Match("ltr-dist", 3, 1)
    with pytest.raises(InputError, match="as many teacher layers"):
        Match("ltr-angle", (0, 3), (0,))
    with pytest.raises(InputError, match="hidden-mse matches only"):
        Match("wr-dist", 3, 1, projection="linear")
    with pytest.raises(InputError, match="not epochs"):
        DistillationConfig.from_dict({"epochs": 3})
    with pytest.raises(InputError, match="incomplete"):
        DistillationConfig.from_dict({"matches": [{"loss": "hidden-mse"}]})
