"""PDF text layers, pypdf against pypdfium2, and OCR of scanned pages, on Korean PDFs made here.

Run from the repository root: PYTHONPATH=. python benchmarks/pdf_readers.py [--seed 0]
It prints the tables and writes benchmarks/results/pdf_readers.json (with its config and seed).
Needs the bench extra (reportlab, pypdf), Tesseract and fonts-nanum (scripts/system.sh), and
Chromium for its PDFs (scripts/browser.sh; without it those are left out).

Text layers: seeded Korean paragraphs (with some English, numbers and symbols) are printed into
PDFs by reportlab with its CID fonts (one column; two columns as two frames; two columns drawn
row by row, as some exporters do; every syllable placed on its own, spaces left as gaps) and
by headless Chromium from HTML in a Nanum TrueType font (subset CID fonts with ToUnicode; one
justified column; two CSS columns). Each library's text is scored against the known text:
character recall and precision (a bag of the non-space characters), the character error rate
(CER: edit distance over the reference length, spaces collapsed, and again with no spaces),
and reading order (see `reading_order`); speed is pages per second from the bytes, the median
of a few repeats.

OCR: pages drawn with Pillow in Korean fonts, a larger title first (Korean and English; one
column clean and "scan-like": tilted, blurred, noisy, JPEG-compressed; two columns). Each
Tesseract setting in OCR_SETTINGS reads the images; then seoga's PDF reader reads them saved
as image PDFs, end to end (render, OCR): the same scores and seconds per page. The test suite
reuses `scanned_page`, `korean_font`, `image_pdf` and `cer` from here.
"""

import argparse
import io
import json
import shutil
import statistics
import subprocess
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from benchmarks.report import ROOT, machine_line

RESULTS = ROOT / "benchmarks" / "results" / "pdf_readers.json"

# Fonts with Hangul, best first: Nanum (fonts-nanum, scripts/system.sh), then Noto CJK.
KOREAN_FONTS = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf",
    "/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
KOREAN_FONT_GLOBS = ("*Nanum*.ttf", "*CJK*.tt[fc]", "*Malgun*.ttf", "*AppleGothic*")
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts")

# --- Seeded text ---------------------------------------------------------------------------

KOREAN_WHEN = (
    "2024년 3월까지",
    "다음 주 월요일에",
    "관계 법령에 따라",
    "지체 없이",
    "매 분기마다",
    "필요한 경우",
    "주택임대차보호법 제6조의3에 따라",
    "계약 만료 6개월 전부터",
    "별도의 절차 없이",
    "올해 하반기에",
    "회의 직후",
    "정해진 기한 안에",
)
KOREAN_WHO = (
    "임차인은",
    "임대인은",
    "위원회는",
    "시청 민원과는",
    "연구팀은",
    "담당 부서는",
    "계약 당사자는",
    "교육부는",
    "국립대학병원은",
    "서울특별시는",
    "개인정보보호책임자는",
    "협력 업체는",
)
KOREAN_WHAT = (
    "계약 갱신을",
    "보증금 반환을",
    "예산 집행 계획을",
    "개인정보 처리 방침을",
    "주간 회의 결과를",
    "하이브리드 검색 성능을",
    "전세 사기 예방 대책을",
    "민원 처리 절차를",
    "시스템 점검 일정을",
    "연구 결과 보고서를",
    "공공 데이터 개방 현황을",
    "직원 건강검진 결과를",
    "장학금 지급 기준을",
    "소프트웨어 사용 허가를",
)
KOREAN_DO = (
    "요구할 수 있다.",
    "검토하여야 한다.",
    "공개하였다.",
    "제출하기로 했다.",
    "개선할 예정이다.",
    "확인하였습니다.",
    "보고해야 합니다.",
    "안내하고 있다.",
    "승인하였다.",
    "결정하였다.",
    "발표했습니다.",
    "보완하기로 하였다.",
)
KOREAN_ASIDES = (
    "(BM25와 dense retrieval 결합)",
    "(총 1,250만 원)",
    "(응답률 87.5%)",
    "(PDF 1.7 기준)",
    "「공공기록물 관리에 관한 법률」",
    "(문의: 02-1234-5678)",
    "(API v2)",
    "(제3항 참조)",
)
ENGLISH_WHO = ("The committee", "Our team", "The tenant", "The city office", "Each reviewer")
ENGLISH_DO = ("approved", "reviewed", "published", "postponed", "measured", "rejected")
ENGLISH_WHAT = (
    "the annual budget",
    "the renewal request",
    "the search quality report",
    "the privacy policy",
    "the maintenance schedule",
    "the hybrid retrieval benchmark",
)
ENGLISH_WHEN = ("on Monday.", "in March 2024.", "without delay.", "after the meeting.")
ASIDE_SHARE = 0.3
SENTENCES_PER_PARAGRAPH = (2, 4)


