"""Answer types: what a question asks for, and the spans of a text that could answer it.

The question's wh-word (누구 / 언제 / 어디 / 몇 / 얼마 / 무엇, who / when / where / how many /
what) or, in the KorQuAD style "…지명수배된 날은?", the noun it ends on names the kind of answer
expected. Candidates of each kind come from Kiwi's tags in Korean text (numbers with their
counters, dates, proper-noun and noun phrases, bracketed titles) and from patterns in English
text. The highlighter picks one inside its best sentence; synthetic questions are made by putting
the wh-word in a candidate's place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from seoga.text.kiwi import get_kiwi
from seoga.text.scripts import has_hangul


class Kind(StrEnum):
    """What an answer is. ENTITY covers people and places alike: Kiwi's NNP does not say which."""

    DATE = "date"
    NUMBER = "number"
    ENTITY = "entity"
    NOUN = "noun"
    TITLE = "title"


class Asked(StrEnum):
    """What a question asks for."""

    PERSON = "person"
    PLACE = "place"
    DATE = "date"
    NUMBER = "number"
    THING = "thing"


# Candidate kinds that answer each question, best first.
ANSWERED_BY: dict[Asked, tuple[Kind, ...]] = {
    Asked.PERSON: (Kind.ENTITY, Kind.NOUN),
    Asked.PLACE: (Kind.ENTITY, Kind.NOUN),
    Asked.DATE: (Kind.DATE,),
    Asked.NUMBER: (Kind.NUMBER, Kind.DATE),
    Asked.THING: (Kind.TITLE, Kind.ENTITY, Kind.NOUN),
}


# Longer spans are clauses, not answers (KorQuAD and SQuAD answers are mostly a few words).
MAX_ANSWER_CHARS = 30


@dataclass(frozen=True)
class Candidate:
    """Characters [start, end) of a text that could be an answer of `kind`."""

    start: int
    end: int
    kind: Kind


# --- what a question asks -------------------------------------------------------------------

# Korean question words (Kiwi forms) and the nouns a KorQuAD-style question ends on.
KOREAN_WH = {
    "언제": Asked.DATE,
    "누구": Asked.PERSON,
    "누": Asked.PERSON,  # 누가 = 누 + 가
    "어디": Asked.PLACE,
    "몇": Asked.NUMBER,
    "며칠": Asked.DATE,
    "얼마": Asked.NUMBER,
    "얼마나": Asked.NUMBER,
    "무엇": Asked.THING,
    "무슨": Asked.THING,
    "뭐": Asked.THING,
    "어느": Asked.THING,
    "어떤": Asked.THING,
}
KOREAN_HEADS = {
    Asked.DATE: "날 날짜 연도 년도 해 시기 시점 일자 연대 때 세기 년 월 일",
    Asked.PERSON: "사람 인물 선수 작가 감독 저자 화가 배우 가수 왕 황제 주인공 대통령 총리 "
    "장군 투수 학자 아버지 어머니 아들 딸 후보 후보자 멤버",
    Asked.PLACE: "곳 장소 지역 나라 국가 도시 지명 위치 고향 출신지",
    Asked.NUMBER: "수 개수 금액 인원 비율 나이 가격 점수 횟수 거리 높이 길이 무게 면적 인구 "
    "시청률 득표율 순위 기록",
}
KOREAN_HEAD_NOUNS = {word: asked for asked, words in KOREAN_HEADS.items() for word in words.split()}
# 몇 before these counters asks for a date ("몇 년도에", "몇 월"), not a count.
DATE_COUNTERS = {"년도", "월"}
NOUN_TAGS = ("NNG", "NNP")

ENGLISH_WH_PATTERNS = [
    (r"\bhow (many|much|long|old|far|large|big|tall|high)\b", Asked.NUMBER),
    (r"\bwhat (percentage|percent|number|amount)\b", Asked.NUMBER),
    (r"\b(when|what year|which year|what date|what century|what decade)\b", Asked.DATE),
    (r"\b(who|whom|whose)\b", Asked.PERSON),
    (r"\bwhere\b|\b(what|which) (city|country|state|place|region|town)\b", Asked.PLACE),
]
ENGLISH_QUESTIONS = [(re.compile(pattern, re.I), asked) for pattern, asked in ENGLISH_WH_PATTERNS]


