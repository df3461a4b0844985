"""Synthetic questions from a collection: reader training data without labels.

Each sentence of a passage offers answer candidates (seoga.answer.answer_types: dates, numbers
with their counters, proper nouns, noun phrases, titles). A question is made by putting the
matching question word in the answer's place and turning the sentence into a question: Korean
keeps the question word in place ("1989년 2월 15일 지명수배되었다." → "언제 지명수배되었는가?"),
English reads as an in-place question ("Manning led what to the title?"). Fabbri et al. (2020)
found that a reader given the very sentence the question was cut from learns string matching,
so another passage of the collection that holds the same answer and shares the question's words
can be the one read (`other_passages`); on KorQuAD-A that reader scored about the same as one
reading each question's own passage (a little better in Korean, worse in English), so the own
passage, the simpler, is the default.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seoga.answer.answer_types import MAX_ANSWER_CHARS, Candidate, Kind, candidates
from seoga.answer.squad import QAExample
from seoga.collection import Collection
from seoga.progress import track
from seoga.text.analyzers import Analyzer
from seoga.text.scripts import has_hangul
from seoga.text.sentences import split_sentences_many

MIN_ANSWER_CHARS = 1
# A question needs this many index terms besides its question word to be answerable at all.
MIN_QUESTION_TERMS = 3
MAX_QUESTION_CHARS = 150
# Candidates turned into questions per sentence: more would repeat one sentence many times.
PER_SENTENCE = 2
# The filters, as QuestionMaker.dropped names them.
HOLDS_ANSWER, TOO_SHORT, TOO_LONG, DUPLICATE = (
    "holds its answer",
    "too short",
    "too long",
    "duplicate",
)
# Another passage is read instead only when it shares this many of the question's terms.
MIN_SHARED_TERMS = 2

KOREAN_WH = {
    Kind.DATE: "언제",
    Kind.NUMBER: "몇",
    Kind.ENTITY: "무엇",
    Kind.NOUN: "무엇",
    Kind.TITLE: "무엇",
}
CURRENCY_COUNTERS = ("원", "달러", "엔", "위안", "유로", "파운드")
ENGLISH_WH = {
    Kind.DATE: "when",
    Kind.NUMBER: "how many",
    Kind.ENTITY: "what",
    Kind.NOUN: "what",
    Kind.TITLE: "what",
}
# Particles that change with the word before them: (after a consonant, after a vowel).
PARTICLE_PAIRS = (
    ("을", "를"),
    ("이", "가"),
    ("은", "는"),
    ("과", "와"),
    ("으로", "로"),
    ("이랑", "랑"),
)
KOREAN_PARTICLE = re.compile(r"^(을|를|이랑|이|가|은|는|와|과|으로|로|의|에서|에게|에|도|만|랑)")
# Sentence endings turned into question endings, longest first.
KOREAN_ENDINGS = (("습니다", "습니까"), ("입니다", "입니까"), ("이다", "인가"), ("였다", "였는가"))
HANGUL_FIRST, HANGUL_LAST, JONGSEONG_COUNT = 0xAC00, 0xD7A3, 28
JONGSEONG_NIEUN = 4
TRAILING = ".!?…\"'”’」』》) "


@dataclass(frozen=True)
class SyntheticQuestion:
    """A generated question, its answer, and the passage a reader learns it from."""

    question: str
    answer: str
    context: str
    answer_start: int
    kind: str
    source: str  # the document the question was made from
    read_from: str  # the document whose passage the reader reads

    def to_example(self, number: int) -> QAExample:
        return QAExample(
            qid=f"synthetic-{number}",
            title=self.read_from,
            question=self.question,
            context=self.context,
            answers=(self.answer,),
            answer_start=self.answer_start,
        )


@dataclass(frozen=True)
class SyntheticConfig:
    max_questions: int | None = None
    seed: int = 0
    # Read another passage holding the answer, where one does (Fabbri et al.); on KorQuAD-A it
    # trained about as good a reader as the own passage (BENCHMARKS.md "Korean answers").
    other_passages: bool = False
    per_sentence: int = PER_SENTENCE
    # Drop questions that hold their answer, are too short or too long, or repeat another;
    # turned off only to measure what the filters are worth.
    filters: bool = True


@dataclass(frozen=True)
class SourcePassage:
    doc_id: str
    text: str


def _question_ending(clause: str) -> str:
    """A Korean statement's ending turned into a question's ("되었다" → "되었는가")."""
    clause = clause.rstrip(TRAILING)
    for statement, question in KOREAN_ENDINGS:
        if clause.endswith(statement):
            return clause[: -len(statement)] + question
    if clause.endswith("다") and len(clause) > 1:
        stem = clause[-2]
        if _final_consonant(stem) == JONGSEONG_NIEUN:
            # "한다" → "하는가": the ㄴ of the present tense leaves the stem.
            return clause[:-2] + chr(ord(stem) - JONGSEONG_NIEUN) + "는가"
        return clause[:-1] + "는가"
    return clause


def _korean_question(sentence: str, candidate: Candidate, answer: str) -> str:
    before = sentence[: candidate.start]
    after = sentence[candidate.end :]
    if candidate.kind is Kind.DATE:
        word = KOREAN_WH[Kind.DATE]
        after = KOREAN_PARTICLE.sub("", after, count=1)
    elif candidate.kind is Kind.NUMBER:
        counter = re.sub(r"^[\d,.\s]+", "", re.sub(r"[\d,.]+(만|억|조|천)?\s*", "", answer))
        word = "얼마" if answer.endswith(CURRENCY_COUNTERS) else f"몇 {counter}".strip()
    else:
        word = KOREAN_WH[candidate.kind]
    if candidate.kind is not Kind.DATE:
        after = _particle_for(word, after)
    return _question_ending((before + word + after).strip()) + "?"


def _final_consonant(syllable: str) -> int | None:
    """The index of a Hangul syllable's final consonant (0: none), None for any other character."""
    code = ord(syllable) - HANGUL_FIRST
    return code % JONGSEONG_COUNT if 0 <= code <= HANGUL_LAST - HANGUL_FIRST else None


