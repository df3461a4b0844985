"""Reader specs as the CLI names them (highlighter, span:PATH, fid:PATH, llm), and the ask
pipeline built around one."""

from dataclasses import dataclass
from pathlib import Path

from seoga.answer.base import Reader
from seoga.answer.fid import FidReader
from seoga.answer.highlighter import Highlighter
from seoga.answer.llm import LlmReader, load_generator, read_examples
from seoga.answer.pipeline import DEFAULT_PASSAGES, Asker, AskSettings
from seoga.answer.span import SpanReader
from seoga.collection import Collection
from seoga.errors import InputError
from seoga.rerank.model import Reranker

# Few-shot examples shipped with seoga (English and Korean), used when none are given.
DEFAULT_EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "fewshot.jsonl"
READER_KINDS = ("highlighter", "span", "fid", "llm")
DEFAULT_READER = "highlighter"
READER_HELP = "highlighter (default), span:PATH, fid:PATH or llm"


def load_reader(
    spec: str,
    collection: Collection,
    *,
    llm: str | Path | None = None,
    llm_backend: str = "auto",
    examples: str | Path | None = None,
) -> Reader:
    """Build the reader `spec` names; the highlighter uses the collection's own models."""
    kind, _, path = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in READER_KINDS:
        raise InputError(f"unknown reader {spec!r}; use {READER_HELP}.")
    if kind in ("span", "fid") and not path:
        raise InputError(f"the {kind} reader needs a trained model folder: --reader {kind}:PATH.")
    if kind == "highlighter":
        return Highlighter(collection.analyzer, collection.embedder)
    if kind == "span":
        return SpanReader(path)
    if kind == "fid":
        return FidReader(path)
    return LlmReader(
        load_generator(llm or path or None, backend=llm_backend),
        read_examples(examples or DEFAULT_EXAMPLES),
    )


@dataclass(frozen=True)
class ReaderChoice:
    """Which reader answers, with what, reading how many passages: what `seoga ask`,
    `seoga calibrate` and `seoga eval qa` each take as options."""

    reader: str = DEFAULT_READER
    llm: Path | None = None  # the model of the llm reader
    llm_backend: str = "auto"
    examples: Path | None = None  # the llm reader's few-shot examples
    rerank: Path | None = None  # a cross-encoder folder: passages are reranked before reading
    passages: int = DEFAULT_PASSAGES


def build_asker(
    collection: Collection, choice: ReaderChoice, *, threshold: float | None = None
) -> Asker:
    """The ask pipeline over `collection` that `choice` names (as ask, calibrate and eval qa
    build it)."""
    reranker = None
    if choice.rerank is not None:
        reranker = Reranker(choice.rerank)
    reader = load_reader(
        choice.reader,
        collection,
        llm=choice.llm,
        llm_backend=choice.llm_backend,
        examples=choice.examples,
    )
    return Asker(
        collection,
        reader,
        reranker=reranker,
        settings=AskSettings(passages=choice.passages, threshold=threshold),
    )
