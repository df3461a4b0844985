"""DOCX, PPTX and XLSX built in code with their libraries, and the zip checks every zip-based
format (HWPX too) passes before a library opens a file."""

import datetime
import io
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest
from docx.oxml import parse_xml
from pptx.util import Inches

from seoga.text.formats import xlsx
from seoga.text.formats.base import ReadOptions
from seoga.text.formats.docx import read_docx
from seoga.text.formats.hwpx import read_hwpx
from seoga.text.formats.pptx import read_pptx
from seoga.text.formats.safety import (
    MAX_MEMBERS,
    MAX_TOTAL_UNCOMPRESSED,
    check_zip,
)
from seoga.text.formats.xlsx import read_xlsx
from seoga.text.loaders import SUPPORTED_SUFFIXES, format_of, load_file

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
READERS = {".docx": read_docx, ".pptx": read_pptx, ".xlsx": read_xlsx, ".hwpx": read_hwpx}


def saved(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def reasons(result) -> list[str]:
    return [problem.reason for problem in result.problems]


def fill(table, rows: list[list[str]]) -> None:
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value


def with_part(data: bytes, name: str, content: bytes, changes: dict[str, tuple[str, str]]) -> bytes:
    """A copy of a package with one part added and others edited (old → new text)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            part = source.read(member)
            if member.filename in changes:
                old, new = changes[member.filename]
                part = part.replace(old.encode(), new.encode(), 1)
            target.writestr(member, part)
        target.writestr(name, content)
    return buffer.getvalue()


# --- DOCX ------------------------------------------------------------------------------------


@pytest.fixture
def word_document():
    document = docx.Document()
    properties = document.core_properties
    properties.title, properties.author = "과업 지시서", "홍길동"
    properties.created = datetime.datetime(2024, 3, 1, 9, 30)
    document.add_paragraph("문서 큰 제목", style="Title")
    document.add_heading("1장 개요", 1)
    document.add_paragraph("본문 문장입니다.")
    document.add_heading("추진 일정", 2)
    fill(
        document.add_table(rows=3, cols=2), [["항목", "내용"], ["범위", "전 직원"], ["일정", "3월"]]
    )
    merged = document.add_table(rows=2, cols=3)
    merged.cell(0, 0).merge(merged.cell(0, 1))
    fill(merged, [["점수", "점수", "비고"], ["7", "7", "7"]])
    section = document.sections[0]
    section.header.paragraphs[0].text = "기관 머리말"
    section.footer.paragraphs[0].text = "대외비"
    return document


def test_docx_headings_tables_furniture_and_properties(word_document):
    result = read_docx(Path("a.docx"), saved(word_document), ReadOptions())
    assert not result.problems
    document = result.documents[0]
    assert document.text.startswith("기관 머리말\n\n대외비\n\n문서 큰 제목\n\n1장 개요")
    assert "항목 | 내용\n항목: 범위 | 내용: 전 직원\n항목: 일정 | 내용: 3월" in document.text
    # A merged header is said once; equal values in cells of their own are each said.
    assert "점수 | 비고\n점수: 7 | 점수: 7 | 비고: 7" in document.text
    assert [path for _, path in document.metadata["sections"]] == [
        "1장 개요",
        "1장 개요 > 추진 일정",
    ]
    assert document.title == "과업 지시서"
    assert document.metadata["author"] == "홍길동"
    assert document.metadata["created"] == "2024-03-01T09:30:00+00:00"


def test_docx_title_style_names_an_untitled_document(word_document):
    word_document.core_properties.title = ""
    document = read_docx(Path("a.docx"), saved(word_document), ReadOptions()).documents[0]
    assert document.title == "문서 큰 제목"


def test_docx_without_heading_styles_finds_hand_numbered_headings():
    document = docx.Document()
    for line in ("Ⅰ. 사업 개요", "1. 추진 배경", "배경을 설명한다."):
        document.add_paragraph(line)
    read = read_docx(Path("a.docx"), saved(document), ReadOptions()).documents[0]
    assert read.metadata["sections"][-1][1] == "Ⅰ. 사업 개요 > 1. 추진 배경"


def test_docx_text_boxes_once_tracked_deletions_out_and_nested_tables_in_cells():
    document = docx.Document()
    body = document.element.body
    box = "<w:txbxContent><w:p><w:r><w:t>상자 글</w:t></w:r></w:p></w:txbxContent>"
    body.insert(
        0,
        parse_xml(
            f'<w:p xmlns:w="{W}" xmlns:mc="{MC}"><w:r><w:t>남은 글</w:t></w:r>'
            "<w:del><w:r><w:delText>지운 글</w:delText></w:r></w:del>"
            f"<w:r><mc:AlternateContent><mc:Choice>{box}</mc:Choice>"
            f"<mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r></w:p>"
        ),
    )
    outer = document.add_table(rows=2, cols=2)
    fill(outer, [["구분", "내용"], ["표 안", ""]])
    fill(outer.cell(1, 1).add_table(rows=1, cols=2), [["가", "나"]])
    text = read_docx(Path("a.docx"), saved(document), ReadOptions()).documents[0].text
    assert text.startswith("남은 글\n\n상자 글\n\n")
    assert text.count("상자 글") == 1
    assert "지운 글" not in text
    assert "구분: 표 안 | 내용: 가 | 나" in text


def test_docx_footnotes_are_gathered_at_the_end(word_document):
    notes = (
        f'<w:footnotes xmlns:w="{W}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:t>---</w:t></w:r></w:p></w:footnote>'
        '<w:footnote w:id="1"><w:p><w:r><w:t>근거 법령</w:t></w:r></w:p></w:footnote>'
        "</w:footnotes>"
    )
    content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
    relation = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
    data = with_part(
        saved(word_document),
        "word/footnotes.xml",
        notes.encode(),
        {
            "[Content_Types].xml": (
                "</Types>",
                f'<Override PartName="/word/footnotes.xml" ContentType="{content_type}"/></Types>',
            ),
            "word/_rels/document.xml.rels": (
                "</Relationships>",
                f'<Relationship Id="rIdNotes" Type="{relation}" Target="footnotes.xml"/>'
                "</Relationships>",
            ),
        },
    )
    document = read_docx(Path("a.docx"), data, ReadOptions()).documents[0]
    assert document.text.endswith("각주\n\n근거 법령")
    assert "---" not in document.text


# --- PPTX ------------------------------------------------------------------------------------


def presentation() -> bytes:
    deck = pptx.Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "추진 배경"
    first.placeholders[1].text_frame.text = "첫째 항목\n둘째 항목"
    first.notes_slide.notes_text_frame.text = "발표 때 강조할 점"
    second = deck.slides.add_slide(deck.slide_layouts[6])
    below = second.shapes.add_textbox(Inches(1), Inches(5), Inches(3), Inches(1))
    below.text_frame.text = "표 아래 설명"
    shape = second.shapes.add_table(3, 3, Inches(1), Inches(1), Inches(6), Inches(2))
    shape.table.cell(0, 0).merge(shape.table.cell(0, 1))
    fill(shape.table, [["구분", "", "비고"], ["A", "B", "C"], ["1", "1", "1"]])
    group = second.shapes.add_group_shape()
    inside = group.shapes.add_textbox(Inches(1), Inches(6), Inches(3), Inches(1))
    inside.text_frame.text = "묶음 글"
    # A slide with no words (here an empty placeholder) adds no "슬라이드 3" heading.
    deck.slides.add_slide(deck.slide_layouts[1]).shapes.title.text = ""
    deck.core_properties.title = "발표 자료"
    return saved(deck)


def test_pptx_slides_are_sections_with_tables_and_notes():
    result = read_pptx(Path("deck.pptx"), presentation(), ReadOptions())
    assert not result.problems
    document = result.documents[0]
    assert document.title == "발표 자료"
    assert [path for _, path in document.metadata["sections"]] == ["추진 배경", "슬라이드 2"]
    assert document.text.startswith(
        "추진 배경\n\n첫째 항목\n둘째 항목\n\n슬라이드 노트: 발표 때 강조할 점"
    )
    # Top to bottom: the table (1 inch down), the text box (5 inches), the group (6 inches).
    table = "구분 | 비고\n구분: A | 구분: B | 비고: C\n구분: 1 | 구분: 1 | 비고: 1"
    assert document.text.endswith(f"{table}\n\n표 아래 설명\n\n묶음 글")


# --- XLSX ------------------------------------------------------------------------------------


def workbook() -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    sales = book.active
    sales.title = "매출"
    sales.append(["2024년 지점별 매출"])
    sales.append(["지점", "금액", "일자"])
    sales.append(["서울", 1200.0, datetime.datetime(2024, 3, 1)])
    sales.append(["부산", 900.5, datetime.datetime(2024, 3, 2, 13, 30)])
    sales["B5"] = "=SUM(B3:B4)"
    book.create_sheet("빈 시트")
    staff = book.create_sheet("직원")
    staff.append(["이름", "부서"])
    staff.append(["김철수", "총무"])
    book.properties.title = "실적"
    return book


def test_xlsx_reads_one_document_per_sheet_with_header_rows():
    result = read_xlsx(Path("book.xlsx"), saved(workbook()), ReadOptions())
    assert not result.problems
    sales, staff = result.documents
    assert sales.doc_id == "book.xlsx#매출"
    assert sales.title == "실적 — 매출"
    assert sales.metadata["sheet"] == "매출"
    assert sales.text == (
        "매출\n\n2024년 지점별 매출\n지점 | 금액 | 일자\n"
        "지점: 서울 | 금액: 1200 | 일자: 2024-03-01\n"
        "지점: 부산 | 금액: 900.5 | 일자: 2024-03-02T13:30:00"
    )
    # openpyxl writes formulas without a cached value: nothing is indexed, least of all "=SUM".
    assert "SUM" not in sales.text
    assert staff.text == "직원\n\n이름 | 부서\n이름: 김철수 | 부서: 총무"


def test_xlsx_indexes_cached_formula_values():
    data = saved(workbook())
    # Excel stores a formula's last value next to it: that value is what is read.
    cached = with_part(
        data,
        "unused.txt",
        b"",
        {
            "xl/worksheets/sheet1.xml": (
                "<f>SUM(B3:B4)</f><v></v>",
                "<f>SUM(B3:B4)</f><v>2100.5</v>",
            )
        },
    )
    sales = read_xlsx(Path("book.xlsx"), cached, ReadOptions()).documents[0]
    assert sales.text.endswith("2100.5")


def test_a_deck_of_empty_slides_is_a_problem():
    deck = pptx.Presentation()
    deck.slides.add_slide(deck.slide_layouts[6])
    assert reasons(read_pptx(Path("empty.pptx"), saved(deck), ReadOptions())) == ["no text"]


def test_a_sheet_past_the_cell_limit_is_cut_short_and_said_so(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_SHEET_CELLS", 1000)
    book = openpyxl.Workbook()
    for row in range(1, 6):
        book.active.cell(row, 1, f"행{row}")
        # A value far to the right widens every row read to its column.
        book.active.cell(row, 400, "끝")
    result = read_xlsx(Path("wide.xlsx"), saved(book), ReadOptions())
    assert reasons(result) == ["sheet 'Sheet' has more than 1,000 cells; the rest is skipped"]
    assert "행2" in result.documents[0].text
    assert "행3" not in result.documents[0].text


def test_a_workbook_of_empty_sheets_is_a_problem():
    book = openpyxl.Workbook()
    book.create_sheet("둘째")
    assert reasons(read_xlsx(Path("empty.xlsx"), saved(book), ReadOptions())) == ["no text"]


# --- Broken, encrypted and hostile files -----------------------------------------------------


def test_corrupt_and_foreign_files_are_problems():
    docx_data = saved(docx.Document())
    truncated = docx_data[: len(docx_data) // 2]
    assert reasons(read_docx(Path("a.docx"), truncated, ReadOptions()))[0].startswith(
        ("broken zip archive", "not a zip archive")
    )
    xlsx_data = saved(workbook())
    assert reasons(read_docx(Path("a.docx"), xlsx_data, ReadOptions()))[0].startswith(
        "not a readable DOCX file"
    )
    assert reasons(read_pptx(Path("a.pptx"), docx_data, ReadOptions()))[0].startswith(
        "not a readable PPTX file"
    )
    assert reasons(read_xlsx(Path("a.xlsx"), docx_data, ReadOptions()))[0].startswith(
        "not a readable XLSX file"
    )
    assert reasons(read_xlsx(Path("a.xlsx"), b"plain text", ReadOptions())) == ["not a zip archive"]


@pytest.mark.parametrize("suffix", [".docx", ".pptx", ".xlsx"])
def test_password_protected_and_old_binary_files_are_told_apart(suffix):
    kind = suffix[1:].upper()
    encrypted = OLE_MAGIC + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(64)
    reader = READERS[suffix]
    assert reasons(reader(Path(f"a{suffix}"), encrypted, ReadOptions())) == [
        f"password-protected (encrypted) {kind} file"
    ]
    old = reasons(reader(Path(f"a{suffix}"), OLE_MAGIC + bytes(1024), ReadOptions()))
    assert old[0].startswith("an old binary Office (OLE) file")


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def declared_size(data: bytes, size: int, crc: int | None = None) -> bytes:
    """The archive with its last member's uncompressed size (and checksum) in the central
    directory set to `size`: a crafted header, as a zip bomb's."""
    directory = data.rindex(b"PK\x01\x02")
    crc_offset, size_offset = directory + 16, directory + 24
    data = data[:size_offset] + struct.pack("<I", size) + data[size_offset + 4 :]
    if crc is not None:
        data = data[:crc_offset] + struct.pack("<I", crc) + data[crc_offset + 4 :]
    return data


def test_zipfile_reads_no_more_than_a_members_declared_size():
    # The claim the size limits rest on: a member lying small cannot be read past its size.
    real, declared = b"x" * 10_000, b"x" * 100
    lying = declared_size(zip_of({"a.xml": real}), len(declared), zlib.crc32(declared))
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        assert archive.read("a.xml") == declared
    # Without a matching checksum, reading fails at the declared size.
    unmatched = declared_size(zip_of({"a.xml": real}), len(declared))
    with zipfile.ZipFile(io.BytesIO(unmatched)) as archive, pytest.raises(zipfile.BadZipFile):
        archive.read("a.xml")


BOMB_CASES = {
    "declared size": (
        declared_size(zip_of({"[Content_Types].xml": b"<Types/>"}), MAX_TOTAL_UNCOMPRESSED + 1),
        "zip bomb? members inflate",
    ),
    "compression ratio": (zip_of({"word/document.xml": bytes(20 * 1024 * 1024)}), "inflates"),
    "member count": (
        zip_of({f"m{number}.txt": b"" for number in range(MAX_MEMBERS + 1)}, zipfile.ZIP_STORED),
        "members (more than",
    ),
    "parent path": (zip_of({"../evil.xml": b"<a/>"}), "unsafe name '../evil.xml'"),
    "absolute path": (zip_of({"/etc/evil.xml": b"<a/>"}), "unsafe name"),
}


@pytest.mark.parametrize("case", list(BOMB_CASES))
@pytest.mark.parametrize("suffix", list(READERS))
def test_hostile_archives_cost_one_problem(case, suffix):
    data, reason = BOMB_CASES[case]
    result = READERS[suffix](Path(f"evil{suffix}"), data, ReadOptions())
    assert not result.documents
    assert len(result.problems) == 1
    assert reason in result.problems[0].reason


# "lol" nested ten deep, ten times each: 10**9 copies once expanded.
BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)


