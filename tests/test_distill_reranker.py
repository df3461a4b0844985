"""Reranker students on a tiny random teacher: soft and hard labels, hidden and attention
matches, held-out evaluation, calibration, and a resumed run."""

import json

import numpy as np
import pytest
import torch

from seoga.distill import checkpoint
from seoga.distill.distiller import CARD_NAME, TrainingConfig
from seoga.distill.reranker import RerankerRequest, distill_reranker
from seoga.distill.students import depth
from seoga.rerank.model import Reranker


def request(teacher, pairs, out, **changes):
    settings = {
        "teacher": teacher,
        "data": pairs,
        "out": out,
        "student_layers": 2,
        "losses": "soft-kd,hard-label,hidden-mse,attention",
        "temperature": 2.0,
        "held_out": 0.25,
        "training": TrainingConfig(epochs=2, batch_size=8, learning_rate=1e-3, max_seq_length=32),
        "cache_dir": out.parent / "cache",
        "show_progress": False,
    }
    return RerankerRequest(**(settings | changes))


def test_reranker_student_is_a_calibrated_cross_encoder(tiny_reranker, reranker_pairs, tmp_path):
    result = distill_reranker(request(tiny_reranker, reranker_pairs, tmp_path / "student"))
    card = json.loads((tmp_path / "student" / CARD_NAME).read_text(encoding="utf-8"))
    assert card["kind"] == "reranker" and card["student"]["layers"] == 2
    assert set(card["epochs"][0]["loss"]) == {"soft-kd", "hard-label", "hidden-mse", "attention"}
    assert "held-out_ndcg@10" in card["epochs"][0]["metrics"]
    assert "held_out_ece_after" in card["calibration"]
    assert result.best in card["epochs"]
    reranker = Reranker(tmp_path / "student")
    assert depth(reranker.model[0].auto_model) == 2
    assert reranker.scaling.to_dict() == card["calibration"]["scaling"]
    logits = reranker.logits("hello world", ["hello world search", "the a of"])
    assert logits.shape == (2,) and np.isfinite(logits).all()
    assert not checkpoint.folder_for(tmp_path / "student").exists()


def test_an_interrupted_run_resumes_at_its_epoch(
    tiny_reranker, reranker_pairs, tmp_path, monkeypatch
):
    from seoga.distill import distiller

    calls = {"epochs": 0}
    real_save = checkpoint.save

    def save_then_stop(*args, **kwargs):
        real_save(*args, **kwargs)
        calls["epochs"] += 1
        raise KeyboardInterrupt

    monkeypatch.setattr(distiller.checkpoint, "save", save_then_stop)
    out = tmp_path / "student"
    with pytest.raises(KeyboardInterrupt):
        distill_reranker(request(tiny_reranker, reranker_pairs, out))
    assert checkpoint.folder_for(out).is_dir() and calls["epochs"] == 1
    monkeypatch.setattr(distiller.checkpoint, "save", real_save)
    resumed = distill_reranker(request(tiny_reranker, reranker_pairs, out))
    assert resumed.resumed_from_epoch == 1
    assert [record["epoch"] for record in resumed.epochs] == [1, 2]
    straight = distill_reranker(request(tiny_reranker, reranker_pairs, tmp_path / "straight"))
    assert resumed.epochs[1]["loss"] == pytest.approx(straight.epochs[1]["loss"], rel=1e-4)


def test_the_head_learns_at_its_own_rate(tiny_reranker, reranker_pairs, tmp_path):
    """With a head rate, the scoring head moves and the encoder stays where a zero rate holds
    it; the card records both rates."""
    from sentence_transformers.cross_encoder import CrossEncoder

    training = TrainingConfig(
        epochs=1, batch_size=8, learning_rate=0.0, head_learning_rate=1e-2, max_seq_length=32
    )
    out = tmp_path / "student"
    distill_reranker(
        request(tiny_reranker, reranker_pairs, out, losses="logit-mse", training=training)
    )
    teacher, student = CrossEncoder(str(tiny_reranker)), CrossEncoder(str(out))
    # Evenly spaced layers end with the teacher's last.
    kept, original = (
        model[0].auto_model.encoder.layer[-1].attention.self.query.weight
        for model in (student, teacher)
    )
    assert torch.equal(kept, original)
    head, teacher_head = (list(model)[-1].linear.weight for model in (student, teacher))
    assert not torch.allclose(head, teacher_head)
    card = json.loads((out / CARD_NAME).read_text(encoding="utf-8"))
    assert card["training"]["head_learning_rate"] == 1e-2
    assert set(card["epochs"][0]["loss"]) == {"logit-mse"}
