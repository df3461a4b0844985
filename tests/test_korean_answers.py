"""Korean answers: particle trimming, answer types and candidates, the highlighter's spans."""

import json

import pytest

from seoga.answer.answer_types import Asked, Kind, asks, candidates
from seoga.answer.base import Answer, Passage, Reader, Span
from seoga.answer.highlighter import Highlighter
from seoga.answer.particles import trim_answer, trim_particles, trim_span
from seoga.answer.synthetic import (
    MIN_QUESTION_TERMS,
    QuestionMaker,
    SourcePassage,
    SyntheticConfig,
    make_question,
)
from seoga.demo import ask_questions, build_demo
from seoga.errors import InputError
from seoga.settings import CollectionSettings
from seoga.text.analyzers import build_analyzer


@pytest.mark.parametrize(
    ("answer", "trimmed"),
    [
        ("1989년에", "1989년"),
        ("서울에서", "서울"),
        ("임수경을", "임수경"),
        ("경희대학교에서는", "경희대학교"),
        ("서울특별시로부터", "서울특별시"),
        ("3명의", "3명"),
        ("한국인이다", "한국인"),
        ("대통령이었던", "대통령"),
        ("10만 원이다.", "10만 원"),
        ("《한겨레》에", "《한겨레》"),
        ("설립했다", "설립했다"),  # a verb keeps its ending: "설립했" is not a word
        ("을", "을"),  # nothing but a particle: kept, an answer must not vanish
        ("Denver Broncos", "Denver Broncos"),
    ],
)
def test_trailing_particles_are_dropped(answer, trimmed):
    assert trim_answer(answer) == trimmed


def test_a_span_is_widened_to_whole_morphemes():
    text = "그는 1989년에 서울에서 태어났다."
    start, end = trim_span(text, text.index("989"), text.index("서울") + 1)
    assert text[start:end] == "1989년에 서울"  # a particle inside the span stays


def read_as(text: str, passage_text: str, *, sentence: bool = False) -> Answer:
    passages = [Passage(1, "d", "", passage_text)]
    start = passage_text.index(text)
    span = Span(1, start, start + len(text))
    answer = Answer(text, [1], 0.5, "test", spans=[span], passages=passages)
    answer.sentence = span if sentence else None
    return answer


def test_trimming_moves_the_span_and_spares_whole_sentences():
    passage = "임종석은 1989년 2월 15일에 지명수배되었다. 그는 서울에서 살았다."
    answer = trim_particles(read_as("1989년 2월 15일에", passage))
    assert answer.text == "1989년 2월 15일"
    span = answer.spans[0]
    assert passage[span.start : span.end] == "1989년 2월 15일"
    sentence = "그는 서울에서 살았다."
    assert trim_particles(read_as(sentence, passage, sentence=True)).text == sentence
    generated = Answer("서울에서", [], 0.5, "llm")
    assert trim_particles(generated).text == "서울"


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("임종석이 여의도 농민 폭력 시위를 주도한 혐의로 지명수배 된 날은?", Asked.DATE),
        ("1989년 6월 30일 평양축전에 대표로 파견 된 인물은?", Asked.PERSON),
        ("고다이고 천황은 수세에 몰리자 누구와 화친을 맺었나요?", Asked.PERSON),
        ("노아의 방주가 발견되었다는 보도를 한 방송사는 어디인가?", Asked.PLACE),
        ("19세기 300승 클럽에 가입한 투수는 몇명인가?", Asked.NUMBER),
        ("전두환 노태우 전 대통령은 몇년도에 사면되었는가?", Asked.DATE),
        ("별에서 온 그대의 평균 시청률은 얼마인가?", Asked.NUMBER),
        ("이회창이 주장한 것은?", Asked.THING),
        ("Who led the Broncos?", Asked.PERSON),
        ("When was the treaty signed?", Asked.DATE),
        ("Where is the stadium?", Asked.PLACE),
        ("How many people watched it?", Asked.NUMBER),
        ("What did he study?", Asked.THING),
    ],
)
def test_what_a_question_asks_for(question, asked):
    assert asks(question).kind is asked


