"""Office Open XML: DOCX (python-docx), PPTX (python-pptx) and XLSX (openpyxl).

- DOCX: one document per file; body paragraphs and tables in order (content controls and text
  boxes included), headings from styles ("Heading N", "제목 N", outline levels) or, in a
  document with no heading style at all, from hand numbering; headers and footers first, said
  once; footnotes and endnotes at the end under "각주" and "미주", as the HWP readers do.
- PPTX: one document per file; each slide a section headed by its title ("슬라이드 N" when
  untitled), its shapes top to bottom, its tables row by row, its speaker notes after.
- XLSX: one document per worksheet (id `path#sheet`). Sheets are separate tables, each with its
  own header row and subject, so a hit names its sheet and a chunk never mixes two; the rows
  are cached values (a formula with no cached value reads empty, never its formula), each
  joined with its header row, and rows above the header that hold one value (a sheet's title)
  are the table's caption. Rows are streamed from a read-only workbook.

Old binary .doc/.ppt/.xls files are not read. Every file is checked before a library opens it
(`safety.check_zip`); whatever a library raises on a corrupt file becomes a problem.
"""

import io
import zipfile
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pptx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from lxml.etree import LxmlError, _Element
from openpyxl.utils.exceptions import InvalidFileException
from pptx.exc import PythonPptxError
from pptx.shapes.group import GroupShape

from seoga.text.documents import Document, LoadProblem, LoadResult
from seoga.text.formats.base import ReadOptions, failed, structured
from seoga.text.formats.safety import (
    ZIP_ERRORS,
    check_zip,
    is_encrypted_ooxml,
    is_ole,
)
from seoga.text.formats.structure import (
    ENDNOTES_TITLE,
    FOOTNOTES_TITLE,
    Block,
    Cell,
    DocumentBlocks,
    Paragraph,
    StructuredText,
    Table,
    block_lines,
    grid_from_cells,
    outline_style_level,
)
from seoga.text.normalize import normalize_line

# Where every Office application writes the core properties; the libraries make up defaults
# ("python-docx", today's date) when a file has none, which must not pass for the file's own.
CORE_PROPERTIES = "docProps/core.xml"
NOTES_TITLES = {"footnote": FOOTNOTES_TITLE, "endnote": ENDNOTES_TITLE}
SLIDE_TITLE = "슬라이드 {number}"
NOTES_LABEL = "슬라이드 노트: "
SHEET_TITLE = "{workbook} — {sheet}"
# Past this many cells a worksheet is cut short (a file can declare a cell at column XFD on a
# million rows); the cells read so far are kept and the cut is reported.
MAX_SHEET_CELLS = 10_000_000
# Rows of one value above a sheet's first row of several (its title, a unit, a date) are the
# table's caption, up to this many; a longer run is a list, read as rows.
MAX_CAPTION_ROWS = 3

# Heading styles ("Heading N", stored in English whatever the display language, or the
# Korean "제목 N" some tools write) are read by `outline_style_level`; an outline level of 9
# means body text.
TITLE_STYLE_NAMES = ("title",)
BODY_OUTLINE_LEVEL = 9
# A chain of styles based on one another is followed this far (a file may loop them).
MAX_STYLE_DEPTH = 16

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

