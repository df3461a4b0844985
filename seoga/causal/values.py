"""The values an estimate computes with: every one present, numbers where the methods need them.

A bad value is named where the user can find it: `file:line` and the column when the table was
read from a CSV or a JSONL (`read_table` notes the file in the frame's `attrs`; the lines are
counted only when there is an error to report, as an editor counts them: the header is line 1,
and blank lines and the line ends inside a quoted value count), else the row of a table built
in Python. The treatment, the outcome and a frontdoor's mediators must be numbers; a backdoor
covariate may be text (it is one-hot encoded).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from seoga.causal.estimators import FRONTDOOR
from seoga.errors import InputError
from seoga.recommend.data.textfiles import json_objects, read_text

SOURCE = "source"  # the `attrs` key naming the file a table was read from
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
ACCEPTED = {
    "treatment": "the treatment takes 0/1 (1 = treated; recode yes/no as 1/0), or numbers "
    "for regression and the linear frontdoor",
    "outcome": "the outcome takes numbers (0/1 for a yes/no outcome)",
    "mediator": "a frontdoor mediator takes numbers (0/1 for yes/no)",
}


def note_source(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Mark `frame` (one row per line of `path`, in order) as read from that file."""
    frame.attrs[SOURCE] = str(path)
    return frame


def _csv_lines(text: str) -> list[int]:
    """The line each data row of a CSV starts on, skipping blank lines as pandas does."""
    reader = csv.reader(io.StringIO(text))
    starts, start = [], 1
    for record in reader:
        blank = not record or (len(record) == 1 and not record[0].strip())
        if not blank:
            starts.append(start)
        start = reader.line_num + 1
    return starts[1:]  # the first record is the header


def row_lines(path: Path) -> list[int]:
    """The line of each row `read_table` reads from a CSV or JSONL file."""
    text = read_text(path)
    if path.suffix.lower() in JSONL_SUFFIXES:
        return [number for number, _ in json_objects(path, text)]
    return _csv_lines(text)


def locate(data: pd.DataFrame, position: int, where: str) -> str:
    """`file:line` of the row at `position`, or `where, row N` for a table built in Python."""
    source = data.attrs.get(SOURCE)
    label = data.index[position]
    # Row labels, not positions, follow a row through a filter of the table as read.
    if source is not None and isinstance(label, int | np.integer):
        lines = row_lines(Path(source))
        if 0 <= label < len(lines):
            return f"{source}:{lines[label]}"
    return f"{where}, row {position + 1}"


def checked_units(
    data: pd.DataFrame,
    treatment: str,
    outcome: str,
    adjustment: list[str],
    method: str,
    where: str,
) -> pd.DataFrame:
    """The columns `method` uses, all present, the numeric ones as numbers; else an InputError
    naming the first bad value."""
    missing = [column for column in adjustment if column not in data.columns]
    if missing:
        raise InputError(f"{where} has no column {', '.join(missing)} to adjust for.")
    used = data[[treatment, outcome, *adjustment]]
    if used.isna().any().any():
        column = used.columns[used.isna().any()].tolist()[0]
        position = int(used[column].isna().to_numpy().argmax())
        raise InputError(
            f"{locate(data, position, where)} has no value for {column}; fill or drop the row."
        )
    roles = {treatment: "treatment", outcome: "outcome"}
    if method == FRONTDOOR:
        roles |= dict.fromkeys(adjustment, "mediator")
    numbers = used.copy()
    for column, role in roles.items():
        converted = pd.to_numeric(used[column], errors="coerce")
        bad = converted.isna().to_numpy()
        if bad.any():
            position = int(bad.argmax())
            raise InputError(
                f"{locate(data, position, where)}: column {column} has "
                f"{used[column].iloc[position]!r}, not a number; {ACCEPTED[role]}."
            )
        numbers[column] = converted
    return numbers
