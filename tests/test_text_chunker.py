"""Sentence splitting and chunking: offsets, sizes, overlap, over-long sentences."""

import pytest

from seoga.errors import InputError
from seoga.text.chunker import Chunker, approximate_tokens
from seoga.text.documents import Document
from seoga.text.sentences import split_sentences, split_sentences_many

KOREAN = "전세 계약을 갱신하려면 임대인에게 통지해야 합니다. 기간은 2년입니다! 보증금은 돌려받나요?"
ENGLISH = (
    "Dr. Kim signed the lease. The rent is due on the 1st, e.g. in March. "
    "Is the deposit safe? It is held by the U.S. Bank in escrow."
)


def words(count: int, prefix: str = "word") -> str:
    return " ".join(f"{prefix}{i}" for i in range(count))


def long_text() -> str:
    paragraphs = []
    for p in range(6):
        english = " ".join(f"Sentence {p}-{s} has some {words(s % 7 + 3)} in it." for s in range(9))
        paragraphs.append(f"{english} {KOREAN}")
    return "\n\n".join(paragraphs)


def texts_of(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[start:end] for start, end in spans]


def test_korean_sentences_via_kiwi():
    assert texts_of(KOREAN, split_sentences(KOREAN)) == [
        "전세 계약을 갱신하려면 임대인에게 통지해야 합니다.",
        "기간은 2년입니다!",
        "보증금은 돌려받나요?",
    ]


def test_english_sentences_respect_abbreviations():
    assert texts_of(ENGLISH, split_sentences(ENGLISH)) == [
        "Dr. Kim signed the lease.",
        "The rent is due on the 1st, e.g. in March.",
        "Is the deposit safe?",
        "It is held by the U.S. Bank in escrow.",
    ]


def test_english_inside_a_korean_paragraph_is_split_too():
    text = "The rent is due. Is it safe? 전세 계약을 갱신하려면 통지해야 합니다. 장점 1. 미래 전략"
    assert texts_of(text, split_sentences(text)) == [
        "The rent is due.",
        "Is it safe?",
        "전세 계약을 갱신하려면 통지해야 합니다.",
        "장점 1. 미래 전략",
    ]


def test_blank_lines_end_sentences_and_spans_are_trimmed():
    text = "  Title without stop\n\n첫 문단 문장이다 \n\n\n  Last one.  "
    assert texts_of(text, split_sentences(text)) == [
        "Title without stop",
        "첫 문단 문장이다",
        "Last one.",
    ]
    assert split_sentences("") == []
    assert split_sentences(" \n\n ") == []


def test_split_many_matches_split_one():
    texts = [KOREAN, ENGLISH, "", long_text()]
    assert list(split_sentences_many(texts)) == [split_sentences(text) for text in texts]


def test_approximate_tokens_counts_words_and_half_hangul():
    assert approximate_tokens("Running contracts 2024") == 3
    assert approximate_tokens("전세계약") == 2
    assert approximate_tokens("") == 0


def test_empty_document_has_no_chunks():
    assert Chunker().chunk(Document("empty", "")) == []
    assert Chunker().chunk(Document("blank", " \n\n ")) == []


def test_short_document_is_one_chunk():
    text = f"  {ENGLISH}\n\n{KOREAN}\n"
    chunks = Chunker().chunk(Document("short", text))
    assert len(chunks) == 1
    only = chunks[0]
    assert (only.doc_id, only.position, only.text) == ("short", 0, text.strip())
    assert text[only.start : only.end] == only.text


@pytest.mark.parametrize("overlap", [0, 8, 20])
def test_chunks_are_whole_sentences_within_the_limit(overlap):
    text = long_text()
    document = Document("long", text)
    max_tokens = 60
    chunks = Chunker(max_tokens=max_tokens, overlap_tokens=overlap).chunk(document)
    sentences = split_sentences(text)
    starts = {start for start, _ in sentences}
    ends = {end for _, end in sentences}
    assert len(chunks) > 3
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.doc_id == "long"
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.start in starts
        assert chunk.end in ends
        assert approximate_tokens(chunk.text) <= max_tokens
    # Every sentence is in some chunk, in order.
    assert chunks[0].start == sentences[0][0]
    assert chunks[-1].end == sentences[-1][1]
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.start < after.start
        assert after.start <= before.end or text[before.end : after.start].strip() == ""


def test_consecutive_chunks_overlap_by_about_overlap_tokens():
    text = " ".join(f"Sentence number {i} is here." for i in range(60))  # 5 tokens each
    chunks = Chunker(max_tokens=50, overlap_tokens=10).chunk(Document("d", text))
    assert len(chunks) > 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        shared = text[after.start : before.end]
        assert approximate_tokens(shared) == 10
    without = Chunker(max_tokens=50, overlap_tokens=0).chunk(Document("d", text))
    for before, after in zip(without, without[1:], strict=False):
        assert after.start > before.end
    assert len(without) < len(chunks)


def test_overlap_gives_way_to_a_big_next_sentence():
    text = f"{words(10, 'A')}. {words(10, 'B')}. {words(45, 'C')}."
    chunks = Chunker(max_tokens=50, overlap_tokens=10).chunk(Document("d", text))
    assert [chunk.text[:2] for chunk in chunks] == ["A0", "C0"]


def test_long_sentence_is_cut_at_whitespace():
    sentence = words(230) + "."
    text = f"Short opening sentence. {sentence} Short closing sentence."
    chunks = Chunker(max_tokens=50, overlap_tokens=0).chunk(Document("d", text))
    original_words = set(text.split())
    assert len(chunks) >= 5
    for chunk in chunks:
        assert approximate_tokens(chunk.text) <= 50
        assert set(chunk.text.split()) <= original_words
        assert chunk.text == text[chunk.start : chunk.end]
    assert " ".join(chunk.text for chunk in chunks) == text


def test_one_overlong_word_is_cut_by_characters():
    text = "가" * 300
    chunks = Chunker(max_tokens=40, overlap_tokens=0).chunk(Document("d", text))
    assert "".join(chunk.text for chunk in chunks) == text
    assert all(approximate_tokens(chunk.text) <= 40 for chunk in chunks)


def test_custom_token_counter():
    text = " ".join(f"S{i} x." for i in range(20))
    chunks = Chunker(max_tokens=6, overlap_tokens=0, count_tokens=len).chunk(Document("d", text))
    assert [chunk.text for chunk in chunks[:2]] == ["S0 x.", "S1 x."]


def test_chunk_many_equals_chunk_each():
    documents = [Document("a", long_text()), Document("b", ""), Document("c", KOREAN)]
    chunker = Chunker(max_tokens=40, overlap_tokens=8)
    expected = [chunk for document in documents for chunk in chunker.chunk(document)]
    assert chunker.chunk_many(iter(documents)) == expected


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_bad_sizes_are_input_errors(max_tokens, overlap):
    with pytest.raises(InputError):
        Chunker(max_tokens=max_tokens, overlap_tokens=overlap)
