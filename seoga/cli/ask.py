"""`seoga ask`: an answer with numbered citations and a confidence, or an abstention."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seoga.answer.base import Answer
from seoga.answer.loading import READER_HELP, load_reader
from seoga.answer.pipeline import DEFAULT_PASSAGES, Asker, AskSettings
from seoga.cli.index import CollectionOption, JsonOption
from seoga.cli.output import console, print_json, with_section
from seoga.collection import Collection

SNIPPET_CHARS = 160

ReaderOption = Annotated[str, typer.Option("--reader", help=f"Reader: {READER_HELP}.")]
LlmOption = Annotated[
    Path | None,
    typer.Option(
        "--llm", help="GGUF file or transformers folder for --reader llm (default: offline pack)."
    ),
]
LlmBackendOption = Annotated[
    str, typer.Option("--llm-backend", help="auto, llama-cpp or transformers.")
]
ExamplesOption = Annotated[
    Path | None,
    typer.Option("--examples", help="Few-shot examples (JSONL) for --reader llm."),
]
RerankOption = Annotated[
    Path | None, typer.Option("--rerank", help="A cross-encoder trained by seoga train reranker.")
]
PassagesOption = Annotated[
    int, typer.Option("-k", "--passages", help="How many passages the reader reads.")
]


def build_asker(
    collection: Collection,
    reader: str,
    *,
    llm: Path | None = None,
    llm_backend: str = "auto",
    examples: Path | None = None,
    rerank: Path | None = None,
    passages: int = DEFAULT_PASSAGES,
    threshold: float | None = None,
) -> Asker:
    """The pipeline the ask, calibrate and eval qa commands share."""
    reranker = None
    if rerank is not None:
        from seoga.search.rerank import Reranker

        reranker = Reranker(rerank)
    return Asker(
        collection,
        load_reader(reader, collection, llm=llm, llm_backend=llm_backend, examples=examples),
        reranker=reranker,
        settings=AskSettings(passages=passages, threshold=threshold),
    )


def ask_command(
    question: Annotated[str, typer.Argument(help="The question, in Korean or English.")],
    collection: CollectionOption,
    reader: ReaderOption = "highlighter",
    llm: LlmOption = None,
    llm_backend: LlmBackendOption = "auto",
    examples: ExamplesOption = None,
    rerank: RerankOption = None,
    passages: PassagesOption = DEFAULT_PASSAGES,
    threshold: Annotated[
        float | None, typer.Option(help="Abstain below this confidence (default: calibrated).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question from a collection, citing the passages the answer rests on."""
    asker = build_asker(
        Collection.open(collection),
        reader,
        llm=llm,
        llm_backend=llm_backend,
        examples=examples,
        rerank=rerank,
        passages=passages,
        threshold=threshold,
    )
    streamed = []

    def stream(piece: str) -> None:
        if not streamed:
            console.print("[dim]generating:[/] ", end="", highlight=False)
        streamed.append(piece)
        console.print(escape(piece), end="", highlight=False, soft_wrap=True)

    generating = reader.partition(":")[0].strip().lower() in ("llm", "fid")
    answer = asker.ask(question, on_token=stream if generating and not as_json else None)
    if streamed:
        console.print()
    if as_json:
        print_json(answer.to_dict())
    else:
        print_answer(answer)


def print_answer(answer: Answer, *, passages: bool = True) -> None:
    """The answer, its confidence and its spans in context; then, with `passages`, every
    passage read, the cited ones in bold."""
    confidence = f"confidence {answer.confidence:.2f}" + (
        "" if answer.calibrated else " (uncalibrated: run seoga calibrate)"
    )
    if answer.abstained:
        console.print(f"[bold]{escape(answer.shown_text)}[/]", highlight=False)
        console.print(
            f"[dim]{confidence}, below the threshold {answer.threshold:.2f}; "
            f"best guess: {escape(answer.text) or '—'}[/]",
            highlight=False,
        )
    else:
        marks = "".join(f" [{number}]" for number in answer.citations)
        console.print(f"[bold]{escape(answer.text)}[/]{escape(marks)}", highlight=False)
        console.print(f"[dim]{confidence} · {answer.reader}[/]", highlight=False)
        for span in answer.spans:
            context = answer.marked_context(span, "\0", "\1")
            console.print(
                f"[dim]in [{span.passage}]:[/] "
                + escape(context).replace("\0", "[bold yellow]").replace("\1", "[/bold yellow]"),
                highlight=False,
            )
    if not passages:
        return
    console.print()
    cited = set(answer.citations)
    for passage in answer.passages:
        text = " ".join(passage.text.split())
        snippet = text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else "")
        mark = "[bold]" if passage.number in cited else ""
        close = "[/bold]" if mark else ""
        relevance = f" · relevance {passage.relevance:.2f}" if passage.relevance is not None else ""
        heading = with_section(passage.title or passage.doc_id, passage.section)
        console.print(
            f"{mark}\\[{passage.number}] {escape(heading)}{close} — "
            f"{escape(snippet)} — [dim]{escape(passage.source)}{relevance}[/]",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("ask")(ask_command)
