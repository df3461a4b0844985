"""Guards shared by the zip-based formats (HWPX, DOCX, PPTX, XLSX) against hostile files.

A file is checked with `zipfile` before any library opens it: a zip bomb, an archive of
millions of members, a member named `../evil` or an XML part carrying a DTD costs one
`LoadProblem`, never the run. Our own XML parsing (HWPX) goes through `defusedxml`, which never
expands entities. The libraries guard their own parsing too: python-docx and python-pptx parse
with lxml and `resolve_entities=False` (libxml2 also refuses entity amplification), openpyxl
parses with lxml (`resolve_entities=False`) and reads worksheets through `defusedxml`.
"""

import io
import zipfile
import zlib
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# Real documents have tens to a few thousand members and inflate to tens of MiB. Python's
# zipfile never returns more bytes than a member's declared size (ZipExtFile stops there and
# the CRC check then fails), so the declared sizes checked here bound what is really read.
MAX_MEMBERS = 10_000
MAX_TOTAL_UNCOMPRESSED = 512 * 1024 * 1024
# Deflate reaches about 1,000:1 on runs of zeros; XML and text rarely pass 100:1 (Apache POI's
# limit). Members smaller than the floor cannot hurt, whatever their ratio.
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
# A DTD (the way to declare entities) must come before the root element: the start of each XML
# part is enough to find one. OOXML and OWPML parts never carry one.
PROLOG_BYTES = 4096
XML_SUFFIXES = (".xml", ".rels", ".hpf")
DTD_MARKS = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
ENCRYPTED_MEMBER_FLAG = 0x1
# Compound (OLE2) files: old binary .doc/.xls/.ppt and HWP 5, and also OOXML files saved with
# a password, whose encrypted package sits in a stream of this name.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_PACKAGE_STREAM = "EncryptedPackage".encode("utf-16-le")

# What reading a (possibly corrupt) member can raise inside zipfile and zlib; RuntimeError
# covers a member encrypted with a zip password, NotImplementedError an unknown compression.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


class ArchiveError(Exception):
    """Why a zip-based file cannot be read, in words for the user's report."""


def is_ole(data: bytes) -> bool:
    return data.startswith(OLE_MAGIC)


def is_encrypted_ooxml(data: bytes) -> bool:
    """An Office file saved with a password: an OLE file holding the encrypted package."""
    return is_ole(data) and ENCRYPTED_PACKAGE_STREAM in data


def check_zip(data: bytes) -> str | None:
    """Why `data` must not be opened as a zip archive, or None when it is safe to."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return "not a zip archive"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            problem = _check_members(members)
            return problem or _check_prologs(archive, members)
    except ZIP_ERRORS as error:
        return f"broken zip archive: {error}"


def _check_members(members: list[zipfile.ZipInfo]) -> str | None:
    if len(members) > MAX_MEMBERS:
        return f"zip archive with {len(members):,} members (more than {MAX_MEMBERS:,})"
    total = sum(member.file_size for member in members)
    if total > MAX_TOTAL_UNCOMPRESSED:
        limit = MAX_TOTAL_UNCOMPRESSED // (1024 * 1024)
        return f"zip bomb? members inflate to {total:,} bytes (more than {limit} MiB)"
    for member in members:
        name = member.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or ":" in name.split("/")[0]:
            return f"zip member with an unsafe name {member.filename!r}"
        if member.flag_bits & ENCRYPTED_MEMBER_FLAG:
            return f"zip member {member.filename!r} is encrypted"
        ratio = member.file_size / max(1, member.compress_size)
        if member.file_size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
            return (
                f"zip bomb? member {member.filename!r} inflates {ratio:,.0f} times "
                f"(more than {MAX_COMPRESSION_RATIO})"
            )
    return None


def _check_prologs(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> str | None:
    for member in members:
        if not member.filename.lower().endswith(XML_SUFFIXES):
            continue
        with archive.open(member) as part:
            start = part.read(PROLOG_BYTES)
        if any(mark in start for mark in DTD_MARKS):
            return forbidden_entities(member.filename)
    return None


def forbidden_entities(name: str) -> str:
    return f"forbidden XML entities (a DTD) in {name}"


def read_xml(archive: zipfile.ZipFile, name: str) -> Element:
    """A member parsed safely: entities are never expanded, a DTD declaring them is refused."""
    try:
        return fromstring(archive.read(name))
    except DefusedXmlException as error:
        raise ArchiveError(forbidden_entities(name)) from error
    except ParseError as error:
        raise ArchiveError(f"broken XML in {name}: {error}") from error
