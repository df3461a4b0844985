"""Which column of an interaction log holds which role: user, item, rating, weight, time.

Roles are named by the caller (`Columns`), found by header name (`COLUMN_NAMES`), or, in a
header-less table, taken by position (`POSITIONAL`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from seoga.errors import InputError
from seoga.recommend.data.textfiles import is_number, normalise_name

# Header names recognised for each column role (case-insensitive, "_" and "-" ignored).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "user": ("user", "userid", "uid", "customer", "customerid", "visitor", "visitorid", "member"),
    "item": ("item", "itemid", "iid", "movie", "movieid", "product", "productid", "doc", "docid"),
    "rating": ("rating", "stars", "score"),
    "weight": ("weight", "count", "clicks", "plays", "quantity", "confidence", "value"),
    "time": ("timestamp", "time", "ts", "date", "datetime", "eventtime"),
}
# Header-less tables: user, item, then rating (or weight), then time.
POSITIONAL = ("user", "item", "rating", "time")


@dataclass(frozen=True)
class Columns:
    """Which column holds each role: a header name, or a 0-based position."""

    user: str | None = None
    item: str | None = None
    rating: str | None = None
    weight: str | None = None
    time: str | None = None


def looks_like_header(row: list[str], second: list[str] | None) -> bool:
    """A row naming a known column, or one without numbers above a row with some."""
    known = {normalise_name(name) for names in COLUMN_NAMES.values() for name in names}
    if any(normalise_name(cell) in known for cell in row):
        return True
    has_number = any(is_number(cell) for cell in row)
    return not has_number and second is not None and any(is_number(cell) for cell in second)


def resolve_columns(
    path: Path, records: tuple[list[str] | None, Iterator], columns: Columns
) -> tuple[dict[str, str | int], Iterator]:
    """Map each role to a dict key (header / JSON field) or a list position."""
    header, rows = records
    given = {role: name for role, name in vars(columns).items() if name is not None}
    first = next(rows, None)
    if first is None:
        raise InputError(f"{path} holds no interactions; give a file with rows.")
    rows = chain([first], rows)
    if isinstance(first[1], dict) or header is not None:
        names = list(first[1]) if isinstance(first[1], dict) else header
        roles = _roles_by_name(path, names, given)
        if header is not None:
            positions = {name: position for position, name in enumerate(header)}
            roles = {role: positions[name] for role, name in roles.items()}
        return roles, rows
    width = len(first[1])
    roles: dict[str, str | int] = {}
    for role, name in given.items():
        if not name.isdigit():
            raise InputError(
                f"{path} has no header, so --{role} must be a column number (0-based), "
                f"not {name!r}."
            )
        roles[role] = int(name)
    taken = set(roles.values())
    for position, role in enumerate(POSITIONAL[:width]):
        if role in roles or position in taken:
            continue
        if role in ("user", "item") or not given:
            roles[role] = position
    if "user" not in roles or "item" not in roles:
        raise InputError(
            f"{path}: say which columns hold the user and the item (--user-column, --item-column)."
        )
    return roles, rows


def _roles_by_name(path: Path, names: list[str], given: dict[str, str]) -> dict[str, str]:
    by_normal = {normalise_name(name): name for name in names}
    roles: dict[str, str] = {}
    for role, name in given.items():
        if name not in names and normalise_name(name) not in by_normal:
            raise InputError(
                f"{path}: no column {name!r} for --{role}; the columns are {', '.join(names)}."
            )
        roles[role] = name if name in names else by_normal[normalise_name(name)]
    for role, candidates in COLUMN_NAMES.items():
        if role in roles or (role == "weight" and "rating" in given):
            continue
        for candidate in candidates:
            if candidate in by_normal and by_normal[candidate] not in roles.values():
                roles[role] = by_normal[candidate]
                break
    for role in ("user", "item"):
        if role not in roles:
            raise InputError(
                f"{path}: no {role} column found among {', '.join(names)}; name it with --{role}."
            )
    return roles
