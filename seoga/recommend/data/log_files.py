"""Reading interaction logs from disk: CSV / TSV / JSONL files, folders, baskets, histories.

MovieLens `ratings.csv`, `u.data` and `ratings.dat` are read as they come, as is a served
collection's event log (rotated files included) and a Groceries-style basket file. Each row's
user, item, value and time are checked; a bad row stops reading with `file:line: what is wrong`.
"""

from __future__ import annotations

import csv
from collections.abc import Container, Iterable, Iterator
from datetime import datetime
from itertools import chain
from pathlib import Path

import numpy as np

from seoga.errors import InputError
from seoga.eventlog import event_files
from seoga.recommend.data.columns import Columns, looks_like_header, resolve_columns
from seoga.recommend.data.interactions import (
    EXPLICIT,
    IMPLICIT,
    IdMap,
    Interactions,
    matrix_interactions,
)
from seoga.recommend.data.textfiles import is_number, json_objects, read_text, text_lines

MOVIELENS_DAT_SEPARATOR = "::"
# A dense users × items rating matrix (Coat, Yahoo! R3): see `matrix_interactions`.
MATRIX_SUFFIX = ".ascii"
# Between a history item and its rating: "318:4.5".
RATING_SEPARATOR = ":"
# Files found inside a folder given as the log, in order of preference.
FOLDER_LOGS = ("ratings.csv", "u.data", "ratings.dat", "interactions.csv", "clicks.jsonl")

Record = dict[str, str] | list[str]


def read_interactions(
    path: Path | str, columns: Columns | None = None, *, delimiter: str | None = None
) -> Interactions:
    """Read a log file (or a MovieLens folder, or a served collection's folder: its event log,
    rotated files included): explicit when it has a rating column; a `.ascii` users × items
    matrix (0 = no rating) is read as ratings.

    `Interactions.positives(min_rating)` turns ratings into implicit feedback.
    """
    path = Path(path)
    columns = columns or Columns()
    event_logs = event_files(path) if path.is_dir() else []
    if event_logs:
        # The server rotates its log: every kept file, oldest first, as one JSONL.
        records = None, (row for log in event_logs for row in _json_lines(log, read_text(log)))
    else:
        if path.is_dir():
            path = _log_in_folder(path)
        if path.suffix.lower() == MATRIX_SUFFIX and path.is_file():
            return matrix_interactions(path)
        if not path.is_file():
            raise InputError(f"{path}: no such file; give a CSV, TSV or JSONL interaction log.")
        records = _records(path, delimiter)
    roles, rows = resolve_columns(path, records, columns)
    kind = EXPLICIT if "rating" in roles else IMPLICIT
    value_role = "rating" if kind == EXPLICIT else "weight"
    user_ids, item_ids = IdMap(), IdMap()
    users, items, values, times = [], [], [], []
    for line, record in rows:
        user = _field(path, line, record, roles["user"], "user")
        item = _field(path, line, record, roles["item"], "item")
        value = 1.0
        if value_role in roles:
            value = _number(path, line, _field(path, line, record, roles[value_role], value_role))
        if kind == IMPLICIT and value < 0:
            raise InputError(f"{path}:{line}: a negative weight ({value}); weights count events.")
        users.append(user_ids.add(user))
        items.append(item_ids.add(item))
        values.append(value)
        if "time" in roles:
            times.append(_time(path, line, _field(path, line, record, roles["time"], "time")))
    log = Interactions(
        np.asarray(users),
        np.asarray(items),
        np.asarray(values),
        user_ids,
        item_ids,
        kind,
        np.asarray(times) if "time" in roles else None,
        str(path),
    )
    log.require_rows()
    return log


def _log_in_folder(folder: Path) -> Path:
    for name in FOLDER_LOGS:
        if (folder / name).is_file():
            return folder / name
    raise InputError(f"{folder} holds no interaction log (looked for {', '.join(FOLDER_LOGS)}).")


def _records(path: Path, delimiter: str | None) -> tuple[list[str] | None, Iterator]:
    """(header or None, iterator of (line number, record)); JSONL records are dicts."""
    text = read_text(path)
    if path.suffix.lower() == ".jsonl":
        return None, _json_lines(path, text)
    lines = text_lines(text)
    if not any(line.strip() for line in lines):
        raise InputError(f"{path} is empty; give a log with one interaction a line.")
    if delimiter is None and MOVIELENS_DAT_SEPARATOR in lines[0]:
        delimiter = MOVIELENS_DAT_SEPARATOR
        rows = (
            (number, line.split(MOVIELENS_DAT_SEPARATOR))
            for number, line in enumerate(lines, start=1)
            if line.strip()
        )
    else:
        if delimiter is None:
            tabbed = "\t" in lines[0] or path.suffix.lower() in (".tsv", ".data")
            delimiter = "\t" if tabbed else ","
        reader = csv.reader(lines, delimiter=delimiter)
        rows = ((reader.line_num, row) for row in reader if row)
    first = next(rows)
    second = next(rows, None)
    header = first[1] if looks_like_header(first[1], second[1] if second else None) else None
    head = ([] if header else [first]) + ([second] if second else [])
    shape = "the header" if header else f"line {first[0]}"
    return header, _same_width(path, chain(head, rows), len(first[1]), shape, delimiter)


