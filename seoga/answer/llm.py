"""The in-context reader: a local decoder LLM answers from numbered passages, citing them.

The prompt holds an instruction, a few worked examples (`--examples fewshot.jsonl`), the
retrieved passages numbered [1], [2], … and the question; the model continues after "Answer:"
and its text streams to the terminal as it is generated. Two backends run the model:
llama.cpp (GGUF files; `pip install seoga[llm]`) and transformers (a causal-LM folder, or a
GGUF file dequantised once and cached).
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seoga.answer.base import Answer, Passage, Reader, TokenCallback, passage_pairs
from seoga.answer.generation import Generation, Generator
from seoga.answer.generators import (
    GGUF_SUFFIX,
    LlamaCppGenerator,
    TransformersGenerator,
    default_llm,
)
from seoga.calibrate.temperature import TemperatureScaling
from seoga.errors import InputError, ModelUnavailableError

INSTRUCTION = (
    "Answer the question in a few words, using only the numbered passages. "
    "After the answer, cite the passages it comes from as [n]. "
    "If the passages do not answer the question, write: unknown"
)
UNKNOWN = "unknown"
DEFAULT_MAX_TOKENS = 48
PASSAGE_CHARS = 1200
CITATION = re.compile(r"\s*\[(\d+)\]")
# Before calibration: a mean token log-probability of -1 is taken as an even chance.
DEFAULT_NULL_SCORE = -1.0
BACKENDS = ("auto", "llama-cpp", "transformers")

# Generation and Generator are re-exported: callers and tests take the reader's kit from here.
__all__ = [
    "INSTRUCTION",
    "FewShotExample",
    "Generation",
    "Generator",
    "LlmReader",
    "build_prompt",
    "load_generator",
    "parse_citations",
    "read_examples",
]


@dataclass(frozen=True)
class FewShotExample:
    question: str
    passages: tuple[tuple[str, str], ...]  # (title, text)
    answer: str


def read_examples(path: str | Path) -> list[FewShotExample]:
    """Lines of {"question", "passages": [{"title", "text"} or "text"], "answer": "… [1]"}."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; give a JSONL file of few-shot examples.")
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{where}: not JSON ({error}).") from error
            if not isinstance(record, dict) or not all(
                isinstance(record.get(key), str) for key in ("question", "answer")
            ):
                raise InputError(f"{where}: an example needs 'question' and 'answer' strings.")
            pairs = passage_pairs(record.get("passages", []), where)
            examples.append(FewShotExample(record["question"], pairs, record["answer"]))
    return examples


def _passage_block(passages: Sequence[tuple[str, str]]) -> str:
    lines = []
    for number, (title, text) in enumerate(passages, start=1):
        text = " ".join(text.split())[:PASSAGE_CHARS]
        lines.append(f"[{number}] {title} — {text}" if title else f"[{number}] {text}")
    return "\n".join(lines)


def build_prompt(
    question: str, passages: Sequence[Passage], examples: Sequence[FewShotExample] = ()
) -> str:
    """The whole prompt; the model's continuation after the last "Answer:" is the answer."""
    blocks = [INSTRUCTION]
    for example in examples:
        blocks.append(
            f"Passages:\n{_passage_block(example.passages)}\n"
            f"Question: {example.question}\nAnswer: {example.answer}"
        )
    blocks.append(
        f"Passages:\n{_passage_block([(p.title, p.text) for p in passages])}\n"
        f"Question: {question}\nAnswer:"
    )
    return "\n\n".join(blocks)


def parse_citations(text: str, valid: Sequence[int]) -> tuple[str, list[int]]:
    """The answer without its [n] marks, and the cited numbers that name given passages."""
    allowed = set(valid)
    cited: list[int] = []
    for match in CITATION.finditer(text):
        number = int(match.group(1))
        if number in allowed and number not in cited:
            cited.append(number)
    return CITATION.sub("", text).strip(), cited


class LlmReader(Reader):
    """Answers with citations from a local decoder model prompted with few-shot examples."""

    name = "llm"

    def __init__(
        self,
        generator: Generator,
        examples: Sequence[FewShotExample] = (),
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        self.generator = generator
        self.examples = list(examples)
        self.max_tokens = max_tokens

    @property
    def calibration_key(self) -> str:
        return f"llm:{self.generator.model_name}"

    @property
    def default_scaling(self) -> TemperatureScaling:
        return TemperatureScaling(1.0, DEFAULT_NULL_SCORE)

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        if not passages:
            return self.no_passages(question)
        prompt = build_prompt(question, passages, self.examples)
        generation = self.generator.complete(prompt, max_tokens=self.max_tokens, on_token=on_token)
        text, cited = parse_citations(generation.text, [p.number for p in passages])
        declined = not text or text.strip(" .").casefold() == UNKNOWN
        scores = [] if declined else [generation.mean_logprob]
        return self.answer("" if declined else text, cited, scores, passages)


def load_generator(model: str | Path | None = None, *, backend: str = "auto") -> Generator:
    """A generator for a GGUF file or a transformers causal-LM folder (default: the offline
    Gemma 3 270M pack, else SmolLM2-135M-Instruct)."""
    if backend not in BACKENDS:
        raise InputError(f"the LLM backend must be one of {', '.join(BACKENDS)}.")
    path = Path(model) if model else default_llm()
    if not path.exists():
        raise ModelUnavailableError(
            f"{path} does not exist; give a .gguf file or a transformers model folder."
        )
    is_gguf = path.suffix.lower() == GGUF_SUFFIX
    if backend == "llama-cpp" or (backend == "auto" and is_gguf and LlamaCppGenerator.available()):
        if not is_gguf:
            raise InputError(f"llama.cpp reads .gguf files; {path} is not one.")
        return LlamaCppGenerator(path)
    return TransformersGenerator(path)
