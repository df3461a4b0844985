"""The embedder distiller on a tiny random teacher: the student moves towards the teacher."""

import json

import numpy as np
import pytest

from seoga.distill.config import DistillationConfig, Match, Term, preset
from seoga.distill.distiller import CARD_NAME, TrainingConfig
from seoga.distill.embedder import EmbedderDistiller
from seoga.distill.schedules import schedule
from seoga.distill.students import depth, layer_dropped
from seoga.errors import InputError
from tests.conftest import TINY_WORDS, build_tiny_model

KEEP = [2, 4]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(build_tiny_model(tmp_path_factory.mktemp("t"), layers=4)))


def texts(count=48):
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(TINY_WORDS, size=rng.integers(2, 8))) for _ in range(count)]


def distance(student, teacher, sample):
    mine = student.encode(sample, convert_to_numpy=True)
    theirs = teacher.encode(sample, convert_to_numpy=True)
    return {
        "mse": float(((mine - theirs) ** 2).mean()),
        "minus_mse": -float(((mine - theirs) ** 2).mean()),
    }


def test_student_learns_the_teacher_and_saves_a_card(teacher, tmp_path):
    import torch
    from sentence_transformers import SentenceTransformer

    data = texts()
    student = layer_dropped(teacher, KEEP)
    # The tiny random teacher's layers are nearly the identity: move the student away first.
    torch.manual_seed(1)
    for parameter in student[0].auto_model.encoder.parameters():
        parameter.data += 0.05 * torch.randn_like(parameter)
    before = distance(student, teacher, data)["mse"]
    config = preset("mse,wr,ltr", KEEP)
    distiller = EmbedderDistiller(
        teacher,
        student,
        config,
        TrainingConfig(epochs=3, batch_size=8, learning_rate=1e-3, seed=0),
        teacher_name="tiny",
        cache_dir=tmp_path / "cache",
    )
    result = distiller.fit(
        data,
        tmp_path / "student",
        evaluate=lambda model: distance(model, teacher, data),
        metric="minus_mse",
        show_progress=False,
    )
    after = distance(student, teacher, data)["mse"]
    assert after < 0.75 * before
    assert set(result.epochs[0]["loss"]) == {"mse", "wr-dist", "wr-angle", "ltr-dist", "ltr-angle"}
    card = json.loads((tmp_path / "student" / CARD_NAME).read_text(encoding="utf-8"))
    assert card["student"]["layers"] == 2 and card["training"]["seed"] == 0
    assert card["best"]["metrics"]["minus_mse"] == max(
        e["metrics"]["minus_mse"] for e in result.epochs
    )
    assert DistillationConfig.from_dict(card["distillation"]) == config
    saved = SentenceTransformer(str(tmp_path / "student"))
    assert depth(saved[0].auto_model) == 2
    # The teacher's vectors were cached once for every text.
    assert len(distiller.cache) == len(set(data))


def test_projection_matches_and_seeds_repeat(teacher, tmp_path):
    config = DistillationConfig(
        terms=(Term("cosine"),),
        matches=(
            Match(
                "hidden-mse", 4, 2, schedule({"schedule": "linear", "start": 1, "end": 0}), "linear"
            ),
        ),
    )

    def run(folder):
        student = layer_dropped(teacher, KEEP)
        EmbedderDistiller(
            teacher,
            student,
            config,
            TrainingConfig(epochs=1, batch_size=16, seed=3),
            teacher_name="tiny",
            cache_dir=tmp_path / "cache",
        ).fit(texts(32), folder, show_progress=False)
        return student.encode(["hello world"], convert_to_numpy=True)

    assert np.allclose(run(tmp_path / "a"), run(tmp_path / "b"), atol=1e-6)


def test_distiller_refuses_what_it_cannot_do(teacher, tmp_path):
    student = layer_dropped(teacher, KEEP)
    settings = {"teacher_name": "tiny", "cache_dir": tmp_path / "cache"}
    with pytest.raises(InputError, match="soft-kd compares logits; use mse, cosine"):
        EmbedderDistiller(
            teacher,
            student,
            DistillationConfig(terms=(Term("soft-kd"),)),
            TrainingConfig(),
            **settings,
        )
    with pytest.raises(InputError, match="no text"):
        EmbedderDistiller(teacher, student, DistillationConfig(), TrainingConfig(), **settings).fit(
            ["  "], tmp_path / "s", show_progress=False
        )


def test_grouped_batches_cover_every_row_once_with_like_lengths():
    from seoga.distill.distiller import grouped_batches

    lengths = np.array([5, 500, 6, 480, 7, 510, 4, 490] * 10)
    batches = grouped_batches(lengths, 4, np.random.default_rng(0))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    # Within the one megabatch, long and short texts never share a batch.
    assert all(len({length > 100 for length in lengths[batch]}) == 1 for batch in batches)
    again = grouped_batches(lengths, 4, np.random.default_rng(0))
    assert all((a == b).all() for a, b in zip(batches, again, strict=True))
