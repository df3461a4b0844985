"""Tables of examples (TSV, CSV, JSONL): their rows, and which column plays which role.

A header row naming the roles places them; without one, the columns are taken in order (or in
the STS-B / KorSTS layout for scored pairs). A bad row stops reading with an `InputError` naming
file:line and what was expected.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from seoga.errors import InputError
from seoga.text.loaders import CSV_FIELD_LIMIT

# STS-B / KorSTS layout: genre, file, year, id, score, sentence1, sentence2 (+ licence fields).
STS_LAYOUT_COLUMNS = 7
STS_SCORE, STS_FIRST, STS_SECOND = 4, 5, 6
# Header names recognised for each role (case-insensitive), first match wins.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "anchor": ("anchor", "query", "question", "sentence1", "s1", "text1", "premise"),
    "positive": ("positive", "pos", "document", "passage", "sentence2", "s2", "text2"),
    "negative": ("negative", "neg", "hard_negative", "sentence3"),
    "score": ("score", "label", "similarity", "gold_score"),
    "hypothesis": ("hypothesis", "sentence2"),
    "nli_label": ("gold_label", "label"),
    "text": ("text", "sentence", "sentence1"),
    "class": ("label", "class", "category"),
}
FORMAT_ROLES = {
    "pairs": ("anchor", "positive"),
    "triplets": ("anchor", "positive", "negative"),
    "scored-pairs": ("anchor", "positive", "score"),
    "nli": ("anchor", "hypothesis", "nli_label"),
    "labeled": ("text", "class"),
}


def raise_at(path: Path, line: int, message: str) -> None:
    """Stop reading at `path`:`line` with what was wrong there."""
    raise InputError(f"{path}:{line}: {message}")


def delimiter_of(path: Path) -> str:
    """Tab when the first line has one (STS-B's .csv files are tab-separated), else comma."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    return "\t" if "\t" in first or path.suffix.lower() == ".tsv" else ","


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of a TSV/CSV file, or of a JSONL file's objects' values.

    Tab-separated files are read unquoted (csv.QUOTE_NONE): STS-B and KorSTS contain bare quote
    characters inside sentences.
    """
    if not path.is_file():
        raise InputError(f"{path} is not a file; give a TSV, CSV or JSONL file of examples.")
    if path.suffix.lower() == ".jsonl":
        yield from _jsonl_rows(path)
        return
    csv.field_size_limit(CSV_FIELD_LIMIT)
    delimiter = delimiter_of(path)
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, quoting=quoting)
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield reader.line_num, row
    except UnicodeDecodeError as error:
        raise InputError(f"{path} is not UTF-8 text ({error}); save it as UTF-8.") from error
    except csv.Error as error:
        raise InputError(f"{path}: malformed CSV ({error}).") from error


def _jsonl_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    header: list[str] | None = None
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise_at(path, number, f"invalid JSON ({error}).")
            if not isinstance(record, dict):
                raise_at(path, number, "expected a JSON object with named fields.")
            if header is None:
                header = list(record)
                yield 0, header
            yield number, [str(record.get(name, "")) for name in header]


def header_roles(header: list[str], roles: tuple[str, ...]) -> dict[str, int] | None:
    """Column index of each role when the first row is a header naming all of them."""
    names = [cell.strip().lower() for cell in header]
    found: dict[str, int] = {}
    for role in roles:
        index = next(
            (names.index(name) for name in HEADER_NAMES[role] if name in names and name), None
        )
        if index is None or index in found.values():
            return None
        found[role] = index
    return found


def _positions(fmt: str, first: list[str], path: Path) -> tuple[dict[str, int], bool]:
    """Column of each role for `fmt`, and whether the first row is a header."""
    roles = FORMAT_ROLES[fmt]
    named = header_roles(first, roles)
    if named is not None:
        return named, True
    if fmt == "scored-pairs" and len(first) >= STS_LAYOUT_COLUMNS:
        return {"anchor": STS_FIRST, "positive": STS_SECOND, "score": STS_SCORE}, False
    if len(first) < len(roles):
        raise_at(
            path,
            1,
            f"{fmt} needs {len(roles)} columns ({', '.join(roles)}), found {len(first)}; "
            "separate columns with a tab (.tsv) or a comma (.csv).",
        )
    return {role: index for index, role in enumerate(roles)}, False


def table_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {role: cell}) for each data row of a `fmt` table, checking cell counts."""
    rows = read_rows(path)
    first = next(rows, None)
    if first is None:
        raise InputError(f"{path} has no rows.")
    line, cells = first
    if line == 0:  # a JSONL file: the "row" is the field names
        named = header_roles(cells, FORMAT_ROLES[fmt])
        if named is None:
            wanted = ", ".join(HEADER_NAMES[role][0] for role in FORMAT_ROLES[fmt])
            raise InputError(f"{path}: {fmt} JSONL objects need the fields {wanted}.")
        positions, has_header = named, True
    else:
        positions, has_header = _positions(fmt, cells, path)
    if not has_header:
        rows = iter([(line, cells), *rows])
    needed = max(positions.values()) + 1
    for number, row in rows:
        if len(row) < needed:
            raise_at(
                path,
                number,
                f"expected at least {needed} columns for {fmt}, found {len(row)} "
                "(a missing tab or comma?).",
            )
        values = {role: row[index].strip() for role, index in positions.items()}
        empty = [role for role, value in values.items() if not value]
        if empty:
            raise_at(path, number, f"empty {', '.join(empty)}.")
        yield number, values
