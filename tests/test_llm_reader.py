"""The in-context LLM reader on a tiny random causal LM: prompt, streaming, citations."""

import json

import pytest

from seoga.answer.base import Passage
from seoga.answer.generators import TransformersGenerator
from seoga.answer.llm import (
    INSTRUCTION,
    FewShotExample,
    Generation,
    Generator,
    LlmReader,
    build_prompt,
    load_generator,
    parse_citations,
    read_examples,
)
from seoga.errors import InputError
from tests.answer_models import build_tiny_causal_lm

PASSAGES = [
    Passage(1, "a", "Lease", "A tenant may renew a lease once."),
    Passage(2, "b", "BM25", "BM25 ranks by term frequency."),
]


class ScriptedGenerator(Generator):
    """Streams a fixed continuation, as a model would, to test the reader around it."""

    backend = "scripted"
    model_name = "scripted"

    def __init__(self, text: str, logprob: float = -0.2) -> None:
        self.text = text
        self.logprob = logprob
        self.prompts: list[str] = []

    def complete(self, prompt, *, max_tokens, on_token=None):
        self.prompts.append(prompt)
        pieces = self.text.split(" ")
        for index, piece in enumerate(pieces):
            if on_token:
                on_token(piece if index == 0 else " " + piece)
        return Generation(self.text, [self.logprob] * len(pieces))


def test_prompt_holds_examples_then_numbered_passages_and_question():
    example = FewShotExample("Who?", (("T", "Ann wrote it."),), "Ann [1]")
    prompt = build_prompt("How often?", PASSAGES, [example])
    assert prompt.startswith(INSTRUCTION)
    assert prompt.index("Answer: Ann [1]") < prompt.index("[1] Lease — A tenant may renew")
    assert "[2] BM25 — BM25 ranks by term frequency." in prompt
    assert prompt.endswith("Question: How often?\nAnswer:")


def test_citations_are_parsed_and_checked():
    assert parse_citations("once [1][2] [7]", [1, 2]) == ("once", [1, 2])
    assert parse_citations("nothing cited", [1]) == ("nothing cited", [])


def test_reader_streams_and_cites():
    streamed = []
    reader = LlmReader(ScriptedGenerator("once [1]"))
    answer = reader.read("How often may a lease be renewed?", PASSAGES, on_token=streamed.append)
    assert "".join(streamed) == "once [1]"
    assert answer.text == "once" and answer.citations == [1] and 0 < answer.confidence < 1
    declined = LlmReader(ScriptedGenerator("unknown")).read("Who?", PASSAGES)
    assert declined.text == "" and declined.confidence == 0.0


def test_examples_file_errors_name_the_line(tmp_path):
    good = {"question": "q", "passages": [{"title": "t", "text": "p"}], "answer": "a [1]"}
    path = tmp_path / "few.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({"question": "q"}) + "\n")
    with pytest.raises(InputError, match=r"few.jsonl:2"):
        read_examples(path)
    path.write_text(json.dumps(good) + "\n")
    assert read_examples(path)[0].passages == (("t", "p"),)


def test_tiny_causal_lm_generates_and_streams(tmp_path):
    folder = build_tiny_causal_lm(tmp_path / "lm")
    generator = load_generator(folder, backend="transformers")
    assert isinstance(generator, TransformersGenerator)
    # A random model may favour special tokens, which decode to nothing: forbid them here.
    generator.model.generation_config.suppress_tokens = generator.tokenizer.all_special_ids
    streamed = []
    reader = LlmReader(generator, max_tokens=6)
    answer = reader.read("what is bm25", PASSAGES, on_token=streamed.append)
    generated = "".join(streamed).strip()
    # The random model writes something; what streamed is what the answer was made from.
    assert generated and parse_citations(generated, [1, 2])[0] in (answer.text, "")
    assert all(value <= 0 for value in generator.complete("hello", max_tokens=3).token_logprobs)
    with pytest.raises(InputError, match="gguf"):
        load_generator(folder, backend="llama-cpp")
