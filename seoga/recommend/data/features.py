"""Side tables: what is known about each item (or user) besides its interactions.

A table maps a raw id to fields of four kinds: categorical (one value: a studio, a gender),
multi-valued (`a|b|c`: genres; or a value repeated over rows: tags), numeric (a year, an age) and
free text (a title, a description; encoded by a seoga embedder for the FM's text block). Several
files merge by id. MovieLens-100k's `u.item` and `u.user` are read as they come. Turning a table
into model inputs is `seoga.recommend.data.feature_encoding`'s job.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seoga.errors import InputError
from seoga.recommend.data.columns import COLUMN_NAMES
from seoga.recommend.data.textfiles import json_objects, normalise_name, read_text, text_lines

CATEGORICAL, MULTI, NUMERIC, TEXT = "categorical", "multi", "numeric", "text"
# A title or name not named as text: shown beside the id, never a model input.
LABEL = "label"
KINDS = (CATEGORICAL, MULTI, NUMERIC, TEXT, LABEL)
DEFAULT_SEPARATOR = "|"
# A string column with more distinct values than this share of its rows is free text, not a
# category; it is kept only when named as a text field or called a title / name / label.
CATEGORY_SHARE = 0.5
ML100K_ITEM_COLUMNS = 5  # id, title, release date, video date, URL; 19 genre flags follow
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
ML100K_YEAR_DIGITS = 4
TEXT_JOIN = ". "
LABEL_FIELDS = ("title", "name", "label")
# MovieLens-100k's tables read as they come, and the side each belongs to.
ML100K_TABLES = {"u.item": "item", "u.user": "user"}
# Characters of a first line quoted when it is not a header.
HEADER_SHOWN = 60
VALUES_JOIN = ", "


@dataclass
class FeatureTable:
    """Per raw id, the value of each field; `kinds` says how each field is read."""

    kinds: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, object]] = field(default_factory=dict)  # field → id → value
    sources: list[str] = field(default_factory=list)
    text_fields: list[str] = field(default_factory=list)  # the fields an item's text joins

    @property
    def ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for per_id in self.values.values():
            seen.update(dict.fromkeys(per_id))
        return list(seen)

    def merge(self, other: FeatureTable) -> FeatureTable:
        """Both tables' fields; a field in both must be of one kind (multi values add up)."""
        for name, kind in other.kinds.items():
            if self.kinds.get(name, kind) != kind:
                raise InputError(
                    f"field {name!r} is {self.kinds[name]} in {', '.join(self.sources)} but "
                    f"{kind} in {', '.join(other.sources)}; rename one of them."
                )
        values = {name: dict(per_id) for name, per_id in self.values.items()}
        for name, per_id in other.values.items():
            merged = values.setdefault(name, {})
            for raw_id, value in per_id.items():
                before = merged.get(raw_id)
                merged[raw_id] = before + value if isinstance(before, list) else value
        text_fields = list(dict.fromkeys([*self.text_fields, *other.text_fields]))
        return FeatureTable(
            {**self.kinds, **other.kinds}, values, [*self.sources, *other.sources], text_fields
        )

    def labels(self) -> dict[str, str]:
        """Each id's title or name (else its first text field), to show beside the id."""
        texts = [name for name, kind in self.kinds.items() if kind in (TEXT, LABEL)]
        chosen = next((name for name in LABEL_FIELDS if name in self.kinds), None)
        chosen = chosen or next(iter(texts), None)
        if chosen is None:
            return {}
        return {raw_id: _plain(value) for raw_id, value in self.values[chosen].items()}

    def text(self, raw_id: str, fields: Sequence[str]) -> str:
        """The named fields of one id joined into one text (multi values comma-joined)."""
        parts = []
        for name in fields:
            value = self.values.get(name, {}).get(raw_id)
            if value is not None and (text := _plain(value)):
                parts.append(text)
        return TEXT_JOIN.join(parts)


def _plain(value: object) -> str:
    """A field's value as text to show: several values (a multi field) joined by VALUES_JOIN."""
    if isinstance(value, list):
        return VALUES_JOIN.join(dict.fromkeys(map(str, value)))
    return str(value)


