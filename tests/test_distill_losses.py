"""Each distillation loss against a value worked out by hand on a tiny batch."""

import math

import pytest
import torch

from seoga.distill.losses import loss_units
from seoga.distill.losses.embedding import embedding_cosine, embedding_mse
from seoga.distill.losses.hidden import attention_kl, hidden_mse
from seoga.distill.losses.kd import hard_label, logit_mse, soft_kd
from seoga.distill.losses.relation import ltr_angle, ltr_distance, wr_angle, wr_distance
from seoga.distill.projections import projection
from seoga.distill.schedules import Schedule, schedule
from seoga.errors import InputError

# KL([.75, .25] ‖ [.5, .5]) = .75 ln 1.5 + .25 ln .5
KL_QUARTER = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)


def test_soft_kd_is_kl_times_t_squared():
    student = torch.tensor([[0.0, 0.0]])
    assert soft_kd(student, torch.tensor([[math.log(3), 0.0]]), 1.0).item() == pytest.approx(
        KL_QUARTER
    )
    # At T = 2 the teacher's logits twice as far apart soften to the same [.75, .25]; × T² = 4.
    teacher = torch.tensor([[2 * math.log(3), 0.0]])
    assert soft_kd(student, teacher, 2.0).item() == pytest.approx(4 * KL_QUARTER)


def test_soft_kd_reads_a_single_logit_as_a_sigmoid():
    # sigmoid(ln 3) = .75 against sigmoid(0) = .5.
    value = soft_kd(torch.tensor([[0.0]]), torch.tensor([[math.log(3)]]), 1.0)
    assert value.item() == pytest.approx(KL_QUARTER)


def test_logit_mse_reads_raw_logits():
    # (1 − 3)² and (−2 − 0)² averaged: 4; a teacher logit of 8 counts as far more than 4.
    assert logit_mse(torch.tensor([[1.0], [-2.0]]), torch.tensor([[3.0], [0.0]])).item() == 4.0
    far = logit_mse(torch.tensor([[4.0]]), torch.tensor([[8.0]])).item()
    assert far == 16.0 > soft_kd(torch.tensor([[4.0]]), torch.tensor([[8.0]]), 1.0).item()


def test_hard_label():
    assert hard_label(torch.tensor([[0.0, 0.0]]), torch.tensor([0])).item() == pytest.approx(
        math.log(2)
    )
    # A single logit 0 is p = .5 whatever the label: −ln .5.
    assert hard_label(torch.tensor([[0.0]]), torch.tensor([1])).item() == pytest.approx(math.log(2))


def test_embedding_losses():
    student, teacher = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    assert embedding_mse(student, teacher).item() == pytest.approx(1.0)  # (1 + 1) / 2
    assert embedding_cosine(student, teacher).item() == pytest.approx(1.0)  # 1 − 0
    assert embedding_cosine(teacher * 3, teacher).item() == pytest.approx(0.0)


def test_hidden_mse_skips_padding():
    mask = torch.tensor([[1, 0]])
    student = torch.tensor([[[1.0, 2.0], [100.0, 100.0]]])
    teacher = torch.zeros(1, 2, 2)
    assert hidden_mse(student, teacher, mask).item() == pytest.approx(2.5)  # (1 + 4) / 2


def test_attention_kl_over_real_rows_and_keys():
    mask = torch.tensor([[1, 1, 0]])
    teacher = torch.tensor([[[[0.75, 0.25, 0.0], [0.5, 0.5, 0.0], [0.3, 0.3, 0.4]]]])
    student = torch.tensor([[[[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.9, 0.05, 0.05]]]])
    # Row 1: KL_QUARTER; row 2: 0; row 3 is padding.
    assert attention_kl(student, teacher, mask).item() == pytest.approx(KL_QUARTER / 2)


