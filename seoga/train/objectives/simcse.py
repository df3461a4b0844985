"""Unsupervised SimCSE (Gao et al. 2021): each sentence is its own positive.

The same text goes through the encoder twice; dropout is the only noise, and the other
sentences of the batch are the negatives (MultipleNegativesRankingLoss).
"""

import random
from collections.abc import Sequence

from seoga.text.sentences import split_sentences_many
from seoga.train.examples import PAIRS, Examples, Passage

# Fragments shorter than this (headings, list markers) teach the model little.
MIN_SENTENCE_CHARS = 10


def corpus_sentences(
    passages: Sequence[Passage], *, min_chars: int = MIN_SENTENCE_CHARS
) -> list[str]:
    """The distinct sentences of the passages, in corpus order."""
    seen: dict[str, None] = {}
    for passage, spans in zip(
        passages, split_sentences_many(p.text for p in passages), strict=True
    ):
        for start, end in spans:
            sentence = passage.text[start:end].strip()
            if len(sentence) >= min_chars:
                seen.setdefault(sentence, None)
    return list(seen)


def simcse_examples(
    passages: Sequence[Passage], *, seed: int, max_examples: int | None = None
) -> Examples:
    """(sentence, same sentence) pairs from the corpus, shuffled by `seed`, at most max_examples."""
    sentences = corpus_sentences(passages)
    random.Random(seed).shuffle(sentences)
    if max_examples is not None:
        sentences = sentences[:max_examples]
    return Examples(
        PAIRS,
        {"anchor": sentences, "positive": list(sentences)},
        notes=[f"{len(sentences)} sentences from {len(passages)} passages"],
    )
