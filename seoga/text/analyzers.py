"""BM25 analyzers: text → index terms, for Korean (Kiwi morphemes), English, or both.

Every analyzer has a name and a JSON-able config() that build_analyzer() turns back into it, so
a collection's manifest can say exactly how its sparse index was tokenised.
"""

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import Stemmer
from bm25s.stopwords import STOPWORDS_EN
from kiwipiepy import Token

from seoga.errors import InputError
from seoga.progress import track
from seoga.text.kiwi import get_kiwi
from seoga.text.scripts import has_hangul

DEFAULT_ANALYZER = "mixed"
ENGLISH_STOPWORDS: tuple[str, ...] = tuple(STOPWORDS_EN)
ENGLISH_STEMMER = "english"
# Kiwi tag prefixes kept as terms: nouns, verb and adjective stems, roots, Latin words, numbers
# and noun suffixes (-적, -성, -화). Chosen by benchmarks/analyzers.py: the best nDCG@10 on
# autorag_ko for the mixed analyzer (.944 vs .937 without XSN; adding MAG or SH did not help).
DEFAULT_KEEP_TAGS: tuple[str, ...] = ("NN", "VV", "VA", "XR", "SL", "SN", "XSN")
# Kiwi tags of Latin letters, digits, URLs, e-mail addresses and serial numbers: the mixed
# analyzer sends them down the English path so a term is the same whatever script surrounds it.
LATIN_TAGS = frozenset({"SL", "SN", "W_URL", "W_EMAIL", "W_SERIAL"})

# Single characters count: "type 2 diabetes", "제3조" (bm25s's default drops them; keeping them
# measured better on both benchmark sets).
_WORD = re.compile(r"\w+")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")


class Analyzer(ABC):
    """Turns a text into the list of terms a BM25 index stores or a query looks up."""

    name: ClassVar[str]

    @abstractmethod
    def tokenize(self, text: str) -> list[str]:
        """The terms of one text, in order, repeats kept."""

    def tokenize_many(
        self, texts: Sequence[str], *, show_progress: bool = False
    ) -> list[list[str]]:
        """The terms of each text."""
        return [self.tokenize(text) for text in self._track(texts, show_progress)]

    def config(self) -> dict[str, Any]:
        """JSON-able settings; build_analyzer(config) makes an analyzer that tokenises the same."""
        return {"name": self.name}

    def _track(self, items: Iterable[Any], show_progress: bool, total: int | None = None):
        return track(items, f"Tokenising ({self.name})", total=total, enabled=show_progress)


class EnglishAnalyzer(Analyzer):
    """Lower-cased words, stop words dropped, Snowball-stemmed."""

    name = "english"

    def __init__(
        self,
        *,
        stopwords: Iterable[str] = ENGLISH_STOPWORDS,
        stemmer: str | None = ENGLISH_STEMMER,
    ) -> None:
        self.stopwords = frozenset(word.lower() for word in stopwords)
        self.stemmer = stemmer
        self._stemmer = _snowball(stemmer) if stemmer else None

    def tokenize(self, text: str) -> list[str]:
        words = [word for word in _WORD.findall(text.lower()) if word not in self.stopwords]
        return self._stemmer.stemWords(words) if self._stemmer else words

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "stopwords": sorted(self.stopwords), "stemmer": self.stemmer}


class KoreanAnalyzer(Analyzer):
    """Kiwi morphemes whose tag starts with one of keep_tags; Latin letters lower-cased.

    num_workers (Kiwi's threads for tokenize_many; None: one per core) does not change the
    terms, so it is not part of config().
    """

    name = "korean"

    def __init__(
        self, *, keep_tags: Iterable[str] = DEFAULT_KEEP_TAGS, num_workers: int | None = None
    ) -> None:
        self.keep_tags = tuple(sorted(set(keep_tags)))
        if not self.keep_tags:
            raise InputError("keep_tags must name at least one Kiwi tag prefix, such as 'NN'")
        self.num_workers = num_workers

    def tokenize(self, text: str) -> list[str]:
        return self.terms_from_kiwi(text, get_kiwi(self.num_workers).tokenize(text))

    def tokenize_many(
        self, texts: Sequence[str], *, show_progress: bool = False
    ) -> list[list[str]]:
        analysed = get_kiwi(self.num_workers).tokenize(iter(texts))
        return [
            self.terms_from_kiwi(text, tokens)
            for text, tokens in self._track(
                zip(texts, analysed, strict=True), show_progress, len(texts)
            )
        ]

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "keep_tags": list(self.keep_tags)}

    def terms_from_kiwi(self, text: str, tokens: list[Token]) -> list[str]:
        """The terms of text from its Kiwi tokens (to reuse one analysis with other settings)."""
        return [
            token.form.lower() if token.tag == "SL" else token.form
            for token in tokens
            if token.tag.startswith(self.keep_tags)
        ]


