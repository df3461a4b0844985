"""PDF and image readers: text layers through PDFium, scanned pages and images through OCR.

Scans are made here: known Korean and English text drawn with Pillow in a Korean font of this
system and saved as an image PDF, PNG or TIFF. The tests that need a real Tesseract (with its
Korean data) skip with the reason where it is missing; the rest run a stand-in script as
Tesseract, or none at all.
"""

import io
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw

from benchmarks.pdf_readers import cer, image_pdf, korean_font, scanned_page
from seoga.text.formats import ocr, pdf
from seoga.text.formats.ocr import clean_ocr_text, install_hint, page_label
from seoga.text.formats.pdf import pdf_date
from seoga.text.loaders import ReadOptions, load_file
from tests.test_text_loaders import make_pdf

HINT = "apt-get install tesseract-ocr tesseract-ocr-kor"
KOREAN_LINE = "전세 계약 갱신 요구권은 임차인의 권리이다."
ENGLISH_LINE = "Hybrid search combines keywords and meaning."
# Wide enough for either line at 11 pt, tall enough for both: a small page reads fast.
SCAN_INCHES = (6.5, 3.0)
# Clean made-up scans read almost perfectly (benchmarks/pdf_readers.py); this leaves room.
MAX_CER = 0.15


def _tesseract_languages() -> set[str]:
    found = shutil.which("tesseract")
    if not found:
        return set()
    listing = subprocess.run([found, "--list-langs"], capture_output=True, check=False)
    return set(listing.stdout.decode().split()[1:])


FONT = korean_font()
needs_tesseract = pytest.mark.skipif(
    not {"kor", "eng"} <= _tesseract_languages(),
    reason=f"needs Tesseract with Korean data (scripts/system.sh: {HINT})",
)
needs_font = pytest.mark.skipif(
    FONT is None, reason="needs a Korean font (scripts/system.sh installs fonts-nanum)"
)
needs_sh = pytest.mark.skipif(sys.platform == "win32", reason="stand-in Tesseract is sh")


def scan(lines: list[str]) -> Image.Image:
    image, drawn = scanned_page(lines, FONT, size_inches=SCAN_INCHES)
    assert drawn == "\n\n".join(lines)  # everything fitted
    return image


def blank_scan() -> Image.Image:
    """An image page with a mark on it, for tests where what it says does not matter."""
    image = Image.new("L", (600, 300), "white")
    ImageDraw.Draw(image).rectangle((100, 100, 500, 140), fill="black")
    return image


def joined_pdf(*parts: bytes) -> bytes:
    """The pages of several PDFs, in order, in one."""
    joined = pdfium.PdfDocument.new()
    for part in parts:
        joined.import_pages(pdfium.PdfDocument(part))
    out = io.BytesIO()
    joined.save(out)
    return out.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """Install a shell script as Tesseract: `stand_in(body)`."""

    def install(body: str) -> Path:
        script = tmp_path / "tesseract"
        script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        script.chmod(0o755)
        monkeypatch.setenv(ocr.TESSERACT_VARIABLE, str(script))
        return script

    return install


# --- Text layers ---------------------------------------------------------------------------


def test_pdf_metadata_becomes_document_metadata(tmp_path):
    pypdf = pytest.importorskip("pypdf", reason="pypdf (the dev extra) writes this PDF")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf(["Body text here."])))
    writer.add_metadata(
        {
            "/Title": "전세 계약 안내",
            "/Author": "홍길동",
            "/CreationDate": "D:20240305143000+09'00'",
            "/ModDate": "D:20240306Z",
            "/Subject": "(unspecified)",
        }
    )
    out = io.BytesIO()
    writer.write(out)
    document = load_file(write(tmp_path, "meta.pdf", out.getvalue())).documents[0]
    assert document.title == "전세 계약 안내"
    assert document.metadata["title"] == "전세 계약 안내"
    assert document.metadata["author"] == "홍길동"
    assert document.metadata["created"] == "2024-03-05T14:30:00+09:00"
    assert document.metadata["modified"] == "2024-03-06T00:00:00+00:00"
    assert "subject" not in document.metadata  # a placeholder, not a subject
    assert "ocr_pages" not in document.metadata


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("D:20240305143000+09'00'", "2024-03-05T14:30:00+09:00"),
        ("D:20240305143000-05'30", "2024-03-05T14:30:00-05:30"),
        ("D:2024", "2024-01-01T00:00:00"),
        ("20240305", "2024-03-05T00:00:00"),
        ("D:20241305", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_pdf_dates(value, iso):
    assert pdf_date(value) == iso


def test_encrypted_pdf_is_a_problem(tmp_path):
    pypdf = pytest.importorskip("pypdf", reason="pypdf (the dev extra) writes this PDF")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf(["Secret text."])))
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    result = load_file(write(tmp_path, "locked.pdf", out.getvalue()))
    assert [problem.reason for problem in result.problems] == ["encrypted PDF (needs a password)"]
    assert result.documents == []


