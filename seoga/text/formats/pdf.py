"""PDF: each page's text layer through PDFium (pypdfium2), scanned pages through OCR.

pypdfium2 rather than pypdf, by measurement (benchmarks/pdf_readers.py): on Korean PDFs made by
reportlab and Chromium both extract the same characters in the same order, but where glyphs are
placed one by one pypdf puts a space between every two syllables (CER 0.55 against 0.00), and
on Chromium's PDFs (embedded TrueType subsets, as most PDFs are) PDFium is 5-7 times faster
(on reportlab's, whose CID fonts are not embedded, 2-3 times slower). It also renders the
scanned pages for OCR.

Each page starts a new page in the document's structure. `ocr` auto reads a page through
Tesseract when its text layer is (almost) empty and it carries an image; always reads every
page so (the OCR text replaces the text layer when there is any); never reports scanned pages.
"""

import math
import re
import threading
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from seoga.text.documents import LoadProblem, LoadResult
from seoga.text.formats.base import ReadOptions, failed, structured
from seoga.text.formats.ocr import OCR_DPI, OcrError, OcrPages, page_label
from seoga.text.formats.structure import StructuredText
from seoga.text.normalize import normalize_line, normalize_text

ENCRYPTED = "encrypted PDF (needs a password)"
NO_TEXT_LAYER = "no text layer (scanned?)"
OCR_OFF = "scanned (no text layer), not read: OCR is off (--ocr never); read with --ocr auto"
# A text layer with fewer non-space characters than this (a page number, a stray mark) on a
# page that carries an image is a scan's.
MIN_TEXT_LAYER_CHARS = 5
POINTS_PER_INCH = 72
# Greyscale, a byte a pixel: A3 at 300 DPI is 17 million pixels. A larger (poster) page is
# rendered at a lower resolution, so a hostile page size cannot take the memory.
MAX_RENDER_PIXELS = 40_000_000
METADATA_FIELDS = {"Title": "title", "Author": "author", "Subject": "subject"}
METADATA_FIELDS |= {"Keywords": "keywords"}
METADATA_DATES = {"CreationDate": "created", "ModDate": "modified"}
# What producers write when they know no title or author (reportlab's defaults among them).
PLACEHOLDERS = frozenset({"(anonymous)", "(unspecified)", "untitled", "unknown"})
# D:YYYYMMDDHHmmSS, every part after the year optional, then Z or +HH'mm' / -HH'mm'.
_PDF_DATE = re.compile(
    r"(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*(?:([Zz+-])(\d{2})?'?(\d{2})?'?)?"
)
# PDFium is not thread-safe, not even across documents, and a Dask worker may run several
# readers in threads of one process: every PDFium call goes through this lock (OCR does not).
_PDFIUM = threading.Lock()


def read_pdf(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    """One document of the PDF's pages; what could not be read is a problem (never raises)."""
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            if error.err_code == pdfium_c.FPDF_ERR_PASSWORD:
                return failed(path, ENCRYPTED)
            return failed(path, f"not a readable PDF: {error}")
    try:
        return _read_document(path, document, options)
    finally:
        with _PDFIUM:
            document.close()


def _read_document(path: Path, document: pdfium.PdfDocument, options: ReadOptions) -> LoadResult:
    with _PDFIUM:
        metadata = pdf_metadata(document.get_metadata_dict(skip_empty=True))
        page_count = len(document)
    if not page_count:
        return failed(path, "not a readable PDF: no pages")
    built = StructuredText()
    ocr = OcrPages(options.ocr_languages)
    scanned_off: list[int] = []
    unreadable: list[int] = []
    for index in range(page_count):
        number = index + 1
        built.page()
        try:
            with _PDFIUM:
                text, scanned, scale = _page_text(document, index)
        except pdfium.PdfiumError:
            unreadable.append(number)
            continue
        if options.ocr == "always" or (options.ocr == "auto" and scanned):
            dpi = round(scale * POINTS_PER_INCH)
            text = ocr.read(number, partial(_render, document, index, scale), dpi) or text
        elif scanned:
            scanned_off.append(number)
        built.paragraph(text)
    problems = ocr.problems(str(path))
    if scanned_off:
        problems.append(LoadProblem(str(path), f"{page_label(scanned_off)} {OCR_OFF}"))
    if unreadable:
        problems.append(LoadProblem(str(path), f"{page_label(unreadable)} could not be read"))
    if ocr.read_pages:
        metadata["ocr_pages"] = ocr.read_pages
    if not built.text:
        return LoadResult(problems=problems or [LoadProblem(str(path), NO_TEXT_LAYER)])
    result = structured(path, metadata.get("title", ""), built, metadata)
    result.problems.extend(problems)
    return result


def _page_text(document: pdfium.PdfDocument, index: int) -> tuple[str, bool, float]:
    """A page's text layer, whether it is a scan, and the scale to render it at for OCR."""
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            text = normalize_text(textpage.get_text_range())
        finally:
            textpage.close()
        scanned = sum(not char.isspace() for char in text) < MIN_TEXT_LAYER_CHARS and any(
            True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
        )
        width, height = page.get_size()
        scale = OCR_DPI / POINTS_PER_INCH
        pixels = width * height * scale**2
        if pixels > MAX_RENDER_PIXELS:
            scale *= math.sqrt(MAX_RENDER_PIXELS / pixels)
        return text, scanned, scale
    finally:
        page.close()


def _render(document: pdfium.PdfDocument, index: int, scale: float) -> Image.Image:
    """Page `index` as a greyscale image (its own copy: PDFium's bitmap is freed here, under the
    lock, not by the garbage collector in some other thread)."""
    with _PDFIUM:
        try:
            page = document[index]
            try:
                bitmap = page.render(scale=scale, grayscale=True)
                try:
                    return bitmap.to_pil().copy()
                finally:
                    bitmap.close()
            finally:
                page.close()
        except pdfium.PdfiumError as error:
            raise OcrError(f"the page could not be rendered: {error}") from error


def pdf_metadata(info: dict[str, str]) -> dict[str, str]:
    """The document information dictionary's title, author, subject and keywords, and its
    dates as ISO strings; placeholders and unparsable dates are left out."""
    found = {}
    for key, name in METADATA_FIELDS.items():
        value = normalize_line(info.get(key, ""))
        if value and value.lower() not in PLACEHOLDERS:
            found[name] = value
    for key, name in METADATA_DATES.items():
        moment = pdf_date(info.get(key, ""))
        if moment:
            found[name] = moment
    return found


def pdf_date(value: str) -> str | None:
    """A PDF date ("D:20240305143000+09'00'") as ISO 8601, or None when it is not one."""
    match = _PDF_DATE.fullmatch(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
        if sign in ("Z", "z"):
            moment = moment.replace(tzinfo=UTC)
        elif sign:
            offset = timedelta(hours=int(zone_hours or 0), minutes=int(zone_minutes or 0))
            moment = moment.replace(tzinfo=timezone(offset if sign == "+" else -offset))
    except ValueError:
        return None
    return moment.isoformat(timespec="seconds")