@pytest.mark.parametrize(
    ("question", "counter"),
    [("그 건물은 몇 층인가?", "층"), ("몇 명이 참가했는가?", "명"), ("How many floors?", None)],
)
def test_the_counter_a_how_many_question_names(question, counter):
    assert asks(question).counter == counter


def spans_of(text: str) -> dict[str, Kind]:
    return {text[c.start : c.end]: c.kind for c in candidates(text)}


def test_korean_candidates_carry_their_kind():
    found = spans_of(
        "1989년 2월 15일 여의도 농민 시위로 도조 히데키가 《한겨레》에 22조 9000억원을 내고 "
        "한 번 왔다."
    )
    assert found["1989년 2월 15일"] is Kind.DATE
    assert found["22조 9000억원"] is Kind.NUMBER
    assert found["한 번"] is Kind.NUMBER
    assert found["도조 히데키"] is Kind.ENTITY
    assert found["여의도 농민 시위"] is Kind.ENTITY and found["여의도"] is Kind.ENTITY
    assert found["한겨레"] is Kind.TITLE


def test_english_candidates_carry_their_kind():
    found = spans_of(
        "Peyton Manning led the Denver Broncos on February 7, 2016 in Santa Clara, "
        "watched by 3.5 million."
    )
    assert found["February 7, 2016"] is Kind.DATE
    assert found["3.5 million"] is Kind.NUMBER
    assert {"Peyton Manning", "Denver Broncos", "Santa Clara"} <= {
        text for text, kind in found.items() if kind is Kind.ENTITY
    }


KOREAN_PASSAGES = [
    Passage(
        1,
        "임종석_0",
        "임종석",
        "1989년 2월 15일 여의도 농민 폭력 시위를 주도한 혐의로 지명수배되었다. "
        "같은 해 6월 30일 평양축전에 임수경을 대표로 파견하였다.",
    ),
]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("임종석이 여의도 농민 폭력 시위를 주도한 혐의로 지명수배된 날은?", "1989년 2월 15일"),
        ("평양축전에 대표로 파견된 인물은 누구인가?", "임수경"),
    ],
)
def test_highlighter_answers_with_the_span_and_keeps_the_sentence(question, answer):
    highlighter = Highlighter(build_analyzer("korean"))
    found = highlighter.read(question, KOREAN_PASSAGES)
    assert found.text == answer
    passage = KOREAN_PASSAGES[0].text
    assert passage[found.spans[0].start : found.spans[0].end] == answer
    sentence = passage[found.sentence.start : found.sentence.end]
    assert answer in sentence and sentence != answer


@pytest.mark.parametrize(
    ("passage", "question", "answer"),
    [
        (
            "인접 채널 사이에는 보호 대역(guard band)이 존재한다.",
            "인접 채널 사이에 존재하는 것은 무엇인가?",
            "보호 대역",
        ),
        ("노아의 방주에는 8명이 탔고, 방주는 3층으로 되어 있었다.", "방주는 몇 층인가?", "3층"),
    ],
)
def test_highlighter_prefers_the_korean_name_and_the_asked_counter(passage, question, answer):
    highlighter = Highlighter(build_analyzer("korean"))
    assert highlighter.read(question, [Passage(1, "d", "", passage)]).text == answer


def test_highlighter_looks_past_the_best_sentence_for_the_asked_type():
    # The first sentence shares more of the question's words but holds no count of times.
    text = (
        "계약갱신요구권은 2020년 주택임대차보호법 개정으로 도입된 임차인의 권리이다. "
        "임차인은 이 권리를 한 번만 행사할 수 있다."
    )
    highlighter = Highlighter(build_analyzer("korean"))
    found = highlighter.read("계약갱신요구권은 몇 번 쓸 수 있나요?", [Passage(1, "d", "", text)])
    assert found.text == "한 번"
    assert text[found.sentence.start : found.sentence.end].startswith("임차인은")


