"""What every format reader shares: its options, and how it hands back documents or problems."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from seoga.errors import InputError
from seoga.text.documents import Document, LoadProblem, LoadResult, is_blank
from seoga.text.formats.structure import StructuredText

OcrMode = Literal["auto", "always", "never"]
OCR_MODES: tuple[str, ...] = ("auto", "always", "never")
# Tesseract's names for the languages of Korean organisations' scans.
DEFAULT_OCR_LANGUAGES = "kor+eng"
_LANGUAGES = re.compile(r"[A-Za-z_]+(?:\+[A-Za-z_]+)*")


@dataclass(frozen=True)
class CsvColumns:
    """Which CSV columns hold a record's id, title and text (id also falls back to `_id`)."""

    id: str = "id"
    title: str = "title"
    text: str = "text"


@dataclass(frozen=True)
class ReadOptions:
    """How files are read (plain data: it travels to pool and Dask workers).

    `ocr`: `auto` reads only pages and images with no text layer through Tesseract, `always`
    every PDF page, `never` none (a scanned page is then reported, not read).
    """

    ocr: OcrMode = "auto"
    ocr_languages: str = DEFAULT_OCR_LANGUAGES
    csv_columns: CsvColumns = CsvColumns()

    def __post_init__(self) -> None:
        if self.ocr not in OCR_MODES:
            raise InputError(f"OCR mode must be one of {', '.join(OCR_MODES)}, not {self.ocr!r}")
        if not _LANGUAGES.fullmatch(self.ocr_languages):
            raise InputError(
                f"OCR languages must be Tesseract names joined by '+' (e.g. kor+eng), "
                f"not {self.ocr_languages!r}"
            )


def failed(path: Path, reason: str) -> LoadResult:
    return LoadResult(problems=[LoadProblem(str(path), reason)])


def single(path: Path, title: str, text: str, metadata: dict[str, Any]) -> LoadResult:
    """One document for a whole file; a file that yields no text (or a blank one) is a problem."""
    if is_blank(text):
        return failed(path, "no text")
    document = Document(
        doc_id=str(path), text=text, title=title, source=str(path), metadata=metadata
    )
    return LoadResult(documents=[document])


def structured(
    path: Path, title: str, built: StructuredText, metadata: dict[str, Any]
) -> LoadResult:
    """One document from built structure: its sections and pages join the metadata."""
    return single(path, title or path.stem, built.text, {**metadata, **built.metadata()})
