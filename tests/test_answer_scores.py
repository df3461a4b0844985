"""SQuAD EM/F1 and KorQuAD character F1."""

import pytest

from seoga.datasets.answers import (
    answer_f1,
    best_scores,
    char_f1,
    exact_match,
    is_correct,
    normalize_answer,
    token_f1,
)


def test_squad_normalisation():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert exact_match("the eiffel tower", "Eiffel Tower.") == 1.0


def test_token_f1():
    assert token_f1("Denver Broncos", "Broncos") == pytest.approx(2 / 3)
    assert token_f1("", "x") == 0.0
    assert token_f1("a", "the") == 1.0  # both normalise to nothing, as in the SQuAD script


def test_korean_uses_character_f1():
    # "서울에서" vs "서울": words differ, characters overlap (2 of 4 predicted, 2 of 2 gold)
    assert token_f1("서울에서", "서울") == 0.0
    assert char_f1("서울에서", "서울") == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert answer_f1("서울에서", "서울") == char_f1("서울에서", "서울")


def test_best_over_golds_and_correctness():
    em, f1 = best_scores("1973", ["October 1973", "1973"])
    assert em == 1.0 and f1 == 1.0
    assert is_correct("It began in October 1973 when OPEC acted.", ["October 1973"])
    assert not is_correct("It ended in 1974.", ["October 1973"])
    assert is_correct("계약갱신요구권을 행사합니다", ["계약갱신요구권"])
