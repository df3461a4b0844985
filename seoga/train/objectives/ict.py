"""Inverse Cloze Task (Lee et al. 2019, ORQA): a sentence as the query, its passage without it
as the positive, other passages of the batch as negatives. Needs no labels."""

import random
from collections.abc import Sequence

from seoga.text.documents import passage_text
from seoga.text.sentences import split_sentences_many
from seoga.train.examples import PAIRS, Examples, Passage
from seoga.train.objectives.simcse import MIN_SENTENCE_CHARS

# A passage needs one sentence to ask with and at least one left to answer with.
MIN_SENTENCES = 2


def remove_span(text: str, start: int, end: int) -> str:
    """`text` with [start, end) cut out and the seam's whitespace collapsed to one space."""
    before, after = text[:start].rstrip(), text[end:].lstrip()
    return f"{before} {after}".strip() if before and after else (before or after)


def ict_examples(
    passages: Sequence[Passage],
    *,
    seed: int,
    queries_per_passage: int = 1,
    max_examples: int | None = None,
) -> Examples:
    """(sentence, passage without that sentence) pairs, sentences drawn at random by `seed`."""
    rng = random.Random(seed)
    anchors: list[str] = []
    positives: list[str] = []
    too_short = 0
    for passage, spans in zip(
        passages, split_sentences_many(p.text for p in passages), strict=True
    ):
        usable = [(s, e) for s, e in spans if e - s >= MIN_SENTENCE_CHARS]
        if len(spans) < MIN_SENTENCES or not usable:
            too_short += 1
            continue
        for start, end in rng.sample(usable, min(queries_per_passage, len(usable))):
            anchors.append(passage.text[start:end])
            positives.append(
                passage_text(passage.title, remove_span(passage.text, start, end), passage.section)
            )
    order = list(range(len(anchors)))
    rng.shuffle(order)
    if max_examples is not None:
        order = order[:max_examples]
    notes = [f"{len(order)} (sentence, rest of passage) pairs from {len(passages)} passages"]
    if too_short:
        notes.append(f"{too_short} passages with fewer than {MIN_SENTENCES} sentences skipped")
    return Examples(
        PAIRS,
        {"anchor": [anchors[i] for i in order], "positive": [positives[i] for i in order]},
        notes=notes,
    )
