"""DOCX (python-docx): one document per file; body paragraphs and tables in order (content
controls and text boxes included), headings from styles ("Heading N", "제목 N", outline levels)
or, in a document with no heading style at all, from hand numbering; headers and footers first,
said once; footnotes and endnotes at the end under "각주" and "미주", as the HWP readers do.
"""

import io
from pathlib import Path
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from lxml.etree import _Element

from seoga.text.documents import LoadResult
from seoga.text.formats.base import ReadOptions, failed, structured
from seoga.text.formats.ooxml import (
    OFFICE_ERRORS,
    core_metadata,
    has_core_properties,
    office_problem,
    unreadable,
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

NOTES_TITLES = {"footnote": FOOTNOTES_TITLE, "endnote": ENDNOTES_TITLE}

# Heading styles ("Heading N", stored in English whatever the display language, or the
# Korean "제목 N" some tools write) are read by `outline_style_level`; an outline level of 9
# means body text.
TITLE_STYLE_NAMES = ("title",)
BODY_OUTLINE_LEVEL = 9
# A chain of styles based on one another is followed this far (a file may loop them).
MAX_STYLE_DEPTH = 16

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


def read_docx(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    problem = office_problem(data, "DOCX")
    if problem:
        return failed(path, problem)
    try:
        document = docx.Document(io.BytesIO(data))
        metadata = core_metadata(document.core_properties) if has_core_properties(data) else {}
        reader = _WordReader(document)
        built = reader.build()
    except OFFICE_ERRORS as error:
        return unreadable(path, "DOCX", error)
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
