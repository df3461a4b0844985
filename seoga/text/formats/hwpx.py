"""HWPX (OWPML, Hancom's zip + XML format, KS X 6101): body text in reading order, with tables
row by row, text boxes, footnotes and endnotes, headers and footers once, and the document's
properties.

The package lists its sections in `Contents/content.hpf` (an OPF manifest and spine); a file
whose manifest is missing or odd is still read from its `Contents/sectionN.xml` parts. Elements
are matched on their local names, so the 2011 and 2016 namespaces read alike.

Read the same way as HWP 5 files (`hwp.py`), so one document saved either way reads the same:
headers and footers come first, said once; footnotes and endnotes are gathered at the end under
"각주" and "미주" (they do not break the sentence that cites them); the objects a paragraph
anchors (tables, text boxes) follow its text. Text deleted under change tracking is left out:
the document reads as it would with its changes accepted.
"""

import io
import posixpath
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from seoga.text.documents import LoadResult
from seoga.text.formats.base import ReadOptions, failed, structured
from seoga.text.formats.safety import (
    ZIP_ERRORS,
    ArchiveError,
    check_zip,
    is_ole,
    read_xml,
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
    outline_style_level,
)
from seoga.text.normalize import normalize_line

CONTAINER = "META-INF/container.xml"
MANIFEST = "META-INF/manifest.xml"
DEFAULT_PACKAGE = "Contents/content.hpf"
HEADER = "Contents/header.xml"
SECTION_PART = re.compile(r"^Contents/section(\d+)\.xml$", re.IGNORECASE)
# A package whose parts are encrypted (a document saved with a password) says so here.
ENCRYPTION_MARK = b"encryption-data"

# Hangul's default outline styles ("개요 1" … "개요 7"); a paragraph shape's outline level
# counts from 0.
OUTLINE_HEADING = "OUTLINE"
NOTES_TITLES = {"footNote": FOOTNOTES_TITLE, "endNote": ENDNOTES_TITLE}
FURNITURE = ("header", "footer")

# Characters written as elements inside <hp:t>.
INLINE_CHARACTERS = {"tab": "\t", "lineBreak": "\n", "hyphen": "-", "nbSpace": " ", "fwSpace": " "}
# Objects whose text is not body text: equations (a script), form controls (captions of
# buttons), hidden comments, the generated alt text of shapes ("사각형입니다."); and layout
# records, which hold none.
SKIPPED_OBJECTS = frozenset(
    {
        "equation", "btn", "checkBtn", "radioBtn", "comboBox", "listBox", "edit", "scrollBar",
        "hiddenComment", "shapeComment", "linesegarray", "secPr",
    }
)  # fmt: skip
# Package properties (content.hpf <opf:meta name=…>) kept in the document's metadata.
META_FIELDS = {"creator": "author", "subject": "subject", "keyword": "keywords"}
META_DATES = {"CreatedDate": "created", "ModifiedDate": "modified"}

HWPX_ERRORS = (*ZIP_ERRORS, KeyError, ValueError)


def read_hwpx(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    if is_ole(data):
        return failed(path, "not an HWPX (zip) file: an OLE file, such as HWP 5 (save as .hwp)")
    problem = check_zip(data)
    if problem:
        return failed(path, problem)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            title, built, metadata = _read_package(archive)
    except ArchiveError as error:
        return failed(path, str(error))
    except RecursionError:
        return failed(path, "not a readable HWPX file: objects nested too deeply")
    except HWPX_ERRORS as error:
        return failed(path, f"not a readable HWPX file: {error}")
    return structured(path, title, built, metadata)


def _read_package(archive: zipfile.ZipFile) -> tuple[str, StructuredText, dict[str, Any]]:
    names = set(archive.namelist())
    if MANIFEST in names and ENCRYPTION_MARK in archive.read(MANIFEST):
        raise ArchiveError("password-protected (encrypted) HWPX file")
    package = _package_path(archive, names)
    opf = read_xml(archive, package) if package in names else None
    sections = _section_parts(opf, package, names)
    if not sections:
        raise ArchiveError("not an HWPX file: no Contents/sectionN.xml part")
    styles = _Styles.read(read_xml(archive, HEADER)) if HEADER in names else _Styles()
    body = _Body(styles)
    for name in sections:
        body.section(read_xml(archive, name))
    metadata = _properties(opf) if opf is not None else {}
    return metadata.get("title", ""), body.build(), metadata


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element: Element, name: str) -> Iterable[Element]:
    return (child for child in element if _local(child.tag) == name)