def test_highlighter_does_not_answer_with_the_questions_abbreviation():
    text = "Dense Passage Retrieval (DPR), introduced by Karpukhin in 2020, encodes passages."
    highlighter = Highlighter(build_analyzer("english"))
    found = highlighter.read("Who introduced Dense Passage Retrieval?", [Passage(1, "d", "", text)])
    assert found.text == "Karpukhin"


def test_the_demo_answers_its_sample_questions_with_their_spans(tmp_path):
    collection, _ = build_demo(tmp_path / "demo", CollectionSettings(embedder="none"))
    replies = ask_questions(collection)
    assert [reply.answer.text for reply in replies if not reply.expected] == []
    assert any(reply.question.lang == "ko" for reply in replies)


def test_highlighter_falls_back_to_the_sentence():
    highlighter = Highlighter(build_analyzer("english"))
    passages = [Passage(1, "a", "", "Dense retrieval uses vectors. It ranks by term frequency.")]
    found = highlighter.read("by what frequency does it rank", passages)
    assert found.text == "It ranks by term frequency." and found.spans == [found.sentence]
    plain = Highlighter(build_analyzer("korean"), extract=False)
    question = "임종석이 지명수배된 날은?"
    assert plain.read(question, KOREAN_PASSAGES).text.startswith("1989년 2월 15일 여의도")


class FixedReader(Reader):
    """Answers with one span of the first passage, as an extractive reader would."""

    name = "fixed"

    def __init__(self, text: str) -> None:
        self.text = text

    def read(self, question, passages, *, on_token=None):
        start = passages[0].text.index(self.text)
        spans = [Span(passages[0].number, start, start + len(self.text))]
        return self.answer(self.text, [passages[0].number], [1.0], passages, spans=spans)


def test_the_pipeline_trims_every_reader_unless_told_not_to(tmp_path, tiny_model):
    from seoga import Asker, Collection, CollectionSettings
    from seoga.answer.pipeline import AskSettings

    collection = Collection.create(tmp_path / "kb", CollectionSettings(embedder=str(tiny_model)))
    passages = [Passage(1, "d", "", "그는 서울에서 태어났다.")]
    trimmed = Asker(collection, FixedReader("서울에서")).read("어디서 태어났나?", passages)
    kept = Asker(
        collection, FixedReader("서울에서"), settings=AskSettings(trim_particles=False)
    ).read("어디서 태어났나?", passages)
    assert (trimmed.text, kept.text) == ("서울", "서울에서")


def question_for(sentence: str, answer: str) -> str:
    found = [c for c in candidates(sentence) if sentence[c.start : c.end] == answer]
    assert found, [sentence[c.start : c.end] for c in candidates(sentence)]
    return make_question(sentence, found[0])


@pytest.mark.parametrize(
    ("sentence", "answer", "question"),
    [
        (
            "임종석은 1989년 2월 15일에 지명수배되었다.",
            "1989년 2월 15일",
            "임종석은 언제 지명수배되었는가?",
        ),
        ("그는 평양축전에 임수경을 파견하였다.", "임수경", "그는 평양축전에 무엇을 파견하였는가?"),
        ("그 해에 투수 3명이 가입했다.", "3명", "그 해에 투수 몇 명이 가입했는가?"),
        ("정부는 22조 9000억원을 지출한다.", "22조 9000억원", "정부는 얼마를 지출하는가?"),
        ("반기문은 유엔 사무총장이다.", "유엔 사무총장", "반기문은 무엇인가?"),
        (
            "Peyton Manning led the Broncos in 2016.",
            "2016",
            "Peyton Manning led the Broncos in when?",
        ),
        ("Peyton Manning led the Broncos.", "Peyton Manning", "What led the Broncos?"),
    ],
)
def test_a_question_puts_its_question_word_in_the_answers_place(sentence, answer, question):
    assert question_for(sentence, answer) == question