W_P, W_TBL, W_TR, W_TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
W_T, W_TAB, W_BR, W_CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
W_NO_BREAK_HYPHEN = qn("w:noBreakHyphen")
W_TEXT_BOX = qn("w:txbxContent")
W_PPR, W_TCPR, W_TRPR = qn("w:pPr"), qn("w:tcPr"), qn("w:trPr")
W_VAL, W_TYPE, W_STYLE_ID = qn("w:val"), qn("w:type"), qn("w:styleId")
# Parts of a paragraph that hold no reading text: properties, deleted text, and the fallback
# copy of drawings (its text boxes repeat those of the drawing it stands for).
DOCX_SKIPPED = frozenset(
    {
        W_PPR, qn("w:rPr"), qn("w:del"), qn("w:moveFrom"), qn("w:sectPr"),
        "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
    }
)  # fmt: skip
# Block containers whose children are paragraphs and tables (content controls, custom XML).
DOCX_WRAPPERS = frozenset({qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")})
NOTE_PARTS = {"footnote": RT.FOOTNOTES, "endnote": RT.ENDNOTES}
NOTE_KINDS = ("normal",)  # separators and continuation marks are not notes


def _office_problem(data: bytes, kind: str) -> str | None:
    """Why a file cannot be opened as `kind` before any library tries."""
    if is_encrypted_ooxml(data):
        return f"password-protected (encrypted) {kind} file"
    if is_ole(data):
        return f"an old binary Office (OLE) file, not {kind}: save it as {kind}"
    return check_zip(data)


def _has_core_properties(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return CORE_PROPERTIES in archive.namelist()


def _core_metadata(properties: Any) -> dict[str, Any]:
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


def _unreadable(path: Path, kind: str, error: Exception) -> LoadResult:
    return failed(path, f"not a readable {kind} file: {str(error) or type(error).__name__}")


# --- DOCX ------------------------------------------------------------------------------------


def read_docx(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    problem = _office_problem(data, "DOCX")
    if problem:
        return failed(path, problem)
    try:
        document = docx.Document(io.BytesIO(data))
        metadata = _core_metadata(document.core_properties) if _has_core_properties(data) else {}
        reader = _WordReader(document)
        built = reader.build()
    except OFFICE_ERRORS as error:
        return _unreadable(path, "DOCX", error)
    return structured(path, metadata.get("title") or reader.title, built, metadata)


class _WordReader:
    """Walks a Word document's XML into blocks (`Paragraph`, `Table`)."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.styles = _word_styles(document.styles.element)
        self.title = ""

    def build(self) -> StructuredText:
        document = DocumentBlocks(body=self._blocks(self.document.element.body, body=True))
        for part in self._related_parts((RT.HEADER, RT.FOOTER)):
            document.add_furniture(block_lines(self._blocks(part.element)))
        for kind, title in NOTES_TITLES.items():
            for note in self._notes(kind):
                document.add_note(title, note)
        # Hand-numbered lines are headings only in a document that styles none of its own.
        styled = any(isinstance(b, Paragraph) and b.level is not None for b in document.body)
        return document.build(guess_headings=not styled)

    def _related_parts(self, relationship_types: tuple[str, ...]) -> list[Any]:
        relationships = [
            rel
            for rel in self.document.part.rels.values()
            if rel.reltype in relationship_types and not rel.is_external
        ]
        relationships.sort(key=lambda r: (relationship_types.index(r.reltype), r.target_ref))
        return [rel.target_part for rel in relationships]

    def _notes(self, kind: str) -> list[str]:
        notes = []
        for part in self._related_parts((NOTE_PARTS[kind],)):
            for note in parse_xml(part.blob).iterchildren(qn(f"w:{kind}")):
                if note.get(W_TYPE, NOTE_KINDS[0]) in NOTE_KINDS:
                    text = " ".join(block_lines(self._blocks(note)))
                    if text:
                        notes.append(text)
        return notes

    def _blocks(self, container: _Element, body: bool = False) -> list[Block]:
        blocks: list[Block] = []
        for child in container:
            if child.tag == W_P:
                blocks.extend(self._paragraph(child, body))
            elif child.tag == W_TBL:
                blocks.append(Table(self._table(child)))
            elif child.tag in DOCX_WRAPPERS:
                blocks.extend(self._blocks(child, body))
        return blocks

    def _paragraph(self, paragraph: _Element, body: bool) -> list[Block]:
        """The paragraph's text, then its text boxes."""
        texts: list[str] = []
        boxes: list[Block] = []
        self._inline(paragraph, texts, boxes)
        text = "".join(texts)
        if not text.strip():
            return boxes
        if not body:
            return [Paragraph(text), *boxes]
        level, is_title = self._heading_level(paragraph)
        if is_title and not self.title:
            self.title = normalize_line(text)
        if level is not None:
            return [Paragraph(text, level), *boxes]
        return [Paragraph(text, guess=True), *boxes]

    def _inline(self, element: _Element, texts: list[str], boxes: list[Block]) -> None:
        for child in element:
            tag = child.tag
            if tag == W_T:
                texts.append(child.text or "")
            elif tag == W_TAB:
                texts.append("\t")
            elif tag in (W_BR, W_CR):
                texts.append("\n")
            elif tag == W_NO_BREAK_HYPHEN:
                texts.append("-")
            elif tag == W_TEXT_BOX:
                boxes.extend(self._blocks(child))
            elif tag not in DOCX_SKIPPED and isinstance(tag, str):
                # Runs, hyperlinks, fields, insertions, content controls, drawings…
                self._inline(child, texts, boxes)

    def _heading_level(self, paragraph: _Element) -> tuple[int | None, bool]:
        properties = paragraph.find(W_PPR)
        style_id = ""
        outline = None
        if properties is not None:
            style = properties.find(qn("w:pStyle"))
            style_id = style.get(W_VAL, "") if style is not None else ""
            outline = _outline_level(properties)
        style_level, is_title = self._style_level(style_id)
        return (outline if outline is not None else style_level), is_title

    def _style_level(self, style_id: str) -> tuple[int | None, bool]:
        """The heading level a style (or a style it is based on) gives, and whether it is the
        document's title style."""
        for _ in range(MAX_STYLE_DEPTH):
            found = self.styles.get(style_id)
            if found is None:
                break
            name, based_on, outline = found
            lowered = name.lower()
            if lowered in TITLE_STYLE_NAMES:
                return None, True
            level = outline_style_level(name)
            if level is not None:
                return level, False
            if outline is not None:
                return outline, False
            style_id = based_on
        return None, False

    def _table(self, table: _Element) -> list[list[str]]:
        """Rows of a table, merged cells (gridSpan, vMerge) filling every position they
        cover; a table inside a cell reads as lines of that cell."""
        cells: list[Cell] = []
        open_merges: dict[int, Cell] = {}  # column → the cell a vertical merge continues
        for row_index, row in enumerate(table.iterchildren(W_TR)):
            column = _int_value(row.find(W_TRPR), "w:gridBefore", 0)
            for cell in row.iterchildren(W_TC):
                properties = cell.find(W_TCPR)
                span = max(1, _int_value(properties, "w:gridSpan", 1))
                merge = properties.find(qn("w:vMerge")) if properties is not None else None
                above = open_merges.get(column)
                if merge is not None and merge.get(W_VAL) != "restart" and above is not None:
                    above.row_span = row_index - above.row + 1
                else:
                    text = "\n".join(block_lines(self._blocks(cell)))
                    found = Cell(row_index, column, text, 1, span)
                    cells.append(found)
                    for covered in range(column, column + span):
                        open_merges[covered] = found
                column += span
        return grid_from_cells(cells)


def _word_styles(styles: _Element) -> dict[str, tuple[str, str, int | None]]:
    """Paragraph styles by id: name, the style it is based on, its outline level."""
    found = {}
    for style in styles.iterchildren(qn("w:style")):
        if style.get(W_TYPE) != "paragraph":
            continue
        name = style.find(qn("w:name"))
        based_on = style.find(qn("w:basedOn"))
        properties = style.find(W_PPR)
        found[style.get(W_STYLE_ID, "")] = (
            name.get(W_VAL, "") if name is not None else "",
            based_on.get(W_VAL, "") if based_on is not None else "",
            _outline_level(properties) if properties is not None else None,
        )
    return found


def _outline_level(properties: _Element) -> int | None:
    level = _int_value(properties, "w:outlineLvl", BODY_OUTLINE_LEVEL)
    return level + 1 if 0 <= level < BODY_OUTLINE_LEVEL else None


def _int_value(properties: _Element | None, name: str, default: int) -> int:
    found = properties.find(qn(name)) if properties is not None else None
    value = found.get(W_VAL, "") if found is not None else ""
    return int(value) if value.isdecimal() else default


# --- PPTX ------------------------------------------------------------------------------------


def read_pptx(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    problem = _office_problem(data, "PPTX")
    if problem:
        return failed(path, problem)
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
        metadata = (
            _core_metadata(presentation.core_properties) if _has_core_properties(data) else {}
        )
        built = StructuredText()
        for number, slide in enumerate(presentation.slides, start=1):
            _read_slide(slide, number, built)
    except OFFICE_ERRORS as error:
        return _unreadable(path, "PPTX", error)
    return structured(path, metadata.get("title", ""), built, metadata)


def _read_slide(slide: Any, number: int, built: StructuredText) -> None:
    title_shape = slide.shapes.title
    title = normalize_line(_frame_text(title_shape.text_frame)) if title_shape is not None else ""
    blocks: list[Block] = []
    for shape in _reading_order(slide.shapes):
        if title_shape is None or shape.shape_id != title_shape.shape_id:
            _shape_blocks(shape, blocks)
    if slide.has_notes_slide:
        frame = slide.notes_slide.notes_text_frame
        notes = _frame_text(frame) if frame is not None else ""
        blocks.append(Paragraph(NOTES_LABEL + notes if notes.strip() else ""))
    blocks = [block for block in blocks if block_lines([block])]
    # A slide with no words (pictures, empty placeholders) is no section of its own.
    if not title and not blocks:
        return
    built.heading(title or SLIDE_TITLE.format(number=number), 1)
    for block in blocks:
        built.block(block)


def _reading_order(shapes: Iterable[Any]) -> list[Any]:
    """Top to bottom, then left to right (the file keeps shapes in drawing order)."""
    return sorted(shapes, key=lambda shape: (shape.top or 0, shape.left or 0))


def _shape_blocks(shape: Any, blocks: list[Block]) -> None:
    # Not `shape.shape_type`: it raises on shapes python-pptx does not know.
    if isinstance(shape, GroupShape):
        for inner in _reading_order(shape.shapes):
            _shape_blocks(inner, blocks)
    elif shape.has_table:
        blocks.append(Table(_slide_table(shape.table)))
    elif shape.has_text_frame:
        blocks.append(Paragraph(_frame_text(shape.text_frame)))


def _frame_text(frame: Any) -> str:
    # A line break inside a paragraph reads as a vertical tab.
    return "\n".join(paragraph.text.replace("\v", "\n") for paragraph in frame.paragraphs)


def _slide_table(table: Any) -> list[list[str]]:
    cells = []
    for row_index, row in enumerate(table.rows):
        for column_index, cell in enumerate(row.cells):
            if cell.is_spanned:
                continue
            spans = (cell.span_height, cell.span_width) if cell.is_merge_origin else (1, 1)
            cells.append(Cell(row_index, column_index, _frame_text(cell.text_frame), *spans))
    return grid_from_cells(cells)


# --- XLSX ------------------------------------------------------------------------------------


def read_xlsx(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    problem = _office_problem(data, "XLSX")
    if problem:
        return failed(path, problem)
    result = LoadResult()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            metadata = _core_metadata(workbook.properties) if _has_core_properties(data) else {}
            name = metadata.get("title") or path.stem
            for sheet in workbook.worksheets:
                _read_sheet(path, sheet, name, metadata, result)
        finally:
            workbook.close()
    except OFFICE_ERRORS as error:
        return _unreadable(path, "XLSX", error)
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
