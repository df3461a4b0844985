"""Answer scores: SQuAD exact match and token F1, KorQuAD character F1 for Korean.

English follows the SQuAD v1.1 script: lower-case, drop punctuation and the articles a/an/the,
collapse whitespace, then compare tokens. Korean words carry particles ("서울에서" vs "서울"), so
as in KorQuAD's script F1 counts shared characters (spaces removed) instead of words.
"""

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

from seoga.text.scripts import has_hangul

ARTICLES = re.compile(r"\b(a|an|the)\b")
PUNCTUATION = set(string.punctuation) | {"‘", "’", "“", "”", "·", "《", "》", "「", "」", "…"}
# An answer counts as right when it holds a gold answer or overlaps it this much (token F1).
CORRECT_F1 = 0.5


def normalize_answer(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(character for character in text if character not in PUNCTUATION)
    text = ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD F1 over normalised words."""
    return _overlap_f1(normalize_answer(prediction).split(), normalize_answer(gold).split())


def char_f1(prediction: str, gold: str) -> float:
    """KorQuAD F1 over the characters of the normalised answers, spaces removed."""
    return _overlap_f1(
        list(normalize_answer(prediction).replace(" ", "")),
        list(normalize_answer(gold).replace(" ", "")),
    )


def answer_f1(prediction: str, gold: str) -> float:
    """Character F1 when the gold answer is Korean, SQuAD token F1 otherwise."""
    return char_f1(prediction, gold) if has_hangul(gold) else token_f1(prediction, gold)


def _overlap_f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def best_scores(prediction: str, golds: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) against the closest of several gold answers."""
    if not golds:
        return 0.0, 0.0
    return (
        max(exact_match(prediction, gold) for gold in golds),
        max(answer_f1(prediction, gold) for gold in golds),
    )


def contains_answer(prediction: str, golds: Sequence[str]) -> bool:
    """True when a normalised gold answer appears inside the normalised prediction."""
    text = f" {normalize_answer(prediction)} "
    return any(
        normalize_answer(gold) and f" {normalize_answer(gold)} " in text for gold in golds
    ) or any(
        has_hangul(gold) and normalize_answer(gold) and normalize_answer(gold) in text
        for gold in golds
    )


def is_correct(prediction: str, golds: Sequence[str]) -> bool:
    """What calibration counts as right: the prediction holds a gold answer (a highlighted
    sentence can), or overlaps one with F1 of at least CORRECT_F1 (a long reference can)."""
    return contains_answer(prediction, golds) or best_scores(prediction, golds)[1] >= CORRECT_F1