def korean_sentence(rng: Random) -> str:
    parts = [rng.choice(KOREAN_WHEN), rng.choice(KOREAN_WHO), rng.choice(KOREAN_WHAT)]
    if rng.random() < ASIDE_SHARE:
        parts.append(rng.choice(KOREAN_ASIDES))
    return " ".join([*parts, rng.choice(KOREAN_DO)])


def english_sentence(rng: Random) -> str:
    parts = (ENGLISH_WHO, ENGLISH_DO, ENGLISH_WHAT, ENGLISH_WHEN)
    return " ".join(rng.choice(words) for words in parts)


def paragraphs(rng: Random, count: int, sentence: Callable[[Random], str]) -> list[str]:
    return [
        " ".join(sentence(rng) for _ in range(rng.randint(*SENTENCES_PER_PARAGRAPH)))
        for _ in range(count)
    ]


# --- Scoring -------------------------------------------------------------------------------


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one numpy row at a time: a row's insertions are a running
    minimum, min over k <= j of (row[k] + j - k)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes = np.array([ord(c) for c in b])
    offsets = np.arange(len(b) + 1)
    row = offsets.copy()
    for i, char in enumerate(a, start=1):
        current = np.empty_like(row)
        current[0] = i
        current[1:] = np.minimum(row[:-1] + (codes != ord(char)), row[1:] + 1)
        row = np.minimum.accumulate(current - offsets) + offsets
    return int(row[-1])


def comparable(text: str, spaces: bool = True) -> str:
    """NFC with runs of whitespace (line breaks too) as one space, or with none at all."""
    text = unicodedata.normalize("NFC", text)
    return " ".join(text.split()) if spaces else "".join(text.split())


def cer(reference: str, hypothesis: str, spaces: bool = True) -> float:
    """Character error rate of `hypothesis` against `reference` (see `comparable`)."""
    reference, hypothesis = comparable(reference, spaces), comparable(hypothesis, spaces)
    return edit_distance(reference, hypothesis) / max(1, len(reference))


def char_recall_precision(reference: str, hypothesis: str) -> tuple[float, float]:
    """Bags of the non-space characters: how many of the reference's were found, and how many
    of the found were in the reference."""
    want, got = Counter(comparable(reference, False)), Counter(comparable(hypothesis, False))
    common = sum((want & got).values())
    return common / max(1, sum(want.values())), common / max(1, sum(got.values()))


# Reading order is checked at anchors: the reference's 8-character pieces (spaces removed), one
# every 16 characters, that occur once in it and once in the extracted text. Two anchors next to
# each other in the reference stay so when the second follows the first within their distance
# in the reference plus a little slack (for misread characters); lines of two columns read
# across, interleaved, break the pairs at every line end.
ANCHOR_CHARS = 8
ANCHOR_STEP = 16
ORDER_SLACK = 8


