"""Files → documents: one registry from a file's suffix to the reader of its format.

Every reader takes the file's bytes and returns documents or `LoadProblem`s; bad input never
raises here, whatever cannot be read becomes a problem with its reason. Readers are plain
functions of (path, bytes, options), so they run the same in this process, a process pool or a
Dask worker.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seoga.errors import InputError
from seoga.text.documents import LoadResult
from seoga.text.formats.base import (
    DEFAULT_OCR_LANGUAGES,
    OCR_MODES,
    CsvColumns,
    ReadOptions,
    failed,
)
from seoga.text.formats.docx import read_docx
from seoga.text.formats.hwp import read_hwp
from seoga.text.formats.hwpx import read_hwpx
from seoga.text.formats.images import IMAGE_SUFFIXES, read_image
from seoga.text.formats.pdf import read_pdf
from seoga.text.formats.plain import read_text_file
from seoga.text.formats.pptx import read_pptx
from seoga.text.formats.records import CSV_FIELD_LIMIT, read_records_file
from seoga.text.formats.xlsx import read_xlsx

Reader = Callable[[Path, bytes, ReadOptions], LoadResult]


@dataclass(frozen=True)
class Format:
    """A kind of file seoga reads: its name in reports, its suffixes and its reader."""

    name: str
    suffixes: tuple[str, ...]
    reader: Reader


FORMATS: tuple[Format, ...] = (
    Format("text", (".txt",), read_text_file),
    Format("markdown", (".md",), read_text_file),
    Format("html", (".html", ".htm"), read_text_file),
    Format("pdf", (".pdf",), read_pdf),
    Format("image", IMAGE_SUFFIXES, read_image),
    Format("jsonl", (".jsonl",), read_records_file),
    Format("csv", (".csv",), read_records_file),
    Format("hwp", (".hwp",), read_hwp),
    Format("hwpx", (".hwpx",), read_hwpx),
    Format("docx", (".docx",), read_docx),
    Format("pptx", (".pptx",), read_pptx),
    Format("xlsx", (".xlsx",), read_xlsx),
)
_BY_SUFFIX = {suffix: fmt for fmt in FORMATS for suffix in fmt.suffixes}
SUPPORTED_SUFFIXES = frozenset(_BY_SUFFIX)

__all__ = [
    "CSV_FIELD_LIMIT",
    "DEFAULT_OCR_LANGUAGES",
    "OCR_MODES",
    "FORMATS",
    "SUPPORTED_SUFFIXES",
    "CsvColumns",
    "Discovered",
    "ReadOptions",
    "discover",
    "format_of",
    "load_file",
]


def format_of(path: Path | str) -> str | None:
    """The name of the format seoga reads `path` as, or None for a kind it does not read."""
    found = _BY_SUFFIX.get(Path(path).suffix.lower())
    return found.name if found else None


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


def load_file(
    path: Path | str,
    *,
    options: ReadOptions | None = None,
    csv_columns: CsvColumns | None = None,
) -> LoadResult:
    """Read one file into documents, with a problem for every part that could not be read.

    This is what `seoga index` stores for the file: call it to see what seoga reads.
    """
    path = Path(path)
    options = options or ReadOptions()
    if csv_columns is not None:
        options = ReadOptions(options.ocr, options.ocr_languages, csv_columns)
    fmt = _BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        suffix = path.suffix.lower() or "(none)"
        return failed(path, f"unsupported file type {suffix}; seoga reads {supported}")
    try:
        data = path.read_bytes()
    except OSError as error:
        return failed(path, f"cannot be read: {error.strerror or error}")
    if not data.strip():
        return failed(path, "empty file")
    return fmt.reader(path, data, options)
