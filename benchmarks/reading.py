"""Reading documents: seoga's readers beside the peers that install from PyPI, format by format,
and what table structure buys retrieval.

Run from the repository root (about 4 minutes on 2 cores; the peers are the `peers-docs` extra):
    flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/reading.py
Writes benchmarks/results/reading.json (config, seed, versions, every figure) and the "Reading
documents" section of BENCHMARKS.md; `--no-report` only prints.

1. Per format, files/s, MB/s and text recall against a reference reading, failures counted:
   - HWP and HWPX: the files of ../shared/data/office_docs, read in place; the reference is the
     preview each file carries (HWP `PrvText`, HWPX `Preview/PrvText.txt`: the first ~1,000
     characters, the `<…>` around table cells taken off);
   - DOCX, PPTX, XLSX: made here with python-docx, python-pptx and openpyxl (seeded Korean and
     English paragraphs, headings, headers, tables, slides with notes, sheets); the reference is
     every paragraph, cell and note text the making library holds;
   - PDF: made by benchmarks/pdf_readers.py's makers (reportlab CID fonts, and Chromium with
     Nanum when installed); the reference is the paragraphs printed;
   - OCR: pages rendered from known text (pdf_readers.scanned_page, clean and scan-like); the
     character error rate (pdf_readers.cer) and recall.
   Recall is the share of the reference's character bigrams, taken inside words (runs of letters
   and digits, so spacing, punctuation and table separators do not count; a one-letter word
   counts as itself), found in the reader's text, as bags (a bigram twice in the reference must
   be found twice); averaged over the files with a non-empty reference, a failed file scoring 0.
2. Retrieval on structure: rounds of 30 generated HWP documents (tests/hwp_files.py records),
   each with tables of Korean values as in public documents (사업명/예산/담당 부서…,
   구분/일정/담당…, 항목/내용, label | value without a header row), among the shared HWP/HWPX
   files; queries name a column's header (or a row's label) and a cell's value, a pair found in
   one document only while the value itself is in two or more, so the value alone does not find
   the document. The same files are indexed BM25-only as each reader reads them (and as a
   flattening of the same cells: rows of values, the header row once); hit@1 and MRR@10.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import platform
import re
import statistics
import sys
import tempfile
import time
import traceback
import types
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from random import Random

from benchmarks.report import DATA, ROOT, machine_line, write_section
from seoga.text.loaders import SUPPORTED_SUFFIXES, load_file

HEADING = "## Reading documents"
COMMAND = "flock /tmp/seoga-heavy.lock env PYTHONPATH=. python benchmarks/reading.py"
RESULTS = ROOT / "benchmarks" / "results" / "reading.json"
OFFICE_DOCS = DATA / "office_docs"
HWP_PREVIEW = "PrvText"
HWPX_PREVIEW = "Preview/PrvText.txt"
SEOGA = "seoga"
MB = 1024 * 1024
SECONDS_PER_MINUTE = 60
# Ranks past this count as a miss in MRR.
MRR_DEPTH = 10
# Per file and peer, the words a peer reads and seoga does not that the JSON lists.
MISSING_WORDS_KEPT = 12

# --- Scoring ------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
# Words that count when comparing what two readers read: Hangul syllables, Latin, digits (so a
# peer's control codes decoded as CJK ideographs are not taken for text).
_PLAIN_WORD = re.compile(r"[가-힣A-Za-z0-9]{2,}")
_CELL_MARKS = re.compile(r"[<>]")
_KEEP_CONTROLS = "\t\n\r"
_TEXT_CHARACTER = re.compile(r"[가-힣A-Za-z0-9]")
# Failures that only say a file holds no text: counted as empty readings, not as failures.
NO_TEXT_REASONS = {"no text", "텍스트 추출 실패: 빈 내용"}


def word_bigrams(text: str) -> Counter:
    """The bag of character bigrams inside the words of `text` (a one-letter word as itself)."""
    found: Counter = Counter()
    for word in _WORD.findall(unicodedata.normalize("NFC", text)):
        if len(word) == 1:
            found[word] += 1
        else:
            found.update(word[i : i + 2] for i in range(len(word) - 1))
    return found


def recall(reference: str, text: str) -> float | None:
    """The share of the reference's word bigrams found in `text`; None for an empty reference."""
    want = word_bigrams(reference)
    if not want:
        return None
    return sum((want & word_bigrams(text)).values()) / sum(want.values())


def stray_controls(text: str) -> int:
    """Control characters other than tab and line breaks: a decoder's leftovers."""
    return sum(
        1 for char in text if unicodedata.category(char) == "Cc" and char not in _KEEP_CONTROLS
    )


def strip_cell_marks(preview: str) -> str:
    """A Hangul preview with the `<`/`>` it writes around table cells taken off."""
    return _CELL_MARKS.sub(" ", preview)


# --- References ---------------------------------------------------------------------------------


def hwp_reference(path: Path) -> str:
    from seoga.text.formats.hwp import preview_text

    return strip_cell_marks(preview_text(path.read_bytes()))


