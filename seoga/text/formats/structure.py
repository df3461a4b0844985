"""A document's structure as text: paragraphs, headings (a section path) and tables (each row
with its header cells), built in reading order by every format reader.

The text is normalised piece by piece as it is built, so the offsets recorded for sections and
pages stay true: a chunk finds its section path from its start offset.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from seoga.text.normalize import normalize_line, normalize_text

# Between blocks (paragraphs, headings, tables): a blank line, which always ends a sentence.
BLOCK_SEPARATOR = "\n\n"
ROW_SEPARATOR = "\n"
CELL_SEPARATOR = " | "
HEADER_VALUE_SEPARATOR = ": "
PATH_SEPARATOR = " > "
# The metadata keys under which a document's headings ([start offset, path] pairs) and page
# starts are kept.
SECTIONS = "sections"
PAGE_STARTS = "page_starts"
# Deeper heading levels than this are folded into the deepest one.
MAX_HEADING_LEVEL = 6
# Numbered lines longer than this are list items or sentences, not headings.
MAX_HEADING_CHARS = 60
# A hostile file can place a cell at column 10**9 or span one over millions of rows: a table
# whose grid would pass this many positions is read row by row as its cells stand.
MAX_GRID_CELLS = 1_000_000

# Numbering that Korean documents type by hand for their headings, outermost first:
# "Ⅱ. 과업 세부내용", "제3장 …", "2. 추진 일정", "가. 일정", "(1) …".
_NUMBERED_HEADINGS = (
    (1, re.compile(r"^(?:[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ]|[IVX]{1,4})\s*[.．]\s*\S")),
    (1, re.compile(r"^제\s*\d+\s*[편장]\s*\S")),
    (2, re.compile(r"^제\s*\d+\s*절\s*\S")),
    (2, re.compile(r"^\d{1,2}\s*[.．]\s+\S")),
    (3, re.compile(r"^\d{1,2}\.\d{1,2}\.?\s+\S")),
    (3, re.compile(r"^[가-하]\s*[.．]\s+\S")),
    (4, re.compile(r"^\(\d{1,2}\)\s*\S")),
)
# Outline styles ("개요 1", "Outline 2", "Heading 3", "제목 1") name their level.
_OUTLINE_STYLE = re.compile(r"^(?:개요|Outline|Heading|제목)\s*(\d{1,2})$", re.IGNORECASE)
# Where notes go: after the body, each kind under its own heading.
FOOTNOTES_TITLE = "각주"
ENDNOTES_TITLE = "미주"
# A line that ends a sentence is body text, whatever its numbering. "요" ends a sentence only
# with its full stop: headings end in nouns such as 개요, 필요, 주요.
_SENTENCE_END = re.compile(r"(?:[다음함임됨][.]?|[.!?。])$")


def numbered_heading_level(text: str) -> int | None:
    """The heading level a hand-numbered short line implies, or None for body text."""
    if len(text) > MAX_HEADING_CHARS or _SENTENCE_END.search(text):
        return None
    return next((level for level, pattern in _NUMBERED_HEADINGS if pattern.match(text)), None)


def outline_style_level(*names: str) -> int | None:
    """The heading level an outline style's name (or its English name) gives, if any."""
    return next((int(m.group(1)) for n in names if (m := _OUTLINE_STYLE.match(n))), None)


@dataclass
class Cell:
    """A table cell at its grid position; spans cover more rows or columns."""

    row: int
    column: int
    text: str
    row_span: int = 1
    column_span: int = 1


class MergedText(str):
    """A merged cell's text at a column it covers past its first: said once in a row, where
    the same value in cells of their own is said every time."""


