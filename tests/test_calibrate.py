"""Temperature scaling, ECE and reliability diagrams."""

import random

import numpy as np
import pytest

from seoga.calibrate.fit import choose_threshold, cross_fit, fit_reader
from seoga.calibrate.metrics import (
    ece_noise_floor,
    expected_calibration_error,
    reliability_bins,
)
from seoga.calibrate.plot import plot_reliability
from seoga.calibrate.store import READERS, FittedCalibration, find_calibration, store_calibration
from seoga.calibrate.temperature import BINARY, CANDIDATES, TemperatureScaling


def test_ece_of_known_bins():
    confidences = [0.1, 0.1, 0.9, 0.9]
    correct = [False, False, True, False]
    # bin of 0.1: accuracy 0, gap 0.1; bin of 0.9: accuracy 0.5, gap 0.4 → (0.1 + 0.4) / 2
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.25)
    bins = reliability_bins(confidences, correct)
    assert len(bins) == 15 and sum(b.count for b in bins) == 4
    assert expected_calibration_error([1.0, 0.0], [True, False]) == pytest.approx(0.0)


def test_temperature_recovers_a_known_scale():
    rng = np.random.default_rng(0)
    true_t = 3.0
    score_sets, correct = [], []
    for _ in range(2000):
        scores = np.sort(rng.normal(0, 4, size=5))[::-1]
        p = np.exp(scores / true_t) / np.exp(scores / true_t).sum()
        score_sets.append(list(scores))
        correct.append(bool(rng.random() < p[0]))
    fitted = TemperatureScaling().fit(score_sets, correct, fit_null=False)
    assert fitted.temperature == pytest.approx(true_t, rel=0.15)
    assert fitted.null_score is None
    raw = TemperatureScaling(1.0)
    assert fitted.nll(score_sets, correct) < raw.nll(score_sets, correct)
    after = [fitted.confidence(s) for s in score_sets]
    before = [raw.confidence(s) for s in score_sets]
    assert expected_calibration_error(after, correct) < 0.03
    assert expected_calibration_error(before, correct) > 0.05


def test_single_scores_are_platt_scaled():
    scaling = TemperatureScaling(2.0, 1.0)
    assert scaling.confidence([1.0]) == pytest.approx(0.5)
    assert scaling.confidence([3.0]) == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert scaling.confidence([]) == 0.0


def test_fit_reader_reports_held_out_and_threshold(tmp_path):
    rng = np.random.default_rng(1)
    score_sets = [[float(s)] for s in rng.normal(0, 3, 400)]
    correct = [bool(rng.random() < 1 / (1 + np.exp(-s[0] / 1.5 + 1))) for s in score_sets]
    report = fit_reader(score_sets, correct, TemperatureScaling(0.2, 0.0), seed=0)
    summary = report.summary
    assert summary["ece_after"] < summary["ece_before"]
    assert summary["held_out"]["ece_after"] < summary["held_out"]["ece_before"]
    assert 0.0 < report.fitted.threshold < 1.0
    path = plot_reliability(tmp_path / "r.png", {"before": (report.before, correct)})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_threshold_maximises_right_minus_wrong():
    confidences = [0.9, 0.8, 0.6, 0.4, 0.2]
    correct = [True, True, False, True, False]
    # answering the top 2 gains 2; the top 4 gains 2 as well; the first best is kept
    assert choose_threshold(confidences, correct) == pytest.approx(0.8)
    assert choose_threshold([0.7, 0.6], [False, False]) > 0.7


def test_store_keeps_other_entries(tmp_path):
    store_calibration(tmp_path, READERS, "a", FittedCalibration(TemperatureScaling(2.0), 0.3))
    store_calibration(tmp_path, READERS, "b", FittedCalibration(TemperatureScaling(5.0, 1.0), 0.1))
    found = find_calibration(tmp_path, READERS, "a")
    assert found.scaling.temperature == 2.0 and found.threshold == 0.3
    assert find_calibration(tmp_path, READERS, "b").scaling.null_score == 1.0
    assert find_calibration(tmp_path, READERS, "missing") is None


