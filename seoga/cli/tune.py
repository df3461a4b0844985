"""`seoga tune grid.yaml`: grid search over retrieval, training or recommender settings."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seoga.cli.output import console
from seoga.tune import load_grid, result_table, tune

ROWS_SHOWN = 20


def tune_command(
    grid_file: Annotated[Path, typer.Argument(help="The grid: kind, data, grid of values.")],
    output: Annotated[
        Path | None,
        typer.Option("--out", help="Results folder (default: from the file, or GRID-results)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Parallel processes (capped by CPUs and free memory).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Training seed for every trial (overrides train: seed).")
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(help="Run the trials on a Dask cluster: tcp://HOST:PORT or local:N."),
    ] = None,
) -> None:
    """Run every trial of the grid not yet run (resumable), print and save the results table."""
    grid = load_grid(grid_file, output=output, workers=workers, seed=seed, dask=dask)
    total = len(grid.trials())
    console.print(f"{total} trials ({grid.kind}) → {grid.output}", highlight=False)
    report = tune(
        grid,
        on_result=lambda record: console.print(
            f"  {record['id']} {grid.metric}={record['score']:.4f} {record['trial']}",
            highlight=False,
        ),
    )
    header, body = result_table(grid, report.rows)
    # The screen shows what was varied and the chosen metric; every metric is in results.md.
    wanted = {"rank", *grid.grid, grid.metric, "seconds", "id"}
    shown = [index for index, name in enumerate(header) if name in wanted]
    table = Table(title=f"{grid.metric}, best first ({report.ran} run, {report.skipped} reused)")
    for index in shown:
        table.add_column(escape(header[index]))
    for cells in body[:ROWS_SHOWN]:
        table.add_row(*(escape(cells[index]) for index in shown))
    console.print(table)
    if report.best is not None:
        console.print(
            f"best: {grid.metric}={report.best['score']:.4f} with {report.best['trial']} "
            f"(saved in {report.output}/best.json, results.csv, results.md)",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("tune")(tune_command)