def _ends_in_consonant(word: str) -> bool:
    return bool(_final_consonant(word[-1]))


def _particle_for(word: str, after: str) -> str:
    """`after` with its leading particle in the form that follows `word` (무엇을, 얼마를)."""
    particle = KOREAN_PARTICLE.match(after)
    if not particle:
        return after
    for consonant, vowel in PARTICLE_PAIRS:
        if particle.group(1) in (consonant, vowel):
            chosen = consonant if _ends_in_consonant(word) else vowel
            return chosen + after[particle.end() :]
    return after


def _english_question(sentence: str, candidate: Candidate) -> str:
    word = ENGLISH_WH[candidate.kind]
    before = sentence[: candidate.start]
    if not before.strip():
        word = word.capitalize()
    text = before + word + sentence[candidate.end :]
    return text.rstrip(TRAILING) + "?"


def make_question(sentence: str, candidate: Candidate) -> str:
    """The question whose answer is `candidate` of `sentence`."""
    answer = sentence[candidate.start : candidate.end]
    if has_hangul(sentence):
        return _korean_question(sentence, candidate, answer)
    return _english_question(sentence, candidate)


class AnswerHolders:
    """Which passages hold each candidate answer, and each passage's index terms: to find
    another passage that answers a question."""

    def __init__(self, passages: Sequence[SourcePassage], analyzer: Analyzer) -> None:
        self.passages = passages
        self.terms = [set(terms) for terms in analyzer.tokenize_many([p.text for p in passages])]
        self.holding: dict[str, list[int]] = defaultdict(list)
        for index, passage in enumerate(passages):
            for text in {passage.text[c.start : c.end] for c in candidates(passage.text)}:
                self.holding[text].append(index)

    def other(self, answer: str, terms: set[str], source: SourcePassage) -> SourcePassage | None:
        """The passage other than `source` that holds `answer` and shares most of `terms`."""
        best, best_shared = None, MIN_SHARED_TERMS - 1
        for index in self.holding.get(answer, ()):
            passage = self.passages[index]
            shared = len(terms & self.terms[index])
            if passage.text != source.text and shared > best_shared:
                best, best_shared = passage, shared
        return best


