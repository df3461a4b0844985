"""OCR of scanned PDF pages and image files through Tesseract.

Tesseract runs as a subprocess (`tesseract`, or the command in `$SEOGA_TESSERACT`) fed a PNG
on stdin, its text read from stdout: no temporary files, and `subprocess.run` kills it when a
page passes its timeout. (pytesseract would add only a temporary file per page and a
module-global command.) A missing binary or missing language data is reported once per
document with what to install, and the document keeps the pages that were read.
"""

import io
import os
import re
import subprocess
from collections import defaultdict
from collections.abc import Callable

from PIL import Image

from seoga.text.documents import LoadProblem
from seoga.text.normalize import normalize_text

TESSERACT_VARIABLE = "SEOGA_TESSERACT"
DEFAULT_TESSERACT = "tesseract"
# Tesseract's models are trained on text scanned at about 300 DPI; less loses Hangul strokes.
OCR_DPI = 300
# Page segmentation: one uniform block of text (6). Tesseract's automatic layout (3, its
# default) lost about half of every made-up Korean page (benchmarks/pdf_readers.py: CER 0.43
# clean and 0.55 scan-like, against 0.026 and 0.026 with 6; 4, one column, 0.051 and 0.020;
# English under 0.001 in all three). The cost: the lines of a two-column scan come out
# interleaved (95% of its characters are still read).
PAGE_SEGMENTATION_MODE = 6
TESSERACT_OPTIONS: tuple[str, ...] = ("--psm", str(PAGE_SEGMENTATION_MODE))
# Tesseract's OpenMP threads spin-wait for each other: on a busy 2-core machine a page took
# 56-71 s with 2 threads and 6-9 s with 1. seoga runs files in parallel instead; a limit the
# user set is kept.
OMP_THREAD_LIMIT = "1"
# A dense A4 page takes a few seconds; a hostile image must not hold a run for longer.
PAGE_TIMEOUT_SECONDS = 120
# The PNG only travels through a pipe: the fastest compression is the cheapest there.
PNG_COMPRESS_LEVEL = 1
PNG_MODES = ("1", "L", "RGB")
WHITE = "white"
# eng comes with the tesseract-ocr package; every other language is a package of its own.
BUNDLED_LANGUAGES = ("eng", "osd")
# What Tesseract prints, exit status 0 or not, for a language it has no data for.
_MISSING_LANGUAGE = re.compile(r"Failed loading language '([^']+)'")


class OcrError(Exception):
    """Why a page was not read, in words for the user. `lasting`: the cause (no Tesseract, no
    language data) holds for every page, so the pages after it are not tried."""

    def __init__(self, reason: str, *, lasting: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lasting = lasting


def tesseract_command() -> str:
    return os.environ.get(TESSERACT_VARIABLE) or DEFAULT_TESSERACT


def install_hint(languages: str) -> str:
    """The Debian/Ubuntu command that installs Tesseract with data for `languages`."""
    packages = ["tesseract-ocr"] + [
        f"tesseract-ocr-{language.lower().replace('_', '-')}"
        for language in languages.split("+")
        if language and language not in BUNDLED_LANGUAGES
    ]
    return "apt-get install " + " ".join(packages)


def recognise(
    image: Image.Image,
    languages: str,
    dpi: int | None = OCR_DPI,
    options: tuple[str, ...] = TESSERACT_OPTIONS,
) -> str:
    """The text Tesseract reads in `image`, normalised; raises OcrError. `dpi`: the
    resolution the image was rendered or scanned at (None lets Tesseract estimate it)."""
    try:
        png = _png(image)
    except (OSError, ValueError) as error:
        raise OcrError(f"the image cannot be handed to Tesseract: {error}") from error
    command = [tesseract_command(), "stdin", "stdout", "-l", languages, *options]
    if dpi:
        command += ["--dpi", str(dpi)]
    environment = {"OMP_THREAD_LIMIT": OMP_THREAD_LIMIT, **os.environ}
    try:
        done = subprocess.run(
            command,
            input=png,
            capture_output=True,
            timeout=PAGE_TIMEOUT_SECONDS,
            env=environment,
            check=False,
        )
    except FileNotFoundError as error:
        reason = f"Tesseract is not installed ({error.filename} not found); install it: "
        raise OcrError(reason + install_hint(languages), lasting=True) from error
    except subprocess.TimeoutExpired as error:
        raise OcrError(f"OCR took longer than {PAGE_TIMEOUT_SECONDS} s") from error
    except OSError as error:
        raise OcrError(f"Tesseract could not be run: {error}", lasting=True) from error
    errors = done.stderr.decode("utf-8", "replace")
    # With one of several languages missing Tesseract still exits 0, reading with the others.
    missing = _MISSING_LANGUAGE.findall(errors)
    if missing:
        reason = f"Tesseract has no language data for {', '.join(missing)}; install it: "
        raise OcrError(reason + install_hint(languages), lasting=True)
    if done.returncode:
        last_line = errors.strip().splitlines()[-1] if errors.strip() else ""
        raise OcrError(f"Tesseract failed (exit status {done.returncode}): {last_line}")
    return clean_ocr_text(done.stdout.decode("utf-8", "replace"))


def _png(image: Image.Image) -> bytes:
    """The image as PNG on white. Always our own encoding: Tesseract takes stdin that is not an
    image for a list of file names to read."""
    if image.mode in ("LA", "RGBA", "PA") or "transparency" in image.info:
        # Transparent pixels would reach Tesseract as black, hiding dark text.
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode not in PNG_MODES:
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def clean_ocr_text(text: str) -> str:
    """Normalised OCR output without lines that hold no letter or digit: specks and edges of a
    scan read as "|", "—" or "'"."""
    lines = normalize_text(text).split("\n")
    kept = [line for line in lines if not line or any(c.isalnum() for c in line)]
    return normalize_text("\n".join(kept))


def page_label(pages: list[int]) -> str:
    """ "page 3", "pages 1-4, 7": runs of consecutive pages are shortened."""
    runs: list[list[int]] = []
    for page in sorted(pages):
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    parts = [f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs]
    return ("page " if len(pages) == 1 else "pages ") + ", ".join(parts)


class OcrPages:
    """OCR of a document's pages in turn, remembering which were read and why the others were
    not. Once a lasting cause appears (no Tesseract), later pages are reported, not tried."""

    def __init__(self, languages: str) -> None:
        self.languages = languages
        self.read_pages: list[int] = []
        self.failures: dict[str, list[int]] = defaultdict(list)
        self._lasting: str | None = None

    def read(
        self, number: int, render: Callable[[], Image.Image], dpi: int | None = OCR_DPI
    ) -> str | None:
        """Page `number`'s text, or None when it could not be read (recorded). `render` makes
        the image only when it is needed; it may raise OcrError."""
        if self._lasting:
            self.failures[self._lasting].append(number)
            return None
        try:
            text = recognise(render(), self.languages, dpi)
        except OcrError as error:
            self.failures[error.reason].append(number)
            if error.lasting:
                self._lasting = error.reason
            return None
        self.read_pages.append(number)
        return text

    def problems(self, path: str, whole: str | None = None) -> list[LoadProblem]:
        """One problem per cause, naming its pages; `whole` names a one-page file instead
        ("image")."""
        return [
            LoadProblem(path, f"{whole or page_label(pages)} not read by OCR: {reason}")
            for reason, pages in self.failures.items()
        ]
