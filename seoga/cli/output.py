"""How results and reports look in a terminal, and as JSON for machines."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from seoga.answer.base import Answer
from seoga.collection.reports import IndexReport, skipped_summary
from seoga.errors import InputError
from seoga.search.results import SearchResult
from seoga.text.formats.structure import PATH_SEPARATOR

console = Console()
error_console = Console(stderr=True)
PROBLEMS_SHOWN = 20
# A table column's width beyond its text: a space each side and a border.
COLUMN_PADDING = 3
# Characters of each passage shown under an answer.
SNIPPET_CHARS = 160


def print_json(payload: Any) -> None:
    console.print_json(json.dumps(payload, ensure_ascii=False))


def report(result: dict[str, Any], *, as_json: bool, out: Path | None, draw: Callable[[], None]):
    """A command's result: printed as JSON or as `draw` lays it out, and written to `out` as
    JSON when given."""
    if as_json:
        print_json(result)
    else:
        draw()
    if out is None:
        return
    try:
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"cannot write {out}: {error.strerror or error}; give --out a file in a folder "
            "you can write to."
        ) from error


def report_metrics(
    result: dict[str, Any], title: str, names: list[str], *, as_json: bool, out: Path | None
) -> None:
    """`report` of a metrics result, drawn by `print_metrics` with the figures `names`."""
    report(result, as_json=as_json, out=out, draw=lambda: print_metrics(title, result, names))


def with_section(title: str, section: str) -> str:
    """A hit's title followed by the section path it was found in, when there is one."""
    return f"{title}{PATH_SEPARATOR}{section}" if section else title


def print_results(results: list[SearchResult], related: dict[str, list] | None = None) -> None:
    """Each result with its highlighted snippet, and its related documents when given."""
    related = related or {}
    if not results:
        console.print("no results.")
        return
    for rank, result in enumerate(results, start=1):
        heading = with_section(result.title or result.doc_id, result.section)
        console.print(
            f"[bold]{rank}. {escape(heading)}[/]  "
            f"[dim]score {result.score:.3f} · {escape(result.source)}[/]",
            highlight=False,
        )
        marked = result.marked_snippet("\0", "\1")
        console.print(
            "   " + escape(marked).replace("\0", "[bold yellow]").replace("\1", "[/bold yellow]"),
            highlight=False,
        )
        if related.get(result.doc_id):
            shown = " · ".join(escape(hit.title or hit.doc_id) for hit in related[result.doc_id])
            console.print(f"   [dim]related: {shown}[/]", highlight=False)


def print_report(report: IndexReport, collection: str) -> None:
    if report.problems:
        table = Table(title=f"skipped ({len(report.problems)})", show_lines=False)
        table.add_column("file:line")
        table.add_column("reason")
        for problem in report.problems[:PROBLEMS_SHOWN]:
            where = f"{problem.path}:{problem.line}" if problem.line else problem.path
            table.add_row(escape(where), escape(problem.reason))
        error_console.print(table)
        hidden = len(report.problems) - PROBLEMS_SHOWN
        if hidden > 0:
            error_console.print(f"… and {hidden} more (see --json for all).")
    if report.skipped:
        summary = skipped_summary(report.skipped)
        kinds = ", ".join(f"{n} {suffix}" for suffix, n in summary["by_extension"].items())
        first = ", ".join(summary["first"])
        error_console.print(
            f"not read ({summary['count']} files of kinds seoga does not read: {kinds}): "
            f"{escape(first)}{' …' if summary['count'] > len(summary['first']) else ''}",
            highlight=False,
        )
    if report.formats:
        found = ", ".join(f"{count} {name}" for name, count in sorted(report.formats.items()))
        console.print(f"files found: {found}", highlight=False)
    console.print(
        f"{collection}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed files; "
        f"{report.documents} documents in {report.chunks} new chunks "
        f"({report.seconds:.1f} s).",
        highlight=False,
    )


def print_metrics(title: str, metrics: dict[str, Any], names: list[str]) -> None:
    """The figures `names` as one row, or as one line each when a row would not fit the
    terminal (a cut row shows '0.928…' and 'recal…')."""
    cells = [format_value(metrics[name]) for name in names]
    row_width = sum(max(len(n), len(c)) + COLUMN_PADDING for n, c in zip(names, cells, strict=True))
    table = Table(title=title)
    if row_width + 1 <= console.width:
        for name in names:
            table.add_column(name, justify="right")
        table.add_row(*cells)
    else:
        table.add_column("metric")
        table.add_column("value", justify="right")
        for name, cell in zip(names, cells, strict=True):
            table.add_row(name, cell)
    console.print(table)


def format_value(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


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