def hwpx_reference(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        if HWPX_PREVIEW not in archive.namelist():
            return ""
        raw = archive.read(HWPX_PREVIEW)
    for encoding in ("utf-8", "utf-16"):
        with contextlib.suppress(UnicodeDecodeError):
            return strip_cell_marks(raw.decode(encoding))
    return ""


# --- Readers ------------------------------------------------------------------------------------


class ReadError(Exception):
    """A reader gave no text for a file (its own words as the reason)."""


Reader = Callable[[Path], str]


def seoga_reader(options=None) -> Reader:
    def read(path: Path) -> str:
        result = load_file(path, options=options)
        if not result.documents:
            reason = "; ".join(problem.reason for problem in result.problems) or "no documents"
            raise ReadError(reason)
        return "\n\n".join(document.text for document in result.documents)

    return read


@dataclass
class Peer:
    """A reader from PyPI: its distribution (for version and license) and its readers by format."""

    name: str
    distribution: str
    make: Callable[[], dict[str, Reader]]
    note: str = ""
    readers: dict[str, Reader] = field(default_factory=dict)
    error: str = ""


def _quiet(read: Callable[[str], str]) -> Reader:
    """A peer's reader with its logging and printing kept off the benchmark's output."""

    def call(path: Path) -> str:
        logging.disable(logging.CRITICAL)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                return read(str(path))
        finally:
            logging.disable(logging.NOTSET)

    return call


def _llama_index_hwp() -> dict[str, Reader]:
    """LlamaIndex's HWPReader, its own code; llama-index-core (about 30 packages) is not
    installed, so the two classes the reader imports are stood in for when it is absent."""
    try:
        import llama_index.core.readers.base  # noqa: F401
    except ImportError:

        class BaseReader:
            def __init__(self, *args, **kwargs) -> None:
                pass

        class Document:
            def __init__(self, text: str = "", extra_info: dict | None = None) -> None:
                self.text = text
                self.extra_info = extra_info or {}

        stand_ins = {
            "llama_index.core": {},
            "llama_index.core.readers": {},
            "llama_index.core.readers.base": {"BaseReader": BaseReader},
            "llama_index.core.schema": {"Document": Document},
        }
        for name, members in stand_ins.items():
            module = types.ModuleType(name)
            module.__dict__.update(members)
            sys.modules.setdefault(name, module)
    from llama_index.readers.hwp.base import HWPReader

    return {"hwp": _quiet(lambda path: HWPReader().load_data(Path(path))[0].text)}


def _gethwp() -> dict[str, Reader]:
    import gethwp

    return {"hwp": _quiet(gethwp.read_hwp), "hwpx": _quiet(gethwp.read_hwpx)}


def _extract_hwp() -> dict[str, Reader]:
    import extract_hwp

    def read(path: str) -> str:
        text, error = extract_hwp.extract_text_from_hwp(path)
        if error and not text:
            raise ReadError(error)
        return text

    return {"hwp": _quiet(read), "hwpx": _quiet(read)}


def _hwp_hwpx_parser() -> dict[str, Reader]:
    import hwp_hwpx_parser

    def read(path: str) -> str:
        with hwp_hwpx_parser.Reader(path) as reader:
            return reader.text

    return {"hwp": _quiet(read), "hwpx": _quiet(read)}


def _python_hwpx() -> dict[str, Reader]:
    from hwpx.tools.text_extractor import TextExtractor

    def read(path: str) -> str:
        with TextExtractor(path) as extractor:
            return extractor.extract_text()

    return {"hwpx": _quiet(read)}


def _markitdown() -> dict[str, Reader]:
    from markitdown import MarkItDown

    converter = MarkItDown(enable_plugins=False)
    read = _quiet(lambda path: converter.convert(path).text_content)
    return {kind: read for kind in ("docx", "pptx", "xlsx", "pdf")}


PEERS = (
    Peer("markitdown", "markitdown", _markitdown, "markitdown[docx,pptx,xlsx,pdf]"),
    Peer(
        "llama-index-readers-hwp",
        "llama-index-readers-hwp",
        _llama_index_hwp,
        "installed with --no-deps: llama-index-core stood in for (BaseReader, Document)",
    ),
    Peer("gethwp", "gethwp", _gethwp),
    Peer("extract-hwp", "extract-hwp", _extract_hwp),
    Peer("hwp-hwpx-parser", "hwp-hwpx-parser", _hwp_hwpx_parser),
    Peer("python-hwpx", "python-hwpx", _python_hwpx),
)
# Tried and left out (recorded with the results; see the report).
PEERS_LEFT_OUT = {
    "helper-hwp 0.5.6 (Apache-2.0)": "imports fail without helper-md-doc and playwright, which it "
    "does not declare; helper-md-doc would downgrade Pillow 13 to 11.3 and pulls Chromium",
    "hwplib-py 1.0.0 (Apache-2.0)": "its HWP 5 engine does not import (hwplib.hwp5.core.defs is "
    "missing from the wheel); its HWPX loader keeps version.xml only, no text",
    "pyhwp": "AGPL-3.0: not tried",
}


def license_of(distribution: str) -> str:
    found = metadata.metadata(distribution)
    expression = found.get("License-Expression") or found.get("License") or ""
    if expression and len(expression) < len("Apache License 2.0, see LICENSE"):
        return expression
    classifiers = [c for c in found.get_all("Classifier") or [] if c.startswith("License ::")]
    return classifiers[0].split(" :: ")[-1] if classifiers else expression[:40] or "unknown"


def load_peers() -> dict:
    """Import every peer; the ones that fail are kept with their reason."""
    found = {}
    for peer in PEERS:
        entry: dict = {"note": peer.note}
        try:
            entry["version"] = metadata.version(peer.distribution)
            entry["license"] = license_of(peer.distribution)
            peer.readers = peer.make()
            entry["formats"] = sorted(peer.readers)
        except Exception as error:  # noqa: BLE001 - any import failure is a finding
            peer.error = f"{type(error).__name__}: {error}"
            entry["error"] = peer.error
        found[peer.name] = entry
    return found


# --- Measuring ----------------------------------------------------------------------------------


@dataclass
class Sample:
    """One file to read and its reference reading."""

    path: Path
    reference: str


def measure(read: Reader, samples: list[Sample], repeats: int) -> tuple[dict, dict[str, str]]:
    """Speed (median over `repeats` passes over all files), recall and failures of one reader;
    also its text per file (from the first pass)."""
    texts: dict[str, str] = {}
    failures: Counter = Counter()
    seconds = []
    for repeat in range(repeats):
        started = time.perf_counter()
        for sample in samples:
            try:
                text = read(sample.path)
            except Exception as error:  # noqa: BLE001 - a reader's failure is counted
                reason = str(error) if isinstance(error, ReadError) else repr(error)
                if repeat == 0 and reason in NO_TEXT_REASONS:
                    texts[str(sample.path)] = ""
                elif repeat == 0:
                    failures[reason[:160]] += 1
                continue
            if repeat == 0:
                texts[str(sample.path)] = text or ""
        seconds.append(time.perf_counter() - started)
    elapsed = statistics.median(seconds)
    size = sum(sample.path.stat().st_size for sample in samples)
    per_file = {
        sample.path.name: score
        for sample in samples
        if (score := recall(sample.reference, texts.get(str(sample.path), ""))) is not None
    }
    scores = list(per_file.values())
    empty = sum(1 for text in texts.values() if not _TEXT_CHARACTER.search(text))
    return {
        "files": len(samples),
        "failures": sum(failures.values()),
        "empty": empty,
        "failure_reasons": dict(failures),
        "seconds": elapsed,
        "files_per_s": len(samples) / elapsed if elapsed else None,
        "mb_per_s": size / MB / elapsed if elapsed else None,
        "recall": statistics.mean(scores) if scores else None,
        "recall_files": len(scores),
        "chars_per_file": statistics.mean(len(t) for t in texts.values()) if texts else 0,
        "stray_controls_per_file": (
            statistics.mean(stray_controls(t) for t in texts.values()) if texts else 0
        ),
        "recall_per_file": per_file,
    }, texts


def missing_versus_peers(seoga_texts: dict[str, str], peer_texts: dict[str, dict]) -> dict:
    """Per file, the words each peer reads that seoga's text does not hold anywhere."""
    found: dict = {}
    paths = set(seoga_texts).union(*peer_texts.values())
    for path in sorted(paths):
        compact = "".join(seoga_texts.get(path, "").split())
        for peer, texts in peer_texts.items():
            words = _PLAIN_WORD.findall(texts.get(path, ""))
            missing = list(dict.fromkeys(word for word in words if word not in compact))
            if missing:
                found.setdefault(Path(path).name, {})[peer] = {
                    "count": len(missing),
                    "words": missing[:MISSING_WORDS_KEPT],
                }
    return found


def run_format(kind: str, samples: list[Sample], readers: dict[str, Reader], repeats: int) -> dict:
    rows, texts = {}, {}
    for name, read in readers.items():
        try:
            rows[name], texts[name] = measure(read, samples, repeats)
        except Exception as error:  # noqa: BLE001 - one reader's crash is reported
            rows[name] = {"error": f"{type(error).__name__}: {error}"}
        print(f"  {kind:6} {name:26} {_brief(rows[name])}", flush=True)
    found: dict = {"readers": rows}
    if SEOGA in texts:
        peers = {name: found for name, found in texts.items() if name != SEOGA}
        found["seoga_missing"] = missing_versus_peers(texts[SEOGA], peers)
    return found


def _brief(row: dict) -> str:
    if "error" in row:
        return row["error"]
    score = "-" if row["recall"] is None else f"{row['recall']:.3f}"
    return (
        f"{row['files'] - row['failures']}/{row['files']} read, "
        f"{row['files_per_s']:.1f} files/s, recall {score}"
    )


# --- Generated text -----------------------------------------------------------------------------

DEPARTMENTS = (
    "정보화담당관", "총무과", "기획예산과", "민원봉사과", "문화관광과", "환경정책과",
    "도시계획과", "복지정책과", "안전총괄과", "교육지원과", "일자리경제과", "건축과", "도로과",
    "보건소", "감사실",
)  # fmt: skip
PLACES = (
    "스마트 도서관", "공공 와이파이", "노후 청사", "전자문서 시스템", "하천 정비",
    "CCTV 통합관제", "주민센터", "청소년 수련관", "어린이 놀이터", "전기차 충전소",
    "공영 주차장", "재난 안전 통신망", "빅데이터 플랫폼", "농산물 직판장", "평생학습관",
    "둘레길", "경로당",
)  # fmt: skip
ACTIONS = ("구축", "확대", "보수", "고도화", "정비", "신설", "운영", "리모델링")
NAMES = (
    "김민수", "이서연", "박지훈", "최수진", "정하늘", "강도윤", "조예린", "윤재현", "장미경",
    "임태호", "한지민", "오세영", "서동욱", "신유나", "권혁준", "황보라", "송민재", "류지아",
)  # fmt: skip
POSITIONS = ("위원장", "부위원장", "위원", "간사")
ROLES = ("심사", "자문", "평가", "총괄", "검토", "현장 확인")
STAGES = (
    "사업 공고", "계약 체결", "착수 보고", "설계", "중간 보고", "시공", "현장 점검", "준공",
    "최종 보고", "만족도 조사", "결과 공개", "정산",
)  # fmt: skip
NOTES = ("국비 매칭", "계속 사업", "신규 사업", "공모 선정", "추경 반영", "시비 전액", "-")
AMOUNT_UNITS = ("억원", "천만원")
AMOUNT_DIGITS = 9
MONTHS = 12
YEAR = 2025


def project(rng: Random) -> str:
    return f"{rng.choice(PLACES)} {rng.choice(ACTIONS)}"


def amount(rng: Random) -> str:
    return f"{rng.randint(1, AMOUNT_DIGITS)}{rng.choice(AMOUNT_UNITS)}"


def period(rng: Random) -> str:
    start = rng.randint(1, MONTHS - 1)
    return f"{YEAR}. {start}. ~ {YEAR}. {rng.randint(start + 1, MONTHS)}."


def month(rng: Random) -> str:
    return f"{YEAR}. {rng.randint(1, MONTHS)}."


def phone(rng: Random) -> str:
    return f"02-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}"


def korean_sentence(rng: Random) -> str:
    templates = (
        "{p} 사업은 {d}에서 {t} 동안 추진한다.",
        "{d}는 {p}의 예산 {a}을 편성하고 집행 계획을 보고하였다.",
        "주민 의견을 반영하여 {p} 계획을 {t}에 보완할 예정이다.",
        "{p} 추진 상황은 분기마다 {d}에 제출한다.",
        "관련 문의는 {d}({n})로 하면 된다.",
    )
    return rng.choice(templates).format(
        p=project(rng), d=rng.choice(DEPARTMENTS), t=period(rng), a=amount(rng), n=phone(rng)
    )


def english_sentence(rng: Random) -> str:
    who = ("The committee", "The city office", "Each department", "The project team")
    did = ("approved", "reviewed", "published", "postponed", "revised")
    what = ("the annual budget", "the public Wi-Fi plan", "the library upgrade", "the survey")
    when = ("in March 2025.", "after the hearing.", "without delay.", "on schedule.")
    return " ".join(rng.choice(words) for words in (who, did, what, when))


def paragraph_text(rng: Random, sentences: int, english_share: float) -> str:
    return " ".join(
        english_sentence(rng) if rng.random() < english_share else korean_sentence(rng)
        for _ in range(sentences)
    )


# --- Tables like those of Korean public documents ------------------------------------------------


@dataclass
class Template:
    """A table: its title, its column headers and how each column's values are drawn; a key/value
    table has its row labels in `labels` and one value column, under a header row (항목/내용)
    or none (`columns` empty), as the summary tables of Korean public documents often are."""

    title: str
    columns: tuple[str, ...]
    values: tuple[Callable[[Random], str], ...]
    labels: tuple[str, ...] = ()


def _pick(pool: tuple[str, ...]) -> Callable[[Random], str]:
    return lambda rng: rng.choice(pool)


TEMPLATES = (
    Template(
        "사업 현황",
        ("사업명", "예산", "담당 부서", "추진 기간"),
        (project, amount, _pick(DEPARTMENTS), period),
    ),
    Template(
        "추진 일정",
        ("구분", "일정", "담당", "비고"),
        (_pick(STAGES), month, _pick(DEPARTMENTS), _pick(NOTES)),
    ),
    Template(
        "예산 집행 현황",
        ("세부 사업", "예산액", "집행액", "주관 부서"),
        (project, amount, amount, _pick(DEPARTMENTS)),
    ),
    Template(
        "위원 명단",
        ("성명", "소속", "직위", "역할"),
        (_pick(NAMES), _pick(DEPARTMENTS), _pick(POSITIONS), _pick(ROLES)),
    ),
    Template(
        "사업 개요",
        ("항목", "내용"),
        (project, period, amount, _pick(DEPARTMENTS), _pick(DEPARTMENTS), phone),
        ("사업명", "사업 기간", "총 예산", "담당 부서", "협조 부서", "문의처"),
    ),
    Template(
        "추진 개요",
        (),
        (project, amount, _pick(DEPARTMENTS), period, _pick(NAMES)),
        ("사업명", "예산", "담당 부서", "추진 기간", "담당자"),
    ),
)
KEY_VALUE = "key/value under 항목/내용"
BARE_KEY_VALUE = "key/value, no header row"
COLUMNS = "column headers"
KINDS = (COLUMNS, KEY_VALUE, BARE_KEY_VALUE)
# Rows of a column table past this one are apart from the header row in a flattened reading
# once the table fills more than a chunk.
DEEP_ROW = 10
NEAR_HEADER = f"column headers, rows 1–{DEEP_ROW}"
FAR_FROM_HEADER = f"column headers, rows {DEEP_ROW + 1}+"
GROUPS = (NEAR_HEADER, FAR_FROM_HEADER, KEY_VALUE, BARE_KEY_VALUE)
TABLE_ROWS = (6, 40)
TABLES_PER_DOCUMENT = (1, 2)
INTRO_SENTENCES = (2, 4)


@dataclass
class TableDocument:
    name: str
    intro: list[str]
    tables: list[tuple[Template, list[list[str]]]]

    def pairs(self) -> Iterator[tuple[str, str, str, int]]:
        """(header, value, table kind, row) of every cell: a column's header or a row's label."""
        for template, rows in self.tables:
            if template.labels:
                kind = KEY_VALUE if template.columns else BARE_KEY_VALUE
                for number, (label, value) in enumerate(rows[1:] if template.columns else rows):
                    yield label, value, kind, number + 1
            else:
                for number, row in enumerate(rows[1:]):
                    for header, value in zip(template.columns, row, strict=True):
                        yield header, value, COLUMNS, number + 1

    def flattened(self) -> str:
        """The same words without the structure: each row's cells joined by spaces, the header
        row once (as readers that list cells give them)."""
        blocks = []
        for intro, (template, rows) in zip(self.intro, self.tables, strict=True):
            blocks += [intro, template.title, "\n".join(" ".join(row) for row in rows)]
        return "\n\n".join(blocks)


def table_documents(rng: Random, count: int, prefix: str) -> list[TableDocument]:
    documents = []
    for number in range(count):
        tables = []
        for template in rng.sample(TEMPLATES, rng.randint(*TABLES_PER_DOCUMENT)):
            if template.labels:
                rows = [list(template.columns)] if template.columns else []
                rows += [
                    [label, draw(rng)]
                    for label, draw in zip(template.labels, template.values, strict=True)
                ]
            else:
                rows = [list(template.columns)] + [
                    [draw(rng) for draw in template.values] for _ in range(rng.randint(*TABLE_ROWS))
                ]
            tables.append((template, rows))
        intro = [
            paragraph_text(rng, rng.randint(*INTRO_SENTENCES), 0.0) for _ in range(len(tables))
        ]
        documents.append(TableDocument(f"{prefix}-{number:02d}", intro, tables))
    return documents


@dataclass(frozen=True, order=True)
class Query:
    header: str
    value: str
    target: int  # the document's index
    kind: str  # one of KINDS
    row: int  # the value's row in its table, 1 for the first under the header

    @property
    def text(self) -> str:
        return f"{self.header} {self.value}"

    @property
    def group(self) -> str:
        """The kind of table, and for column tables whether the row is near the header."""
        if self.kind != COLUMNS:
            return self.kind
        return NEAR_HEADER if self.row <= DEEP_ROW else FAR_FROM_HEADER


def structure_queries(documents: list[TableDocument], rng: Random, count: int) -> list[Query]:
    """Header + value pairs found in one document only, whose value is found in two documents
    or more; `count` of them, seeded."""
    pair_documents: dict[tuple[str, str], set[int]] = {}
    value_documents: dict[str, set[int]] = {}
    places: dict[tuple[str, str], tuple[str, int]] = {}  # the table kind and the first row
    for index, document in enumerate(documents):
        for header, value, kind, row in document.pairs():
            pair_documents.setdefault((header, value), set()).add(index)
            value_documents.setdefault(value, set()).add(index)
            places.setdefault((header, value), (kind, row))
    chosen = sorted(
        Query(header, value, next(iter(found)), *places[header, value])
        for (header, value), found in pair_documents.items()
        if len(found) == 1 and len(value_documents[value]) > 1
    )
    return rng.sample(chosen, min(count, len(chosen)))


# Hangul's summary information stream: a property set with no properties (LlamaIndex's reader
# asks for the stream to be there).
SUMMARY_STREAM = "\x05HwpSummaryInformation"
PROPERTY_SET_BYTE_ORDER = 0xFFFE
PROPERTY_SET_HEADER = 48


def empty_property_set() -> bytes:
    import struct

    header = struct.pack("<HHI16sI", PROPERTY_SET_BYTE_ORDER, 0, 0, bytes(16), 1)
    section = struct.pack("<II", 8, 0)
    return header + bytes(16) + struct.pack("<I", PROPERTY_SET_HEADER) + section


def hwp_bytes(document: TableDocument) -> bytes:
    """The document as an HWP 5 file (tests/hwp_files.py's records), tables as `tbl ` controls."""
    from tests.hwp_files import compound_file, extended_control, file_header, paragraph, table

    body = b""
    for intro, (template, rows) in zip(document.intro, document.tables, strict=True):
        body += paragraph(0, intro) + paragraph(0, template.title)
        body += paragraph(0, extended_control(11, "tbl "), controls=[table(rows)])

    def deflate(data: bytes) -> bytes:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return compressor.compress(data) + compressor.flush()

    return compound_file(
        {
            "FileHeader": file_header(1),
            "DocInfo": deflate(b""),
            SUMMARY_STREAM: empty_property_set(),
            "Section0": deflate(body),
        }
    )


# --- Office files -------------------------------------------------------------------------------

OFFICE_FILES = 12
OFFICE_SECTIONS = (2, 4)
OFFICE_PARAGRAPHS = (2, 4)
OFFICE_SENTENCES = (2, 5)
ENGLISH_SHARE = 0.25
SLIDES = (4, 8)
SLIDE_BULLETS = (2, 4)
SHEETS = (1, 3)
SHEET_ROWS = (10, 40)
NESTED_ROWS = 2


def table_rows(rng: Random) -> list[list[str]]:
    template = rng.choice([t for t in TEMPLATES if not t.labels])
    rows = [list(template.columns)]
    rows += [[draw(rng) for draw in template.values] for _ in range(rng.randint(*TABLE_ROWS))]
    return rows


def make_docx(rng: Random, path: Path) -> str:
    import docx

    document = docx.Document()
    texts = []
    title = f"{project(rng)} 추진 계획"
    document.add_heading(title, 0)
    texts.append(title)
    header = f"{rng.choice(DEPARTMENTS)} 내부 검토용"
    document.sections[0].header.paragraphs[0].text = header
    texts.append(header)
    for number in range(rng.randint(*OFFICE_SECTIONS)):
        heading = f"{number + 1}. {rng.choice(STAGES)}"
        document.add_heading(heading, 1)
        texts.append(heading)
        for _ in range(rng.randint(*OFFICE_PARAGRAPHS)):
            text = paragraph_text(rng, rng.randint(*OFFICE_SENTENCES), ENGLISH_SHARE)
            document.add_paragraph(text)
            texts.append(text)
        if rng.random() < 1 / 2:
            rows = table_rows(rng)
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for cells, row in zip(table.rows, rows, strict=True):
                for cell, value in zip(cells.cells, row, strict=True):
                    cell.text = value
            texts += [value for row in rows for value in row]
            # A table in a cell, as Korean forms nest them: a label and a value per row.
            nested = table.rows[-1].cells[-1].add_table(rows=NESTED_ROWS, cols=2)
            for cells in nested.rows:
                pair = [rng.choice(STAGES), rng.choice(DEPARTMENTS)]
                for cell, value in zip(cells.cells, pair, strict=True):
                    cell.text = value
                texts += pair
    document.save(path)
    return "\n".join(texts)


def make_pptx(rng: Random, path: Path) -> str:
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    texts = []
    for number in range(rng.randint(*SLIDES)):
        title = f"{number + 1}. {project(rng)}"
        if number % 3 == 2:
            slide = presentation.slides.add_slide(presentation.slide_layouts[5])
            slide.shapes.title.text = title
            rows = table_rows(rng)[: rng.randint(*SLIDE_BULLETS) + 2]
            shape = slide.shapes.add_table(
                len(rows), len(rows[0]), Inches(0.5), Inches(1.5), Inches(9), Inches(4)
            )
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = value
            texts += [title] + [value for row in rows for value in row]
        else:
            slide = presentation.slides.add_slide(presentation.slide_layouts[1])
            slide.shapes.title.text = title
            bullets = [
                paragraph_text(rng, 1, ENGLISH_SHARE) for _ in range(rng.randint(*SLIDE_BULLETS))
            ]
            slide.placeholders[1].text_frame.text = "\n".join(bullets)
            texts += [title, *bullets]
            # Two captions grouped, as a diagram's labels are.
            group = slide.shapes.add_group_shape()
            for offset in range(2):
                caption = f"{rng.choice(STAGES)}: {rng.choice(DEPARTMENTS)}"
                box = group.shapes.add_textbox(
                    Inches(1 + 4 * offset), Inches(6), Inches(3), Inches(0.5)
                )
                box.text_frame.text = caption
                texts.append(caption)
        notes = paragraph_text(rng, rng.randint(*OFFICE_SENTENCES), ENGLISH_SHARE)
        slide.notes_slide.notes_text_frame.text = notes
        texts.append(notes)
    presentation.save(path)
    return "\n".join(texts)


def make_xlsx(rng: Random, path: Path) -> str:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    texts = []
    for number in range(rng.randint(*SHEETS)):
        sheet = workbook.create_sheet(f"{YEAR}-{number + 1}")
        rows = table_rows(rng)[: rng.randint(*SHEET_ROWS)]
        rows[0].append("순번")
        for index, row in enumerate(rows[1:], start=1):
            row.append(index)
        for row in rows:
            sheet.append(row)
        texts += [str(value) for row in rows for value in row]
    workbook.save(path)
    return "\n".join(texts)


MAKERS = {"docx": make_docx, "pptx": make_pptx, "xlsx": make_xlsx}


# --- Sections -----------------------------------------------------------------------------------


def shared_samples(kind: str) -> list[Sample]:
    reference = hwp_reference if kind == "hwp" else hwpx_reference
    return [
        Sample(path, reference(path)) for path in sorted((OFFICE_DOCS / kind).glob(f"*.{kind}"))
    ]


def readers_for(kind: str, peers: tuple[Peer, ...], suffix: str) -> dict[str, Reader]:
    readers: dict[str, Reader] = {}
    if suffix in SUPPORTED_SUFFIXES:
        readers[SEOGA] = seoga_reader()
    for peer in peers:
        if kind in peer.readers:
            readers[peer.name] = peer.readers[kind]
    return readers


def guarded(name: str, run: Callable[[], dict]) -> dict:
    """A section's results, or what stopped it (the other sections still run)."""
    started = time.perf_counter()
    try:
        found = run()
    except Exception as error:  # noqa: BLE001 - a section's failure is reported, not raised
        traceback.print_exc()
        found = {"error": f"{type(error).__name__}: {error}"}
    found["section_seconds"] = time.perf_counter() - started
    print(f"{name}: {found['section_seconds']:.0f} s", flush=True)
    return found


def run_office(kind: str, work: Path, args) -> dict:
    rng = Random(f"{args.seed}-{kind}")
    folder = work / kind
    folder.mkdir()
    samples = []
    for number in range(args.office_files):
        path = folder / f"{kind}-{number:02d}.{kind}"
        samples.append(Sample(path, MAKERS[kind](rng, path)))
    found = run_format(kind, samples, readers_for(kind, PEERS, f".{kind}"), args.repeats)
    if f".{kind}" not in SUPPORTED_SUFFIXES:
        found["seoga"] = f"seoga does not read .{kind} (yet)"
    return found


def run_pdf(work: Path, args) -> dict:
    from benchmarks.pdf_readers import make_pdfs

    rng = Random(f"{args.seed}-pdf")
    folder = work / "pdf"
    folder.mkdir()
    samples = []
    kinds = []
    for round_number in range(args.pdf_rounds):
        for made in make_pdfs(rng, args.pdf_paragraphs):
            path = folder / f"pdf-{len(samples):02d}.pdf"
            path.write_bytes(made.data)
            samples.append(Sample(path, "\n\n".join(made.paragraphs)))
            if round_number == 0:
                kinds.append(made.kind)
    found = run_format("pdf", samples, readers_for("pdf", PEERS, ".pdf"), args.repeats)
    found["makers"] = kinds
    return found


OCR_PAGES = (("Korean", "clean"), ("Korean", "scan-like"), ("English", "scan-like"))
OCR_PARAGRAPHS = 40
# Tesseract's page segmentation: 3 is its default (automatic layout), 6 one block of text.
TESSERACT_MODES = (3, 6)


def run_ocr(work: Path, args) -> dict:
    """Scanned pages of known text: seoga (image files where it reads them, and image-only PDFs),
    Tesseract called directly on the same images, and the PDF peers."""
    import pytesseract

    from benchmarks import pdf_readers as made
    from seoga.text.formats.base import DEFAULT_OCR_LANGUAGES

    font = made.korean_font()
    if font is None:
        return {"error": "no Korean font (scripts/system.sh installs fonts-nanum)"}
    rng = Random(f"{args.seed}-ocr")
    folder = work / "ocr"
    folder.mkdir()
    pages = []
    for number in range(args.ocr_pages):
        language, look = OCR_PAGES[number % len(OCR_PAGES)]
        sentence = made.korean_sentence if language == "Korean" else made.english_sentence
        texts = made.paragraphs(rng, OCR_PARAGRAPHS, sentence)
        scan = Random(rng.random()) if look == "scan-like" else None
        image, reference = made.scanned_page(texts, font, scan_like=scan)
        stem = folder / f"page-{number:02d}"
        image.save(stem.with_suffix(".png"))
        stem.with_suffix(".pdf").write_bytes(made.image_pdf([image]))
        pages.append((f"{language}, {look}", stem, reference))

    def tesseract(mode: int) -> Reader:
        def read(path: Path) -> str:
            from PIL import Image

            with Image.open(path) as image:
                return pytesseract.image_to_string(
                    image, lang=DEFAULT_OCR_LANGUAGES, config=f"--psm {mode}"
                )

        return read

    readers: dict[str, tuple[str, Reader]] = {}
    if ".png" in SUPPORTED_SUFFIXES:
        readers["seoga (PNG)"] = (".png", seoga_reader())
    readers["seoga (image-only PDF)"] = (".pdf", seoga_reader())
    for mode in TESSERACT_MODES:
        name = f"Tesseract alone (pytesseract, kor+eng, --psm {mode}, PNG)"
        readers[name] = (".png", tesseract(mode))
    for peer in PEERS:
        if "pdf" in peer.readers:
            readers[f"{peer.name} (image-only PDF)"] = (".pdf", peer.readers["pdf"])
    from seoga.text.formats import ocr

    found: dict = {
        "pages": [page for page, _, _ in pages],
        "seoga_tesseract_options": " ".join(getattr(ocr, "TESSERACT_OPTIONS", ())),
        "readers": {},
    }
    for name, (suffix, read) in readers.items():
        rows = []
        for page, stem, reference in pages:
            started = time.perf_counter()
            try:
                text, error = read(stem.with_suffix(suffix)), ""
            except Exception as failure:  # noqa: BLE001 - counted as a failed page
                text, error = "", str(failure)[:160]
            rows.append(
                {
                    "page": page,
                    "seconds": time.perf_counter() - started,
                    "cer": made.cer(reference, text),
                    "recall": recall(reference, text),
                    "error": error,
                }
            )
        found["readers"][name] = {
            "pages": rows,
            "cer": statistics.mean(row["cer"] for row in rows),
            "recall": statistics.mean(row["recall"] for row in rows),
            "seconds_per_page": statistics.mean(row["seconds"] for row in rows),
            "failures": sum(1 for row in rows if row["error"]),
        }
        print(f"  ocr    {name:40} CER {found['readers'][name]['cer']:.3f}", flush=True)
    return found


def structure_readings(
    generated: list[TableDocument], paths: list[Path]
) -> dict[str, Callable[[int], str]]:
    """Each way of reading the generated documents, by the document's index."""
    readings: dict[str, Callable[[int], str]] = {
        "seoga (header: value per row)": lambda i: seoga_reader()(paths[i]),
        "flattened (cells joined, header row once)": lambda i: generated[i].flattened(),
    }
    for peer in PEERS:
        if "hwp" in peer.readers:
            read = peer.readers["hwp"]
            readings[f"{peer.name} (its reading)"] = lambda i, read=read: read(paths[i])
    return readings


BARE_TABLE_LINES = 3


def bare_table_reading(generated: list[TableDocument], paths: list[Path]) -> str:
    """seoga's first lines for the first key/value table without a header row."""
    for document, path in zip(generated, paths, strict=True):
        for template, _ in document.tables:
            if template.labels and not template.columns:
                text = seoga_reader()(path)
                after = text[text.find(template.title) + len(template.title) :].strip()
                return "\n".join(after.splitlines()[:BARE_TABLE_LINES])
    return ""


def run_retrieval(work: Path, args) -> dict:
    """Rounds of generated documents, each indexed with the distractors in a collection of its
    own per reading; the queries of all rounds are scored together."""
    from seoga import Collection, CollectionSettings
    from seoga.text.documents import Document

    distractors = []
    for kind in ("hwp", "hwpx"):
        for path in sorted((OFFICE_DOCS / kind).glob(f"*.{kind}")):
            distractors += load_file(path).documents
    settings = CollectionSettings(embedder=None)
    queries: list[Query] = []
    listed: list[list[str]] = []
    ranks: dict[str, list[int | None]] = {}
    chunks: Counter = Counter()
    errors: dict[str, str] = {}
    extra: dict = {}
    for round_number in range(args.retrieval_rounds):
        rng = Random(f"{args.seed}-retrieval-{round_number}")
        generated = table_documents(rng, args.retrieval_documents, f"계획-{round_number}")
        asked = structure_queries(generated, rng, args.queries)
        folder = work / f"retrieval-{round_number}"
        folder.mkdir()
        paths = []
        for document in generated:
            path = folder / f"{document.name}.hwp"
            path.write_bytes(hwp_bytes(document))
            paths.append(path)
        readings = structure_readings(generated, paths)
        if "bare_table_reading" not in extra:
            extra["bare_table_reading"] = bare_table_reading(generated, paths)
        for index, (name, reading) in enumerate(readings.items()):
            if name in errors:
                continue
            try:
                documents = [
                    Document(doc_id=str(path), text=reading(i), title=path.stem, source=str(path))
                    for i, path in enumerate(paths)
                ]
            except Exception as error:  # noqa: BLE001 - a reader that cannot read them is reported
                errors[name] = f"{type(error).__name__}: {error}"
                continue
            collection = Collection.create(folder / f"collection-{index}", settings)
            collection.put_documents(distractors + documents, prefix="")
            chunks[name] += collection.stats()["counts"]["chunks"]
            for query in asked:
                hits = [hit.doc_id for hit in collection.search(query.text, k=MRR_DEPTH)]
                wanted = str(paths[query.target])
                ranks.setdefault(name, []).append(
                    hits.index(wanted) + 1 if wanted in hits else None
                )
        queries += asked
        listed += [[query.text, paths[query.target].name, query.group] for query in asked]
    found: dict = {
        "rounds": args.retrieval_rounds,
        "documents": args.retrieval_documents,
        "distractors": len(distractors),
        "queries": len(queries),
        "query_groups": dict(Counter(query.group for query in queries)),
        "query_examples": query_examples(queries),
        "query_list": listed,
        "readings": {},
        **extra,
    }
    for name, found_ranks in ranks.items():
        if name in errors:
            continue
        found["readings"][name] = {
            "chunks_per_round": chunks[name] / args.retrieval_rounds,
            **ranking_scores(found_ranks),
            "ranks": found_ranks,
            "by_group": {
                group: ranking_scores(
                    [
                        r
                        for r, query in zip(found_ranks, queries, strict=True)
                        if query.group == group
                    ]
                )
                for group in GROUPS
            },
        }
        print(f"  retrieval {name:44} {found['readings'][name]['hit@1']:.3f}", flush=True)
    found["readings"].update({name: {"error": error} for name, error in errors.items()})
    return found


def query_examples(queries: list[Query]) -> list[str]:
    """A query for each header, in the queries' order."""
    found: dict[str, str] = {}
    for query in queries:
        found.setdefault(query.header, query.text)
    return list(found.values())


def compared(ranks: list[int | None], others: list[int | None]) -> tuple[int, int]:
    """On how many queries `ranks` puts the target higher, and on how many lower (a miss is
    below every rank)."""
    worst = MRR_DEPTH + 1
    pairs = [(rank or worst, other or worst) for rank, other in zip(ranks, others, strict=True)]
    return sum(1 for a, b in pairs if a < b), sum(1 for a, b in pairs if a > b)


def ranking_scores(ranks: list[int | None]) -> dict:
    if not ranks:
        return {"queries": 0, "hit@1": None, "mrr@10": None}
    return {
        "queries": len(ranks),
        "hit@1": sum(1 for rank in ranks if rank == 1) / len(ranks),
        "mrr@10": sum(1 / rank for rank in ranks if rank) / len(ranks),
    }


# --- Report -------------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


# Figures this large are shown without decimals.
WHOLE_FROM = 1000


def _number(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < WHOLE_FROM else f"{value:,.0f}"
    return f"{value:,}"


def format_rows(results: dict) -> list[str]:
    lines = [
        "| format | reader | files | failed | empty | files/s | MB/s | recall | chars/file | "
        "stray controls/file |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in ("hwp", "hwpx", "docx", "pptx", "xlsx", "pdf"):
        section = results["formats"].get(kind, {})
        if "error" in section:
            lines.append(f"| {kind} | (section failed: {section['error']}) |" + " |" * 8)
            continue
        for name, row in section.get("readers", {}).items():
            if "error" in row:
                lines.append(f"| {kind} | {name} | crashed: {row['error'][:80]} |" + " |" * 7)
                continue
            lines.append(
                f"| {kind} | {name} | {row['files']} | {row['failures']} | {row['empty']} | "
                f"{_number(row['files_per_s'], 1)} | {_number(row['mb_per_s'], 2)} | "
                f"{_number(row['recall'])} | {_number(row['chars_per_file'], 0)} | "
                f"{_number(row['stray_controls_per_file'], 1)} |"
            )
    return lines


def report(results: dict) -> str:
    config = results["config"]
    lines = [
        "",
        f"`{COMMAND}` — {results['machine']}; {results['cpu']}; seed {config['seed']}; "
        f"{results['minutes']:.1f} minutes in all.",
        "",
        "Recall: the share of a reference reading's character bigrams (inside words, so spacing, "
        "punctuation and table separators do not count) found in the reader's text, as bags, "
        "averaged over the files with a non-empty reference (a failed file scores 0). HWP/HWPX: "
        "the files of ../shared/data/office_docs (pyhwp's and hwpxlib's test files) against the "
        "preview Hangul stores in each (its first ~1,000 characters, table-cell `<>` taken off; "
        "empty in many of these small test files). DOCX/PPTX/XLSX: made here, seeded, against "
        "every paragraph, header, cell and note text the making library holds. PDF: "
        "benchmarks/pdf_readers.py's makers against the printed paragraphs. Speed: from the "
        f"path, median of {config['repeats']} passes over all files. Failed: an exception, or "
        "a problem other than “no text”; empty: no Hangul, Latin letter or digit read; stray "
        "controls: control characters other than tab and line breaks left in the text.",
        "",
        *format_rows(results),
    ]
    lines += ["", *ocr_rows(results), "", *peer_rows(results), "", *retrieval_rows(results)]
    lines += ["", "Findings:", "", *findings(results), "", "Notes:", "", *NOTES]
    bare = results.get("retrieval", {}).get("bare_table_reading")
    if bare:
        rows = bare.splitlines()
        label = rows[0].split(" | ")[0]
        misread = len(rows) > 1 and rows[1].startswith(f"{label}: ")
        lines.append(
            "- A label | value table with no header row (추진 개요), as seoga reads it: "
            + " / ".join(f"“{row}”" for row in rows)
            + (": its first row is taken for a header row." if misread else ".")
        )
    return "\n".join(lines)


# Read by hand in the texts of the 2026-12-07 run (reading.json keeps, per file and peer, the
# words a peer reads that seoga does not): check them against a new run's texts.
NOTES = (
    "- Where peers read more of the HWP/HWPX previews: viewtext.hwp, a distribution document "
    "(배포용), where the peers read the "
    "placeholder Hangul stores in ViewText (“이 문서는 상위 버전의 배포용 문서입니다…”) and "
    "seoga reports the file; reader_writer_ChangeTrack.hwpx, whose preview keeps “추적”, "
    "text deleted under change tracking that seoga leaves out on purpose. (An earlier run "
    "found seoga joining “전 [table] 후” into “전후” in table-position.hwp: the control that "
    "anchors a table or drawing in a line now reads as a space, HWP recall .926 → .963.)",
    "- What only peers read: gethwp's HWPX text is every XML text node, numbering formats "
    "(“^1.”), shapes' generated descriptions (“사각형입니다”), form-field parameters and "
    "equation scripts included (hence no empty files); LlamaIndex's reader and gethwp decode "
    "control codes as characters (stray controls above, plus CJK-looking pairs such as “捤獥” "
    "for the section-definition control); hwp-hwpx-parser writes [IMAGE] for pictures.",
)


def _readers(results: dict, kind: str) -> tuple[dict | None, dict[str, dict]]:
    """seoga's row for a format and the peers' rows that ran."""
    rows = results["formats"].get(kind, {}).get("readers", {})
    rows = {name: row for name, row in rows.items() if "error" not in row}
    return rows.pop(SEOGA, None), rows


def findings(results: dict) -> list[str]:
    """The ratios the tables hold, said in words (computed, so a rerun keeps them true)."""
    lines = []
    for kind in ("hwp", "hwpx"):
        ours, peers = _readers(results, kind)
        if not ours or not peers:
            continue
        fastest = max(peers, key=lambda name: peers[name]["files_per_s"])
        best = max(peers, key=lambda name: peers[name]["recall"] or 0)
        behind = [
            f"{file} ({score:.2f} against {peers[best]['recall_per_file'].get(file, 0):.2f})"
            for file, score in ours["recall_per_file"].items()
            if score < peers[best]["recall_per_file"].get(file, 0)
        ]
        speed = ours["files_per_s"] / peers[fastest]["files_per_s"]
        lines.append(
            f"- {kind.upper()}: seoga at {speed:.2f}× "
            f"the fastest peer's speed ({fastest}) with recall {_number(ours['recall'])} against "
            f"the best peer's {_number(peers[best]['recall'])} ({best}); files where that peer "
            f"finds more of the preview: {', '.join(behind) or 'none'}."
        )
    office = []
    for kind in ("docx", "pptx", "xlsx", "pdf"):
        ours, peers = _readers(results, kind)
        for name, row in peers.items():
            if ours:
                office.append(
                    f"{kind.upper()} {ours['files_per_s'] / row['files_per_s']:.1f}× {name}'s "
                    f"speed (recall {_number(ours['recall'])} against {_number(row['recall'])})"
                )
    if office:
        lines.append(f"- Generated files: seoga at {'; '.join(office)}.")
    ocr_section = results["formats"].get("ocr", {})
    ocr = ocr_section.get("readers", {})
    ours_ocr = next((row for name, row in ocr.items() if name.startswith(SEOGA)), None)
    alone = {name: row for name, row in ocr.items() if name.startswith("Tesseract")}
    if ours_ocr and alone:
        best = min(alone, key=lambda name: alone[name]["cer"])
        pages = [
            f"{mine['page']} {mine['cer']:.3f} against {theirs['cer']:.3f}"
            for mine, theirs in zip(ours_ocr["pages"], alone[best]["pages"], strict=True)
        ]
        lines.append(
            f"- OCR: seoga (Tesseract {ocr_section.get('seoga_tesseract_options', '?')}) reads "
            f"these pages at CER {_number(ours_ocr['cer'])}, {best} at "
            f"{_number(alone[best]['cer'])}; by page: {'; '.join(pages)}."
        )
    readings = results.get("retrieval", {}).get("readings", {})
    ours_reading = next((row for name, row in readings.items() if name.startswith(SEOGA)), None)
    flat = next((row for name, row in readings.items() if name.startswith("flattened")), None)
    if ours_reading and flat and "error" not in flat and flat["hit@1"]:
        groups = [
            f"{group} {_number(ours_reading['by_group'][group]['hit@1'])} against "
            f"{_number(flat['by_group'][group]['hit@1'])}"
            for group in GROUPS
        ]
        lines.append(
            f"- Retrieval on structure: hit@1 {_number(ours_reading['hit@1'])} with seoga's "
            f"reading, {ours_reading['hit@1'] / flat['hit@1']:.2f}× the flattened reading's "
            f"{_number(flat['hit@1'])} (MRR@10 {_number(ours_reading['mrr@10'])} against "
            f"{_number(flat['mrr@10'])}); by kind of cell: {'; '.join(groups)}. The header "
            "repeated on every row helps most far from the header row, but it also weighs the "
            "header words up in long column tables, which then outrank the 항목/내용 table "
            "that holds the pair."
        )
    return lines


def ocr_rows(results: dict) -> list[str]:
    section = results["formats"].get("ocr")
    if not section:
        return []
    if "error" in section:
        return [f"OCR: section failed: {section['error']}"]
    lines = [
        f"OCR: {len(section['pages'])} A4 pages at 300 dpi rendered from known text "
        f"({', '.join(section['pages'])}; pdf_readers.scanned_page); CER is the edit distance "
        "over the reference length, spaces collapsed.",
        "",
        "| reader | pages | failed | CER | recall | s/page |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in section["readers"].items():
        lines.append(
            f"| {name} | {len(row['pages'])} | {row['failures']} | {_number(row['cer'])} | "
            f"{_number(row['recall'])} | {_number(row['seconds_per_page'], 1)} |"
        )
    return lines


def peer_rows(results: dict) -> list[str]:
    lines = [
        "Peers (PyPI):",
        "",
        "| peer | version | license | formats | note |",
        "|---|---|---|---|---|",
    ]
    for name, entry in results["peers"].items():
        formats = ", ".join(entry.get("formats", [])) or f"failed: {entry.get('error', '')}"
        lines.append(
            f"| {name} | {entry.get('version', '–')} | {entry.get('license', '–')} | "
            f"{formats} | {entry.get('note', '')} |"
        )
    for name, reason in results["peers_left_out"].items():
        lines.append(f"| {name} | | | left out | {reason} |")
    return lines


def retrieval_rows(results: dict) -> list[str]:
    section = results.get("retrieval")
    if not section:
        return []
    if "error" in section:
        return [f"Retrieval on structure: section failed: {section['error']}"]
    groups = section["query_groups"]
    config = results["config"]
    titles = ", ".join(
        f"{t.title} ({' / '.join(t.columns) if t.columns else 'no header row'})" for t in TEMPLATES
    )
    lines = [
        f"Retrieval on structure: {section['rounds']} rounds (seeded) of "
        f"{section['documents']} generated HWP documents, each with one "
        f"or two tables of Korean values ({titles}; {TABLE_ROWS[0]}–{TABLE_ROWS[1]} rows under "
        "column headers, one row per label in key/value tables) after a few sentences, each "
        f"round indexed with the {section['distractors']} documents of the shared HWP/HWPX files "
        f"(read by seoga in every row). {section['queries']} queries in all (up to "
        f"{config['queries']} a round) each name a header (or a row's label) and a "
        "value found together in one document only, while the value alone is in two or more "
        "(e.g. "
        + ", ".join(f"“{query}”" for query in section["query_examples"][:4])
        + "). BM25 only (embedder none), default chunking, the same titles (file names) in every "
        "row. The last column: on how many queries a reading ranks the target above / below "
        "seoga's reading (a miss below every rank).",
        "",
        "| reading | chunks a round | hit@1 | MRR@10 | "
        + " | ".join(f"hit@1, {group} ({groups.get(group, 0)})" for group in GROUPS)
        + " | above / below seoga |",
        "|---|---|---|---|" + "---|" * len(GROUPS) + "---|",
    ]
    readings = section["readings"]
    ours = next((row for name, row in readings.items() if name.startswith(SEOGA)), None)
    for name, row in readings.items():
        if "error" in row:
            lines.append(f"| {name} | failed: {row['error'][:100]} |" + " |" * (3 + len(GROUPS)))
            continue
        versus = "–"
        if ours is not None and "ranks" in ours and row is not ours:
            versus = "{} / {}".format(*compared(row["ranks"], ours["ranks"]))
        by_group = " | ".join(_number(row["by_group"][group]["hit@1"]) for group in GROUPS)
        scores = f"{_number(row['hit@1'])} | {_number(row['mrr@10'])}"
        lines.append(
            f"| {name} | {row['chunks_per_round']:.0f} | {scores} | {by_group} | {versus} |"
        )
    return lines


# --- Main ---------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    found = {}
    for name in ("olefile", "python-docx", "python-pptx", "openpyxl", "pypdf", "pypdfium2",
                 "reportlab", "pytesseract", "kiwipiepy", "bm25s"):  # fmt: skip
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes over each format")
    parser.add_argument("--office-files", type=int, default=OFFICE_FILES, help="per format")
    parser.add_argument("--pdf-rounds", type=int, default=2, help="one PDF per maker per round")
    parser.add_argument("--pdf-paragraphs", type=int, default=30, help="per PDF")
    parser.add_argument("--ocr-pages", type=int, default=len(OCR_PAGES))
    parser.add_argument("--retrieval-documents", type=int, default=30, help="a round")
    parser.add_argument("--retrieval-rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100, help="at most, a round")
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["hwp", "hwpx", "docx", "pptx", "xlsx", "pdf", "ocr", "retrieval"],
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--no-report", action="store_true", help="print, do not write BENCHMARKS.md"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="write the report from --output, run nothing"
    )
    args = parser.parse_args()
    if args.report_only:
        write_section(HEADING, report(json.loads(args.output.read_text(encoding="utf-8"))))
        return
    started = time.perf_counter()
    results: dict = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine_line(),
        "cpu": cpu_model(),
        "seoga_suffixes": sorted(SUPPORTED_SUFFIXES),
        "versions": versions(),
        "peers": load_peers(),
        "peers_left_out": PEERS_LEFT_OUT,
        "formats": {},
    }
    with tempfile.TemporaryDirectory(prefix="seoga-reading-") as temporary:
        work = Path(temporary)
        for kind in ("hwp", "hwpx"):
            if kind in args.sections:
                results["formats"][kind] = guarded(
                    kind,
                    lambda kind=kind: run_format(
                        kind,
                        shared_samples(kind),
                        readers_for(kind, PEERS, f".{kind}"),
                        args.repeats,
                    ),
                )
        for kind in MAKERS:
            if kind in args.sections:
                results["formats"][kind] = guarded(kind, lambda k=kind: run_office(k, work, args))
        if "pdf" in args.sections:
            results["formats"]["pdf"] = guarded("pdf", lambda: run_pdf(work, args))
        if "ocr" in args.sections:
            results["formats"]["ocr"] = guarded("ocr", lambda: run_ocr(work, args))
        if "retrieval" in args.sections:
            results["retrieval"] = guarded("retrieval", lambda: run_retrieval(work, args))
    results["minutes"] = (time.perf_counter() - started) / SECONDS_PER_MINUTE
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    text = report(results)
    print(text)
    if not args.no_report:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
