"""Interaction logs: who did what to which item, how much, and when.

A log is read from CSV / TSV / JSONL (MovieLens `ratings.csv`, `u.data` and `ratings.dat` as they
come); raw user and item ids are mapped to dense indices (`IdMap`) and back. Explicit logs carry a
rating per row; implicit ones a weight (clicks, plays, purchases: 1 per row unless a column says
otherwise). A bad row stops reading with `file:line: what is wrong`.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy import sparse

from seoga.errors import InputError
from seoga.eventlog import event_files

EXPLICIT, IMPLICIT = "explicit", "implicit"
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
MOVIELENS_DAT_SEPARATOR = "::"
# Files found inside a folder given as the log, in order of preference.
# A dense users × items rating matrix (Coat, Yahoo! R3): see `matrix_interactions`.
MATRIX_SUFFIX = ".ascii"
FOLDER_LOGS = ("ratings.csv", "u.data", "ratings.dat", "interactions.csv", "clicks.jsonl")
MIN_USERS = 2


@dataclass
class IdMap:
    """Raw ids (as strings) ↔ dense indices 0..n-1, in first-seen order."""

    ids: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, raw_ids: Iterable[str]) -> IdMap:
        mapping = cls()
        for raw in raw_ids:
            mapping.add(raw)
        return mapping

    def add(self, raw: str) -> int:
        found = self.index.get(raw)
        if found is None:
            found = self.index[raw] = len(self.ids)
            self.ids.append(raw)
        return found

    def get(self, raw: str) -> int | None:
        return self.index.get(str(raw))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, raw: object) -> bool:
        return str(raw) in self.index

    def raw(self, indices: Iterable[int]) -> list[str]:
        return [self.ids[i] for i in indices]

    def copy(self) -> IdMap:
        return IdMap(list(self.ids), dict(self.index))


@dataclass
class Interactions:
    """Rows of (user, item, value[, time]) over dense indices, with the id maps that name them."""

    users: np.ndarray  # int64 user index per row
    items: np.ndarray  # int64 item index per row
    values: np.ndarray  # float32 rating (explicit) or weight (implicit)
    user_ids: IdMap
    item_ids: IdMap
    kind: str = EXPLICIT
    times: np.ndarray | None = None  # float64 seconds per row
    source: str = ""
    # P(this row was observed), for models trained with inverse propensity weights.
    propensities: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.users = np.asarray(self.users, dtype=np.int64)
        self.items = np.asarray(self.items, dtype=np.int64)
        self.values = np.asarray(self.values, dtype=np.float32)
        if self.times is not None:
            self.times = np.asarray(self.times, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.users)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def explicit(self) -> bool:
        return self.kind == EXPLICIT

    def subset(self, rows: np.ndarray) -> Interactions:
        """The chosen rows (a mask or indices), keeping both id maps whole."""
        return Interactions(
            self.users[rows],
            self.items[rows],
            self.values[rows],
            self.user_ids,
            self.item_ids,
            self.kind,
            None if self.times is None else self.times[rows],
            self.source,
            None if self.propensities is None else self.propensities[rows],
        )

    def matrix(self, values: np.ndarray | None = None) -> sparse.csr_matrix:
        """users × items CSR; repeated (user, item) rows are summed (implicit) or the last kept."""
        shape = (self.n_users, self.n_items)
        data = self.values if values is None else values
        if self.explicit:
            order = self._time_order()
            users, items, data = self.users[order], self.items[order], data[order]
            flat = users * self.n_items + items
            _, last = np.unique(flat[::-1], return_index=True)
            keep = len(flat) - 1 - last
            users, items, data = users[keep], items[keep], data[keep]
        else:
            users, items = self.users, self.items
        matrix = sparse.csr_matrix(
            (data.astype(np.float32), (users, items)), shape=shape, dtype=np.float32
        )
        matrix.sum_duplicates()
        matrix.eliminate_zeros()  # a weight-0 row (an impression without a click) is no event
        return matrix

    def _time_order(self) -> np.ndarray:
        if self.times is None:
            return np.arange(len(self))
        return np.argsort(self.times, kind="stable")

    def seen(self) -> sparse.csr_matrix:
        """users × items, 1 where the user has any row with the item."""
        return self.matrix(np.ones(len(self), dtype=np.float32)).sign().tocsr()

    def positives(self, min_value: float | None = None) -> Interactions:
        """Rows read as implicit feedback: weight 1 each, those below `min_value` dropped."""
        keep = np.ones(len(self), dtype=bool) if min_value is None else self.values >= min_value
        kept = self.subset(keep)
        kept.values = np.ones(len(kept), dtype=np.float32)
        kept.kind = IMPLICIT
        return kept

    def fingerprint(self) -> str:
        """A content hash of the rows and ids: the same log always gives the same one."""
        digest = hashlib.sha256()
        for array in (self.users, self.items, self.values):
            digest.update(np.ascontiguousarray(array).tobytes())
        if self.times is not None:
            digest.update(np.ascontiguousarray(self.times).tobytes())
        digest.update(json.dumps([self.user_ids.ids, self.item_ids.ids]).encode())
        return digest.hexdigest()[:16]

    def describe(self) -> dict:
        return {
            "source": self.source,
            "kind": self.kind,
            "rows": len(self),
            "users": self.n_users,
            "items": self.n_items,
            "fingerprint": self.fingerprint(),
        }

    def require_rows(self) -> None:
        if len(self) == 0:
            where = self.source or "the interaction log"
            raise InputError(f"{where} holds no interactions; give a file with rows.")

    def require_usable(self) -> None:
        """Refuse a log no model can learn from, saying why."""
        where = self.source or "the interaction log"
        self.require_rows()
        if len(np.unique(self.users)) < MIN_USERS:
            raise InputError(
                f"{where} holds only one user; recommenders learn from many users' histories "
                "(give the whole log, not one user's part)."
            )


@dataclass(frozen=True)
class Columns:
    """Which column holds each role: a header name, or a 0-based position."""

    user: str | None = None
    item: str | None = None
    rating: str | None = None
    weight: str | None = None
    time: str | None = None


def normalise_name(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "").replace(" ", "")


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
    roles, rows = _resolve_columns(path, records, columns)
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


def read_matrix(path: Path | str) -> np.ndarray:
    """A dense numeric matrix from a whitespace-separated text file, rows checked."""
    path = Path(path)
    rows = []
    width = None
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = [float(value) for value in line.split()]
            except ValueError:
                raise InputError(f"{path}:{number}: a matrix row holds numbers only.") from None
            if width is not None and len(row) != width:
                raise InputError(f"{path}:{number}: {len(row)} values where rows have {width}.")
            width = len(row)
            rows.append(row)
    if not rows:
        raise InputError(f"{path} holds no matrix rows.")
    return np.asarray(rows)


def matrix_interactions(path: Path | str) -> Interactions:
    """The ratings of a users × items matrix (0 = none), ids the row and column numbers."""
    matrix = read_matrix(path)
    users, items = np.nonzero(matrix)
    user_ids, item_ids = IdMap(), IdMap()
    for index in range(matrix.shape[0]):
        user_ids.add(str(index))
    for index in range(matrix.shape[1]):
        item_ids.add(str(index))
    log = Interactions(
        users, items, matrix[users, items], user_ids, item_ids, EXPLICIT, None, str(path)
    )
    log.require_rows()
    return log


def _log_in_folder(folder: Path) -> Path:
    for name in FOLDER_LOGS:
        if (folder / name).is_file():
            return folder / name
    raise InputError(f"{folder} holds no interaction log (looked for {', '.join(FOLDER_LOGS)}).")


Record = dict[str, str] | list[str]


def _records(path: Path, delimiter: str | None) -> tuple[list[str] | None, Iterator]:
    """(header or None, iterator of (line number, record)); JSONL records are dicts."""
    text = read_text(path)
    if path.suffix.lower() == ".jsonl":
        return None, _json_lines(path, text)
    lines = text_lines(text)
    if not any(line.strip() for line in lines):
        raise InputError(f"{path} is empty; give a log with one interaction a line.")
    if delimiter is None and MOVIELENS_DAT_SEPARATOR in lines[0]:
        return None, (
            (number, line.split(MOVIELENS_DAT_SEPARATOR))
            for number, line in enumerate(lines, start=1)
            if line.strip()
        )
    if delimiter is None:
        delimiter = "\t" if "\t" in lines[0] or path.suffix.lower() in (".tsv", ".data") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    rows = ((reader.line_num, row) for row in reader if row)
    first = next(rows)
    second = next(rows, None)
    header = first[1] if _looks_like_header(first[1], second[1] if second else None) else None
    head = ([] if header else [first]) + ([second] if second else [])
    return header, _chain(head, rows)


def text_lines(text: str) -> list[str]:
    """Lines split on line ends only (str.splitlines also splits on \\x85, \\u2028, ...)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def read_text(path: Path) -> str:
    """A table file's text: UTF-8 (with or without BOM), else Latin-1 (ML-100k, old exports)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return path.read_text(encoding="latin-1")
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error}") from error


def json_objects(path: Path, text: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) per non-blank JSONL line; anything else is an InputError."""
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{number}: not a JSON object ({error.msg}).") from error
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: each line must be a JSON object.")
        yield number, record


