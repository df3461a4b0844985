"""The span reader: an extractive question-answering head on an encoder (transformers).

Each passage is read with the question; passages longer than the model's window are read in
overlapping windows (`stride` tokens shared). Candidate answers are token spans scored by start
logit + end logit, compared across all windows and passages. The passages come ranked by the
retriever, and a reader trained on single gold passages scores spans of a wrong passage about
as high as the right one's, so each place down the ranking costs a span `rank_penalty` (the
retriever and reader scores interpolated, as BERTserini does, with ranks for scores because
fused search scores have no fixed scale).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seoga.answer.base import Answer, Passage, Reader, Span, TokenCallback
from seoga.datasets.answers import CORRECT_F1, answer_f1, normalize_answer
from seoga.models.folders import read_model_config

KIND = "reader"
DEFAULT_MAX_LENGTH = 384
DEFAULT_STRIDE = 128
MAX_ANSWER_TOKENS = 30
TOP_N = 20
# Candidate answers kept for calibration (the chosen one first).
KEPT_CANDIDATES = 20
# A candidate overlapping the chosen answer this much (F1) is the same answer, as "right" is.
SAME_ANSWER_F1 = CORRECT_F1
BATCH_FEATURES = 8
# Chosen on SQuAD v1.1 dev questions the benchmarks do not report (its test half's 501st to
# 1,000th), with 3 passages: F1 45.6 at 0, 59.7 at 1.5, 59.1 for the first passage alone
# (5 passages: 39.1, 59.6, 59.0).
RANK_PENALTY = 1.5
# A question may use at most this share of a window; the rest is passage.
QUESTION_SHARE = 3
# Room for the special tokens around a (question, passage) pair.
SPECIAL_TOKENS = 4


def fit_window(
    tokenizer, questions: Sequence[str], max_length: int, stride: int
) -> tuple[list[str], int]:
    """Questions cut to a third of the window and a stride that fits the passage room left,
    so a long question can never leave the passage no room (or the stride too much)."""
    limit = max(1, max_length // QUESTION_SHARE)
    encoded = tokenizer(
        list(questions), add_special_tokens=False, return_offsets_mapping=True, verbose=False
    )
    cut = []
    for question, offsets in zip(questions, encoded["offset_mapping"], strict=True):
        cut.append(question[: offsets[limit - 1][1]] if len(offsets) > limit else question)
    longest = min(limit, max((len(ids) for ids in encoded["input_ids"]), default=0))
    room = max(2, max_length - longest - SPECIAL_TOKENS)
    return cut, max(0, min(stride, room // 2))


def best_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int] | None],
    *,
    top_n: int = TOP_N,
    max_answer_tokens: int = MAX_ANSWER_TOKENS,
) -> list[tuple[float, int, int]]:
    """(score, char start, char end) of valid spans in one window.

    `offsets[i]` is token i's character span in the passage, or None when token i is not
    passage text (question, special tokens, padding).
    """
    allowed = np.array([offset is not None for offset in offsets])
    if not allowed.any():
        return []
    starts = np.where(allowed, start_logits, -np.inf)
    ends = np.where(allowed, end_logits, -np.inf)
    start_top = np.argsort(-starts)[:top_n]
    end_top = np.argsort(-ends)[:top_n]
    found = []
    for start in start_top:
        if not allowed[start]:
            continue
        for end in end_top:
            if not allowed[end] or end < start or end - start + 1 > max_answer_tokens:
                continue
            char_start, char_end = offsets[start][0], offsets[end][1]
            if char_end > char_start:
                found.append((float(starts[start] + ends[end]), char_start, char_end))
    return found


class SpanReader(Reader):
    """Extractive answers from a fine-tuned AutoModelForQuestionAnswering folder."""

    name = "span"

    def __init__(
        self,
        path: str | Path,
        *,
        max_length: int | None = None,
        stride: int | None = None,
        max_answer_tokens: int = MAX_ANSWER_TOKENS,
        rank_penalty: float = RANK_PENALTY,
    ) -> None:
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        self.path = Path(path).resolve()
        config = read_model_config(self.path, KIND)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModelForQuestionAnswering.from_pretrained(self.path).eval()
        self.max_length = max_length or config.get("max_length", DEFAULT_MAX_LENGTH)
        self.stride = stride or config.get("stride", DEFAULT_STRIDE)
        self.max_answer_tokens = max_answer_tokens
        self.rank_penalty = rank_penalty

    @property
    def calibration_key(self) -> str:
        return f"span:{self.path}"

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        candidates = self.candidates(question, passages)
        if not candidates:
            return self.no_passages(question)
        _, number, start, end = candidates[0]
        texts = {p.number: p.text for p in passages}
        text = texts[number][start:end].strip()
        if on_token is not None:
            on_token(text)
        kept = candidates[:KEPT_CANDIDATES]
        # Spans that give the same answer ("Denver Broncos", "Broncos") share its probability.
        same = [c for c in kept[1:] if answer_f1(texts[c[1]][c[2] : c[3]], text) >= SAME_ANSWER_F1]
        others = [c for c in kept[1:] if c not in same]
        scores = [candidate[0] for candidate in [kept[0], *same, *others]]
        support = 1 + len(same)
        return self.answer(
            text, [number], scores, passages, spans=[Span(number, start, end)], support=support
        )

    def candidates(
        self, question: str, passages: Sequence[Passage]
    ) -> list[tuple[float, int, int, int]]:
        """(score, passage number, char start, char end), best first, one per distinct text;
        a span's score is its logits less `rank_penalty` for each passage ranked above its own."""
        import torch

        if not passages:
            return []
        questions, stride = fit_window(
            self.tokenizer, [question.strip()], self.max_length, self.stride
        )
        encoded = self.tokenizer(
            questions * len(passages),
            [passage.text for passage in passages],
            truncation="only_second",
            max_length=self.max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )
        owners = encoded.pop("overflow_to_sample_mapping").tolist()
        offsets = encoded.pop("offset_mapping").tolist()
        inputs = {key: value for key, value in encoded.items()}
        best: dict[str, tuple[float, int, int, int]] = {}
        with torch.inference_mode():
            for first in range(0, len(owners), BATCH_FEATURES):
                rows = slice(first, first + BATCH_FEATURES)
                output = self.model(**{key: value[rows] for key, value in inputs.items()})
                starts = output.start_logits.float().numpy()
                ends = output.end_logits.float().numpy()
                for row in range(starts.shape[0]):
                    feature = first + row
                    sequence = encoded.sequence_ids(feature)
                    rank = owners[feature]
                    passage = passages[rank]
                    window = [
                        tuple(offsets[feature][i]) if sequence[i] == 1 else None
                        for i in range(len(sequence))
                    ]
                    for score, start, end in best_spans(
                        starts[row], ends[row], window, max_answer_tokens=self.max_answer_tokens
                    ):
                        score -= self.rank_penalty * rank
                        key = normalize_answer(passage.text[start:end])
                        if key and (key not in best or best[key][0] < score):
                            best[key] = (score, passage.number, start, end)
        return sorted(best.values(), key=lambda candidate: -candidate[0])