def test_truncated_and_garbage_pdfs_never_raise(tmp_path):
    whole = make_pdf(["First page text.", "Second page text."])
    for cut in (len(whole) // 2, len(whole) - 40, 12):
        result = load_file(write(tmp_path, f"cut{cut}.pdf", whole[:cut]))
        assert result.documents or result.problems
    result = load_file(write(tmp_path, "noise.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 64))
    assert result.problems[0].reason.startswith("not a readable PDF")


# --- OCR without a real Tesseract ----------------------------------------------------------


def test_ocr_never_reports_scanned_pages(tmp_path):
    path = write(tmp_path, "scan.pdf", image_pdf([blank_scan(), blank_scan()]))
    result = load_file(path, options=ReadOptions(ocr="never"))
    assert result.documents == []
    [problem] = result.problems
    assert problem.reason.startswith("pages 1-2 scanned (no text layer), not read: OCR is off")
    assert "--ocr auto" in problem.reason


def test_missing_tesseract_is_a_problem_with_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv(ocr.TESSERACT_VARIABLE, str(tmp_path / "no-such-tesseract"))
    path = write(tmp_path, "scan.pdf", image_pdf([blank_scan(), blank_scan()]))
    result = load_file(path)
    assert result.documents == []
    [problem] = result.problems
    assert problem.reason.startswith("pages 1-2 not read by OCR: Tesseract is not installed")
    assert problem.reason.endswith(HINT)


@needs_sh
def test_missing_korean_data_is_a_problem_with_the_install_hint(tmp_path, stand_in):
    # Tesseract without kor data still exits 0 and reads with eng: its warning is the sign.
    stand_in("echo \"Failed loading language 'kor'\" >&2\necho 'Latin guesses'")
    result = load_file(write(tmp_path, "scan.pdf", image_pdf([blank_scan()])))
    assert result.documents == []
    [problem] = result.problems
    assert (
        problem.reason
        == f"page 1 not read by OCR: Tesseract has no language data for kor; install it: {HINT}"
    )


def test_mixed_pdf_keeps_its_text_layer_and_names_the_pages_not_read(tmp_path, monkeypatch):
    monkeypatch.setenv(ocr.TESSERACT_VARIABLE, str(tmp_path / "no-such-tesseract"))
    data = joined_pdf(make_pdf(["Typed first page."]), image_pdf([blank_scan()]))
    result = load_file(write(tmp_path, "mixed.pdf", data))
    [document] = result.documents
    assert document.text == "Typed first page."
    assert document.metadata["pages"] == 2
    assert "ocr_pages" not in document.metadata
    [problem] = result.problems
    assert problem.reason.startswith("page 2 not read by OCR: Tesseract is not installed")


@needs_sh
def test_ocr_pages_and_page_starts_with_a_stand_in_tesseract(tmp_path, stand_in):
    stand_in("cat > /dev/null\necho 'Scanned words'\necho '|'")  # "|": a speck, dropped
    data = joined_pdf(make_pdf(["Typed first page."]), image_pdf([blank_scan()]))
    [document] = load_file(write(tmp_path, "mixed.pdf", data)).documents
    assert document.metadata["ocr_pages"] == [2]
    second = document.metadata["page_starts"][1]
    assert document.text[second:] == "Scanned words"
    # always: every page through OCR, its text replacing the text layer.
    result = load_file(tmp_path / "mixed.pdf", options=ReadOptions(ocr="always"))
    [document] = result.documents
    assert document.metadata["ocr_pages"] == [1, 2]
    assert document.text == "Scanned words\n\nScanned words"


@needs_sh
def test_a_hanging_tesseract_is_stopped(tmp_path, stand_in, monkeypatch):
    monkeypatch.setattr(ocr, "PAGE_TIMEOUT_SECONDS", 1)
    stand_in("exec sleep 30")
    result = load_file(write(tmp_path, "scan.pdf", image_pdf([blank_scan()])))
    [problem] = result.problems
    assert problem.reason == "page 1 not read by OCR: OCR took longer than 1 s"


@needs_sh
def test_a_poster_sized_page_is_rendered_within_the_pixel_limit(tmp_path, stand_in, monkeypatch):
    monkeypatch.setattr(pdf, "MAX_RENDER_PIXELS", 1_000_000)
    capture = tmp_path / "rendered.png"
    stand_in(f"cat > {capture}\necho 'Poster'")
    # 200 × 100 inches: 60,000 × 30,000 pixels at 300 DPI.
    poster = image_pdf([blank_scan()], dpi=3)
    [document] = load_file(write(tmp_path, "poster.pdf", poster)).documents
    assert document.text == "Poster"
    with Image.open(capture) as rendered:
        # PDFium rounds each side up to whole pixels.
        assert rendered.width * rendered.height <= pdf.MAX_RENDER_PIXELS * 1.01


def test_images_with_ocr_off_are_problems(tmp_path):
    out = io.BytesIO()
    blank_scan().save(out, format="PNG")
    path = write(tmp_path, "scan.png", out.getvalue())
    result = load_file(path, options=ReadOptions(ocr="never"))
    assert result.problems[0].reason.startswith("image skipped: OCR is off")


def _png_claiming(width: int, height: int) -> bytes:
    """A valid 1×1 PNG whose header claims another size (a decompression bomb's trick)."""
    out = io.BytesIO()
    Image.new("L", (1, 1), "white").save(out, format="PNG")
    data = bytearray(out.getvalue())
    header = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + data[24:29]
    data[12:29] = header
    data[29:33] = zlib.crc32(header).to_bytes(4, "big")
    return bytes(data)


def test_decompression_bombs_are_problems(tmp_path, monkeypatch):
    huge = load_file(write(tmp_path, "bomb.png", _png_claiming(100_000, 100_000)))
    assert huge.documents == []
    assert "decompression bomb" in huge.problems[0].reason
    # Between Pillow's limit and twice it, opening only warns: the reader still refuses.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6_000)
    with pytest.warns(Image.DecompressionBombWarning):
        large = load_file(write(tmp_path, "large.png", _png_claiming(100, 100)))
    assert large.documents == []
    assert large.problems[0].reason.startswith("image not read by OCR: 100×100 pixels")


def test_broken_image_is_a_problem(tmp_path):
    result = load_file(write(tmp_path, "broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"))
    assert result.problems[0].reason.startswith("not a readable image")


def test_helpers():
    assert page_label([3]) == "page 3"
    assert page_label([5, 1, 2, 3]) == "pages 1-3, 5"
    assert install_hint("kor+eng") == HINT
    assert install_hint("chi_sim") == "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
    assert clean_ocr_text("첫 줄\n|\n—\n\n둘째 줄 2\n\x0c") == "첫 줄\n\n둘째 줄 2"


# --- OCR with Tesseract --------------------------------------------------------------------


@needs_tesseract
@needs_font
@pytest.mark.slow
def test_scanned_pdf_is_read_through_ocr(tmp_path):
    path = write(tmp_path, "scan.pdf", image_pdf([scan([KOREAN_LINE, ENGLISH_LINE])]))
    result = load_file(path)
    assert result.problems == []
    [document] = result.documents
    for word in ("전세", "계약", "임차인의", "Hybrid", "keywords"):
        assert word in document.text
    assert cer(f"{KOREAN_LINE}\n{ENGLISH_LINE}", document.text) < MAX_CER
    assert document.metadata["ocr_pages"] == [1]
    assert document.metadata["pages"] == 1


@needs_tesseract
@needs_font
@pytest.mark.slow
def test_mixed_pdf_reads_text_layer_and_scanned_page(tmp_path):
    data = joined_pdf(make_pdf(["Typed first page."]), image_pdf([scan([KOREAN_LINE])]))
    result = load_file(write(tmp_path, "mixed.pdf", data))
    assert result.problems == []
    [document] = result.documents
    assert document.metadata["ocr_pages"] == [2]
    first, second = document.metadata["page_starts"]
    assert document.text[first:second].strip() == "Typed first page."
    assert "갱신" in document.text[second:]


@needs_tesseract
@needs_font
@pytest.mark.slow
def test_png_and_multipage_tiff_are_read_through_ocr(tmp_path):
    out = io.BytesIO()
    scan([KOREAN_LINE]).save(out, format="PNG", dpi=(300, 300))
    [document] = load_file(write(tmp_path, "scan.png", out.getvalue())).documents
    assert "요구권은" in document.text
    assert document.metadata["ocr_pages"] == [1]

    out = io.BytesIO()
    first, second = scan([KOREAN_LINE]), scan([ENGLISH_LINE])
    first.save(out, format="TIFF", save_all=True, append_images=[second], dpi=(300, 300))
    result = load_file(write(tmp_path, "fax.tiff", out.getvalue()))
    assert result.problems == []
    [document] = result.documents
    assert document.metadata["ocr_pages"] == [1, 2]
    assert document.metadata["pages"] == 2
    second_start = document.metadata["page_starts"][1]
    assert "요구권은" in document.text[:second_start]
    assert "Hybrid" in document.text[second_start:]
