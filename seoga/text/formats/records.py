"""JSON Lines and CSV: one document per record, a problem per bad record (with its line).

A record's fields other than its id, title and text are its document's metadata. A JSON Lines
record may also hold them in a `metadata` object, as the API takes documents: its keys join the
others at top level (a key given both ways with two values is a problem of that line). In CSV
every value is text, so a column named `metadata` is one field like any other.
"""

import csv
import io
import json
from pathlib import Path
from typing import Any

from seoga.text.decoding import decode_bytes
from seoga.text.documents import Document, LoadProblem, LoadResult, is_blank
from seoga.text.formats.base import CsvColumns, ReadOptions, failed
from seoga.text.normalize import normalize_line, normalize_text

ID_FIELDS = ("_id", "id")
METADATA_FIELD = "metadata"
CSV_FIELD_LIMIT = 16 * 1024 * 1024


class _Records:
    """Documents from the records of one JSONL or CSV file, and a problem per bad record."""

    def __init__(
        self,
        path: Path,
        metadata: dict[str, Any],
        *,
        id_fields: tuple[str, ...] = ID_FIELDS,
        title_field: str = "title",
        text_field: str = "text",
        metadata_field: str | None = None,
    ) -> None:
        self.path = path
        self.metadata = metadata
        self.id_fields = id_fields
        self.title_field = title_field
        self.text_field = text_field
        self.metadata_field = metadata_field
        self.result = LoadResult()
        self.first_line: dict[str, int] = {}

    def problem(self, line: int, reason: str) -> None:
        self.result.problems.append(LoadProblem(str(self.path), reason, line))

    def add(self, line: int, record: dict[str | None, Any]) -> None:
        raw_text = record.get(self.text_field)
        if not isinstance(raw_text, str):
            self.problem(line, f"no {self.text_field!r} string in this record")
            return
        text = normalize_text(raw_text)
        if is_blank(text):
            self.problem(line, "empty text")
            return
        fields = self._fields(line, record)
        if fields is None:
            return
        id_field = next((f for f in self.id_fields if record.get(f) not in (None, "")), None)
        doc_id = str(record[id_field]) if id_field else f"{self.path}#{line}"
        # The store keeps one document per id.
        if doc_id in self.first_line:
            self.problem(line, f"duplicate id {doc_id!r} (first on line {self.first_line[doc_id]})")
            return
        self.first_line[doc_id] = line
        title = record.get(self.title_field)
        self.result.documents.append(
            Document(
                doc_id=doc_id,
                text=text,
                title=normalize_line(str(title)) if title is not None else "",
                source=f"{self.path}#{line}",
                metadata={**self.metadata, **fields},
            )
        )

    def _fields(self, line: int, record: dict[str | None, Any]) -> dict[str | None, Any] | None:
        """The record's metadata fields, its `metadata` object's keys among them; None (and a
        problem) when that object is not one, or gives a field another value than the record."""
        named = {*self.id_fields, self.title_field, self.text_field}
        fields = {key: value for key, value in record.items() if key not in named}
        if self.metadata_field is None:
            return fields
        # Nested, its keys would be `metadata.year`, and a filter on `year` would match nothing.
        own = fields.pop(self.metadata_field, None)
        if own is None:
            return fields
        if not isinstance(own, dict):
            self.problem(line, f'{self.metadata_field!r} is not an object (e.g. {{"year": 2001}})')
            return None
        for key in sorted(own.keys() & fields.keys()):
            if own[key] != fields[key]:
                self.problem(
                    line,
                    f"field {key!r} is {_shown(fields[key])} but {_shown(own[key])} in "
                    f"{self.metadata_field!r}: give it once",
                )
                return None
        return {**fields, **own}

    def finish(self) -> LoadResult:
        if not self.result.documents and not self.result.problems:
            self.result.problems.append(LoadProblem(str(self.path), "no records"))
        return self.result


def read_records_file(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    """A .jsonl or .csv file."""
    decoded = decode_bytes(data)
    if decoded.text is None:
        return failed(path, decoded.problem or "cannot be decoded")
    metadata = {} if decoded.encoding == "utf-8" else {"encoding": decoded.encoding}
    if path.suffix.lower() == ".jsonl":
        return _load_jsonl(path, decoded.text, metadata)
    return _load_csv(path, decoded.text, options.csv_columns, metadata)


def _shown(value: Any) -> str:
    """A record's value as it is written in the file."""
    return json.dumps(value, ensure_ascii=False)


def _load_jsonl(path: Path, text: str, metadata: dict[str, Any]) -> LoadResult:
    records = _Records(path, metadata, metadata_field=METADATA_FIELD)
    # Only "\n" ends a JSON Lines record; str.splitlines would also split at U+2028 in strings.
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            records.problem(line_number, f"invalid JSON: {error}")
            continue
        if isinstance(record, dict):
            records.add(line_number, record)
        else:
            records.problem(line_number, 'not a JSON object (need {"text": ...})')
    return records.finish()


def _load_csv(path: Path, text: str, columns: CsvColumns, metadata: dict[str, Any]) -> LoadResult:
    # Python's default (128 KiB) rejects whole articles in one cell; the limit is process-wide,
    # so every reader of seoga sets this same one (an unbounded one would let a corrupt file's
    # runaway quote swallow the rest of it as one cell).
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    if columns.text not in header:
        found = ", ".join(header) or "none"
        return failed(path, f"no {columns.text!r} column (columns: {found})")
    records = _Records(
        path,
        metadata,
        id_fields=(columns.id, "_id"),
        title_field=columns.title,
        text_field=columns.text,
    )
    line_number = reader.line_num + 1
    try:
        for row in reader:
            if None in row or None in row.values():
                reason = f"has a different number of fields than the header ({len(header)})"
                records.problem(line_number, reason)
            else:
                records.add(line_number, row)
            line_number = reader.line_num + 1
    except csv.Error as error:
        records.problem(line_number, f"CSV error, the rest of the file is skipped: {error}")
    return records.finish()
