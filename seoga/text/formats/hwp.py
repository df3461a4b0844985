"""HWP 5.x (Hangul word processor, an OLE2 compound file): body text in reading order, with
tables row by row, text boxes, footnotes and endnotes, headers and footers once, and the
document's properties.

Read after Hancom's published "HWP 5.0 document file format" (revision 1.3): each
`BodyText/SectionN` stream is a run of records (a 32-bit header: tag, nesting level and size),
raw-deflated when the file header says so. A paragraph is a PARA_HEADER whose deeper records
hold its text (UTF-16) and its controls (tables, shapes, notes, headers…), each control a
CTRL_HEADER whose own deeper records hold its lists of paragraphs. In the text, code units below
32 are controls: a few take one unit, the others eight (the control's code, a payload of six
units, the code again), which must never be read as characters.
"""

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import olefile

from seoga.text.documents import LoadResult
from seoga.text.formats.base import ReadOptions, failed, structured
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
    outline_style_level,
)
from seoga.text.normalize import normalize_line

FILE_HEADER = "FileHeader"
DOC_INFO = "DocInfo"
SUMMARY = "\x05HwpSummaryInformation"
PREVIEW_TEXT = "PrvText"
SECTION_STREAM = re.compile(r"^BodyText/Section(\d+)$")
SIGNATURE = b"HWP Document File"
HWP3_SIGNATURE = b"HWP Document File V3"
ZIP_MAGIC = b"PK\x03\x04"

# File header properties (offset 36): which storage options the document uses.
HEADER_PROPERTIES_OFFSET = 36
COMPRESSED = 1 << 0
PASSWORD = 1 << 1
DISTRIBUTION = 1 << 2  # 배포용 문서: the body is encrypted, only ViewText holds it
DRM = 1 << 4
CERTIFICATE_ENCRYPTED = 1 << 8

# Limits against hostile files: a stream larger than this is not read, and no section may
# inflate past the second (real documents are a few MB; a deflate bomb is thousands of times).
MAX_STREAM_BYTES = 256 * 1024 * 1024
MAX_INFLATED_BYTES = 512 * 1024 * 1024
MAX_SECTIONS = 1024
# Controls nested deeper than this (tables in tables in boxes…) are not followed.
MAX_NESTING = 32

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
CTRL_TABLE = "tbl "
CTRL_HEADER_TEXT = "head"
CTRL_FOOTER_TEXT = "foot"
CTRL_FOOTNOTE = "fn  "
CTRL_ENDNOTE = "en  "
CTRL_HIDDEN_COMMENT = "tcmt"
NOTES_TITLES = {CTRL_FOOTNOTE: FOOTNOTES_TITLE, CTRL_ENDNOTE: ENDNOTES_TITLE}
# List header of a table cell: column, row, column span, row span after 8 bytes.
CELL_ADDRESS = struct.Struct("<4H")
CELL_ADDRESS_OFFSET = 8

# Summary information property ids (as in OLE's SummaryInformation).
SUMMARY_FIELDS = {2: "title", 3: "subject", 4: "author", 5: "keywords"}
SUMMARY_DATES = {12: "created", 13: "modified"}
# FILETIME zero (1601-01-01) means "not set".
UNSET_YEAR = 1601

HWP_ERRORS = (
    OSError,
    ValueError,
    struct.error,
    IndexError,
    KeyError,
    EOFError,
    TypeError,
    zlib.error,
    UnicodeDecodeError,
)


class HwpError(Exception):
    """A problem with the file that the user should hear about, in words."""


@dataclass
class Record:
    tag: int
    level: int
    payload: bytes
    children: list["Record"] = field(default_factory=list)


