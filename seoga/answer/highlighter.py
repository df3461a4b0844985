"""The highlighter: the sentence of the retrieved passages that best answers the question, and
the answer inside it.

No training: each sentence scores by how close its embedding is to the question's (the
collection's own bi-encoder), how many of the question's terms it holds (weighted by their
rarity among the candidate sentences) and how high its passage was retrieved. Inside the best
sentence, the question's expected answer type (seoga.answer.answer_types) picks a span: a
candidate of that type, not already in the question, nearest the question's words. When the best
sentence holds no candidate of the type asked for (a date for "when", a count of floors for
"몇 층"), the next best sentences are looked in first; with no candidate anywhere the answer is
the sentence.
"""

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seoga.answer.answer_types import (
    ANSWERED_BY,
    MAX_ANSWER_CHARS,
    Asked,
    Asks,
    Candidate,
    Kind,
    asks,
    candidates,
)
from seoga.answer.base import Answer, Passage, Reader, Span, TokenCallback
from seoga.calibrate.temperature import TemperatureScaling
from seoga.text.analyzers import Analyzer
from seoga.text.scripts import has_hangul
from seoga.text.sentences import split_sentences_many

# Raw-score weights: e5 cosines sit in a narrow band, so 0.05 of cosine is worth one unit;
# covering every question term is worth LEXICAL_WEIGHT units; each rank down costs RANK_COST.
DENSE_WEIGHT = 20.0
LEXICAL_WEIGHT = 3.0
RANK_COST = 0.3
# Before calibration, sentences compete at this temperature.
DEFAULT_TEMPERATURE = 2.0
MIN_SENTENCE_CHARS = 3
# A question word this many characters from a candidate answer counts half as much as one
# right beside it: answers sit close to the words the question repeats.
NEAR_CHARS = 12.0
# Answers written in digits whatever the language of the question.
NUMERIC = (Kind.DATE, Kind.NUMBER)
# A question word inside a candidate costs as much as one beside it earns.
OVERLAP_COST = 1.0
# Sentences, best first, looked in for an answer of exactly the asked type before a looser one.
TYPED_SENTENCES = 3
# Capitalised words, whose initials an abbreviation repeats ("DPR" for "Dense Passage Retrieval").
CAPITALISED = re.compile(r"\b[A-Z][\w-]*")


@dataclass(frozen=True)
class Sentence:
    passage: Passage
    rank: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]


