"""`seoga ask`: an answer with numbered citations and a confidence, or an abstention."""

from typing import Annotated

import typer
from rich.markup import escape

from seoga.answer.loading import ReaderChoice, build_asker
from seoga.answer.pipeline import DEFAULT_PASSAGES
from seoga.cli.options import (
    CollectionOption,
    ExamplesOption,
    JsonOption,
    LlmBackendOption,
    LlmOption,
    PassagesOption,
    ReaderOption,
    RerankOption,
)
from seoga.cli.output import console, print_answer, print_json
from seoga.collection import Collection


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
    choice = ReaderChoice(reader, llm, llm_backend, examples, rerank, passages)
    asker = build_asker(Collection.open(collection), choice, threshold=threshold)
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


def register(app: typer.Typer) -> None:
    app.command("ask")(ask_command)