class MixedAnalyzer(KoreanAnalyzer):
    """The default: English treatment for texts without Hangul (fast), Kiwi for the rest.

    In Hangul texts, runs of Latin letters and digits are cut out and given the English
    treatment too, so "Contracts" is "contract" in a Korean sentence and in an English one.
    """

    name = "mixed"

    def __init__(
        self,
        *,
        keep_tags: Iterable[str] = DEFAULT_KEEP_TAGS,
        stopwords: Iterable[str] = ENGLISH_STOPWORDS,
        stemmer: str | None = ENGLISH_STEMMER,
        num_workers: int | None = None,
    ) -> None:
        super().__init__(keep_tags=keep_tags, num_workers=num_workers)
        self.english = EnglishAnalyzer(stopwords=stopwords, stemmer=stemmer)

    def tokenize(self, text: str) -> list[str]:
        if not has_hangul(text):
            return self.english.tokenize(text)
        return super().tokenize(text)

    def tokenize_many(
        self, texts: Sequence[str], *, show_progress: bool = False
    ) -> list[list[str]]:
        korean = [index for index, text in enumerate(texts) if has_hangul(text)]
        analysed = iter(get_kiwi(self.num_workers).tokenize(texts[index] for index in korean))
        korean_set = set(korean)
        return [
            self.terms_from_kiwi(text, next(analysed))
            if index in korean_set
            else self.english.tokenize(text)
            for index, text in self._track(enumerate(texts), show_progress, len(texts))
        ]

    def config(self) -> dict[str, Any]:
        english = self.english.config()
        return {
            "name": self.name,
            "keep_tags": list(self.keep_tags),
            "stopwords": english["stopwords"],
            "stemmer": english["stemmer"],
        }

    def terms_from_kiwi(self, text: str, tokens: list[Token]) -> list[str]:
        if not has_hangul(text):
            return self.english.tokenize(text)
        terms: list[str] = []
        latin_start = latin_end = None
        for token in tokens:
            if token.tag in LATIN_TAGS:
                if latin_end != token.start:
                    terms.extend(self._latin(text, latin_start, latin_end))
                    latin_start = token.start
                latin_end = token.end
                continue
            terms.extend(self._latin(text, latin_start, latin_end))
            latin_start = latin_end = None
            if token.tag.startswith(self.keep_tags):
                terms.append(token.form)
        terms.extend(self._latin(text, latin_start, latin_end))
        return terms

    def _latin(self, text: str, start: int | None, end: int | None) -> list[str]:
        return [] if start is None else self.english.tokenize(text[start:end])


class BigramAnalyzer(Analyzer):
    """Overlapping Hangul character pairs (a lone syllable as itself); English for the rest.

    Needs no morphological analysis: it indexes many times faster than Kiwi.
    """

    name = "bigram"

    def __init__(
        self,
        *,
        stopwords: Iterable[str] = ENGLISH_STOPWORDS,
        stemmer: str | None = ENGLISH_STEMMER,
    ) -> None:
        self.english = EnglishAnalyzer(stopwords=stopwords, stemmer=stemmer)

    def tokenize(self, text: str) -> list[str]:
        terms: list[str] = []
        position = 0
        for run in _HANGUL_RUN.finditer(text):
            terms.extend(self.english.tokenize(text[position : run.start()]))
            syllables = run.group()
            if len(syllables) == 1:
                terms.append(syllables)
            else:
                terms.extend(syllables[i : i + 2] for i in range(len(syllables) - 1))
            position = run.end()
        terms.extend(self.english.tokenize(text[position:]))
        return terms

    def config(self) -> dict[str, Any]:
        english = self.english.config()
        return {"name": self.name, "stopwords": english["stopwords"], "stemmer": english["stemmer"]}


class WhitespaceAnalyzer(Analyzer):
    """Lower-cased words as written (split at spaces and punctuation): the naive baseline."""

    name = "whitespace"

    def tokenize(self, text: str) -> list[str]:
        return _WORD.findall(text.lower())


ANALYZERS: dict[str, type[Analyzer]] = {
    cls.name: cls
    for cls in (MixedAnalyzer, KoreanAnalyzer, EnglishAnalyzer, BigramAnalyzer, WhitespaceAnalyzer)
}


def build_analyzer(config: dict[str, Any] | str) -> Analyzer:
    """An analyzer from a name ("mixed", "korean", ...) or from an analyzer's config()."""
    settings = {"name": config} if isinstance(config, str) else dict(config)
    name = settings.pop("name", None)
    cls = ANALYZERS.get(name)
    if cls is None:
        raise InputError(f"unknown analyzer {name!r}; choose one of: {', '.join(ANALYZERS)}")
    try:
        return cls(**settings)
    except TypeError as error:
        raise InputError(f"bad settings for analyzer {name!r}: {error}") from error


def _snowball(language: str) -> Stemmer.Stemmer:
    try:
        return Stemmer.Stemmer(language)
    except KeyError as error:
        choices = ", ".join(Stemmer.algorithms())
        raise InputError(
            f"no Snowball stemmer for {language!r}; choose one of: {choices}"
        ) from error
