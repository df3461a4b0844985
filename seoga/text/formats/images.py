"""Images (PNG, JPEG, TIFF): their text through OCR, one document per file, each frame of a
multi-page TIFF (a fax, a scanner's batch) a page of it.

Pillow's decompression-bomb guard stays on: an image (or a TIFF frame) of more pixels than
`Image.MAX_IMAGE_PIXELS` is a problem, not decoded.
"""

import io
from functools import partial
from pathlib import Path

from PIL import Image

from seoga.text.documents import LoadProblem, LoadResult
from seoga.text.formats.base import ReadOptions, failed, structured
from seoga.text.formats.ocr import OcrError, OcrPages
from seoga.text.formats.structure import StructuredText

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
OCR_OFF = "image skipped: OCR is off (--ocr never); read it with --ocr auto"
# What Pillow raises on a broken or hostile file (SyntaxError: some plugins' "broken file").
IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)
# A hostile TIFF of countless tiny frames must not keep Tesseract busy for hours.
MAX_FRAMES = 500
# Scanners record their true resolution (200-600); 72 and 96 are screen and camera defaults that
# say nothing of the text's size, so below this Tesseract estimates the resolution itself.
MIN_SCAN_DPI = 150


def read_image(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    if options.ocr == "never":
        return failed(path, OCR_OFF)
    try:
        image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1)
        dpi = _scan_dpi(image)
    except IMAGE_ERRORS as error:
        return failed(path, f"not a readable image: {error}")
    built = StructuredText()
    ocr = OcrPages(options.ocr_languages)
    with image:
        for index in range(min(frames, MAX_FRAMES)):
            built.page()
            built.paragraph(ocr.read(index + 1, partial(_frame, image, index), dpi) or "")
    problems = ocr.problems(str(path), whole="image" if frames == 1 else None)
    if frames > MAX_FRAMES:
        reason = f"only the first {MAX_FRAMES} of {frames} frames read"
        problems.append(LoadProblem(str(path), reason))
    if not built.text:
        return LoadResult(problems=problems) if problems else failed(path, "no text found by OCR")
    result = structured(path, "", built, {"ocr_pages": ocr.read_pages})
    result.problems.extend(problems)
    return result


def _scan_dpi(image: Image.Image) -> int | None:
    dpi = image.info.get("dpi")
    resolution = round(float(dpi[0])) if dpi else 0
    return resolution if resolution >= MIN_SCAN_DPI else None


def _frame(image: Image.Image, index: int) -> Image.Image:
    """Frame `index`, decoded; a frame too large to decode safely is an OcrError."""
    try:
        image.seek(index)
        limit = Image.MAX_IMAGE_PIXELS
        pixels = image.width * image.height
        if limit and pixels > limit:
            raise OcrError(
                f"{image.width}×{image.height} pixels, more than Pillow's limit of {limit:,} "
                "(a decompression bomb?)"
            )
        image.load()
    except IMAGE_ERRORS as error:
        raise OcrError(f"cannot be decoded: {error}") from error
    return image