class QuestionMaker:
    """Makes synthetic questions from passages; `make` returns them, seeded, and counts in
    `dropped` the questions each filter removed (counted even when the filters are off)."""

    def __init__(self, analyzer: Analyzer, config: SyntheticConfig | None = None) -> None:
        self.analyzer = analyzer
        self.config = config or SyntheticConfig()
        self.dropped: Counter[str] = Counter()

    def make(
        self, passages: Sequence[SourcePassage], *, show_progress: bool = False
    ) -> list[SyntheticQuestion]:
        rng = random.Random(self.config.seed)
        sentences = split_sentences_many(passage.text for passage in passages)
        holders = AnswerHolders(passages, self.analyzer) if self.config.other_passages else None
        self.dropped = Counter()
        questions: list[SyntheticQuestion] = []
        seen: set[str] = set()
        pairs = zip(passages, sentences, strict=True)
        for passage, spans in track(
            pairs, "making questions", total=len(passages), enabled=show_progress
        ):
            for start, end in spans:
                for question in self._from_sentence(passage, start, end, rng, holders):
                    if question.question in seen:
                        self.dropped[DUPLICATE] += 1
                        if self.config.filters:
                            continue
                    seen.add(question.question)
                    questions.append(question)
        rng.shuffle(questions)
        if self.config.max_questions is not None:
            questions = questions[: self.config.max_questions]
        return questions

    def _from_sentence(
        self,
        passage: SourcePassage,
        start: int,
        end: int,
        rng: random.Random,
        holders: AnswerHolders | None,
    ) -> Iterable[SyntheticQuestion]:
        sentence = passage.text[start:end]
        usable = [
            candidate
            for candidate in candidates(sentence)
            if MIN_ANSWER_CHARS <= candidate.end - candidate.start <= MAX_ANSWER_CHARS
        ]
        for candidate in rng.sample(usable, min(self.config.per_sentence, len(usable))):
            answer = sentence[candidate.start : candidate.end]
            question = make_question(sentence, candidate)
            terms = set(self.analyzer.tokenize(question))
            rejected = _rejected(question, answer, terms)
            if rejected:
                self.dropped[rejected] += 1
                if self.config.filters:
                    continue
            read_from, at = passage, start + candidate.start
            other = holders.other(answer, terms, passage) if holders else None
            if other is not None:
                read_from, at = other, other.text.find(answer)
            yield SyntheticQuestion(
                question,
                answer,
                read_from.text,
                at,
                candidate.kind.value,
                passage.doc_id,
                read_from.doc_id,
            )


def _rejected(question: str, answer: str, terms: set[str]) -> str | None:
    """The filter a question fails, if any."""
    if answer in question:
        return HOLDS_ANSWER
    if len(terms) < MIN_QUESTION_TERMS:
        return TOO_SHORT
    if len(question) > MAX_QUESTION_CHARS:
        return TOO_LONG
    return None


def collection_passages(collection) -> list[SourcePassage]:
    """Every chunk of a collection as a passage to make questions from."""
    return [SourcePassage(chunk.doc_id, chunk.text) for chunk in collection.store.iter_chunks()]


def synthetic_questions(
    collection, config: SyntheticConfig | None = None, *, show_progress: bool = False
) -> list[SyntheticQuestion]:
    """Synthetic questions made from every passage of `collection` (a Collection or its path)."""
    opened = collection if isinstance(collection, Collection) else Collection.open(collection)
    maker = QuestionMaker(opened.analyzer, config)
    return maker.make(collection_passages(opened), show_progress=show_progress)