def _first(element: Element, name: str) -> Element | None:
    return next(iter(_children(element, name)), None)


def _package_path(archive: zipfile.ZipFile, names: set[str]) -> str:
    """The OPF package part, as the container names it (Hangul writes the default one)."""
    if CONTAINER not in names:
        return DEFAULT_PACKAGE
    for rootfile in read_xml(archive, CONTAINER).iter():
        full_path = rootfile.get("full-path", "")
        if _local(rootfile.tag) == "rootfile" and full_path.endswith(".hpf"):
            return full_path
    return DEFAULT_PACKAGE


def _section_parts(opf: Element | None, package: str, names: set[str]) -> list[str]:
    """Section parts in reading order: the spine's first, then any others in the archive by
    number (a file whose manifest is missing or lists them wrongly still reads whole)."""
    listed: list[str] = []
    if opf is not None:
        hrefs = {
            item.get("id"): item.get("href", "")
            for item in opf.iter()
            if _local(item.tag) == "item"
        }
        for itemref in opf.iter():
            if _local(itemref.tag) != "itemref":
                continue
            href = hrefs.get(itemref.get("idref"), "")
            # Hangul writes paths from the package root; OPF says relative to the package.
            for name in (href, posixpath.join(posixpath.dirname(package), href)):
                if SECTION_PART.match(name) and name in names and name not in listed:
                    listed.append(name)
                    break
    unlisted = [name for name in names if SECTION_PART.match(name) and name not in listed]
    return listed + sorted(unlisted, key=lambda name: int(SECTION_PART.match(name).group(1)))


def _properties(opf: Element) -> dict[str, Any]:
    """Title, author, subject, keywords and dates from the package's metadata, where set."""
    found: dict[str, Any] = {}
    for element in opf.iter():
        name = _local(element.tag)
        text = normalize_line(element.text or "")
        if not text:
            continue
        if name == "title":
            found["title"] = text
        elif name == "meta" and element.get("name") in META_FIELDS:
            found[META_FIELDS[element.get("name")]] = text
        elif name == "meta" and element.get("name") in META_DATES:
            moment = _iso_date(text)
            if moment:
                found[META_DATES[element.get("name")]] = moment
    return found


def _iso_date(text: str) -> str | None:
    try:
        return datetime.fromisoformat(text).isoformat(timespec="seconds")
    except ValueError:
        return None


@dataclass
class _Styles:
    """Which styles and paragraph shapes (header.xml) make a paragraph an outline heading."""

    style_levels: dict[str, int] = field(default_factory=dict)
    shape_levels: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, head: Element) -> "_Styles":
        styles = cls()
        for element in head.iter():
            name = _local(element.tag)
            if name == "style":
                level = outline_style_level(element.get("name", ""), element.get("engName", ""))
                if level is not None:
                    styles.style_levels[element.get("id", "")] = level
            elif name == "paraPr":
                heading = _first(element, "heading")
                if heading is not None and heading.get("type") == OUTLINE_HEADING:
                    level = heading.get("level", "0")
                    if level.isdigit():
                        styles.shape_levels[element.get("id", "")] = int(level) + 1
        return styles

    def heading_level(self, paragraph: Element) -> int | None:
        return self.style_levels.get(paragraph.get("styleIDRef", "")) or self.shape_levels.get(
            paragraph.get("paraPrIDRef", "")
        )