@dataclass(frozen=True)
class Asks:
    """What a question asks for, and the counter a Korean "how many" question names
    ("몇 층" → "층"), read from one analysis of the question."""

    kind: Asked
    counter: str | None = None


def asks(question: str) -> Asks:
    """What `question` asks for; THING when nothing narrower is recognised."""
    if not has_hangul(question):
        for pattern, asked in ENGLISH_QUESTIONS:
            if pattern.search(question):
                return Asks(asked)
        return Asks(Asked.THING)
    tokens = get_kiwi().tokenize(question)
    return Asks(_korean_asked(tokens), _korean_counter(tokens))


def _korean_counter(tokens) -> str | None:
    for token, following in zip(tokens, tokens[1:], strict=False):
        if token.form == "몇" and following.tag in COUNTER_TAGS:
            return following.form
    return None


def _korean_asked(tokens) -> Asked:
    for index, token in enumerate(tokens):
        asked = KOREAN_WH.get(token.form)
        if asked is None or token.tag.startswith("V"):
            continue
        following = tokens[index + 1].form if index + 1 < len(tokens) else ""
        if token.form == "몇" and following in DATE_COUNTERS:
            return Asked.DATE
        return asked
    nouns = [token.form for token in tokens if token.tag in NOUN_TAGS]
    if nouns and nouns[-1] in KOREAN_HEAD_NOUNS:
        return KOREAN_HEAD_NOUNS[nouns[-1]]
    return Asked.THING


# --- candidates in Korean text ----------------------------------------------------------------

NUMBER_TAGS = {"SN", "NR"}
# Native Korean numerals Kiwi tags as determiners (MM): a number only before a counter ("한 번").
NATIVE_NUMERALS = {"한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉", "열", "스무"}
# Counters that make a number a date.
DATE_UNITS = {"년", "월", "일", "세기", "년대", "년도", "시", "분", "초", "일자"}
# Tags a counter may have right after a number: bound nouns (명, 원), units in Latin (km), %.
COUNTER_TAGS = {"NNB", "SL", "SW", "NNG"}
# Counters that may stand a space after their number ("한 번", "30 %"); nouns must touch it.
SPACED_COUNTER_TAGS = {"NNB", "SW"}
PHRASE_TAGS = {"NNG", "NNP", "XSN", "SL", "SH", "SN", "NR", "NNB", "XPN"}
# Suffixes that make the noun before them a verb or adjective (진학/NNG 하/XSV).
PREDICATE_SUFFIXES = {"XSV", "XSA"}
MIN_NOUN_CHARS = 2
# A word that begins with a number is a number phrase (found apart), not part of a noun phrase.
NUMBER_START = {"SN", "NR"}
OPENING = {"SSO"}
CLOSING = {"SSC"}
# Characters between two tokens of one number phrase ("1989년 2월"): at most a space.
NUMBER_GAP = 1


def _is_number(tokens, index: int) -> bool:
    token = tokens[index]
    if token.tag in NUMBER_TAGS:
        return True
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    return (
        token.tag == "MM"
        and token.form in NATIVE_NUMERALS
        and following is not None
        and following.tag == "NNB"
    )


def _korean_numbers(tokens) -> list[Candidate]:
    found = []
    index = 0
    while index < len(tokens):
        if not _is_number(tokens, index):
            index += 1
            continue
        first = last = index
        units = set()
        cursor = index + 1
        while cursor < len(tokens):
            token, previous = tokens[cursor], tokens[cursor - 1]
            gap = token.start - (previous.start + previous.len)
            if gap > NUMBER_GAP:
                break
            if token.tag in NUMBER_TAGS:
                last = cursor
            elif (
                _is_number(tokens, cursor - 1)
                and token.tag in COUNTER_TAGS
                and (gap == 0 or token.tag in SPACED_COUNTER_TAGS)
            ):
                units.add(token.form)
                last = cursor
            else:
                break
            cursor += 1
        kind = Kind.DATE if units & DATE_UNITS else Kind.NUMBER
        end = tokens[last].start + tokens[last].len
        found.append(Candidate(tokens[first].start, end, kind))
        index = last + 1
    return found