def _json_lines(path: Path, text: str) -> Iterator[tuple[int, dict]]:
    for number, record in json_objects(path, text):
        yield number, {key: "" if value is None else str(value) for key, value in record.items()}


def _looks_like_header(row: list[str], second: list[str] | None) -> bool:
    """A row naming a known column, or one without numbers above a row with some."""
    known = {normalise_name(name) for names in COLUMN_NAMES.values() for name in names}
    if any(normalise_name(cell) in known for cell in row):
        return True
    has_number = any(_is_number(cell) for cell in row)
    return not has_number and second is not None and any(_is_number(cell) for cell in second)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _resolve_columns(
    path: Path, records: tuple[list[str] | None, Iterator], columns: Columns
) -> tuple[dict[str, str | int], Iterator]:
    """Map each role to a dict key (header / JSON field) or a list position."""
    header, rows = records
    given = {role: name for role, name in vars(columns).items() if name is not None}
    first = next(rows, None)
    if first is None:
        raise InputError(f"{path} holds no interactions; give a file with rows.")
    rows = _chain([first], rows)
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
        raise InputError(f"{path}: say which columns hold the user and the item (--user, --item).")
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
    if _is_number(text):
        return float(text)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError as error:
        raise InputError(
            f"{path}:{line}: {text!r} is not a time (Unix seconds or an ISO date)."
        ) from error


