"""PPTX (python-pptx): one document per file; each slide a section headed by its title
("슬라이드 N" when untitled), its shapes top to bottom, its tables row by row, its speaker notes
after.
"""

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pptx
from pptx.shapes.group import GroupShape

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
    Block,
    Cell,
    Paragraph,
    StructuredText,
    Table,
    block_lines,
    grid_from_cells,
)
from seoga.text.normalize import normalize_line

SLIDE_TITLE = "슬라이드 {number}"
NOTES_LABEL = "슬라이드 노트: "


def read_pptx(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    problem = office_problem(data, "PPTX")
    if problem:
        return failed(path, problem)
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
        metadata = core_metadata(presentation.core_properties) if has_core_properties(data) else {}
        built = StructuredText()
        for number, slide in enumerate(presentation.slides, start=1):
            _read_slide(slide, number, built)
    except OFFICE_ERRORS as error:
        return unreadable(path, "PPTX", error)
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
