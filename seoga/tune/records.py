"""Finished trials on disk (`trials.jsonl`, appended as each ends) and the results tables."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from seoga.atomic import write_json_atomic
from seoga.tune.grid import Grid

TRIALS_NAME = "trials.jsonl"


def read_trials(output: Path) -> dict[str, dict[str, Any]]:
    """Finished trials by id (a line cut short by a kill is ignored: that trial runs again)."""
    path = output / TRIALS_NAME
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        done[record["id"]] = record
    return done


def record_trial(output: Path, record: dict[str, Any]) -> None:
    """Append one finished trial and flush it to disk before going on."""
    with (output / TRIALS_NAME).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def result_table(grid: Grid, rows: Iterable[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows, best score first: the grid's settings, then every metric."""
    rows = sorted(rows, key=lambda row: row["score"], reverse=True)
    metric_names = sorted({name for row in rows for name in row["metrics"]})
    metric_names.sort(key=lambda name: name != grid.metric)
    header = ["rank", *grid.grid, *metric_names, "seconds", "id"]
    body = [
        [
            str(rank),
            *(_format(row["trial"].get(name)) for name in grid.grid),
            *(_format(row["metrics"].get(name, "")) for name in metric_names),
            _format(row["seconds"]),
            row["id"],
        ]
        for rank, row in enumerate(rows, start=1)
    ]
    return header, body


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def write_results(grid: Grid, rows: list[dict[str, Any]], best: dict[str, Any] | None) -> None:
    """results.csv, results.json, results.md and best.json in the output folder."""
    header, body = result_table(grid, rows)
    with (grid.output / "results.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)
    write_json_atomic(grid.output / "results.json", {"metric": grid.metric, "trials": rows})
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(cells) + " |" for cells in body),
    ]
    (grid.output / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if best is not None:
        write_json_atomic(
            grid.output / "best.json",
            {
                "metric": grid.metric,
                "score": best["score"],
                "trial": best["trial"],
                "fixed": _jsonable(grid.settings if grid.kind == "retrieval" else grid.train),
                "id": best["id"],
            },
        )
