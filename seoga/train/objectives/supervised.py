"""Supervised training on labelled examples as they are: pairs, triplets, scored pairs, NLI,
labelled texts, or a BEIR set's (query, relevant document) pairs (in-batch negatives only)."""

from pathlib import Path

from seoga.train.data import read_beir, read_examples
from seoga.train.examples import Examples


def supervised_examples(path: Path, fmt: str, split: str | None) -> Examples:
    if fmt == "beir":
        return read_beir(path, split).examples()
    return read_examples(path, fmt)