def grid_from_cells(cells: list[Cell]) -> list[list[str]]:
    """Rows of cell texts; a merged cell's text fills every position it covers, so that each
    row reads whole and each column keeps its header."""
    if not cells:
        return []
    rows = max(cell.row + max(1, cell.row_span) for cell in cells)
    columns = max(cell.column + max(1, cell.column_span) for cell in cells)
    covered = sum(max(1, cell.row_span) * max(1, cell.column_span) for cell in cells)
    if max(rows * columns, covered) > MAX_GRID_CELLS:
        return _rows_as_given(cells)
    grid = [[""] * columns for _ in range(rows)]
    for cell in cells:
        for row in range(cell.row, cell.row + max(1, cell.row_span)):
            for column in range(cell.column, cell.column + max(1, cell.column_span)):
                grid[row][column] = cell.text if column == cell.column else MergedText(cell.text)
    return grid


def _rows_as_given(cells: list[Cell]) -> list[list[str]]:
    """Each row's cells in column order, spans not repeated: a grid too large to build."""
    by_row: dict[int, list[Cell]] = {}
    for cell in cells:
        by_row.setdefault(cell.row, []).append(cell)
    return [
        [cell.text for cell in sorted(by_row[row], key=lambda cell: cell.column)]
        for row in sorted(by_row)
    ]


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as lines a search and a reader can use.

    When the first row is a header (two rows or more, every header cell filled), each later row
    reads `header: value | header: value`; otherwise rows read `value | value`. Empty cells are
    left out, and a value repeated across merged columns (`MergedText`) is said once.
    """
    marked = [[(_cell_line(cell), isinstance(cell, MergedText)) for cell in row] for row in rows]
    marked = [row for row in marked if any(value for value, _ in row)]
    if not marked:
        return []
    header = [value for value, _ in marked[0]]
    has_header = len(marked) > 1 and len(header) > 1 and all(header)
    lines = [_row_line(marked[0], None)] if has_header else []
    for row in marked[1:] if has_header else marked:
        line = _row_line(row, header if has_header else None)
        if line:
            lines.append(line)
    return lines


def _cell_line(cell: str) -> str:
    """`normalize_line` of a cell; most cells are clean already, which is far cheaper to see
    (printable leaves " " the only space) than to normalise (a sheet has millions of cells)."""
    if (
        cell.isprintable()
        and "  " not in cell
        and cell == cell.strip()
        and unicodedata.is_normalized("NFC", cell)
    ):
        return cell
    return normalize_line(cell)


def _row_line(row: list[tuple[str, bool]], header: list[str] | None) -> str:
    parts: list[str] = []
    for column, (value, merged) in enumerate(row):
        if not value or (merged and column and row[column - 1][0] == value):
            continue
        name = header[column] if header and column < len(header) else ""
        parts.append(f"{name}{HEADER_VALUE_SEPARATOR}{value}" if name and name != value else value)
    return CELL_SEPARATOR.join(parts)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph as a reader found it: a heading when its style gives a `level`, possibly a
    hand-numbered heading when `guess` (body text of a format whose headings carry no style)."""

    text: str
    level: int | None = None
    guess: bool = False


@dataclass(frozen=True)
class Table:
    rows: list[list[str]]
    caption: str = ""


Block = Paragraph | Table


