"""HWP 5.x records: how the bytes of a stream are read, after Hancom's published "HWP 5.0
document file format" (revision 1.3).

A stream is a run of records (a 32-bit header: tag, nesting level and size), nested by level into
a tree. A paragraph's text is UTF-16 in which code units below 32 are controls: a few take one
unit, the others eight (the control's code, a payload of six units, the code again), which must
never be read as characters. DocInfo's paragraph shapes and styles say which paragraphs are
outline headings.
"""

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from seoga.text.formats.structure import Cell, outline_style_level

# Record tags (HWPTAG_BEGIN = 16).
TAG_PARA_SHAPE = 16 + 9
TAG_STYLE = 16 + 10
TAG_PARA_HEADER = 16 + 50
TAG_PARA_TEXT = 16 + 51
TAG_CTRL_HEADER = 16 + 55
TAG_LIST_HEADER = 16 + 56
TAG_TABLE = 16 + 61
RECORD_SIZE_ESCAPE = 0xFFF
TAG_BITS, LEVEL_SHIFT, LEVEL_BITS, SIZE_SHIFT = 0x3FF, 10, 0x3FF, 20

# Paragraph header: the style id's byte offset; paragraph shape: its heading kind and level.
PARA_HEADER_SHAPE_OFFSET = 8
PARA_HEADER_STYLE_OFFSET = 10
HEADING_KIND_SHIFT, HEADING_KIND_BITS, OUTLINE_KIND = 23, 0b11, 1
HEADING_LEVEL_SHIFT, HEADING_LEVEL_BITS = 25, 0b111

# Text code units: one-unit controls and what they read as; every other unit below 32 opens
# an eight-unit control (inline or extended).
CONTROL_LIMIT = 32
PARAGRAPH_BREAK = 13
ONE_UNIT_CONTROLS = {0: "", 10: "\n", 13: "", 24: "-", 30: " ", 31: " "} | {
    code: "" for code in range(25, 30)
}
# Eight-unit controls that stand between words: a tab, and a table or drawing anchored in the
# line ("전 [표] 후" must not read "전후"); the others (fields, notes, numbers) add nothing.
EIGHT_UNIT_CONTROLS = {9: "\t", 11: " "}
CONTROL_UNITS = 8

# Control ids (four ASCII letters, stored as a little-endian uint32).
CONTROL_ID_BYTES = 4
# List header of a table cell: column, row, column span, row span after 8 bytes.
CELL_ADDRESS = struct.Struct("<4H")
CELL_ADDRESS_OFFSET = 8


class HwpError(Exception):
    """A problem with the file that the user should hear about, in words."""


@dataclass
class Record:
    tag: int
    level: int
    payload: bytes
    children: list["Record"] = field(default_factory=list)


def records(data: bytes) -> Iterator[Record]:
    """A stream's records in order, flat (their levels say how they nest)."""
    offset = 0
    while offset + 4 <= len(data):
        (header,) = struct.unpack_from("<I", data, offset)
        offset += 4
        size = header >> SIZE_SHIFT
        if size == RECORD_SIZE_ESCAPE:
            (size,) = struct.unpack_from("<I", data, offset)
            offset += 4
        if offset + size > len(data):
            raise HwpError("a record runs past the end of its stream (corrupt file)")
        tag = header & TAG_BITS
        level = (header >> LEVEL_SHIFT) & LEVEL_BITS
        yield Record(tag, level, data[offset : offset + size])
        offset += size


def record_tree(data: bytes) -> list[Record]:
    """Records nested by level: a record's children are the deeper records that follow it."""
    roots: list[Record] = []
    stack: list[Record] = []
    for record in records(data):
        while stack and stack[-1].level >= record.level:
            stack.pop()
        (stack[-1].children if stack else roots).append(record)
        stack.append(record)
    return roots


@dataclass
class Styles:
    """Which paragraph shapes and styles make a paragraph an outline heading, and its level."""

    shape_levels: dict[int, int] = field(default_factory=dict)
    style_levels: dict[int, int] = field(default_factory=dict)

    @classmethod
    def read(cls, data: bytes) -> "Styles":
        styles = cls()
        shapes = names = 0
        for record in records(data):
            if record.tag == TAG_PARA_SHAPE:
                (attributes,) = struct.unpack_from("<I", record.payload)
                if (attributes >> HEADING_KIND_SHIFT) & HEADING_KIND_BITS == OUTLINE_KIND:
                    level = (attributes >> HEADING_LEVEL_SHIFT) & HEADING_LEVEL_BITS
                    styles.shape_levels[shapes] = level + 1
                shapes += 1
            elif record.tag == TAG_STYLE:
                name, english = style_names(record.payload)
                level = outline_style_level(name, english)
                if level is not None:
                    styles.style_levels[names] = level
                names += 1
        return styles

    def heading_level(self, paragraph: Record) -> int | None:
        payload = paragraph.payload
        if len(payload) <= PARA_HEADER_STYLE_OFFSET:
            return None
        (shape,) = struct.unpack_from("<H", payload, PARA_HEADER_SHAPE_OFFSET)
        style = payload[PARA_HEADER_STYLE_OFFSET]
        return self.style_levels.get(style) or self.shape_levels.get(shape)


def style_names(payload: bytes) -> tuple[str, str]:
    """A style record's local (Korean) name and its English name."""
    names = []
    offset = 0
    for _ in range(2):
        (length,) = struct.unpack_from("<H", payload, offset)
        offset += 2
        names.append(payload[offset : offset + 2 * length].decode("utf-16-le", errors="replace"))
        offset += 2 * length
    return names[0], names[1]


def control_id(record: Record) -> str:
    """A control's four-letter id ("tbl ", "fn  "…)."""
    return record.payload[:CONTROL_ID_BYTES][::-1].decode("latin-1")


def paragraph_text(paragraph: Record) -> str:
    """A paragraph's characters, every control's eight units skipped (a tab kept as a tab, an
    anchored table or drawing as a space)."""
    text = next((child for child in paragraph.children if child.tag == TAG_PARA_TEXT), None)
    if text is None:
        return ""
    data = text.payload
    units = len(data) // 2
    pieces: list[str] = []
    run_start = None
    index = 0
    while index < units:
        (code,) = struct.unpack_from("<H", data, 2 * index)
        if code >= CONTROL_LIMIT:
            if run_start is None:
                run_start = index
            index += 1
            continue
        if run_start is not None:
            pieces.append(data[2 * run_start : 2 * index].decode("utf-16-le", errors="replace"))
            run_start = None
        if code in ONE_UNIT_CONTROLS:
            pieces.append(ONE_UNIT_CONTROLS[code])
            index += 1
        else:
            pieces.append(EIGHT_UNIT_CONTROLS.get(code, ""))
            index += CONTROL_UNITS
    if run_start is not None:
        pieces.append(data[2 * run_start : 2 * units].decode("utf-16-le", errors="replace"))
    return "".join(pieces)


def cell_address(list_header: Record) -> Cell:
    """Where a table cell sits and what it spans, from its list header (0, 0 when cut short)."""
    payload = list_header.payload
    if len(payload) < CELL_ADDRESS_OFFSET + CELL_ADDRESS.size:
        return Cell(0, 0, "")
    column, row, column_span, row_span = CELL_ADDRESS.unpack_from(payload, CELL_ADDRESS_OFFSET)
    return Cell(row, column, "", row_span, column_span)