def reading_order(reference: str, hypothesis: str) -> tuple[float, float]:
    """(share of anchors found, share of neighbouring anchors that stay neighbours)."""
    reference, hypothesis = comparable(reference, False), comparable(hypothesis, False)
    starts = range(0, len(reference) - ANCHOR_CHARS + 1, ANCHOR_STEP)
    anchors = [(start, reference[start : start + ANCHOR_CHARS]) for start in starts]
    anchors = [(start, text) for start, text in anchors if reference.count(text) == 1]
    found = [
        (start, hypothesis.find(text)) for start, text in anchors if hypothesis.count(text) == 1
    ]
    pairs = list(zip(found, found[1:], strict=False))
    kept = sum(
        1
        for (reference_1, found_1), (reference_2, found_2) in pairs
        if 0 < found_2 - found_1 <= reference_2 - reference_1 + ORDER_SLACK
    )
    return len(found) / max(1, len(anchors)), kept / max(1, len(pairs))


# --- PDFs with a text layer ------------------------------------------------------------------

PAGE_WIDTH_PT, PAGE_HEIGHT_PT = 595.0, 842.0  # A4
MARGIN_PT = 56.0
COLUMN_GAP_PT = 20.0
FONT_SIZE_PT = 10.5
LEADING_PT = 15.0
PARAGRAPH_GAP_PT = 6.0


@dataclass
class MadePdf:
    kind: str
    data: bytes
    paragraphs: list[str]


def _register_cid_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    for name in ("HYSMyeongJo-Medium", "HYGothic-Medium"):
        pdfmetrics.registerFont(UnicodeCIDFont(name))


