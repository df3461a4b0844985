"""JSON Lines and CSV: one document per record, a problem per bad record (with its line)."""

import csv
import io
import json
from pathlib import Path
from typing import Any

from seoga.text.decoding import decode_bytes
from seoga.text.documents import Document, LoadProblem, LoadResult
from seoga.text.formats.base import CsvColumns, ReadOptions, failed
from seoga.text.normalize import normalize_line, normalize_text

ID_FIELDS = ("_id", "id")
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
    ) -> None:
        self.path = path
        self.metadata = metadata
        self.id_fields = id_fields
        self.title_field = title_field
        self.text_field = text_field
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
        if not text:
            self.problem(line, "empty text")
            return
        id_field = next((f for f in self.id_fields if record.get(f) not in (None, "")), None)
        doc_id = str(record[id_field]) if id_field else f"{self.path}#{line}"
        # The store keeps one document per id.
        if doc_id in self.first_line:
            self.problem(line, f"duplicate id {doc_id!r} (first on line {self.first_line[doc_id]})")
            return
        self.first_line[doc_id] = line
        title = record.get(self.title_field)
        named = {*self.id_fields, self.title_field, self.text_field}
        extra = {key: value for key, value in record.items() if key not in named}
        self.result.documents.append(
            Document(
                doc_id=doc_id,
                text=text,
                title=normalize_line(str(title)) if title is not None else "",
                source=f"{self.path}#{line}",
                metadata={**self.metadata, **extra},
            )
        )

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


def _load_jsonl(path: Path, text: str, metadata: dict[str, Any]) -> LoadResult:
    records = _Records(path, metadata)
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