def parse_history(text: str) -> tuple[list[str], list[float] | None]:
    """`"318,296:4.5,593"` → item ids and their ratings (None when none is given)."""
    items, ratings = [], []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        item, _, rating = part.partition(":")
        if rating.strip() and not (_is_number(rating) and np.isfinite(float(rating))):
            raise InputError(f"history item {part!r}: {rating!r} is not a rating.")
        items.append(item.strip())
        ratings.append(float(rating) if rating.strip() else np.nan)
    if not items:
        raise InputError("the history is empty; give item ids separated by commas.")
    given = [value for value in ratings if not np.isnan(value)]
    return items, (ratings if given else None)


def align(log: Interactions, onto: Interactions) -> tuple[Interactions, Interactions]:
    """Both logs over one pair of id maps (`onto`'s, extended by ids only `log` has)."""
    user_ids, item_ids = onto.user_ids.copy(), onto.item_ids.copy()
    users = np.asarray([user_ids.add(raw) for raw in log.user_ids.raw(log.users)], dtype=np.int64)
    items = np.asarray([item_ids.add(raw) for raw in log.item_ids.raw(log.items)], dtype=np.int64)
    moved = Interactions(
        users, items, log.values, user_ids, item_ids, log.kind, log.times, log.source
    )
    base = Interactions(
        onto.users, onto.items, onto.values, user_ids, item_ids, onto.kind, onto.times, onto.source
    )
    return moved, base


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