def read_features(
    paths: Path | str | Iterable[Path | str],
    *,
    side: str = "item",
    id_column: str | None = None,
    text_fields: Sequence[str] = (),
    kinds: dict[str, str] | None = None,
    separator: str = DEFAULT_SEPARATOR,
) -> FeatureTable:
    """Read one or more side tables of `side` ("item" or "user") and merge them by id."""
    if isinstance(paths, str | Path):
        paths = [paths]
    table = FeatureTable()
    for path in map(Path, paths):
        table = table.merge(
            _read_one(path, side, id_column, set(text_fields), kinds or {}, separator)
        )
    for name in text_fields:
        if name not in table.kinds:
            raise InputError(
                f"no field {name!r} for the text in {', '.join(table.sources)}; "
                f"the fields are {', '.join(table.kinds) or 'none'}."
            )
    table.text_fields = list(text_fields)
    return table


def _read_one(
    path: Path,
    side: str,
    id_column: str | None,
    text_fields: set[str],
    kinds: dict[str, str],
    separator: str,
) -> FeatureTable:
    if not path.is_file():
        raise InputError(f"{path}: no such file; give a CSV, TSV or JSONL side table.")
    movielens = ML100K_TABLES.get(path.name)
    if movielens is not None and movielens != side:
        raise InputError(
            f"{path} is MovieLens-100k's {movielens} table (its ids are {movielens} ids), given "
            f"as an {side} table; give it as --{movielens}s (u.item as --items, u.user as "
            "--users)."
        )
    if path.name == "u.item":
        return _movielens_items(path, text_fields)
    if path.name == "u.user":
        return _movielens_users(path)
    header, rows = _table_rows(path)
    id_name = _id_column(path, header, side, id_column)
    # Other id and time columns (a tag table's user and timestamp) are not features.
    skipped = {
        normalise_name(name) for role in ("user", "item", "time") for name in COLUMN_NAMES[role]
    }
    id_position = header.index(id_name)
    columns: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line, row in rows:
        if len(row) != len(header):
            raise InputError(
                f"{path}:{line}: {len(row)} columns where the header has {len(header)}."
            )
        raw_id = row[id_position].strip()
        if not raw_id:
            raise InputError(f"{path}:{line}: the {side} id is empty.")
        for position, name in enumerate(header):
            if position == id_position:
                continue
            if name not in kinds and name not in text_fields and normalise_name(name) in skipped:
                continue
            value = row[position].strip()
            if value:
                columns[name][raw_id].append(value)
    table = FeatureTable(sources=[str(path)])
    for name, per_id in columns.items():
        kind = kinds.get(name) or _guess_kind(per_id, separator) or _named_kind(name, text_fields)
        if kind is None:
            continue
        if kind not in KINDS:
            raise InputError(f"{path}: field {name!r} has unknown kind {kind!r}; use {KINDS}.")
        table.kinds[name] = kind
        table.values[name] = {
            raw_id: _value(path, name, kind, found, separator) for raw_id, found in per_id.items()
        }
    return table


def _table_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    text = read_text(path)
    if path.suffix.lower() == ".jsonl":
        return _jsonl_rows(path, text)
    lines = text_lines(text)
    if not lines or not lines[0].strip():
        raise InputError(f"{path} is empty or starts with a blank line; give a header line.")
    delimiter = "\t" if "\t" in lines[0] or path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [name.strip() for name in next(reader)]
    return header, [(reader.line_num, row) for row in reader if row]


