"""The HWP 5 reader: files made in code for what it must decode, and the real test files of
../shared/data/office_docs/hwp for what Hangul writes."""

import zlib
from pathlib import Path

import pytest

from seoga.text.formats import hwp
from seoga.text.formats.hwp import COMPRESSED, preview_text
from seoga.text.formats.hwp_records import paragraph_text
from seoga.text.formats.hwp_records import record_tree as _tree
from seoga.text.loaders import load_file
from tests.hwp_files import (
    PARA_HEADER,
    compound_file,
    doc_info,
    extended_control,
    file_header,
    hwp_file,
    note,
    paragraph,
    record,
    table,
)

OFFICE_DOCS = Path(__file__).resolve().parents[2] / "shared" / "data" / "office_docs"


def read(tmp_path: Path, data: bytes, name: str = "doc.hwp"):
    path = tmp_path / name
    path.write_bytes(data)
    return load_file(path)


def only_text(tmp_path: Path, data: bytes) -> str:
    result = read(tmp_path, data)
    assert result.problems == []
    return result.documents[0].text


def test_paragraphs_of_every_section_in_order(tmp_path):
    data = hwp_file([paragraph(0, "첫 구역 문단입니다.") + paragraph(0, "둘째 문단"),
                     paragraph(0, "둘째 구역")])  # fmt: skip
    assert only_text(tmp_path, data) == "첫 구역 문단입니다.\n\n둘째 문단\n\n둘째 구역"


def test_uncompressed_body_reads_too(tmp_path):
    data = hwp_file([paragraph(0, "압축 안 한 본문")], compressed=False)
    assert only_text(tmp_path, data) == "압축 안 한 본문"


def test_controls_never_leak_their_payload():
    # A field start (3, eight units) around 누름틀 text, a field end (4, inline), a tab (9),
    # a line break (10) and a bound space (30): only text, a tab, a newline and a space remain.
    text = (
        "성명:"
        + extended_control(3, "%clk")
        + "홍길동"
        + "\x04" + "\x00" * 6 + "\x04"
        + "\x09" + "\x00" * 6 + "\x09"
        + "끝\n다음\x1e줄 전"
        + extended_control(11, "tbl ")
        + "후"
    )  # fmt: skip
    units = (text + "\r").encode("utf-16-le")
    para = paragraph(0, "")
    (node,) = _tree(para)
    node.children[0].payload = units
    assert paragraph_text(node) == "성명:홍길동\t끝\n다음 줄 전 후"


def test_table_rows_read_with_their_header_and_caption(tmp_path):
    rows = [["항목", "내용"], ["제공범위(대상)", "전 직원"], ["추진 일정", "2025년 3월"]]
    anchor = paragraph(0, extended_control(11, "tbl "), controls=[table(rows, "표 1. 과업 범위")])
    text = only_text(tmp_path, hwp_file([paragraph(0, "개요") + anchor]))
    assert text.endswith(
        "표 1. 과업 범위\n항목 | 내용\n항목: 제공범위(대상) | 내용: 전 직원\n"
        "항목: 추진 일정 | 내용: 2025년 3월"
    )


def test_header_footer_once_and_notes_at_the_end(tmp_path):
    header = note("head", "○○구청 공고")
    footer = note("foot", "- 쪽 -")
    first = paragraph(0, "본문 첫 문단", controls=[header, footer, note("fn  ", "각주 내용")])
    second = paragraph(0, "본문 둘째 문단", controls=[header, note("en  ", "미주 내용")])
    result = read(tmp_path, hwp_file([first, second]))
    document = result.documents[0]
    assert document.text == (
        "○○구청 공고\n\n- 쪽 -\n\n본문 첫 문단\n\n본문 둘째 문단\n\n"
        "각주\n\n각주 내용\n\n미주\n\n미주 내용"
    )
    assert [path for _, path in document.metadata["sections"]] == ["각주", "미주"]