def test_wr_distance_by_hand():
    # Teacher tokens e1, e2, e1; student e1, e2, e2. Rows exclude the token itself.
    e1, e2 = [1.0, 0.0], [0.0, 1.0]
    teacher, student = torch.tensor([[e1, e2, e1]]), torch.tensor([[e1, e2, e2]])
    mask = torch.ones(1, 3)

    def kl(p, q):
        return sum(a * math.log(a / b) for a, b in zip(p, q, strict=True))

    sharp = [1 / (1 + math.e), math.e / (1 + math.e)]  # cos 0 and 1 over the two others
    rows = [
        kl(sharp, [0.5, 0.5]),  # token 0: teacher (0, 1), student (0, 0)
        kl([0.5, 0.5], sharp),  # token 1: teacher (0, 0), student (0, 1)
        kl(sharp[::-1], sharp),  # token 2: teacher (1, 0), student (0, 1)
    ]
    assert wr_distance(student, teacher, mask).item() == pytest.approx(sum(rows) / 3)
    assert wr_distance(teacher, teacher, mask).item() == pytest.approx(0.0, abs=1e-7)


def test_wr_angle_by_hand_and_window():
    # Teacher (0,0), (1,0), (0,1); student moves the last token to (1,1). Of the six ordered
    # (anchor; j ≠ k) angles, four differ by 1/√2: mean squared difference 4 · ½ / 6 = 1/3.
    teacher = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])
    student = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]])
    mask = torch.ones(1, 3)
    assert wr_angle(student, teacher, mask, window=None).item() == pytest.approx(1 / 3)
    # A window of 3 gives each token only its two neighbours; only token 1 has two. Its pair
    # differs by 1/√2 both ways: ½.
    assert wr_angle(student, teacher, mask, window=3).item() == pytest.approx(0.5)
    # With the last token padded no anchor has two real neighbours: nothing to match, zero.
    student_far = student.clone()
    student_far[0, 2] = 50.0
    assert wr_angle(student_far, student, torch.tensor([[1, 1, 0]]), window=None).item() == 0
    four = torch.cat([teacher, torch.tensor([[[5.0, 5.0]]])], dim=1)
    four_student = torch.cat([student, torch.tensor([[[-9.0, 3.0]]])], dim=1)
    assert wr_angle(four_student, four, torch.tensor([[1, 1, 1, 0]]), window=None).item() == (
        pytest.approx(1 / 3)
    )


def test_ltr_losses_relate_a_tokens_layers():
    # One real token, three layers with the same states as the WR example; a padded token that
    # would change everything is ignored.
    teacher_states = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    student_states = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]

    def layers(states, junk):
        return [torch.tensor([[state, junk]]) for state in states]

    mask = torch.tensor([[1, 0]])
    student, teacher = layers(student_states, [7.0, -3.0]), layers(teacher_states, [0.0, 9.0])
    assert ltr_angle(student, teacher, mask).item() == pytest.approx(1 / 3)
    expected = wr_distance(
        torch.tensor([student_states]), torch.tensor([teacher_states]), torch.ones(1, 3)
    )
    assert ltr_distance(student, teacher, mask).item() == pytest.approx(expected.item())


def test_losses_backpropagate_without_nans():
    torch.manual_seed(0)
    student = torch.randn(2, 5, 4, requires_grad=True)
    teacher = torch.randn(2, 5, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    total = wr_distance(student, teacher, mask) + wr_angle(student, teacher, mask, window=3)
    total.backward()
    assert torch.isfinite(student.grad).all()


def test_loss_names_and_aliases():
    names = [unit.name for unit in loss_units("mse,wr,ltr,mse")]
    assert names == ["mse", "wr-dist", "wr-angle", "ltr-dist", "ltr-angle"]
    with pytest.raises(InputError, match="unknown distillation loss 'kl'"):
        loss_units("kl")


def test_schedules():
    assert schedule(2).at(0.7) == 2.0
    linear = schedule({"schedule": "linear", "start": 8, "end": 1})
    assert linear.at(0) == 8 and linear.at(0.5) == pytest.approx(4.5) and linear.at(2) == 1
    cosine = Schedule("cosine", 1.0, 0.0)
    assert cosine.at(0.5) == pytest.approx(0.5) and cosine.at(1) == pytest.approx(0.0)
    with pytest.raises(InputError, match="unknown schedule"):
        schedule({"schedule": "step"})


def test_projection_maps_widths():
    layer = projection("tanh", 3, 5)
    assert layer(torch.ones(2, 3)).shape == (2, 5)
    with pytest.raises(InputError):
        projection("gelu", 3, 5)