def _korean_phrases(tokens) -> list[Candidate]:
    """Noun phrases: runs of nouns over whole words (eojeols) that carry no particle, the last
    word's particle excluded; a run of whole proper-noun words inside one is a candidate too.
    A noun made a verb by 하다 ("진학했다") is a predicate, not an answer."""
    found = []
    phrase: list[list] = []  # the noun tokens of each word

    def close(following: str | None) -> None:
        if following in PREDICATE_SUFFIXES:
            phrase.pop()
        if phrase:
            first, last = phrase[0][0], phrase[-1][-1]
            kind = (
                Kind.ENTITY if any(t.tag == "NNP" for word in phrase for t in word) else Kind.NOUN
            )
            if last.start + last.len - first.start >= MIN_NOUN_CHARS:
                found.append(Candidate(first.start, last.start + last.len, kind))
            proper = [word for word in phrase if all(t.tag == "NNP" for t in word)]
            if proper and len(proper) < len(phrase):
                run_end = proper[-1][-1].start + proper[-1][-1].len
                found.append(Candidate(proper[0][0].start, run_end, Kind.ENTITY))
        phrase.clear()

    for word in _words(tokens):
        core = []
        for token in word:
            if token.tag not in PHRASE_TAGS:
                break
            core.append(token)
        nominal = any(token.tag.startswith("NN") for token in core)
        if not core or not nominal or core[0].tag in NUMBER_START:
            close(None)
            continue
        phrase.append(core)
        if len(core) < len(word):
            close(word[len(core)].tag)
    close(None)
    return found


def _words(tokens) -> list[list]:
    words: list[list] = []
    for token in tokens:
        if words and token.start == words[-1][-1].start + words[-1][-1].len:
            words[-1].append(token)
        else:
            words.append([token])
    return words


def _korean_titles(tokens) -> list[Candidate]:
    found = []
    opened = None
    for token in tokens:
        if token.tag in OPENING:
            opened = token
        elif token.tag in CLOSING and opened is not None:
            start = opened.start + opened.len
            if token.start > start:
                found.append(Candidate(start, token.start, Kind.TITLE))
            opened = None
    return found


# --- candidates in English text ---------------------------------------------------------------

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
ENGLISH_PATTERNS = [
    (
        re.compile(
            rf"\b(?:\d{{1,2}} )?(?:{MONTHS})(?: \d{{1,2}})?(?:,? \d{{4}})?\b|"
            r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b|\b\d{1,2}(?:st|nd|rd|th) century\b"
        ),
        Kind.DATE,
    ),
    (
        re.compile(r"(?:\$|£|€)?\b\d[\d,.]*(?:\s?(?:%|percent|million|billion|thousand|hundred))?"),
        Kind.NUMBER,
    ),
    (re.compile(r"[\"“]([^\"”]{2,60})[\"”]"), Kind.TITLE),
    (
        re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|the|de|von|van|and|for|&)?\s*[A-Z][\w'’.-]*)*"),
        Kind.ENTITY,
    ),
]
# Capitalised words that begin sentences rather than names.
ENGLISH_STOP = {"The", "A", "An", "In", "On", "At", "It", "This", "That", "He", "She", "They"}


def _english_candidates(text: str) -> list[Candidate]:
    found = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in ENGLISH_PATTERNS:
        for match in pattern.finditer(text):
            group = 1 if match.re.groups else 0
            start, end = match.span(group)
            if kind is Kind.ENTITY and text[start:end] in ENGLISH_STOP:
                continue
            if kind is Kind.ENTITY and text[start:end].split(" ", 1)[0] in ENGLISH_STOP:
                start += len(text[start:end].split(" ", 1)[0]) + 1
            if any(start < right and end > left for left, right in taken):
                continue
            taken.append((start, end))
            found.append(Candidate(start, end, kind))
    return found


def candidates(text: str) -> list[Candidate]:
    """Every span of `text` that could be an answer, with its kind, in text order."""
    if not text.strip():
        return []
    if not has_hangul(text):
        found = _english_candidates(text)
    else:
        tokens = get_kiwi().tokenize(text)
        found = _korean_numbers(tokens) + _korean_titles(tokens)
        numbers = [(c.start, c.end) for c in found]
        found += [
            phrase
            for phrase in _korean_phrases(tokens)
            if not any(phrase.start >= left and phrase.end <= right for left, right in numbers)
        ]
    return sorted(set(found), key=lambda candidate: (candidate.start, -candidate.end))