class Highlighter(Reader):
    """Picks the best sentence; the answer is that sentence, cited and highlighted in context."""

    name = "highlighter"

    def __init__(self, analyzer: Analyzer, embedder=None, *, extract: bool = True) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        self.extract = extract  # False: the answer is the whole sentence, as before answer types

    @property
    def default_scaling(self) -> TemperatureScaling:
        return TemperatureScaling(DEFAULT_TEMPERATURE)

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        sentences = self.sentences(passages)
        if not sentences:
            return self.no_passages(question)
        scores = self.score(question, sentences)
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        chosen, found = order[0], None
        if self.extract:
            chosen, found = self.answer_in(question, [(i, sentences[i]) for i in order])
        best = sentences[chosen]
        sentence = Span(best.passage.number, best.start, best.end)
        span = Span(sentence.passage, *found) if found else sentence
        text = best.passage.text[span.start : span.end]
        if on_token is not None:
            on_token(text)
        ranked = [float(scores[i]) for i in [chosen, *(i for i in order if i != chosen)]]
        answer = self.answer(text, [best.passage.number], ranked, passages, spans=[span])
        answer.sentence = sentence
        return answer

    def answer_in(
        self, question: str, ranked: list[tuple[int, Sentence]]
    ) -> tuple[int, tuple[int, int] | None]:
        """The sentence (its number) the answer comes from and the answer's passage offsets:
        the first of the best TYPED_SENTENCES holding a candidate of exactly the asked type, else
        the best sentence's candidate of a looser type, else None (the whole sentence)."""
        asked = asks(question)
        terms = set(self.analyzer.tokenize(question))
        initials = "".join(word[0] for word in CAPITALISED.findall(question))
        number, best = ranked[0]
        in_best = self.fitting(question, best, terms, initials)
        if asked.kind is not Asked.THING:
            for other, sentence in ranked[:TYPED_SENTENCES]:
                fitting = (
                    in_best
                    if sentence is best
                    else self.fitting(question, sentence, terms, initials)
                )
                found = _answer_span(sentence, fitting, asked, exact=True)
                if found:
                    return other, found
        return number, _answer_span(best, in_best, asked, exact=False)

    @staticmethod
    def fitting(
        question: str, sentence: Sentence, terms: set[str], initials: str
    ) -> tuple[list[Candidate], list[tuple[int, int]]]:
        """The candidates in `sentence` that could answer `question` (not in it, short, not an
        abbreviation of its words), and where the question's terms sit in the sentence."""
        text = sentence.text
        folded = text.casefold()
        question_folded = question.casefold()
        places = [
            (match.start(), match.end())
            for term in terms
            for match in re.finditer(re.escape(term.casefold()), folded)
        ]
        found = [
            candidate
            for candidate in candidates(text)
            if text[candidate.start : candidate.end].casefold() not in question_folded
            and candidate.end - candidate.start <= MAX_ANSWER_CHARS
            and not _abbreviates(text[candidate.start : candidate.end], initials)
        ]
        if has_hangul(question):
            # A Korean question wants the Korean name, not the English or Hanja gloss
            # beside it ("보호 대역(guard band)").
            found = [
                candidate
                for candidate in found
                if candidate.kind in NUMERIC or has_hangul(text[candidate.start : candidate.end])
            ] or found
        return found, places

    @staticmethod
    def sentences(passages: Sequence[Passage]) -> list[Sentence]:
        found = []
        spans_per_passage = split_sentences_many(passage.text for passage in passages)
        for rank, (passage, spans) in enumerate(zip(passages, spans_per_passage, strict=True)):
            found += [
                Sentence(passage, rank, start, end)
                for start, end in spans
                if end - start >= MIN_SENTENCE_CHARS
            ]
        return found

    def score(self, question: str, sentences: Sequence[Sentence]) -> np.ndarray:
        """Raw score of each sentence (higher is a better answer)."""
        texts = [sentence.text for sentence in sentences]
        lexical = self.lexical_scores(question, texts)
        ranks = np.array([sentence.rank for sentence in sentences], dtype=np.float64)
        scores = LEXICAL_WEIGHT * lexical - RANK_COST * ranks
        if self.embedder is not None:
            query = self.embedder.encode_queries([question])[0]
            vectors = self.embedder.encode_passages(texts)
            scores += DENSE_WEIGHT * (vectors @ query).astype(np.float64)
        return scores

    def lexical_scores(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """Share of the question's term weight each text covers; weights are IDF among texts."""
        terms = set(self.analyzer.tokenize(question))
        if not terms:
            return np.zeros(len(texts))
        held = [set(tokens) & terms for tokens in self.analyzer.tokenize_many(texts)]
        frequency = Counter(term for found in held for term in found)
        weight = {term: math.log(1 + len(texts) / (1 + frequency[term])) for term in terms}
        total = sum(weight.values())
        return np.array([sum(weight[term] for term in found) / total for found in held])


def _answer_span(
    sentence: Sentence,
    fitting: tuple[list[Candidate], list[tuple[int, int]]],
    asked: Asks,
    *,
    exact: bool,
) -> tuple[int, int] | None:
    """Passage offsets of the answer among the sentence's fitting candidates, or None when none
    is of the asked type; `exact` takes only the asked type itself (with its counter, when one
    is named)."""
    found, places = fitting
    text = sentence.text
    kinds = ANSWERED_BY[asked.kind]
    for kind in kinds[:1] if exact else kinds:
        pool = [candidate for candidate in found if candidate.kind is kind]
        if asked.counter:
            # "몇 층" is answered by a count of floors, not of people.
            counted = [c for c in pool if text[c.start : c.end].endswith(asked.counter)]
            pool = counted if exact else counted or pool
        if pool:
            best = max(pool, key=lambda candidate: _nearness(candidate, places))
            return sentence.start + best.start, sentence.start + best.end
    return None


def _abbreviates(text: str, initials: str) -> bool:
    """Whether `text` is an abbreviation of capitalised words of the question ("DPR")."""
    return len(text) > 1 and text.isupper() and text.isalpha() and text in initials


def _nearness(candidate: Candidate, places: list[tuple[int, int]]) -> float:
    """How close the question's words sit to `candidate`; words inside it count against it,
    since an answer does not repeat the question."""
    score = 0.0
    for start, end in places:
        if start < candidate.end and end > candidate.start:
            score -= OVERLAP_COST
            continue
        gap = candidate.start - end if end <= candidate.start else start - candidate.end
        score += 1.0 / (1.0 + gap / NEAR_CHARS)
    return score
