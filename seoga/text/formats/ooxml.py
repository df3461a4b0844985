"""What the Office Open XML readers (docx.py, pptx.py, xlsx.py) share: the checks a file passes
before a library opens it, the errors a library raises on a corrupt or foreign file, and the
core properties (title, author, dates) every Office application writes.

Old binary .doc/.ppt/.xls files are not read. Every file is checked before a library opens it
(`safety.check_zip`); whatever a library raises on a corrupt file becomes a problem.
"""

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from docx.opc.exceptions import OpcError
from lxml.etree import LxmlError
from openpyxl.utils.exceptions import InvalidFileException
from pptx.exc import PythonPptxError

from seoga.text.documents import LoadResult
from seoga.text.formats.base import failed
from seoga.text.formats.safety import (
    ZIP_ERRORS,
    check_zip,
    is_encrypted_ooxml,
    is_ole,
)
from seoga.text.normalize import normalize_line

# Where every Office application writes the core properties; the libraries make up defaults
# ("python-docx", today's date) when a file has none, which must not pass for the file's own.
CORE_PROPERTIES = "docProps/core.xml"

# What the libraries raise on a corrupt or foreign file.
OFFICE_ERRORS = (
    *ZIP_ERRORS,
    OpcError,
    PythonPptxError,
    InvalidFileException,
    LxmlError,
    OSError,  # openpyxl: "File contains no valid workbook part"
    KeyError,
    ValueError,
    IndexError,
    TypeError,
    AttributeError,
)


def office_problem(data: bytes, kind: str) -> str | None:
    """Why a file cannot be opened as `kind` before any library tries."""
    if is_encrypted_ooxml(data):
        return f"password-protected (encrypted) {kind} file"
    if is_ole(data):
        return f"an old binary Office (OLE) file, not {kind}: save it as {kind}"
    return check_zip(data)


def has_core_properties(data: bytes) -> bool:
    """Whether the file holds core properties of its own (not a library's made-up defaults)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return CORE_PROPERTIES in archive.namelist()


def core_metadata(properties: Any) -> dict[str, Any]:
    """title, author and dates (ISO) from a library's core properties, where set."""
    found: dict[str, Any] = {}
    for name, attribute in (("title", "title"), ("author", "author"), ("author", "creator")):
        value = normalize_line(str(getattr(properties, attribute, "") or ""))
        if value and name not in found:
            found[name] = value
    for name in ("created", "modified"):
        value = getattr(properties, name, None)
        if isinstance(value, datetime):
            found[name] = value.isoformat(timespec="seconds")
    return found


def unreadable(path: Path, kind: str, error: Exception) -> LoadResult:
    """The problem a library's error on a corrupt file becomes."""
    return failed(path, f"not a readable {kind} file: {str(error) or type(error).__name__}")
