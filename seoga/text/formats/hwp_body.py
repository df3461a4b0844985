"""HWP 5.x document building: a section's paragraph records walked into blocks (headings,
paragraphs, tables row by row, text boxes), headers and footers said once and footnotes and
endnotes gathered at the end.

Each control in a paragraph is a CTRL_HEADER whose own deeper records hold its lists of
paragraphs (a table's cells, a box's text, a note's body).
"""

from collections.abc import Iterator
from dataclasses import replace

from seoga.text.formats.hwp_records import (
    TAG_CTRL_HEADER,
    TAG_LIST_HEADER,
    TAG_PARA_HEADER,
    TAG_TABLE,
    Record,
    Styles,
    cell_address,
    control_id,
    paragraph_text,
)
from seoga.text.formats.structure import (
    ENDNOTES_TITLE,
    FOOTNOTES_TITLE,
    MAX_HEADING_CHARS,
    Block,
    Cell,
    DocumentBlocks,
    Paragraph,
    StructuredText,
    Table,
    block_lines,
    grid_from_cells,
)
from seoga.text.normalize import normalize_line

# Controls nested deeper than this (tables in tables in boxes…) are not followed.
MAX_NESTING = 32

# Control ids (four ASCII letters, stored as a little-endian uint32).
CTRL_TABLE = "tbl "
CTRL_HEADER_TEXT = "head"
CTRL_FOOTER_TEXT = "foot"
CTRL_FOOTNOTE = "fn  "
CTRL_ENDNOTE = "en  "
CTRL_HIDDEN_COMMENT = "tcmt"
NOTES_TITLES = {CTRL_FOOTNOTE: FOOTNOTES_TITLE, CTRL_ENDNOTE: ENDNOTES_TITLE}


class Body:
    """Walks a document's paragraphs into blocks, keeping furniture (headers, footers) and
    notes apart so that each is said once, where it reads best."""

    def __init__(self, styles: Styles) -> None:
        self.styles = styles
        self.document = DocumentBlocks()

    def body_paragraph(self, paragraph: Record) -> None:
        """A top-level paragraph: may be a heading; its controls follow it."""
        text = paragraph_text(paragraph)
        level = self.styles.heading_level(paragraph) if text.strip() else None
        # Hangul's outline numbering also numbers long list items: those stay body text.
        if level is not None and len(normalize_line(text)) <= MAX_HEADING_CHARS:
            self.document.body.append(Paragraph(text, level))
        elif text.strip():
            self.document.body.append(Paragraph(text, guess=True))
        self._controls(paragraph, self.document.body, 0)

    def _controls(self, paragraph: Record, blocks: list[Block], depth: int) -> None:
        if depth > MAX_NESTING:
            return
        for control in paragraph.children:
            if control.tag != TAG_CTRL_HEADER:
                continue
            kind = control_id(control)
            if kind == CTRL_TABLE:
                blocks.append(self._table(control, depth))
            elif kind in (CTRL_HEADER_TEXT, CTRL_FOOTER_TEXT):
                self.document.add_furniture(self._list_texts(control, depth))
            elif kind in NOTES_TITLES:
                self.document.add_note(
                    NOTES_TITLES[kind], " ".join(self._list_texts(control, depth))
                )
            elif kind != CTRL_HIDDEN_COMMENT:
                # Text boxes, grouped shapes and captions of pictures: their paragraphs.
                for inner in paragraphs_below(control):
                    blocks += self._list_blocks(inner, depth)

    def _list_blocks(self, paragraph: Record, depth: int) -> list[Block]:
        """One paragraph of a list (a cell, a box, a note), with the tables and boxes inside."""
        text = paragraph_text(paragraph)
        blocks: list[Block] = [Paragraph(text)] if text.strip() else []
        self._controls(paragraph, blocks, depth + 1)
        return blocks

    def _list_texts(self, control: Record, depth: int) -> list[str]:
        """The texts of a control's paragraphs (and of tables inside them) as lines."""
        return [
            line
            for inner in paragraphs_below(control)
            for line in block_lines(self._list_blocks(inner, depth))
        ]

    def _table(self, control: Record, depth: int) -> Table:
        """A table: its caption (lists before the TABLE record) and its cells (lists after)."""
        caption: list[str] = []
        cells: list[tuple[Cell, list[str]]] = []
        for child in control.children:
            if child.tag == TAG_TABLE:
                cells.append((Cell(0, 0, ""), []))
            elif child.tag == TAG_LIST_HEADER and cells:
                cells.append((cell_address(child), []))
            elif child.tag == TAG_PARA_HEADER:
                lines = cells[-1][1] if cells else caption
                lines += block_lines(self._list_blocks(child, depth))
        # The first entry only marks where the TABLE record was.
        found = [replace(cell, text="\n".join(lines)) for cell, lines in cells[1:]]
        return Table(grid_from_cells(found), " ".join(caption))

    def build(self) -> StructuredText:
        return self.document.build()


def paragraphs_below(record: Record) -> Iterator[Record]:
    """Paragraphs in a control's lists, in order, however deep its shapes nest them (not
    descending into the paragraphs themselves: their own controls are walked separately)."""
    for child in record.children:
        if child.tag == TAG_PARA_HEADER:
            yield child
        else:
            yield from paragraphs_below(child)
