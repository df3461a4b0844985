"""XLSX (openpyxl): one document per worksheet (id `path#sheet`).

Sheets are separate tables, each with its own header row and subject, so a hit names its sheet
and a chunk never mixes two; the rows are cached values (a formula with no cached value reads
empty, never its formula), each joined with its header row, and rows above the header that hold
one value (a sheet's title) are the table's caption. Rows are streamed from a read-only workbook.
"""

import io
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl

from seoga.text.documents import Document, LoadProblem, LoadResult
from seoga.text.formats.base import ReadOptions, failed
from seoga.text.formats.ooxml import (
    OFFICE_ERRORS,
    core_metadata,
    has_core_properties,
    office_problem,
    unreadable,
)
from seoga.text.formats.structure import StructuredText

SHEET_TITLE = "{workbook} — {sheet}"
# Past this many cells a worksheet is cut short (a file can declare a cell at column XFD on a
# million rows); the cells read so far are kept and the cut is reported.
MAX_SHEET_CELLS = 10_000_000
# Rows of one value above a sheet's first row of several (its title, a unit, a date) are the
# table's caption, up to this many; a longer run is a list, read as rows.
MAX_CAPTION_ROWS = 3


def read_xlsx(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    problem = office_problem(data, "XLSX")
    if problem:
        return failed(path, problem)
    result = LoadResult()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            metadata = core_metadata(workbook.properties) if has_core_properties(data) else {}
            name = metadata.get("title") or path.stem
            for sheet in workbook.worksheets:
                _read_sheet(path, sheet, name, metadata, result)
        finally:
            workbook.close()
    except OFFICE_ERRORS as error:
        return unreadable(path, "XLSX", error)
    if not result.documents and not result.problems:
        return failed(path, "no text")
    return result


def _read_sheet(
    path: Path, sheet: Any, workbook: str, metadata: dict[str, Any], result: LoadResult
) -> None:
    """One worksheet as one document: its title rows as the caption, then its table."""
    caption: list[str] = []
    rows: list[list[str]] = []
    cells = 0
    # The file's declared dimensions would pad every row to them: rows are read as stored.
    sheet.reset_dimensions()
    for values in sheet.iter_rows(values_only=True):
        cells += len(values)
        if cells > MAX_SHEET_CELLS:
            reason = f"sheet {sheet.title!r} has more than {MAX_SHEET_CELLS:,} cells; the rest"
            result.problems.append(LoadProblem(str(path), f"{reason} is skipped"))
            break
        row = _trimmed([_cell_text(value) for value in values])
        if not row:
            continue
        if not rows and len(caption) < MAX_CAPTION_ROWS and sum(map(bool, row)) == 1:
            caption.append(next(value for value in row if value))
        else:
            rows.append(row)
    if not rows:
        # A sheet of single values (a list, or only a title): its values one per row.
        rows, caption = [[value] for value in caption], []
    built = StructuredText()
    built.heading(sheet.title, 1)
    heading_only = built.length
    built.table(rows, " ".join(caption))
    if built.length == heading_only:
        return
    doc_id = f"{path}#{sheet.title}"
    result.documents.append(
        Document(
            doc_id=doc_id,
            text=built.text,
            title=SHEET_TITLE.format(workbook=workbook, sheet=sheet.title),
            source=doc_id,
            metadata={**metadata, "sheet": sheet.title, **built.metadata()},
        )
    )


def _trimmed(row: list[str]) -> list[str]:
    """A row without its trailing empty cells ([] when it is empty)."""
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def _cell_text(value: Any) -> str:
    """A cached cell value as text: dates in ISO form, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