def block_lines(blocks: Iterable[Block]) -> list[str]:
    """Blocks flattened into lines: a cell's, a note's or a header's text (a table inside
    them read row by row, its caption first)."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines += ([block.caption] if block.caption else []) + table_lines(block.rows)
        else:
            lines += [line for line in map(normalize_line, block.text.split("\n")) if line]
    return lines


@dataclass
class StructuredText:
    """Builds a document's text from blocks in reading order, remembering where each section
    (heading path) and each page starts."""

    parts: list[str] = field(default_factory=list)
    sections: list[list] = field(default_factory=list)  # [start offset, "A > B"]
    page_starts: list[int] = field(default_factory=list)
    length: int = 0
    _path: list[str] = field(default_factory=list)

    def _append(self, block: str) -> int:
        """Add one normalised block; its start offset."""
        if self.parts:
            self.parts.append(BLOCK_SEPARATOR)
            self.length += len(BLOCK_SEPARATOR)
        start = self.length
        self.parts.append(block)
        self.length += len(block)
        return start

    def paragraph(self, text: str) -> None:
        """A paragraph of body text (its line breaks and blank lines are kept)."""
        block = normalize_text(text)
        if block:
            self._append(block)

    def heading(self, text: str, level: int) -> None:
        """A heading: the section path from here on ends with it."""
        text = normalize_line(text)
        if not text:
            return
        level = min(max(1, level), MAX_HEADING_LEVEL)
        del self._path[level - 1 :]
        self._path.append(text)
        start = self._append(text)
        path = PATH_SEPARATOR.join(self._path)
        if self.sections and self.sections[-1][0] == start:
            self.sections[-1][1] = path
        else:
            self.sections.append([start, path])

    def paragraph_or_heading(self, text: str) -> None:
        """A paragraph, or a heading when it is a short hand-numbered line (formats whose
        headings carry no style)."""
        line = normalize_line(text)
        level = numbered_heading_level(line) if "\n" not in text.strip() else None
        if level is None:
            self.paragraph(text)
        else:
            self.heading(line, level)

    def table(self, rows: list[list[str]], caption: str = "") -> None:
        """A table, its caption first; each row one line (see `table_lines`)."""
        lines = table_lines(rows)
        caption = normalize_line(caption)
        if caption:
            lines.insert(0, caption)
        if lines:
            self._append(ROW_SEPARATOR.join(lines))

    def block(self, block: Block, *, guess_headings: bool = True) -> None:
        """A block a reader found (see `Paragraph`, `Table`)."""
        if isinstance(block, Table):
            self.table(block.rows, block.caption)
        elif block.level is not None:
            self.heading(block.text, block.level)
        elif block.guess and guess_headings:
            self.paragraph_or_heading(block.text)
        else:
            self.paragraph(block.text)

    def notes(self, title: str, notes: list[str]) -> None:
        """Footnotes or endnotes after the body, under their own heading (a note read inside
        its sentence would break it)."""
        if notes:
            self.heading(title, 1)
            for note in notes:
                self.paragraph(note)

    def page(self) -> None:
        """A new page starts with the next block."""
        self.page_starts.append(self.length + (len(BLOCK_SEPARATOR) if self.parts else 0))

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def metadata(self) -> dict:
        """`sections` and `page_starts` for the document's metadata, where there are any."""
        found: dict = {}
        if self.sections:
            found[SECTIONS] = self.sections
        if self.page_starts:
            found["pages"] = len(self.page_starts)
            found[PAGE_STARTS] = self.page_starts
        return found


@dataclass
class DocumentBlocks:
    """A word-processor document as its reader walks it: the body's blocks, and apart from
    them the furniture (headers, footers: said once, first) and the notes (footnotes, endnotes:
    after the body, each kind under its heading)."""

    body: list[Block] = field(default_factory=list)
    furniture: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(
        default_factory=lambda: {FOOTNOTES_TITLE: [], ENDNOTES_TITLE: []}
    )

    def add_furniture(self, lines: Iterable[str]) -> None:
        """Header or footer lines; each is said once however many pages repeat it."""
        for line in lines:
            if line not in self.furniture:
                self.furniture.append(line)

    def add_note(self, title: str, text: str) -> None:
        if text:
            self.notes[title].append(text)

    def build(self, *, guess_headings: bool = True) -> StructuredText:
        """The document's text; `guess_headings=False` reads hand-numbered lines as body text
        (a document whose headings are styled)."""
        built = StructuredText()
        for line in self.furniture:
            built.paragraph(line)
        for block in self.body:
            built.block(block, guess_headings=guess_headings)
        for title, notes in self.notes.items():
            built.notes(title, notes)
        return built


def section_at(sections: list[list], offset: int) -> str:
    """The section path in force at `offset` of a text ("" before the first heading)."""
    found = ""
    for start, path in sections:
        if start > offset:
            break
        found = path
    return found