class _Body:
    """Walks the sections' paragraphs into blocks, keeping furniture (headers, footers) and
    notes apart so that each is said once, where it reads best."""

    def __init__(self, styles: _Styles) -> None:
        self.styles = styles
        self.document = DocumentBlocks()
        self.deleting = False  # inside text deleted under change tracking

    def section(self, root: Element) -> None:
        self.deleting = False
        for paragraph in _children(root, "p"):
            self.document.body.extend(self._paragraph(paragraph, body=True))

    def build(self) -> StructuredText:
        return self.document.build()

    def _paragraph(self, paragraph: Element, body: bool = False) -> list[Block]:
        """A paragraph's text, then the objects it anchors (tables, text boxes)."""
        texts: list[str] = []
        anchored: list[Block] = []
        self._inline(paragraph, texts, anchored)
        text = "".join(texts)
        if not text.strip():
            return anchored
        level = self.styles.heading_level(paragraph) if body else None
        # Outline numbering also serves long list items; a heading is a short line.
        if level is not None and (len(text.strip()) > MAX_HEADING_CHARS or "\n" in text.strip()):
            level = None
        return [Paragraph(text, level, guess=body and level is None), *anchored]

    def _inline(self, element: Element, texts: list[str], anchored: list[Block]) -> None:
        for child in element:
            name = _local(child.tag)
            if name == "t":
                self._text(child, texts)
            elif name == "run":
                self._inline(child, texts, anchored)
            elif name == "ctrl":
                self._control(child)
            elif name == "tbl":
                anchored.append(self._table(child))
            elif name == "compose":  # 글자 겹치기: the characters drawn on one another
                texts.append(child.get("composeText", ""))
            elif name == "dutmal":  # 덧말: the main text, its gloss after it
                texts.append(self._list_text(child, "mainText"))
                gloss = self._list_text(child, "subText")
                texts.append(f"({gloss})" if gloss else "")
            elif name == "switch":  # alternatives of one content: the first is enough
                for case in list(child)[:1]:
                    self._inline(case, texts, anchored)
            elif name not in SKIPPED_OBJECTS:
                # Shapes (rectangles, ellipses, groups…): the text in their boxes and captions.
                anchored.extend(self._object_blocks(child))

    def _text(self, element: Element, texts: list[str]) -> None:
        """A run of text; tabs, line breaks and marks (highlighter, change tracking) are
        elements inside it, the text going on in their tails."""
        if element.text and not self.deleting:
            texts.append(element.text)
        for child in element:
            name = _local(child.tag)
            if name == "deleteBegin":
                self.deleting = True
            elif name == "deleteEnd":
                self.deleting = False
            elif not self.deleting:
                texts.append(INLINE_CHARACTERS.get(name, child.text or ""))
            if child.tail and not self.deleting:
                texts.append(child.tail)

    def _list_text(self, element: Element, name: str) -> str:
        found = _first(element, name)
        return normalize_line("".join(found.itertext())) if found is not None else ""

    def _control(self, control: Element) -> None:
        """Headers, footers and notes are kept apart; fields and page numbering carry no text
        (a field's visible text is in the runs between its begin and end)."""
        for child in control:
            name = _local(child.tag)
            if name in FURNITURE:
                self.document.add_furniture(block_lines(self._object_blocks(child)))
            elif name in NOTES_TITLES:
                note = " ".join(block_lines(self._object_blocks(child)))
                self.document.add_note(NOTES_TITLES[name], note)

    def _object_blocks(self, element: Element) -> list[Block]:
        """The paragraphs of an object's lists (text boxes, captions, cells of groups), in
        order, however deep its shapes nest them."""
        blocks: list[Block] = []
        for child in element:
            name = _local(child.tag)
            if name == "p":
                blocks.extend(self._paragraph(child))
            elif name == "switch":  # alternatives of one content: the first is enough
                for case in list(child)[:1]:
                    blocks.extend(self._object_blocks(case))
            elif name not in SKIPPED_OBJECTS:
                blocks.extend(self._object_blocks(child))
        return blocks

    def _table(self, table: Element) -> Table:
        cells = []
        for row_index, row in enumerate(_children(table, "tr")):
            for column_index, cell in enumerate(_children(row, "tc")):
                address = _first(cell, "cellAddr")
                span = _first(cell, "cellSpan")
                content = _first(cell, "subList")
                cells.append(
                    Cell(
                        _number(address, "rowAddr", row_index),
                        _number(address, "colAddr", column_index),
                        "\n".join(block_lines(self._object_blocks(content)))
                        if content is not None
                        else "",
                        _number(span, "rowSpan", 1),
                        _number(span, "colSpan", 1),
                    )
                )
        caption = _first(table, "caption")
        caption_text = (
            " ".join(block_lines(self._object_blocks(caption))) if caption is not None else ""
        )
        return Table(grid_from_cells(cells), caption_text)


def _number(element: Element | None, name: str, default: int) -> int:
    """A non-negative integer attribute (a cell's address or span), or the default."""
    value = element.get(name, "") if element is not None else ""
    return int(value) if value.isdecimal() else default