def _same_width(
    path: Path, rows: Iterator, width: int, shape: str, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    """The rows, each checked to have `width` fields as `shape` (the header, or the first row)
    has: a row with more or fewer is malformed, not a row whose extra values may be dropped."""
    for line, row in rows:
        if len(row) != width:
            raise InputError(
                f"{path}:{line}: {len(row)} fields where {shape} has {width}; a value that holds "
                f"{delimiter!r} must be quoted, and every row needs the same columns."
            )
        yield line, row


def _json_lines(path: Path, text: str) -> Iterator[tuple[int, dict]]:
    for number, record in json_objects(path, text):
        yield number, {key: "" if value is None else str(value) for key, value in record.items()}


def _field(path: Path, line: int, record: Record, key: str | int, role: str) -> str:
    try:
        value = record[key]
    except (IndexError, KeyError) as error:
        raise InputError(f"{path}:{line}: the {role} column is missing.") from error
    value = value.strip()
    if not value:
        raise InputError(f"{path}:{line}: the {role} is empty.")
    return value


def _number(path: Path, line: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise InputError(f"{path}:{line}: {text!r} is not a number.") from error
    if not np.isfinite(value):
        raise InputError(f"{path}:{line}: {text!r} is not a finite number.")
    return value


def _time(path: Path, line: int, text: str) -> float:
    """Unix seconds, or an ISO 8601 date / date-time."""
    if is_number(text):
        return float(text)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError as error:
        raise InputError(
            f"{path}:{line}: {text!r} is not a time (Unix seconds or an ISO date)."
        ) from error


def parse_history(
    values: str | Iterable[str], known: Container[str] = ()
) -> tuple[list[str], list[float] | None]:
    """Item ids, each optionally with a rating, as a command line gives them: `["318,296:4.5",
    "Godfather, The (1972):5"]` → (["318", "296", "Godfather, The (1972)"], [nan, 4.5, 5.0]);
    ratings None when none is given.

    A value (or a comma-separated part of it) that is an id of `known` is taken whole, so ids
    holding commas or colons can be given one per value; anything else is split at commas,
    and `ITEM:RATING` gives a rating.
    """
    items, ratings = [], []
    for value in [values] if isinstance(values, str) else values:
        for part in _id_parts(value, known):
            item, rating = _rated(part, known)
            items.append(item)
            ratings.append(rating)
    if not items:
        raise InputError("the history is empty; give item ids separated by commas.")
    given = [value for value in ratings if not np.isnan(value)]
    return items, (ratings if given else None)


def split_ids(values: str | Iterable[str], known: Container[str] = ()) -> list[str]:
    """Ids as a command line gives them: a value `known` holds whole is one id (it may hold
    commas), anything else ids separated by commas (empty parts dropped)."""
    return [
        part
        for value in ([values] if isinstance(values, str) else values)
        for part in _id_parts(value, known)
    ]


def _id_parts(value: str, known: Container[str]) -> list[str]:
    """One value as its ids: whole when `known` holds it (or it is ID:RATING of one)."""
    value = value.strip()
    item, separator, rating = value.rpartition(RATING_SEPARATOR)
    if value in known or (separator and item.strip() in known and is_number(rating)):
        return [value]
    return [part.strip() for part in value.split(",") if part.strip()]


def _rated(part: str, known: Container[str]) -> tuple[str, float]:
    """(item, rating or nan) of one `ITEM` or `ITEM:RATING`."""
    item, separator, rating = part.rpartition(RATING_SEPARATOR)
    if part in known or not separator:
        return part, np.nan
    if not (is_number(rating) and np.isfinite(float(rating))):
        raise InputError(f"history item {part!r}: {rating.strip()!r} is not a rating.")
    return item.strip(), float(rating)


def read_baskets(path: Path | str) -> Interactions:
    """A CSV of baskets, one a line (items comma-separated, no header: Groceries as it comes).

    Each line is a basket: a user of the log named `basket-LINE`, with an event per item.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file; give a CSV with one basket a line.")
    user_ids, item_ids = IdMap(), IdMap()
    users, items = [], []
    reader = csv.reader(text_lines(read_text(path)))
    for row in reader:
        basket = [cell.strip() for cell in row if cell.strip()]
        if not basket:
            continue
        user = user_ids.add(f"basket-{reader.line_num}")
        for item in dict.fromkeys(basket):
            users.append(user)
            items.append(item_ids.add(item))
    log = Interactions(
        np.asarray(users, dtype=np.int64),
        np.asarray(items, dtype=np.int64),
        np.ones(len(users), dtype=np.float32),
        user_ids,
        item_ids,
        IMPLICIT,
        None,
        str(path),
    )
    log.require_rows()
    return log