def bombed(data: bytes, part: str, element: str, reference: str) -> bytes:
    """The package with a billion-laughs DTD before `part`'s root and an entity reference
    inside its first `element`."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(part).decode()
    root = xml.index("<", xml.index("?>") + 1 if xml.startswith("<?xml") else 0)
    changed = xml[:root] + BILLION_LAUGHS + xml[root:]
    changed = changed.replace(f"<{element}>", f"<{element}>{reference}", 1)
    return with_part(data, "unused.txt", b"", {part: (xml, changed)})


def test_entity_bombs_in_office_parts_are_refused():
    part = "word/document.xml"
    word = bombed(saved(docx.Document()), part, "w:body", "<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>")
    assert reasons(read_docx(Path("a.docx"), word, ReadOptions())) == [
        f"forbidden XML entities (a DTD) in {part}"
    ]
    sheet = "xl/worksheets/sheet1.xml"
    book = bombed(saved(workbook()), sheet, "sheetData", "")
    assert reasons(read_xlsx(Path("a.xlsx"), book, ReadOptions())) == [
        f"forbidden XML entities (a DTD) in {sheet}"
    ]


def test_a_safe_archive_passes():
    assert check_zip(saved(docx.Document())) is None


# --- Registry --------------------------------------------------------------------------------


def test_the_registry_reads_office_files_and_not_old_binaries(tmp_path):
    assert {".hwpx", ".docx", ".pptx", ".xlsx"} <= SUPPORTED_SUFFIXES
    for suffix in (".doc", ".ppt", ".xls"):
        assert format_of(f"old{suffix}") is None
        assert "unsupported file type" in reasons(load_file(tmp_path / f"old{suffix}"))[0]
    path = tmp_path / "book.xlsx"
    path.write_bytes(saved(workbook()))
    assert [document.doc_id for document in load_file(path).documents] == [
        f"{path}#매출",
        f"{path}#직원",
    ]
