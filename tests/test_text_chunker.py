"""Sentence splitting and chunking: offsets, sizes, overlap, over-long sentences."""

from dataclasses import replace

import pytest

from seoga.errors import InputError
from seoga.text.chunker import Chunker, approximate_tokens
from seoga.text.documents import Document
from seoga.text.formats.structure import BLOCK_SEPARATOR, section_at
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


# (section path, blocks): a preamble before any heading, a long section, a nested one and a
# short one, each section starting with its heading as format readers build them.
SECTION_BLOCKS = [
    ("", ["과업지시서의 머리말입니다."]),
    ("Ⅰ. 개요", ["Ⅰ. 개요", long_text()]),
    ("Ⅰ. 개요 > 1. 배경", ["1. 배경", KOREAN]),
    ("Ⅱ. 일정", ["Ⅱ. 일정", ENGLISH]),
]


def sectioned_document() -> Document:
    text, sections = "", []
    for path, blocks in SECTION_BLOCKS:
        text += BLOCK_SEPARATOR if text else ""
        if path:
            sections.append([len(text), path])
        text += BLOCK_SEPARATOR.join(blocks)
    return Document("plan", text, metadata={"sections": sections})


def straddles(chunk, bounds: list[int]) -> bool:
    return any(chunk.start < bound < chunk.end for bound in bounds)


def test_a_document_with_sections_is_chunked_section_by_section():
    document = sectioned_document()
    sections = document.metadata["sections"]
    starts = [start for start, _ in sections]
    chunker = Chunker(max_tokens=60, overlap_tokens=8)
    chunks = chunker.chunk(document)
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text == document.text[chunk.start : chunk.end]
        assert chunk.section == section_at(sections, chunk.start)
        assert not straddles(chunk, starts)
    # The preamble and each section start chunks of their own; a long section takes several.
    assert {0, *starts} <= {chunk.start for chunk in chunks}
    assert [chunk.section for chunk in chunks].count("Ⅰ. 개요") > 1
    background = [chunk for chunk in chunks if chunk.section == "Ⅰ. 개요 > 1. 배경"]
    assert [chunk.text for chunk in background] == [f"1. 배경{BLOCK_SEPARATOR}{KOREAN}"]
    # Without its sections the same text packs across the headings.
    plain = chunker.chunk(replace(document, metadata={}))
    assert any(straddles(chunk, starts) for chunk in plain)
    assert {chunk.section for chunk in plain} == {""}


def test_chunk_many_with_sections_equals_chunk_each():
    documents = [
        sectioned_document(),
        Document("a", long_text()),
        Document("b", ""),
        replace(sectioned_document(), doc_id="again"),
    ]
    chunker = Chunker(max_tokens=40, overlap_tokens=8)
    expected = [chunk for document in documents for chunk in chunker.chunk(document)]
    assert chunker.chunk_many(documents) == expected


def test_sections_out_of_order_or_at_one_offset():
    text = f"{KOREAN}{BLOCK_SEPARATOR}{ENGLISH}"
    second = len(KOREAN) + len(BLOCK_SEPARATOR)
    sections = [[second, "B"], [0, "A"], [0, "A2"], [len(text) + 1, "beyond"]]
    chunks = Chunker().chunk(Document("d", text, metadata={"sections": sections}))
    assert [(chunk.text, chunk.section) for chunk in chunks] == [(KOREAN, "A2"), (ENGLISH, "B")]


@pytest.mark.parametrize("sections", ["서론", [[0]], [["0", "A"]], [[True, "A"]], [[0, 1]]])
def test_sections_metadata_of_another_shape_is_ignored(sections):
    chunker = Chunker(max_tokens=40, overlap_tokens=8)
    text = long_text()
    found = chunker.chunk(Document("d", text, metadata={"sections": sections}))
    assert found == chunker.chunk(Document("d", text))