SOURCES = [
    SourcePassage(
        "a", "반기문은 2006년 10월 14일에 유엔 사무총장에 당선되었다. 그는 충주에서 자랐다."
    ),
    SourcePassage("b", "유엔 사무총장 선거에서 반기문은 2006년 10월 14일 당선이 확정되었다."),
    SourcePassage("c", "금강산은 강원도에 있다. 금강산의 높이는 1,638미터이다."),
]


def test_synthetic_questions_are_answerable_seeded_and_read_elsewhere():
    config = SyntheticConfig(seed=3, per_sentence=5, other_passages=True)
    maker = QuestionMaker(build_analyzer("korean"), config)
    made = maker.make(SOURCES)
    assert made and made == maker.make(SOURCES)
    for question in made:
        start = question.answer_start
        assert question.context[start : start + len(question.answer)] == question.answer
        assert question.answer not in question.question and question.question.endswith("?")
    moved = [q for q in made if q.read_from != q.source]
    assert moved and all({q.source, q.read_from} == {"a", "b"} for q in moved)
    alone = QuestionMaker(build_analyzer("korean"), SyntheticConfig(seed=3, per_sentence=5)).make(
        SOURCES
    )
    assert all(q.read_from == q.source for q in alone)
    capped = QuestionMaker(build_analyzer("korean"), SyntheticConfig(seed=3, max_questions=2)).make(
        SOURCES
    )
    assert len(capped) == 2


def test_synthetic_filters_count_what_they_drop_and_can_be_turned_off():
    analyzer = build_analyzer("korean")
    repeated = [*SOURCES, SOURCES[0]]
    filtered = QuestionMaker(analyzer, SyntheticConfig(seed=3, per_sentence=5))
    kept = filtered.make(repeated)
    assert filtered.dropped["duplicate"] and filtered.dropped["too short"]
    assert len({q.question for q in kept}) == len(kept)
    assert all(len(analyzer.tokenize(q.question)) >= MIN_QUESTION_TERMS for q in kept)
    unfiltered = QuestionMaker(analyzer, SyntheticConfig(seed=3, per_sentence=5, filters=False))
    everything = unfiltered.make(repeated)
    assert len(everything) == len(kept) + sum(filtered.dropped.values())
    assert any(len(analyzer.tokenize(q.question)) < MIN_QUESTION_TERMS for q in everything)


def test_cli_trains_a_reader_on_synthetic_questions(tmp_path, tiny_model):
    from seoga import Collection, CollectionSettings
    from seoga.answer.train_span import SYNTHETIC_NAME
    from tests.answer_models import build_tiny_bert
    from tests.test_ask import cli

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"_id": p.doc_id, "text": p.text}, ensure_ascii=False) + "\n"
            for p in SOURCES
        ),
        encoding="utf-8",
    )
    kb = Collection.create(tmp_path / "kb", CollectionSettings(embedder=str(tiny_model)))
    kb.add([corpus])
    out = tmp_path / "reader"
    trained = cli(
        "train", "reader", "--synthetic", str(kb.root), "--synthetic-max", "6",
        "--base", str(build_tiny_bert(tmp_path / "bert")), "--epochs", "1",
        "--max-length", "64", "--stride", "16", "--out", str(out),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "6 synthetic questions" in trained.output
    assert len((out / SYNTHETIC_NAME).read_text(encoding="utf-8").splitlines()) == 6
    record = json.loads((out / "seoga_model.json").read_text())
    assert (record["synthetic_examples"], record["labelled_examples"]) == (6, 0)
    with pytest.raises(InputError, match="--synthetic"):
        cli("train", "reader", "--out", str(tmp_path / "none"))
