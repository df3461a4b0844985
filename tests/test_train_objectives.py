"""Objectives make the right examples: SimCSE pairs a text with itself, ICT removes the sentence
from its passage, DPR's BM25 hard negatives never include a known positive."""

import pytest

from seoga.errors import InputError
from seoga.train.data import read_beir
from seoga.train.examples import Passage
from seoga.train.objectives import DataRequest, build_examples, resolve_objective
from seoga.train.objectives.dpr import dpr_examples, mine_bm25_negatives
from seoga.train.objectives.ict import ict_examples, remove_span
from seoga.train.objectives.simcse import simcse_examples
from tests.test_train_data import make_beir

PASSAGES = [
    Passage(
        "doc1",
        "BM25 weighs rare terms more. It saturates term frequency. Long documents are damped.",
        "BM25",
    ),
    Passage("doc2", "전세 계약은 2년입니다. 계약갱신요구권으로 한 번 연장할 수 있습니다.", "전세"),
    Passage("doc3", "A single sentence passage without a second one."),
]


def test_simcse_pairs_each_sentence_with_itself():
    examples = simcse_examples(PASSAGES, seed=1)
    assert examples.kind == "pairs"
    assert examples.columns["anchor"] == examples.columns["positive"]
    assert "It saturates term frequency." in examples.columns["anchor"]
    assert len(set(examples.columns["anchor"])) == len(examples)
    assert (
        simcse_examples(PASSAGES, seed=1, max_examples=2).columns["anchor"]
        == examples.columns["anchor"][:2]
    )


def test_ict_removes_the_sentence_from_its_passage():
    examples = ict_examples(PASSAGES, seed=3, queries_per_passage=3)
    assert examples.kind == "pairs" and len(examples) == 5  # doc3 has one sentence: skipped
    for sentence, context in zip(
        examples.columns["anchor"], examples.columns["positive"], strict=True
    ):
        assert sentence not in context
        source = next(p for p in PASSAGES if sentence in p.text)
        assert context.startswith(source.title + "\n")
        # The rest of the passage is all there.
        rest = source.text.replace(sentence, " ").split()
        assert context.split("\n", 1)[1].split() == rest
    assert any("fewer than 2 sentences" in note for note in examples.notes)


def test_remove_span_collapses_the_seam():
    assert remove_span("One. Two. Three.", 5, 9) == "One. Three."
    assert remove_span("One. Two.", 0, 4) == "Two."


def test_ict_is_seeded():
    first = ict_examples(PASSAGES, seed=7).columns
    assert ict_examples(PASSAGES, seed=7).columns == first


def test_bm25_negatives_skip_positives_and_their_duplicates():
    pool = {
        "pos": "bm25 ranks documents by term frequency",
        "dup": "bm25 ranks documents by term frequency",
        "near": "bm25 ranks documents",
        "far": "kiwi morphemes for korean",
        "other": "dense vectors",
    }
    mined = mine_bm25_negatives(["bm25 ranks documents"], [{"pos"}], pool, count=2, seed=0)
    assert mined.negatives[0][0] == "near"
    assert "pos" not in mined.negatives[0] and "dup" not in mined.negatives[0]
    assert len(mined.negatives[0]) == 2


def test_dpr_examples_from_beir(tmp_path):
    beir = read_beir(make_beir(tmp_path / "beir"), "train")
    examples = dpr_examples(beir, hard_negatives=2, seed=0)
    assert list(examples.columns) == ["anchor", "positive", "negative_1", "negative_2"]
    for row in examples.rows():
        positives = {row["positive"]}
        assert not positives & {row["negative_1"], row["negative_2"]}
    first = next(examples.rows())
    # d5 is a copy of the positive d1: never a negative.
    assert first["negative_1"] != beir.corpus["d5"] and first["negative_2"] != beir.corpus["d5"]
    assert dpr_examples(beir, hard_negatives=0, seed=0).kind == "pairs"


def test_objective_defaults_and_mismatches(tmp_path):
    root = make_beir(tmp_path / "beir")
    assert resolve_objective(DataRequest(data=root, split="train")) == ("dpr", "beir")
    with pytest.raises(InputError, match="choose --objective simcse or --objective ict"):
        resolve_objective(DataRequest(data=tmp_path))
    with pytest.raises(InputError, match="learns from an unlabeled corpus"):
        resolve_objective(DataRequest(data=root, objective="ict"))
    with pytest.raises(InputError, match="either --data PATH or --collection"):
        resolve_objective(DataRequest())
    objective, examples = build_examples(DataRequest(data=root, split="train", hard_negatives=1))
    assert objective == "dpr" and "negative_1" in examples.columns
