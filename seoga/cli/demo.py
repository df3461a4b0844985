"""`seoga demo`: the README's main command."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seoga.cli.output import console, print_answer, print_report, print_results
from seoga.demo import ask_questions, build_demo, run_queries
from seoga.paths import seoga_home
from seoga.serve.settings import ANYONE, ServeSettings
from seoga.settings import CollectionSettings

RESULTS_SHOWN = 3
DEMO_HOST = "127.0.0.1"  # a demo serves this machine only


def demo_command(
    collection: Annotated[
        Path | None,
        typer.Option("--collection", "-c", help="Where to build it (default: seoga home/demo)."),
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="Bi-encoder; 'none' for a BM25-only demo.")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="hybrid (default), bm25 or dense.")] = None,
    serve: Annotated[
        bool,
        typer.Option(
            help="Then serve it on 127.0.0.1 (no key needed to search, nor for the page to "
            "report its impressions and clicks)."
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 8080,
) -> None:
    """Index the bilingual sample corpus seoga ships and run a few searches on it."""
    root = collection or seoga_home() / "demo"
    settings = CollectionSettings(embedder=embedder) if embedder else CollectionSettings()
    console.rule("seoga demo: indexing the sample corpus")
    built, report = build_demo(root, settings, show_progress=True)
    print_report(report, str(root))
    answers = run_queries(built, RESULTS_SHOWN, mode)
    found_first = 0
    for answer in answers:
        console.rule(f"[bold]{escape(answer.query.text)}[/]  [dim]({answer.query.lang})[/]")
        print_results(answer.results)
        rank = answer.rank
        found_first += rank == 1
        verdict = f"expected passage at rank {rank}" if rank else "expected passage not shown"
        console.print(f"   [dim]{verdict} ({escape(answer.query.expect)})[/]")
    console.rule()
    console.print(
        f"{found_first}/{len(answers)} queries found their expected passage first "
        f"(mode: {mode or ('hybrid' if built.settings.embedder else 'bm25')}). "
        f'Try: seoga search "하이브리드 검색" --collection {root}',
        highlight=False,
    )
    ask_samples(built, root)
    if serve:
        # A demo on this machine only: anyone on it may search, and its page records what it
        # shows without a key.
        settings = ServeSettings(collection=root, open_search=True, event_writers=ANYONE)
        console.print(f"serving {escape(str(root))} at http://{DEMO_HOST}:{port}/", highlight=False)
        serve(settings, DEMO_HOST, port)


def ask_samples(collection, root: Path) -> None:
    """The sample questions, answered by the default reader (the highlighter) with the span."""
    replies = ask_questions(collection)
    for reply in replies:
        question = reply.question
        console.rule(f"[bold]{escape(question.text)}[/]  [dim]({question.lang}, ask)[/]")
        print_answer(reply.answer, passages=False)
        verdict = "the expected answer" if reply.expected else "not the expected answer"
        console.print(f"   [dim]{verdict} ({escape(question.expect)})[/]")
    console.rule()
    right = sum(reply.expected for reply in replies)
    console.print(
        f"{right}/{len(replies)} questions answered with their expected answer (highlighter). "
        f'Try: seoga ask "계약갱신요구권은 몇 번 쓸 수 있나요?" --collection {root}',
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
