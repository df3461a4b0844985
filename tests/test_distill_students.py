"""Layer-dropped students: the presets, the kept weights, and a normal model folder."""

import pytest
import torch

from seoga.distill.students import (
    depth,
    hidden_map,
    layer_dropped,
    parse_layers,
    spaced_layers,
)
from seoga.errors import InputError
from tests.conftest import build_tiny_model


def test_spaced_presets():
    assert spaced_layers(12, 6) == [2, 4, 6, 8, 10, 12]
    assert spaced_layers(12, 4) == [3, 6, 9, 12]
    assert spaced_layers(12, 12) == list(range(1, 13))
    with pytest.raises(InputError, match="1 to 12 layers"):
        spaced_layers(12, 13)


def test_parse_layers_refuses_bad_lists():
    assert parse_layers("1, 4,7,10", 12) == [1, 4, 7, 10]
    for bad in ("4,3", "0,2", "2,2", "3,13", "a,b", ""):
        with pytest.raises(InputError):
            parse_layers(bad, 12)


def test_student_keeps_the_teachers_layers(tmp_path):
    from sentence_transformers import SentenceTransformer

    teacher = SentenceTransformer(str(build_tiny_model(tmp_path / "t", layers=4)))
    student = layer_dropped(teacher, [2, 4])
    backbone, source = student[0].auto_model, teacher[0].auto_model
    assert depth(backbone) == 2 and depth(source) == 4 and backbone.config.num_hidden_layers == 2
    for position, kept in enumerate([2, 4]):
        mine = backbone.encoder.layer[position].state_dict()
        theirs = source.encoder.layer[kept - 1].state_dict()
        assert all(torch.equal(mine[key], theirs[key]) for key in theirs)
    # Keeping every layer gives the teacher's vectors; a saved student loads as a normal folder.
    texts = ["hello world", "검색 엔진"]
    whole = layer_dropped(teacher, [1, 2, 3, 4])
    assert torch.allclose(
        whole.encode(texts, convert_to_tensor=True), teacher.encode(texts, convert_to_tensor=True)
    )
    student.save(str(tmp_path / "s"))
    loaded = SentenceTransformer(str(tmp_path / "s"))
    assert depth(loaded[0].auto_model) == 2
    assert torch.allclose(
        loaded.encode(texts, convert_to_tensor=True),
        student.encode(texts, convert_to_tensor=True),
        atol=1e-6,
    )
    assert hidden_map([2, 4]) == {0: 0, 1: 2, 2: 4}