def test_support_adds_the_probabilities_of_the_same_answer():
    scores = [2.0, 1.0, 0.0]
    scaling = TemperatureScaling(1.0, null_score=None)
    p = np.exp(scores) / np.exp(scores).sum()
    assert scaling.confidence(scores) == pytest.approx(p[0])
    assert scaling.confidence(scores, support=2) == pytest.approx(p[0] + p[1])
    # A fit that knows the support recovers the scale a support-blind fit gets wrong.
    rng = np.random.default_rng(1)
    true_t = 2.0
    score_sets, correct, supports = [], [], []
    for _ in range(2000):
        sample = np.sort(rng.normal(0, 3, size=4))[::-1]
        support = int(rng.integers(1, 3))
        p = np.exp(sample / true_t) / np.exp(sample / true_t).sum()
        score_sets.append(list(sample))
        supports.append(support)
        correct.append(bool(rng.random() < p[:support].sum()))
    fitted = TemperatureScaling().fit(score_sets, correct, fit_null=False, supports=supports)
    assert fitted.temperature == pytest.approx(true_t, rel=0.15)
    assert fitted.nll(score_sets, correct, supports) < fitted.nll(score_sets, correct)


def test_fit_keeps_the_binary_form_where_only_the_margin_tells():
    """Candidates at a random level whose chosen one is right by its margin over the others:
    the softmax form cannot tell (its no-answer score is fixed), the binary form can."""
    rng = np.random.default_rng(4)
    true_t, true_bias = 1.5, 1.0
    score_sets, correct, supports = [], [], []
    for _ in range(2000):
        sample = np.sort(rng.normal(rng.normal(0, 10), 3, size=5))[::-1]
        support = int(rng.integers(1, 3))
        chosen = np.log(np.exp(sample[:support]).sum())
        margin = chosen - np.log(np.exp(sample[support:]).sum())
        score_sets.append(list(sample))
        supports.append(support)
        correct.append(bool(rng.random() < 1 / (1 + np.exp(-(margin - true_bias) / true_t))))
    fitted = TemperatureScaling().fit(score_sets, correct, supports=supports)
    assert fitted.form == BINARY
    assert fitted.temperature == pytest.approx(true_t, rel=0.15)
    assert fitted.null_score == pytest.approx(true_bias, abs=0.3)
    softmax = TemperatureScaling().fit(score_sets, correct, fit_null=False, supports=supports)
    assert softmax.form == CANDIDATES
    assert fitted.nll(score_sets, correct, supports) < softmax.nll(score_sets, correct, supports)
    assert TemperatureScaling.from_dict(fitted.to_dict()) == fitted
    assert TemperatureScaling.from_dict({"temperature": 2.0}).form == CANDIDATES
    with pytest.raises(ValueError, match="unknown scaling form"):
        TemperatureScaling(1.0, None, "sigmoid")


def test_cross_fit_scores_each_question_by_the_other_folds():
    rng = np.random.default_rng(2)
    score_sets = [list(np.sort(rng.normal(0, 4, size=3))[::-1]) for _ in range(400)]
    correct = [bool(rng.random() < 0.5) for _ in score_sets]
    fitted = cross_fit(score_sets, correct, folds=2, seed=0)
    assert len(fitted.temperatures) == len(fitted.thresholds) == 2
    assert len(fitted.confidences) == len(score_sets)
    assert all(0.0 <= c <= 1.0 for c in fitted.confidences)
    assert fitted.answered == [
        c >= t
        for c, t in zip(fitted.confidences, fold_thresholds(fitted, len(score_sets)), strict=True)
    ]


def fold_thresholds(fitted, count):
    """The threshold that applied to each question, by the fold that scored it."""
    order = list(range(count))
    random.Random(0).shuffle(order)
    thresholds = [0.0] * count
    for fold, threshold in enumerate(fitted.thresholds):
        for i in order[fold :: len(fitted.thresholds)]:
            thresholds[i] = threshold
    return thresholds


def test_ece_noise_floor_shrinks_with_more_predictions():
    rng = np.random.default_rng(3)
    few = ece_noise_floor(rng.random(50))
    many = ece_noise_floor(rng.random(5000))
    assert 0.0 < many < few