def test_outline_styles_and_numbered_lines_make_the_section_path(tmp_path):
    styles = doc_info(["바탕글", "개요 1", "개요 2"])
    body = (
        paragraph(0, "과업 내용", style=1)
        + paragraph(0, "추진 일정", style=2)
        + paragraph(0, "사업 기간은 계약일부터 6개월입니다.")
        + paragraph(0, "Ⅱ. 제안 안내")
        + paragraph(0, "1. 제출 서류")
        + paragraph(0, "제안서 1부를 낸다.")
    )
    document = read(tmp_path, hwp_file([body], doc_info_records=styles)).documents[0]
    sections = dict((path, start) for start, path in document.metadata["sections"])
    assert list(sections) == ["과업 내용", "과업 내용 > 추진 일정", "Ⅱ. 제안 안내",
                              "Ⅱ. 제안 안내 > 1. 제출 서류"]  # fmt: skip
    start = sections["과업 내용 > 추진 일정"]
    assert document.text[start:].startswith("추진 일정\n\n사업 기간은")


@pytest.mark.parametrize(
    ("properties", "reason"),
    [(2, "password-protected"), (4, "distribution-protected"), (16, "DRM")],
)
def test_protected_files_are_named_with_the_reason(tmp_path, properties, reason):
    result = read(tmp_path, hwp_file([paragraph(0, "비밀")], properties=properties))
    assert result.documents == []
    assert reason in result.problems[0].reason
    assert result.problems[0].path.endswith("doc.hwp")


def test_hwp3_corrupt_and_bomb_files_are_problems(tmp_path, monkeypatch):
    assert "HWP 3.x" in read(tmp_path, b"HWP Document File V3.00 \x1a\x01\x02").problems[0].reason
    assert "OLE2" in read(tmp_path, b"not an hwp at all").problems[0].reason
    cut = hwp_file([paragraph(0, "잘린 파일")])[:1500]
    assert read(tmp_path, cut).problems
    # A record claiming more bytes than its stream has.
    broken = hwp_file([record(PARA_HEADER, 0, b"\x00" * 22)[:4] + b"\x00"])
    assert read(tmp_path, broken, "broken.hwp").problems
    # Zeros deflate a thousandfold: past the (here lowered) limit the reader stops.
    monkeypatch.setattr(hwp, "MAX_INFLATED_BYTES", 1 << 20)
    deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    bomb = deflate.compress(bytes(4 << 20)) + deflate.flush()
    empty = zlib.compressobj(wbits=-zlib.MAX_WBITS).flush()
    streams = {"FileHeader": file_header(COMPRESSED), "DocInfo": empty, "Section0": bomb}
    problem = read(tmp_path, compound_file(streams), "bomb.hwp")
    assert "size limit" in problem.problems[0].reason


def test_empty_document_is_a_problem(tmp_path):
    result = read(tmp_path, hwp_file([paragraph(0, "")]))
    assert result.documents == [] and result.problems[0].reason == "no text"


needs_office_docs = pytest.mark.skipif(
    not (OFFICE_DOCS / "hwp").is_dir(), reason="../shared/data/office_docs is not here"
)


@pytest.mark.shared_data
@needs_office_docs
def test_every_shared_hwp_reads_or_says_why():
    for path in sorted((OFFICE_DOCS / "hwp").glob("*.hwp")):
        result = load_file(path)
        assert result.documents or result.problems, path
        for document in result.documents:
            # No control payload leaks as CJK garbage: the preview's characters are found.
            assert "\x00" not in document.text


@pytest.mark.shared_data
@needs_office_docs
def test_shared_hwp_files_match_their_preview_and_name_protection():
    sample = load_file(OFFICE_DOCS / "hwp" / "sample-5017.hwp").documents[0]
    assert sample.title == "제목입니다."
    assert sample.metadata["author"] == "지은이입니다."
    assert sample.metadata["created"].startswith("2010-07-02")
    preview = preview_text((OFFICE_DOCS / "hwp" / "sample-5017.hwp").read_bytes())
    assert "본문 내용입니다." in preview and "본문 내용입니다." in sample.text
    assert "A0: A1 | B0: B10 B11" in sample.text
    notes = load_file(OFFICE_DOCS / "hwp" / "footnote-endnote.hwp").documents[0]
    assert "각주입니다." in notes.text and "미주입니다." in notes.text
    box = load_file(OFFICE_DOCS / "hwp" / "textbox.hwp").documents[0]
    assert "글상자" in box.text
    header = load_file(OFFICE_DOCS / "hwp" / "headerfooter.hwp").documents[0]
    assert header.text.count("이것은 머리말입니다.") == 1
    for name, reason in (("password-12345.hwp", "password"), ("viewtext.hwp", "배포용")):
        assert reason in load_file(OFFICE_DOCS / "hwp" / name).problems[0].reason
