from seoga.search.results import Highlight, SearchResult
from seoga.search.snippets import find_highlights, make_snippet, merge_spans


def fake_stem(word: str) -> list[str]:
    return [word.lower().removesuffix("ning").removesuffix("s")]


def test_korean_terms_match_inside_inflected_words_and_english_by_stem():
    text = "전세 계약을 갱신하려면 Running contracts matter."
    (spans,) = find_highlights([text], {"계약", "갱신", "run", "contract"}, fake_stem)
    marked = [text[h.start : h.end] for h in spans]
    assert marked == ["계약", "갱신", "Running", "contracts"]


def test_highlights_are_whole_words_per_text_and_overlapping_terms_merge():
    texts = ["runs rerun runs.", "갱신청구 no match", "RUN"]
    found = find_highlights(texts, {"run", "갱신", "신청"}, fake_stem)
    marked = [
        [text[h.start : h.end] for h in spans] for text, spans in zip(texts, found, strict=True)
    ]
    # "rerun" contains "run" but is another word; 갱신 and 신청 overlap into one span.
    assert marked == [["runs", "runs"], ["갱신청"], ["RUN"]]


def test_overlapping_spans_merge():
    assert merge_spans([(5, 9), (0, 3), (2, 4), (9, 10)]) == [(0, 4), (5, 10)]


def test_snippet_window_moves_to_the_matches_and_keeps_spans_aligned():
    text = "x" * 500 + " target word here " + "y" * 500
    start = text.index("target")
    snippet, spans = make_snippet(text, [Highlight(start, start + 6)], width=100)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(spans) == 1
    assert snippet[spans[0].start : spans[0].end] == "target"


def test_short_text_is_kept_whole():
    snippet, spans = make_snippet("short", [Highlight(0, 5)])
    assert snippet == "short" and spans == [Highlight(0, 5)]


def test_marked_snippet_wraps_highlights():
    result = SearchResult("d", "t", "s", 1.0, "a beta c", 0, [Highlight(2, 6)])
    assert result.marked_snippet("<", ">") == "a <beta> c"
