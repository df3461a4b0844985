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

This module opens the container (file header, protection flags, streams, size limits, summary
information); hwp_records.py reads records and paragraph text, hwp_body.py builds the document.
"""

import re
import struct
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import olefile

from seoga.text.documents import LoadResult
from seoga.text.formats.base import ReadOptions, failed, structured
from seoga.text.formats.hwp_body import Body
from seoga.text.formats.hwp_records import HwpError, Styles, record_tree
from seoga.text.formats.hwpx import read_hwpx
from seoga.text.formats.structure import StructuredText
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


def read_hwp(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    """An .hwp file: one document, or a problem saying why it cannot be read."""
    if data.startswith(HWP3_SIGNATURE):
        return failed(
            path, "HWP 3.x file: seoga reads HWP 5.x; save it again in Hangul 2002 or newer"
        )
    if data.startswith(ZIP_MAGIC):
        # An HWPX saved under the .hwp name.
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
        Styles.read(_inflate(_stream(ole, DOC_INFO), compressed))
        if ole.exists(DOC_INFO)
        else Styles()
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
    body = Body(styles)
    inflated = 0
    for _, name in sections:
        raw = _inflate(_stream(ole, name), compressed)
        inflated += len(raw)
        if inflated > MAX_INFLATED_BYTES:
            raise HwpError("body text inflates past the size limit (a deflate bomb?)")
        for paragraph in record_tree(raw):
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
