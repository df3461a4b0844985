"""Files → documents: txt, md, html, pdf (one document each), jsonl and csv (one per record).

Bad input never raises here: whatever cannot be read becomes a LoadProblem with its reason.
"""

import csv
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, NavigableString
from markdown_it import MarkdownIt
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from seoga.errors import InputError
from seoga.text.decoding import decode_bytes
from seoga.text.documents import Document, LoadProblem, LoadResult
from seoga.text.normalize import normalize_line, normalize_text

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".jsonl", ".csv"})
ID_FIELDS = ("_id", "id")
PAGE_SEPARATOR = "\n\n"
CSV_FIELD_LIMIT = 16 * 1024 * 1024

# HTML elements that hold no reading text.
DROPPED_TAGS = ("script", "style", "nav", "noscript", "template", "svg", "head")
# Elements that start a paragraph, a line, or a table cell once flattened to text.
PARAGRAPH_TAGS = (
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "ol",
    "p", "pre", "section", "table", "ul",
)  # fmt: skip
LINE_TAGS = ("br", "dt", "li", "tr")
CELL_TAGS = ("td", "th")
_SPACES = re.compile(r"\s+")
_MARKDOWN = MarkdownIt("commonmark").enable("table")

# A malformed PDF can fail deep inside pypdf with any of these.
PDF_ERRORS = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError)


@dataclass(frozen=True)
class CsvColumns:
    """Which CSV columns hold a record's id, title and text (id also falls back to `_id`)."""

    id: str = "id"
    title: str = "title"
    text: str = "text"


@dataclass
class Discovered:
    """The files to load under a root, and the ones skipped as a kind seoga does not read."""

    files: list[Path]
    skipped: list[str]


def discover(root: Path) -> Discovered:
    """A file as given, or a folder's supported files, recursively; hidden files and folders
    (a name starting with ".") are passed over; both lists are sorted."""
    if root.is_file():
        return Discovered([root], [])
    if not root.is_dir():
        raise InputError(f"{root} is not a file or folder")
    found, skipped = [], []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(Path(folder, name))
            else:
                skipped.append(str(Path(folder, name)))
    return Discovered(sorted(found), sorted(skipped))


def load_file(path: Path, *, csv_columns: CsvColumns | None = None) -> LoadResult:
    """Read one file into documents, with a problem for every part that could not be read."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        return _failed(path, f"unsupported file type {suffix or '(none)'}; seoga reads {supported}")
    try:
        data = path.read_bytes()
    except OSError as error:
        return _failed(path, f"cannot be read: {error.strerror or error}")
    if not data.strip():
        return _failed(path, "empty file")
    if suffix == ".pdf":
        return _load_pdf(path, data)
    decoded = decode_bytes(data)
    if decoded.text is None:
        return _failed(path, decoded.problem or "cannot be decoded")
    metadata = {} if decoded.encoding == "utf-8" else {"encoding": decoded.encoding}
    if suffix == ".jsonl":
        return _load_jsonl(path, decoded.text, metadata)
    if suffix == ".csv":
        return _load_csv(path, decoded.text, csv_columns or CsvColumns(), metadata)
    title, text = _TEXT_READERS[suffix](decoded.text)
    return _single(path, title or path.stem, text, metadata)


def _read_txt(text: str) -> tuple[str, str]:
    return "", normalize_text(text)


def _read_md(text: str) -> tuple[str, str]:
    # Rendered, then flattened like HTML: links, emphasis and tables read as plain text.
    return _read_html(_MARKDOWN.render(text), title_tags=("h1",))


def _read_html(markup: str, title_tags: tuple[str, ...] = ("title", "h1")) -> tuple[str, str]:
    soup = BeautifulSoup(markup, "html.parser")
    title = next((t.get_text() for name in title_tags if (t := soup.find(name))), "")
    for element in soup.find_all(DROPPED_TAGS):
        element.decompose()
    # Line breaks in HTML source are spaces to a reader (except in <pre>); structure adds its own.
    for string in soup.find_all(string=True):
        if type(string) is NavigableString and string.find_parent("pre") is None:
            string.replace_with(_SPACES.sub(" ", string))
    for element in soup.find_all(PARAGRAPH_TAGS):
        element.insert_before("\n\n")
        element.insert_after("\n\n")
    for element in soup.find_all(LINE_TAGS):
        element.insert_after("\n")
    for element in soup.find_all(CELL_TAGS):
        element.insert_after(" ")
    return normalize_line(title), normalize_text(soup.get_text())


_TEXT_READERS: dict[str, Callable[[str], tuple[str, str]]] = {
    ".txt": _read_txt,
    ".md": _read_md,
    ".html": _read_html,
    ".htm": _read_html,
}


def _load_pdf(path: Path, data: bytes) -> LoadResult:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return _failed(path, "encrypted PDF (needs a password)")
        pages = [normalize_text(page.extract_text() or "") for page in reader.pages]
        title = normalize_line((reader.metadata and reader.metadata.title) or "")
    except PDF_ERRORS as error:
        return _failed(path, f"not a readable PDF: {error}")
    if not any(pages):
        return _failed(path, "no text layer (scanned?)")
    # Where each page starts in the text, so an answer can cite its page.
    page_starts = []
    offset = 0
    for page in pages:
        if page and offset:
            offset += len(PAGE_SEPARATOR)
        page_starts.append(offset)
        offset += len(page)
    text = PAGE_SEPARATOR.join(page for page in pages if page)
    metadata = {"pages": len(pages), "page_starts": page_starts}
    return _single(path, title or path.stem, text, metadata)


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
        return _failed(path, f"no {columns.text!r} column (columns: {found})")
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


def _single(path: Path, title: str, text: str, metadata: dict[str, Any]) -> LoadResult:
    if not text:
        return _failed(path, "no text")
    document = Document(
        doc_id=str(path), text=text, title=title, source=str(path), metadata=metadata
    )
    return LoadResult(documents=[document])


def _failed(path: Path, reason: str) -> LoadResult:
    return LoadResult(problems=[LoadProblem(str(path), reason)])
