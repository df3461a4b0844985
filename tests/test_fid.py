"""Fusion-in-Decoder on a tiny random T5: fused encoding, masking, training and reading."""

import json

import pytest
import torch

from seoga.answer.base import Passage
from seoga.answer.fid import FidReader, FusionInDecoder, load_seq2seq
from seoga.answer.train_fid import FidTrainingConfig, read_fid_jsonl, train_fid
from seoga.errors import InputError
from tests.answer_models import build_tiny_t5

QUESTION = "where is the engine"
PASSAGES = [("a", "the engine is offline"), ("b", "search the korean document"), ("c", "hello")]


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory):
    return build_tiny_t5(tmp_path_factory.mktemp("t5"))


@pytest.fixture(scope="module")
def fid(tiny_t5):
    model, tokenizer = load_seq2seq(str(tiny_t5))
    return FusionInDecoder(model.eval(), tokenizer, max_passages=4, passage_tokens=48)


def decoder_logits(fid, passages, width=None):
    batch = fid.batch([QUESTION], [passages], width=width)
    start = torch.full((1, 3), fid.tokenizer.pad_token_id, dtype=torch.long)
    start[0, 1:] = torch.tensor(fid.tokenizer.convert_tokens_to_ids(["engine", "offline"]))
    with torch.no_grad():
        return fid.logits(batch["input_ids"], batch["attention_mask"], start)


def test_output_depends_on_every_passage(fid):
    reference = decoder_logits(fid, PASSAGES)
    for index in range(len(PASSAGES)):
        changed = list(PASSAGES)
        changed[index] = (changed[index][0], "document query world english")
        assert not torch.allclose(decoder_logits(fid, changed), reference, atol=1e-6), index


def test_padding_passages_change_nothing(fid):
    reference = decoder_logits(fid, PASSAGES)
    padded = decoder_logits(fid, PASSAGES, width=4)
    assert torch.allclose(reference, padded, atol=1e-5)
    batch = fid.batch([QUESTION], [PASSAGES], width=4)
    assert batch["attention_mask"][0, 3].sum() == 0  # the fourth passage is padding
    wide = fid.generate(batch["input_ids"], batch["attention_mask"], beams=2)
    narrow_batch = fid.batch([QUESTION], [PASSAGES])
    narrow = fid.generate(narrow_batch["input_ids"], narrow_batch["attention_mask"], beams=2)
    assert [text for text, _ in wide[0]] == [text for text, _ in narrow[0]]


def test_batched_questions_match_single_ones(fid):
    """A question read beside a wider one (so padded) gets the same decoder output."""
    short = PASSAGES[:1]
    alone = decoder_logits(fid, short)
    batch = fid.batch([QUESTION, QUESTION], [short, PASSAGES])
    start = torch.full((2, 3), fid.tokenizer.pad_token_id, dtype=torch.long)
    start[:, 1:] = torch.tensor(fid.tokenizer.convert_tokens_to_ids(["engine", "offline"]))
    with torch.no_grad():
        both = fid.logits(batch["input_ids"], batch["attention_mask"], start)
    assert torch.allclose(both[:1], alone, atol=1e-5)


def test_training_learns_the_answer_and_reader_cites(tmp_path, tiny_t5):
    data = tmp_path / "qa.jsonl"
    lines = [
        {
            "question": QUESTION,
            "answers": ["offline"],
            "passages": [dict(title=t, text=x) for t, x in PASSAGES],
        },
        {
            "question": "what does korean do",
            "answers": ["search"],
            "passages": [p for _, p in PASSAGES],
        },
    ]
    data.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    config = FidTrainingConfig(
        base=str(tiny_t5), epochs=60, learning_rate=3e-3, batch_size=2, passage_tokens=48
    )
    record = train_fid(data, tmp_path / "fid", config, show_progress=False)
    assert record["final_loss"] < record["first_loss"] / 4
    assert (tmp_path / "fid" / "seoga_model.json").exists()
    reader = FidReader(tmp_path / "fid", beams=2)
    passages = [Passage(i + 1, f"d{i}", t, x) for i, (t, x) in enumerate(PASSAGES)]
    answer = reader.read(QUESTION, passages)
    assert answer.text == "offline"
    assert answer.citations == [1]  # the passage that holds the answer
    assert 0.0 <= answer.confidence <= 1.0 and answer.scores


def test_bad_training_lines_name_the_line(tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text('{"question": "q", "answers": ["a"], "passages": ["p"]}\n{"question": "q"}\n')
    with pytest.raises(InputError, match=r"qa.jsonl:2"):
        read_fid_jsonl(data)


def test_a_plain_encoder_is_warm_started_into_an_encoder_decoder(tmp_path):
    from transformers import EncoderDecoderModel

    from tests.answer_models import build_tiny_bert

    model, tokenizer = load_seq2seq(str(build_tiny_bert(tmp_path / "bert")))
    assert isinstance(model, EncoderDecoderModel)
    fid = FusionInDecoder(model.eval(), tokenizer, passage_tokens=32, answer_tokens=4)
    batch = fid.batch([QUESTION], [PASSAGES])
    loss = fid.loss(batch["input_ids"], batch["attention_mask"], fid.labels(["offline"]))
    assert torch.isfinite(loss)
    beams = fid.generate(batch["input_ids"], batch["attention_mask"], beams=2)[0]
    assert len(beams) == 2 and all(score <= 0 for _, score in beams)
