"""BM25 analyzers: terms for Korean, English and mixed text; configs that rebuild them."""

import json

import pytest

from seoga.errors import InputError
from seoga.text.analyzers import (
    ANALYZERS,
    DEFAULT_ANALYZER,
    DEFAULT_KEEP_TAGS,
    ENGLISH_STOPWORDS,
    BigramAnalyzer,
    EnglishAnalyzer,
    KoreanAnalyzer,
    MixedAnalyzer,
    WhitespaceAnalyzer,
    build_analyzer,
)
from seoga.text.kiwi import get_kiwi

TEXTS = [
    "전세 계약을 갱신하려면 어떻게 해야 하나요?",
    "Running contracts are the tenants' problem.",
    "LLM을 활용한 B2B e-Commerce 전략 2024년",
    "",
    "   ",
]


def test_korean_keeps_content_morphemes():
    terms = KoreanAnalyzer().tokenize("전세 계약을 갱신하려면 어떻게 해야 하나요?")
    assert {"전세", "계약", "갱신"} <= set(terms)
    assert "을" not in terms  # a particle
    assert "려면" not in terms  # an ending


def test_korean_keep_tags_choose_the_terms():
    nouns = KoreanAnalyzer(keep_tags=["NN"]).tokenize("임대인이 계약을 해지하고 떠났다")
    assert nouns == ["임대인", "계약", "해지"]
    with_verbs = KoreanAnalyzer(keep_tags=["NN", "VV"]).tokenize("임대인이 계약을 해지하고 떠났다")
    assert "떠나" in with_verbs


def test_korean_lowercases_latin_but_does_not_stem():
    assert KoreanAnalyzer().tokenize("LLM Running") == ["llm", "running"]


def test_english_stems_and_drops_stop_words():
    english = EnglishAnalyzer()
    assert english.tokenize("Running contracts") == ["run", "contract"]
    assert english.tokenize("The contracts of the TENANTS, type 2.") == [
        "contract",
        "tenant",
        "type",
        "2",
    ]
    assert "the" in ENGLISH_STOPWORDS
    assert EnglishAnalyzer(stopwords=[], stemmer=None).tokenize("The Running") == ["the", "running"]


def test_mixed_uses_english_for_text_without_hangul():
    assert MixedAnalyzer().tokenize("Running contracts") == ["run", "contract"]


def test_mixed_treats_latin_in_korean_text_the_english_way():
    terms = MixedAnalyzer().tokenize("LLM을 활용한 Running contracts의 전략")
    assert {"llm", "run", "contract", "활용", "전략"} <= set(terms)
    assert "running" not in terms
    # The same Latin word gives the same term whatever script surrounds it.
    assert "b2b" in MixedAnalyzer().tokenize("B2B 전략")
    assert MixedAnalyzer().tokenize("B2B e-Commerce") == ["b2b", "e", "commerc"]
    assert MixedAnalyzer().tokenize("B2B e-Commerce 전략")[:3] == ["b2b", "e", "commerc"]


def test_bigram_pairs_hangul_and_stems_latin():
    assert BigramAnalyzer().tokenize("전세계약 갱신 집") == ["전세", "세계", "계약", "갱신", "집"]
    assert BigramAnalyzer().tokenize("LLM을 Running") == ["llm", "을", "run"]


def test_whitespace_is_plain_lowercased_words():
    assert WhitespaceAnalyzer().tokenize("계약을 갱신, Running!") == ["계약을", "갱신", "running"]


@pytest.mark.parametrize("name", list(ANALYZERS))
def test_tokenize_many_matches_tokenize(name):
    analyzer = build_analyzer(name)
    expected = [analyzer.tokenize(text) for text in TEXTS]
    assert analyzer.tokenize_many(TEXTS) == expected
    assert analyzer.tokenize_many(TEXTS, show_progress=True) == expected
    assert analyzer.tokenize("") == []


@pytest.mark.parametrize("name", list(ANALYZERS))
def test_config_is_json_and_rebuilds_the_same_analyzer(name):
    analyzer = build_analyzer(name)
    config = json.loads(json.dumps(analyzer.config()))
    assert config["name"] == name
    rebuilt = build_analyzer(config)
    assert type(rebuilt) is type(analyzer)
    assert rebuilt.config() == analyzer.config()
    assert rebuilt.tokenize_many(TEXTS) == analyzer.tokenize_many(TEXTS)


def test_non_default_settings_survive_the_config():
    korean = build_analyzer({"name": "korean", "keep_tags": ["NN"]})
    assert build_analyzer(korean.config()).tokenize("계약을 해지하다") == ["계약", "해지"]
    english = build_analyzer({"name": "english", "stopwords": ["contract"], "stemmer": None})
    assert build_analyzer(english.config()).tokenize("the contract runs") == ["the", "runs"]


def test_default_analyzer_is_mixed_with_the_measured_tags():
    analyzer = build_analyzer(DEFAULT_ANALYZER)
    assert isinstance(analyzer, MixedAnalyzer)
    assert analyzer.keep_tags == tuple(sorted(DEFAULT_KEEP_TAGS))


@pytest.mark.parametrize(
    "config",
    [
        "stemmed",
        {"keep_tags": ["NN"]},
        {"name": "korean", "keep_tag": ["NN"]},
        {"name": "korean", "keep_tags": []},
        {"name": "english", "stemmer": "klingon"},
    ],
)
def test_bad_configs_are_input_errors(config):
    with pytest.raises(InputError):
        build_analyzer(config)


def test_kiwi_is_built_once():
    assert get_kiwi() is get_kiwi()