def reportlab_flowing(texts: list[str], columns: int, font: str) -> bytes:
    """Paragraphs flowed through frames (one or two per page) in a reportlab CID font."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    _register_cid_fonts()
    out = io.BytesIO()
    document = BaseDocTemplate(out, pagesize=(PAGE_WIDTH_PT, PAGE_HEIGHT_PT), title="보고서")
    width = (PAGE_WIDTH_PT - 2 * MARGIN_PT - (columns - 1) * COLUMN_GAP_PT) / columns
    height = PAGE_HEIGHT_PT - 2 * MARGIN_PT
    frames = [
        Frame(MARGIN_PT + column * (width + COLUMN_GAP_PT), MARGIN_PT, width, height)
        for column in range(columns)
    ]
    document.addPageTemplates([PageTemplate(frames=frames)])
    style = ParagraphStyle(
        "body", fontName=font, fontSize=FONT_SIZE_PT, leading=LEADING_PT, spaceAfter=6
    )
    document.build([Paragraph(text, style) for text in texts])
    return out.getvalue()


def _wrap(text: str, font: str, width: float) -> list[str]:
    """Lines of at most `width` points, broken at spaces (as Korean text is set)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and stringWidth(candidate, font, FONT_SIZE_PT) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def reportlab_drawn(texts: list[str], font: str, rows_across: bool) -> bytes:
    """Text drawn line by line with the canvas. `rows_across`: two columns whose lines are
    drawn row by row across both (left line 1, right line 1, ...), so that the content order
    is not the reading order; else one column, each syllable drawn on its own at its
    position, spaces left as gaps (as some exporters place glyphs)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    _register_cid_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(PAGE_WIDTH_PT, PAGE_HEIGHT_PT))
    columns = 2 if rows_across else 1
    width = (PAGE_WIDTH_PT - 2 * MARGIN_PT - (columns - 1) * COLUMN_GAP_PT) / columns
    rows_per_page = int((PAGE_HEIGHT_PT - 2 * MARGIN_PT) // LEADING_PT)
    lines: list[str] = []
    for text in texts:
        lines += [*_wrap(text, font, width), ""]  # a blank line between paragraphs
    per_page = rows_per_page * columns
    for start in range(0, len(lines), per_page):
        page = lines[start : start + per_page]
        canvas.setFont(font, FONT_SIZE_PT)
        for row in range(rows_per_page):
            y = PAGE_HEIGHT_PT - MARGIN_PT - (row + 1) * LEADING_PT
            for column in range(columns):
                index = column * rows_per_page + row
                if index >= len(page) or not page[index]:
                    continue
                x = MARGIN_PT + column * (width + COLUMN_GAP_PT)
                if rows_across:
                    canvas.drawString(x, y, page[index])
                    continue
                for char in page[index]:
                    if not char.isspace():
                        canvas.drawString(x, y, char)
                    x += stringWidth(char, font, FONT_SIZE_PT)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


HTML_PAGE = """<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>보고서</title>
<style>@page {{ size: A4; margin: 20mm }} body {{ font-family: "NanumMyeongjo",
"Noto Serif CJK KR", serif; font-size: 10.5pt; line-height: 1.6; word-break: keep-all;
text-align: justify }} .two {{ column-count: 2; column-gap: 8mm }}</style></head>
<body><div class="{layout}">{paragraphs}</div></body></html>"""
CHROMIUM_TIMEOUT_SECONDS = 120


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_pdf(texts: list[str], two_columns: bool) -> bytes:
    """The paragraphs as HTML in a Nanum font, printed to PDF by headless Chromium."""
    body = "".join(f"<p>{text}</p>" for text in texts)
    html = HTML_PAGE.format(layout="two" if two_columns else "one", paragraphs=body)
    with tempfile.TemporaryDirectory() as folder:
        page, pdf = Path(folder, "page.html"), Path(folder, "page.pdf")
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=CHROMIUM_TIMEOUT_SECONDS,
            check=True,
        )
        return pdf.read_bytes()


def make_pdfs(rng: Random, paragraph_count: int) -> list[MadePdf]:
    made = []
    makers: list[tuple[str, Callable[[list[str]], bytes]]] = [
        ("reportlab, 1 column", lambda t: reportlab_flowing(t, 1, "HYSMyeongJo-Medium")),
        ("reportlab, 2 frames", lambda t: reportlab_flowing(t, 2, "HYGothic-Medium")),
        (
            "reportlab, 2 columns drawn row by row",
            lambda t: reportlab_drawn(t, "HYGothic-Medium", True),
        ),
        ("reportlab, glyph by glyph", lambda t: reportlab_drawn(t, "HYSMyeongJo-Medium", False)),
    ]
    if chromium():
        makers += [
            ("Chromium, 1 justified column", lambda t: chromium_pdf(t, False)),
            ("Chromium, 2 CSS columns", lambda t: chromium_pdf(t, True)),
        ]
    for kind, maker in makers:
        texts = paragraphs(rng, paragraph_count, korean_sentence)
        made.append(MadePdf(kind, maker(texts), texts))
    return made


# --- The two readers ------------------------------------------------------------------------


def pypdf_pages(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def pypdfium2_pages(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


READERS: dict[str, Callable[[bytes], list[str]]] = {
    "pypdf": pypdf_pages,
    "pypdfium2": pypdfium2_pages,
}


def measure_reader(made: MadePdf, read: Callable[[bytes], list[str]], repeats: int) -> dict:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        pages = read(made.data)
        seconds.append(time.perf_counter() - started)
    text = "\n".join(pages)
    reference = "\n".join(made.paragraphs)
    recall, precision = char_recall_precision(reference, text)
    found, ordered = reading_order(reference, text)
    return {
        "pages": len(pages),
        "char_recall": recall,
        "char_precision": precision,
        "cer": cer(reference, text),
        "cer_no_spaces": cer(reference, text, spaces=False),
        "anchors_found": found,
        "anchors_in_order": ordered,
        "pages_per_second": len(pages) / statistics.median(seconds),
    }


# --- Scanned pages --------------------------------------------------------------------------

SCAN_DPI = 300
POINTS_PER_INCH = 72
A4_INCHES = (8.27, 11.69)
SCAN_MARGIN_INCHES = 0.9
SCAN_COLUMN_GAP_INCHES = 0.4
SCAN_FONT_PT = 11
SCAN_LEADING = 1.6
TITLE_SCALE = 1.6  # a title's size over the body's
TILT_DEGREES = 0.8
BLUR_RADIUS = 0.7
NOISE_SIGMA = 18
NOISE_SHARE = 0.35
JPEG_QUALITY = 70
BLACK, WHITE = 0, 255


def korean_fonts() -> list[Path]:
    """TrueType fonts with Hangul on this system, the known ones first."""
    found = [Path(candidate) for candidate in KOREAN_FONTS if Path(candidate).is_file()]
    for folder in (Path(name) for name in FONT_FOLDERS if Path(name).is_dir()):
        for pattern in KOREAN_FONT_GLOBS:
            found += [path for path in sorted(folder.rglob(pattern)) if path not in found]
    return found


def korean_font() -> Path | None:
    """A TrueType font with Hangul on this system, or None."""
    return next(iter(korean_fonts()), None)


def scanned_page(
    texts: list[str],
    font_path: Path,
    *,
    dpi: int = SCAN_DPI,
    size_inches: tuple[float, float] = A4_INCHES,
    columns: int = 1,
    title: str = "",
    scan_like: Random | None = None,
) -> tuple[Image.Image, str]:
    """A greyscale page image of the paragraphs, as a scanner at `dpi` would see them, and the
    text that fitted on it (paragraphs joined by blank lines, in reading order). `title`: a
    larger first line across the columns. `scan_like`: a seeded Random that tilts, blurs, adds
    noise and JPEG-compresses."""
    width, height = (round(inches * dpi) for inches in size_inches)
    image = Image.new("L", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path), round(SCAN_FONT_PT * dpi / POINTS_PER_INCH))
    margin, gap = round(SCAN_MARGIN_INCHES * dpi), round(SCAN_COLUMN_GAP_INCHES * dpi)
    column_width = (width - 2 * margin - (columns - 1) * gap) // columns
    line_height = round(SCAN_FONT_PT * SCAN_LEADING * dpi / POINTS_PER_INCH)
    top, placed = margin, []
    if title:
        title_pt = SCAN_FONT_PT * TITLE_SCALE
        title_font = ImageFont.truetype(str(font_path), round(title_pt * dpi / POINTS_PER_INCH))
        draw.text((margin, top), title, font=title_font, fill=BLACK)
        top += round(title_pt * SCAN_LEADING * dpi / POINTS_PER_INCH) + line_height // 2
        placed.append(title)
    column, y = 0, top
    for text in texts:
        lines = _wrap_pixels(text, font, column_width)
        if y + len(lines) * line_height > height - margin:
            column, y = column + 1, top
            if column == columns:
                break
        x = margin + column * (column_width + gap)
        for line in lines:
            draw.text((x, y), line, font=font, fill=BLACK)
            y += line_height
        y += line_height // 2
        placed.append(text)
    if scan_like is not None:
        image = _scan_like(image, scan_like)
    return image, "\n\n".join(placed)


def _wrap_pixels(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _scan_like(image: Image.Image, rng: Random) -> Image.Image:
    tilted = image.rotate(
        rng.uniform(-TILT_DEGREES, TILT_DEGREES), resample=Image.BICUBIC, fillcolor=WHITE
    )
    blurred = tilted.filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    noise = Image.effect_noise(blurred.size, NOISE_SIGMA)
    noisy = Image.blend(blurred, noise, NOISE_SHARE)
    # Re-level so that the paper is white again after blending in mid-grey noise.
    levelled = noisy.point(lambda v: min(WHITE, round(v / (1 - NOISE_SHARE))))
    out = io.BytesIO()
    levelled.save(out, format="JPEG", quality=JPEG_QUALITY)
    return Image.open(out)


def image_pdf(images: list[Image.Image], dpi: int = SCAN_DPI) -> bytes:
    """The images as the pages of a PDF, as a scanner saves them (no text layer)."""
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()


# Tesseract settings compared on the same pages; seoga uses ocr.TESSERACT_OPTIONS.
OCR_SETTINGS: dict[str, tuple[str, ...]] = {
    "psm 3 (automatic layout)": ("--psm", "3"),
    "psm 3, no vertical text": ("--psm", "3", "-c", "textord_tabfind_vertical_text=0"),
    "psm 4 (one column)": ("--psm", "4"),
    "psm 6 (one block)": ("--psm", "6"),
}
PARAGRAPHS_PER_SCAN = 40  # more than a page holds: the page takes what fits


@dataclass
class Scan:
    name: str
    image: Image.Image
    reference: str


SCAN_FONTS = 3  # the pages of each kind take turns among this many Korean fonts
KOREAN_TITLES = (
    "제3차 운영위원회 회의 결과 보고",
    "2024년 상반기 민원 처리 현황",
    "전세 계약 안내문",
)
ENGLISH_TITLES = ("Minutes of the third committee meeting", "Search quality report", "Notice")


def make_scans(rng: Random, per_kind: int) -> list[Scan]:
    """Korean and English pages, one column (clean and scan-like) and two."""
    kinds = [
        ("Korean, clean", korean_sentence, 1, False),
        ("Korean, scan-like", korean_sentence, 1, True),
        ("Korean, 2 columns", korean_sentence, 2, False),
        ("English, clean", english_sentence, 1, False),
        ("English, scan-like", english_sentence, 1, True),
        ("English, 2 columns", english_sentence, 2, False),
    ]
    fonts = korean_fonts()[:SCAN_FONTS]
    scans = []
    for name, sentence, columns, rough in kinds:
        titles = KOREAN_TITLES if sentence is korean_sentence else ENGLISH_TITLES
        for page in range(per_kind):
            texts = paragraphs(rng, PARAGRAPHS_PER_SCAN, sentence)
            image, reference = scanned_page(
                texts,
                fonts[page % len(fonts)],
                columns=columns,
                title=rng.choice(titles),
                scan_like=Random(rng.random()) if rough else None,
            )
            scans.append(Scan(name, image, reference))
    return scans


def measure_ocr_settings(scans: list[Scan], languages: str) -> dict:
    """CER of each Tesseract setting on every kind of scan (the image straight to Tesseract)."""
    from seoga.text.formats.ocr import recognise

    found: dict = {}
    for setting, options in OCR_SETTINGS.items():
        for name in dict.fromkeys(scan.name for scan in scans):
            chosen = [scan for scan in scans if scan.name == name]
            started = time.perf_counter()
            texts = [recognise(scan.image, languages, SCAN_DPI, options) for scan in chosen]
            seconds = (time.perf_counter() - started) / len(chosen)
            found.setdefault(setting, {})[name] = _ocr_scores(chosen, texts, seconds)
            print(setting, name, found[setting][name], flush=True)
    return found


def measure_ocr_reader(scans: list[Scan]) -> dict:
    """seoga's PDF reader on the scans saved as image PDFs: render, OCR and all."""
    from seoga.text.formats.base import ReadOptions
    from seoga.text.formats.pdf import read_pdf

    found = {}
    for name in dict.fromkeys(scan.name for scan in scans):
        chosen = [scan for scan in scans if scan.name == name]
        texts, started = [], time.perf_counter()
        for scan in chosen:
            result = read_pdf(Path("scan.pdf"), image_pdf([scan.image]), ReadOptions())
            texts.append(result.documents[0].text if result.documents else "")
        seconds = (time.perf_counter() - started) / len(chosen)
        found[name] = _ocr_scores(chosen, texts, seconds)
    return found


