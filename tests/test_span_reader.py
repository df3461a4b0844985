"""The extractive span reader: span search, SQuAD reading, windows, training and reading."""

import json

import numpy as np
import pytest

from seoga.answer.base import Passage
from seoga.answer.span import SpanReader, best_spans
from seoga.answer.squad import read_squad
from seoga.answer.train_span import SpanTrainingConfig, prepare_features, train_span_reader
from seoga.errors import InputError
from tests.answer_models import build_tiny_bert

FILLER = " ".join(["hello world the search engine"] * 6)
CONTEXTS = {
    "c1": f"the offline engine. {FILLER} korean query is 42 here.",
    "c2": "english document of the world. a passage on search.",
}
QAS = [
    ("c1", "q1", "what is offline", "engine"),
    ("c1", "q2", "what is the korean query", "42"),
    ("c2", "q3", "what is of the world", "english document"),
]


def write_squad(path, qas=QAS):
    paragraphs = {}
    for context_id, qid, question, answer in qas:
        context = CONTEXTS[context_id]
        paragraph = paragraphs.setdefault(context_id, {"context": context, "qas": []})
        paragraph["qas"].append(
            {
                "id": qid,
                "question": question,
                "answers": [{"text": answer, "answer_start": context.find(answer)}],
            }
        )
    path.write_text(
        json.dumps({"data": [{"title": "t", "paragraphs": list(paragraphs.values())}]}),
        encoding="utf-8",
    )
    return path


def test_best_spans_respects_context_and_length():
    start = np.array([9.0, 1.0, 5.0, 0.0])
    end = np.array([9.0, 0.0, 1.0, 4.0])
    offsets = [None, (0, 3), (4, 7), (8, 12)]  # token 0 is the question: never an answer
    spans = sorted(best_spans(start, end, offsets, max_answer_tokens=2), reverse=True)
    assert spans[0] == (9.0, 4, 12)  # tokens 2..3
    assert all(char_start < char_end for _, char_start, char_end in spans)
    assert (5.0 + 1.0, 4, 7) in spans and not any(s == (1.0 + 4.0, 0, 12) for s in spans)


def test_read_squad_repairs_and_skips(tmp_path):
    path = tmp_path / "s.json"
    payload = {
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": "alpha beta gamma",
                        "qas": [
                            {
                                "id": "1",
                                "question": "b?",
                                "answers": [{"text": "beta", "answer_start": 0}],
                            },
                            {
                                "id": "2",
                                "question": "z?",
                                "answers": [{"text": "zeta", "answer_start": 0}],
                            },
                        ],
                    }
                ],
            }
        ]
    }
    path.write_text(json.dumps(payload))
    loaded = read_squad(path)
    assert [e.answer_start for e in loaded.examples] == [6]
    assert len(loaded.skipped) == 1 and "zeta" in loaded.skipped[0]
    (tmp_path / "bad.json").write_text('{"version": 1}')
    with pytest.raises(InputError, match="not SQuAD format"):
        read_squad(tmp_path / "bad.json")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return build_tiny_bert(tmp_path_factory.mktemp("bert"))


def test_windows_label_the_answer_tokens(tmp_path, tiny_bert):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    examples = read_squad(write_squad(tmp_path / "s.json")).examples
    features = prepare_features(examples[1:2], tokenizer, max_length=32, stride=8)
    assert len(features) > 1  # the long context was cut into windows
    labelled = [f for f in features if f["start_positions"] > 0]
    assert labelled, "some window must hold the answer"
    for feature in labelled:
        ids = feature["input_ids"][feature["start_positions"] : feature["end_positions"] + 1]
        assert tokenizer.decode(ids).replace(" ", "") == "42"


def test_training_then_reading_over_windows(tmp_path, tiny_bert):
    data = write_squad(tmp_path / "train.json")
    config = SpanTrainingConfig(
        base=str(tiny_bert), epochs=60, learning_rate=3e-3, batch_size=8, max_length=32, stride=8
    )
    record = train_span_reader(data, tmp_path / "reader", config, show_progress=False)
    assert record["features"] > len(QAS) and record["train_loss"] > 0
    reader = SpanReader(tmp_path / "reader", rank_penalty=0.0)
    passages = [
        Passage(1, "c2", "", CONTEXTS["c2"]),
        Passage(2, "c1", "", CONTEXTS["c1"]),
    ]
    answer = reader.read("what is the korean query", passages)
    assert answer.text == "42" and answer.citations == [2]
    span = answer.spans[0]
    assert CONTEXTS["c1"][span.start : span.end] == "42"
    assert 0.0 < answer.confidence <= 1.0 and len(answer.scores) > 1
    assert reader.read("what is offline", passages).text == "engine"

    # Each place down the ranking costs a span the penalty, so a large one keeps the answer
    # in the first passage.
    penalty = 2.5
    ranked = SpanReader(tmp_path / "reader", rank_penalty=penalty)
    plain = {c[1:]: c[0] for c in reader.candidates("what is the korean query", passages)}
    lowered = {c[1:]: c[0] for c in ranked.candidates("what is the korean query", passages)}
    # (Spans of the same text in both passages keep their best place, so compare the shared.)
    shared = plain.keys() & lowered.keys()
    assert {number for number, *_ in shared} == {1, 2}
    for span in shared:
        assert lowered[span] == pytest.approx(plain[span] - penalty * (span[0] - 1))
    first_only = SpanReader(tmp_path / "reader", rank_penalty=1e6)
    assert first_only.read("what is the korean query", passages).citations == [1]