def read_hwp(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    """An .hwp file: one document, or a problem saying why it cannot be read."""
    if data.startswith(HWP3_SIGNATURE):
        return failed(
            path, "HWP 3.x file: seoga reads HWP 5.x; save it again in Hangul 2002 or newer"
        )
    if data.startswith(ZIP_MAGIC):
        # An HWPX saved under the .hwp name.
        from seoga.text.formats.hwpx import read_hwpx

        return read_hwpx(path, data, options)
    if not olefile.isOleFile(data=data):
        return failed(path, "not an HWP file (no OLE2 container)")
    try:
        with olefile.OleFileIO(data) as ole:
            title, text, metadata = _read_document(ole)
    except HwpError as error:
        return failed(path, str(error))
    except HWP_ERRORS as error:
        return failed(path, f"not a readable HWP file: {error}")
    return structured(path, title, text, metadata)


def preview_text(data: bytes) -> str:
    """The preview text (`PrvText`) Hangul saves with a file: its first ~1,000 characters."""
    with olefile.OleFileIO(data) as ole:
        if not ole.exists(PREVIEW_TEXT):
            return ""
        return _stream(ole, PREVIEW_TEXT).decode("utf-16-le", errors="replace")


def _read_document(ole: olefile.OleFileIO) -> tuple[str, StructuredText, dict[str, Any]]:
    if not ole.exists(FILE_HEADER):
        raise HwpError("not an HWP 5 file (no FileHeader stream)")
    header = _stream(ole, FILE_HEADER)
    if not header.startswith(SIGNATURE):
        raise HwpError("not an HWP 5 file (unknown signature)")
    (properties,) = struct.unpack_from("<I", header, HEADER_PROPERTIES_OFFSET)
    if properties & PASSWORD:
        raise HwpError("password-protected HWP: open it in Hangul and save it without a password")
    if properties & DISTRIBUTION:
        raise HwpError(
            "distribution-protected HWP (배포용 문서): its text is encrypted; "
            "ask its author for the original"
        )
    if properties & (DRM | CERTIFICATE_ENCRYPTED):
        raise HwpError("DRM- or certificate-encrypted HWP: seoga cannot decrypt it")
    compressed = bool(properties & COMPRESSED)
    styles = (
        _Styles.read(_inflate(_stream(ole, DOC_INFO), compressed))
        if ole.exists(DOC_INFO)
        else _Styles()
    )
    sections = sorted(
        (int(match.group(1)), name)
        for name in ("/".join(entry) for entry in ole.listdir())
        if (match := SECTION_STREAM.match(name))
    )
    if not sections:
        raise HwpError("no body text (BodyText sections missing)")
    if len(sections) > MAX_SECTIONS:
        raise HwpError(f"more than {MAX_SECTIONS} sections: not a document seoga will read")
    body = _Body(styles)
    inflated = 0
    for _, name in sections:
        raw = _inflate(_stream(ole, name), compressed)
        inflated += len(raw)
        if inflated > MAX_INFLATED_BYTES:
            raise HwpError("body text inflates past the size limit (a deflate bomb?)")
        for paragraph in _tree(raw):
            body.body_paragraph(paragraph)
    metadata = _summary(ole)
    title = metadata.get("title", "")
    return title, body.build(), metadata


def _stream(ole: olefile.OleFileIO, name: str) -> bytes:
    size = ole.get_size(name)
    if size > MAX_STREAM_BYTES:
        raise HwpError(f"stream {name} is {size} bytes, over the limit")
    with ole.openstream(name) as stream:
        return stream.read()


def _inflate(data: bytes, compressed: bool) -> bytes:
    if not compressed:
        return data
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = inflater.decompress(data, MAX_INFLATED_BYTES + 1)
    if len(out) > MAX_INFLATED_BYTES:
        raise HwpError("a stream inflates past the size limit (a deflate bomb?)")
    return out


def _records(data: bytes) -> Iterator[Record]:
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


def _tree(data: bytes) -> list[Record]:
    """Records nested by level: a record's children are the deeper records that follow it."""
    roots: list[Record] = []
    stack: list[Record] = []
    for record in _records(data):
        while stack and stack[-1].level >= record.level:
            stack.pop()
        (stack[-1].children if stack else roots).append(record)
        stack.append(record)
    return roots


@dataclass
class _Styles:
    """Which paragraph shapes and styles make a paragraph an outline heading, and its level."""

    shape_levels: dict[int, int] = field(default_factory=dict)
    style_levels: dict[int, int] = field(default_factory=dict)

    @classmethod
    def read(cls, data: bytes) -> "_Styles":
        styles = cls()
        shapes = names = 0
        for record in _records(data):
            if record.tag == TAG_PARA_SHAPE:
                (attributes,) = struct.unpack_from("<I", record.payload)
                if (attributes >> HEADING_KIND_SHIFT) & HEADING_KIND_BITS == OUTLINE_KIND:
                    level = (attributes >> HEADING_LEVEL_SHIFT) & HEADING_LEVEL_BITS
                    styles.shape_levels[shapes] = level + 1
                shapes += 1
            elif record.tag == TAG_STYLE:
                name, english = _style_names(record.payload)
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


def _style_names(payload: bytes) -> tuple[str, str]:
    names = []
    offset = 0
    for _ in range(2):
        (length,) = struct.unpack_from("<H", payload, offset)
        offset += 2
        names.append(payload[offset : offset + 2 * length].decode("utf-16-le", errors="replace"))
        offset += 2 * length
    return names[0], names[1]


def _control_id(record: Record) -> str:
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


class _Body:
    """Walks a document's paragraphs into blocks, keeping furniture (headers, footers) and
    notes apart so that each is said once, where it reads best."""

    def __init__(self, styles: _Styles) -> None:
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
            kind = _control_id(control)
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
                for inner in _paragraphs_below(control):
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
            for inner in _paragraphs_below(control)
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
                cells.append((_cell(child), []))
            elif child.tag == TAG_PARA_HEADER:
                lines = cells[-1][1] if cells else caption
                lines += block_lines(self._list_blocks(child, depth))
        # The first entry only marks where the TABLE record was.
        found = [replace(cell, text="\n".join(lines)) for cell, lines in cells[1:]]
        return Table(grid_from_cells(found), " ".join(caption))

    def build(self) -> StructuredText:
        return self.document.build()


def _paragraphs_below(record: Record) -> Iterator[Record]:
    """Paragraphs in a control's lists, in order, however deep its shapes nest them (not
    descending into the paragraphs themselves: their own controls are walked separately)."""
    for child in record.children:
        if child.tag == TAG_PARA_HEADER:
            yield child
        else:
            yield from _paragraphs_below(child)


def _cell(list_header: Record) -> Cell:
    payload = list_header.payload
    if len(payload) < CELL_ADDRESS_OFFSET + CELL_ADDRESS.size:
        return Cell(0, 0, "")
    column, row, column_span, row_span = CELL_ADDRESS.unpack_from(payload, CELL_ADDRESS_OFFSET)
    return Cell(row, column, "", row_span, column_span)


def _summary(ole: olefile.OleFileIO) -> dict[str, Any]:
    """Title, subject, author, keywords and dates from the summary information, where set."""
    if not ole.exists(SUMMARY):
        return {}
    properties = ole.getproperties(SUMMARY, convert_time=True)
    found: dict[str, Any] = {}
    for key, name in SUMMARY_FIELDS.items():
        value = properties.get(key)
        if isinstance(value, bytes):
            value = value.decode("utf-16-le", errors="replace")
        if isinstance(value, str):
            # Hangul's strings run on past their end marker into the next property.
            value = normalize_line(value.split("\x00", 1)[0])
            if value:
                found[name] = value
    for key, name in SUMMARY_DATES.items():
        value = properties.get(key)
        if isinstance(value, datetime) and value.year > UNSET_YEAR:
            found[name] = value.isoformat(timespec="seconds")
    return found