def _ocr_scores(scans: list[Scan], texts: list[str], seconds: float) -> dict:
    reference = "\n".join(scan.reference for scan in scans)
    hypothesis = "\n".join(texts)
    recall, precision = char_recall_precision(reference, hypothesis)
    return {
        "pages": len(scans),
        "characters_per_page": len(comparable(reference)) / len(scans),
        "cer": cer(reference, hypothesis),
        "cer_no_spaces": cer(reference, hypothesis, spaces=False),
        "char_recall": recall,
        "char_precision": precision,
        "anchors_in_order": reading_order(reference, hypothesis)[1],
        "seconds_per_page": seconds,
    }


# --- Report ---------------------------------------------------------------------------------


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--paragraphs", type=int, default=60, help="per text-layer PDF")
    parser.add_argument("--repeats", type=int, default=5, help="timed reads per PDF")
    parser.add_argument("--scans", type=int, default=2, help="scanned pages of each kind")
    parser.add_argument("--languages", default="kor+eng", help="Tesseract languages")
    parser.add_argument("--parts", default="text,ocr-settings,ocr", help="what to measure")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    rng = Random(args.seed)
    results: dict = {"config": vars(args), "machine": machine_line(), "versions": versions()}
    if "text" in parts:
        results["text_layer"] = {
            made.kind: {
                name: measure_reader(made, read, args.repeats) for name, read in READERS.items()
            }
            for made in make_pdfs(rng, args.paragraphs)
        }
    if parts & {"ocr-settings", "ocr"} and korean_font() is None:
        results["ocr"] = "skipped: no Korean font (scripts/system.sh installs fonts-nanum)"
    elif parts & {"ocr-settings", "ocr"}:
        scans = make_scans(Random(args.seed), args.scans)
        if "ocr-settings" in parts:
            results["ocr_settings"] = measure_ocr_settings(scans, args.languages)
        if "ocr" in parts:
            results["ocr"] = measure_ocr_reader(scans)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print(report(results))


def versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {name: version(name) for name in ("pypdf", "pypdfium2", "reportlab", "Pillow")}
    tesseract = shutil.which("tesseract")
    if tesseract:
        first = subprocess.run([tesseract, "--version"], capture_output=True, check=False)
        found["tesseract"] = first.stdout.decode().split("\n")[0]
    if chromium():
        found["chromium"] = (
            subprocess.run([chromium(), "--version"], capture_output=True, check=False)
            .stdout.decode()
            .strip()
        )
    return found


def report(results: dict) -> str:
    parts = [results["machine"]]
    if "text_layer" in results:
        rows = [["PDF", "reader", "pages", "recall", "precision", "CER", "CER no spaces"]]
        rows[0] += ["in order", "pages/s"]
        for kind, by_reader in results["text_layer"].items():
            for name, row in by_reader.items():
                scores = ("char_recall", "char_precision", "cer", "cer_no_spaces")
                rows.append(
                    [kind, name, str(row["pages"])]
                    + [f"{row[score]:.4f}" for score in scores]
                    + [f"{row['anchors_in_order']:.3f}", f"{row['pages_per_second']:.0f}"]
                )
        parts += ["", table(rows)]
    for setting, by_scan in results.get("ocr_settings", {}).items():
        parts += ["", f"Tesseract {setting}", _ocr_table(by_scan)]
    ocr = results.get("ocr")
    if isinstance(ocr, dict):
        parts += ["", "seoga's PDF reader on image PDFs (render + OCR)", _ocr_table(ocr)]
    elif ocr:
        parts += ["", ocr]
    return "\n".join(parts)


def _ocr_table(by_scan: dict) -> str:
    rows = [["scanned page", "pages", "chars/page", "CER", "CER no spaces", "recall"]]
    rows[0] += ["precision", "in order", "s/page"]
    for name, row in by_scan.items():
        scores = ("cer", "cer_no_spaces", "char_recall", "char_precision", "anchors_in_order")
        rows.append(
            [name, str(row["pages"]), f"{row['characters_per_page']:.0f}"]
            + [f"{row[score]:.4f}" for score in scores]
            + [f"{row['seconds_per_page']:.2f}"]
        )
    return table(rows)


if __name__ == "__main__":
    main()
