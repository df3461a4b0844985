"""`seoga read`: what seoga reads from files, before anything is indexed."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seoga.cli.options import OcrLanguagesOption, OcrOption
from seoga.cli.output import console, error_console, print_json
from seoga.text.formats.structure import PAGE_STARTS, SECTIONS, section_at
from seoga.text.loaders import DEFAULT_OCR_LANGUAGES, ReadOptions, load_file

EXIT_NOTHING_READ = 1
# Metadata a reader keeps for seoga's own use, shown as sections or not at all.
STRUCTURE_KEYS = (SECTIONS, PAGE_STARTS)


def read_command(
    files: Annotated[list[Path], typer.Argument(help="Files to read (any format seoga reads).")],
    ocr: OcrOption = "auto",
    ocr_languages: OcrLanguagesOption = DEFAULT_OCR_LANGUAGES,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Show the documents seoga reads from files: title, metadata, section paths and text,
    and every problem with its reason — exactly what `seoga index` would store."""
    options = ReadOptions(ocr=ocr, ocr_languages=ocr_languages)
    results = [load_file(path, options=options) for path in files]
    documents = [document for result in results for document in result.documents]
    problems = [problem for result in results for problem in result.problems]
    if as_json:
        print_json(
            {
                "documents": [
                    {
                        "doc_id": d.doc_id,
                        "title": d.title,
                        "source": d.source,
                        "metadata": d.metadata,
                        "text": d.text,
                    }
                    for d in documents
                ],
                "problems": [str(problem) for problem in problems],
            }
        )
    else:
        for document in documents:
            shown = {k: v for k, v in document.metadata.items() if k not in STRUCTURE_KEYS}
            console.print(f"[bold]{escape(document.title)}[/]  [dim]{escape(document.doc_id)}[/]")
            if shown:
                console.print(f"[dim]{escape(str(shown))}[/]", highlight=False)
            _print_text(document.text, document.metadata.get(SECTIONS, []))
        for problem in problems:
            error_console.print(f"not read: {escape(str(problem))}", highlight=False)
    if not documents:
        raise typer.Exit(EXIT_NOTHING_READ)


def _print_text(text: str, sections: list) -> None:
    """The text paragraph by paragraph, each section path shown where it begins."""
    starts = {start for start, _ in sections}
    offset = 0
    for block in text.split("\n\n"):
        if offset in starts:
            console.print(f"[cyan]§ {escape(section_at(sections, offset))}[/]", highlight=False)
        console.print(escape(block), highlight=False)
        offset += len(block) + 2
    console.print()


def register(app: typer.Typer) -> None:
    app.command("read")(read_command)