def _jsonl_rows(path: Path, text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    records = list(json_objects(path, text))
    header = list(dict.fromkeys(key for _, record in records for key in record))
    if not header:
        raise InputError(f"{path} holds no JSON objects with fields.")
    rows = []
    for number, record in records:
        cells = []
        for name in header:
            value = record.get(name)
            if isinstance(value, list):
                value = DEFAULT_SEPARATOR.join(map(str, value))
            cells.append("" if value is None else str(value))
        rows.append((number, cells))
    return header, rows


def _id_column(path: Path, header: list[str], side: str, given: str | None) -> str:
    if given is not None:
        if given not in header:
            raise InputError(f"{path}: no column {given!r}; the columns are {', '.join(header)}.")
        return given
    by_normal = {normalise_name(name): name for name in header}
    for candidate in (*COLUMN_NAMES[side], "id", "_id"):
        if candidate in by_normal:
            return by_normal[candidate]
    if _is_float(header[0]) or len(header) == 1:
        # No header (its first line is data), or not comma- or tab-separated: the first column
        # would be taken for ids that are not there.
        raise InputError(
            f"{path}:1: the first line ({', '.join(header)[:HEADER_SHOWN]}) is not a header "
            f"naming an {side} id column; a side table is comma- or tab-separated with a header "
            f"line, its {side} id column first or named {side} or id (e.g. {side},genre)."
        )
    return header[0]


def _guess_kind(per_id: dict[str, list[str]], separator: str) -> str | None:
    values = [value for found in per_id.values() for value in found]
    if any(len(found) > 1 for found in per_id.values()) or any(separator in v for v in values):
        return MULTI
    if all(_is_float(value) for value in values):
        return NUMERIC
    if len(set(values)) <= CATEGORY_SHARE * len(values):
        return CATEGORICAL
    return None


def _is_float(text: str) -> bool:
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


def _value(path: Path, name: str, kind: str, found: list[str], separator: str) -> object:
    if kind == MULTI:
        return [part.strip() for value in found for part in value.split(separator) if part.strip()]
    if kind in (TEXT, LABEL):
        return TEXT_JOIN.join(dict.fromkeys(found))
    if kind == NUMERIC:
        if not _is_float(found[0]):
            raise InputError(f"{path}: field {name!r} is numeric but holds {found[0]!r}.")
        return float(found[0])
    return found[0]


def _named_kind(name: str, text_fields: set[str]) -> str | None:
    """Free text is read as text only when named so (the FM encodes it); a title, name or
    label column not named is kept as the label; any other is dropped."""
    if name in text_fields:
        return TEXT
    return LABEL if name.lower() in LABEL_FIELDS else None


def _movielens_items(path: Path, text_fields: set[str]) -> FeatureTable:
    """ML-100k `u.item`: id|title|release date|video date|URL|19 genre flags."""
    kinds = {"title": _named_kind("title", text_fields), "genres": MULTI, "year": NUMERIC}
    table = FeatureTable(kinds, sources=[str(path)])
    for name in table.kinds:
        table.values[name] = {}
    for line, raw in enumerate(text_lines(path.read_text(encoding="latin-1")), start=1):
        if not raw.strip():
            continue
        cells = raw.split("|")
        if len(cells) != ML100K_ITEM_COLUMNS + len(ML100K_GENRES):
            raise InputError(f"{path}:{line}: not a MovieLens-100k u.item line.")
        raw_id = cells[0]
        table.values["title"][raw_id] = cells[1]
        flags = cells[ML100K_ITEM_COLUMNS:]
        table.values["genres"][raw_id] = [
            genre for genre, flag in zip(ML100K_GENRES, flags, strict=True) if flag == "1"
        ]
        year = cells[2][-ML100K_YEAR_DIGITS:]
        if year.isdigit():
            table.values["year"][raw_id] = float(year)
    return table


def _movielens_users(path: Path) -> FeatureTable:
    """ML-100k `u.user`: id|age|gender|occupation|zip (the zip's first digit is kept)."""
    kinds = {"age": NUMERIC, "gender": CATEGORICAL, "occupation": CATEGORICAL, "zip": CATEGORICAL}
    table = FeatureTable(kinds, {name: {} for name in kinds}, [str(path)])
    for line, raw in enumerate(text_lines(path.read_text(encoding="latin-1")), start=1):
        if not raw.strip():
            continue
        cells = raw.split("|")
        if len(cells) != len(kinds) + 1 or not _is_float(cells[1]):
            raise InputError(f"{path}:{line}: not a MovieLens-100k u.user line.")
        raw_id = cells[0]
        table.values["age"][raw_id] = float(cells[1])
        table.values["gender"][raw_id] = cells[2]
        table.values["occupation"][raw_id] = cells[3]
        table.values["zip"][raw_id] = cells[4][:1]
    return table


def read_sides(
    items: list[Path] | None, users: list[Path] | None, text_fields: list[str] | None
) -> tuple[FeatureTable | None, FeatureTable | None]:
    """The item and user side tables, when given (item `text_fields` kept as text)."""
    if text_fields and not items:
        raise InputError(
            f"--text-field {text_fields[0]} names a field of the item side table, and none is "
            "given; add it with --items (e.g. --items movies.csv --text-field title)."
        )
    item_table = read_features(items, text_fields=text_fields or ()) if items else None
    user_table = read_features(users, side="user") if users else None
    return item_table, user_table
