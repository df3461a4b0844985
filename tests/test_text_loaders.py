"""Loaders: every format, and every kind of bad file becoming a problem instead of an error."""

import codecs
import json
import unicodedata
from pathlib import Path

import pytest

from seoga.errors import InputError
from seoga.text.documents import Document
from seoga.text.loaders import (
    CSV_FIELD_LIMIT,
    SUPPORTED_SUFFIXES,
    CsvColumns,
    discover,
    load_file,
)
from seoga.text.normalize import normalize_line, normalize_text


def make_pdf(page_texts: list[str]) -> bytes:
    """A minimal PDF with one Helvetica text line per page ("" makes a page with no text)."""
    page_ids = [4 + 2 * i for i in range(len(page_texts))]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % i for i in page_ids), len(page_ids)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for page_id, text in zip(page_ids, page_texts, strict=True):
        content = b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("latin-1") if text else b""
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def only_document(path: Path, **kwargs) -> Document:
    result = load_file(path, **kwargs)
    assert result.problems == []
    assert len(result.documents) == 1
    return result.documents[0]


def only_problem(path: Path) -> str:
    result = load_file(path)
    assert result.documents == []
    assert len(result.problems) == 1
    assert result.problems[0].path == str(path)
    return result.problems[0].reason


def test_txt_document(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("첫 줄   공백\t많음\r\n둘째 줄\n\n\n\n새 문단  \n", encoding="utf-8")
    document = only_document(path)
    assert document.doc_id == str(path)
    assert document.source == str(path)
    assert document.title == "notes"
    assert document.text == "첫 줄 공백 많음\n둘째 줄\n\n새 문단"


def test_normalize_keeps_paragraphs_and_composes_hangul():
    decomposed = unicodedata.normalize("NFD", "한국어")
    assert len(decomposed) > len("한국어")
    assert (
        normalize_text(f"  {decomposed}\u200b  text \n \n\n\n next\x00 ") == "한국어 text\n\nnext"
    )
    assert normalize_line(" A\n title\t here ") == "A title here"


def test_nfd_file_becomes_nfc(tmp_path):
    path = tmp_path / "mac.txt"
    path.write_text(unicodedata.normalize("NFD", "전세 계약서"), encoding="utf-8")
    assert only_document(path).text == "전세 계약서"


def test_cp949_korean_text_is_decoded(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("전세 계약을 갱신하려면 어떻게 해야 하나요?\n임대인 동의".encode("cp949"))
    document = only_document(path)
    assert document.text == "전세 계약을 갱신하려면 어떻게 해야 하나요?\n임대인 동의"
    assert document.metadata["encoding"] == "cp949"


def test_short_cp949_text_is_read_as_korean_not_chinese(tmp_path):
    path = tmp_path / "short.txt"
    path.write_bytes("안녕".encode("euc-kr"))
    assert only_document(path).text == "안녕"


def test_utf8_bom_and_utf16_are_read(tmp_path):
    bom = tmp_path / "bom.txt"
    bom.write_bytes(codecs.BOM_UTF8 + "보증금".encode())
    assert only_document(bom).text == "보증금"
    assert "encoding" not in only_document(bom).metadata
    wide = tmp_path / "wide.txt"
    wide.write_bytes("월세 계약".encode("utf-16"))
    assert only_document(wide).text == "월세 계약"


def test_markdown_title_and_readable_text(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text(
        "Intro line\n\n# 임대차 안내\n\nSee **the** [law](https://law.go.kr/x) now.\n\n"
        "- first item\n- second item\n\n## Part two\n\nMore text.\n\n"
        "```\ncode line 1\n  code line 2\n```\n",
        encoding="utf-8",
    )
    document = only_document(path)
    assert document.title == "임대차 안내"
    assert document.text == (
        "Intro line\n\n임대차 안내\n\nSee the law now.\n\nfirst item\nsecond item\n\n"
        "Part two\n\nMore text.\n\ncode line 1\ncode line 2"
    )


def test_markdown_without_heading_uses_file_stem(tmp_path):
    path = tmp_path / "plain.md"
    path.write_text("## Only a subheading\n\nBody.", encoding="utf-8")
    assert only_document(path).title == "plain"


def test_html_drops_scripts_and_navigation(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title> 계약 안내 </title><style>p {color: red}</style></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/x'>Menu</a></nav>"
        "<h1>Heading</h1><!-- hidden --><p>First <b>bold</b>\n  paragraph.</p>"
        "<script>var x = 1;</script>"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    document = only_document(path)
    assert document.title == "계약 안내"
    assert document.text == "Heading\n\nFirst bold paragraph.\n\none\ntwo\n\na b"


def test_html_title_falls_back_to_h1(tmp_path):
    path = tmp_path / "untitled.htm"
    path.write_text("<h1>Main <i>topic</i></h1><p>Body</p>", encoding="utf-8")
    assert only_document(path).title == "Main topic"


def test_pdf_pages_are_joined_with_page_offsets(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(["Hello from page one.", "", "Page three text."]))
    document = only_document(path)
    assert document.doc_id == str(path)
    assert document.title == "report"
    assert "Hello from page one." in document.text
    assert document.metadata["pages"] == 3
    assert "\n\n\n" not in document.text
    third = document.metadata["page_starts"][2]
    assert document.text[third:] == "Page three text."


def test_pdf_without_text_layer_is_a_problem(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf(["", ""]))
    assert only_problem(path) == "no text layer (scanned?)"


def test_broken_pdf_is_a_problem(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    assert only_problem(path).startswith("not a readable PDF")


def test_binary_empty_missing_and_unsupported_files_are_problems(tmp_path):
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    assert "binary" in only_problem(binary)
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    assert only_problem(empty) == "empty file"
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b" \n\t\n")
    assert only_problem(blank) == "empty file"
    missing = tmp_path / "gone.txt"
    assert only_problem(missing).startswith("cannot be read")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert only_problem(folder).startswith("cannot be read")
    word = tmp_path / "letter.doc"
    word.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    assert only_problem(word).startswith("unsupported file type .doc")


def test_undecodable_text_is_a_problem(tmp_path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(bytes(range(0x80, 0x100)) * 8)
    assert only_problem(path).startswith("cannot decode")


def test_empty_html_is_a_problem(tmp_path):
    path = tmp_path / "blank.html"
    path.write_text("<html><body><script>x()</script></body></html>", encoding="utf-8")
    assert only_problem(path) == "no text"


def test_jsonl_records_and_a_malformed_line(tmp_path):
    path = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps({"_id": "d1", "title": "전세", "text": "전세 계약 갱신", "lang": "ko"}),
        '{"_id": "d2", "text": "broken',
        json.dumps({"id": 7, "title": "English", "text": "Running  contracts"}),
        json.dumps({"text": "no id here"}),
        "",
        json.dumps(["not", "an", "object"]),
        json.dumps({"_id": "d5", "title": "no text"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_file(path)
    assert [d.doc_id for d in result.documents] == ["d1", "7", f"{path}#4"]
    first, second, third = result.documents
    assert (first.title, first.text, first.metadata) == ("전세", "전세 계약 갱신", {"lang": "ko"})
    assert first.source == f"{path}#1"
    assert (second.title, second.text) == ("English", "Running contracts")
    assert third.title == ""
    assert third.source == f"{path}#4"
    assert [(p.line, p.path) for p in result.problems] == [
        (2, str(path)),
        (6, str(path)),
        (7, str(path)),
    ]
    assert result.problems[0].reason.startswith("invalid JSON")
    assert str(result.problems[0]).startswith(f"{path}:2: invalid JSON")


def test_jsonl_line_separator_inside_a_string_is_not_a_new_record(tmp_path):
    path = tmp_path / "u2028.jsonl"
    path.write_text(
        '{"_id": "a", "text": "one\u2028two"}\n{"_id": "b", "text": "x"}\n', encoding="utf-8"
    )
    result = load_file(path)
    assert [(d.doc_id, d.source) for d in result.documents] == [
        ("a", f"{path}#1"),
        ("b", f"{path}#2"),
    ]
    assert result.problems == []


def test_jsonl_duplicate_ids_keep_the_first(tmp_path):
    path = tmp_path / "dupes.jsonl"
    path.write_text('{"_id": "a", "text": "one"}\n{"_id": "a", "text": "two"}\n', encoding="utf-8")
    result = load_file(path)
    assert [d.text for d in result.documents] == ["one"]
    assert result.problems[0].line == 2
    assert result.problems[0].reason == "duplicate id 'a' (first on line 1)"


def test_csv_named_columns_and_a_bad_row(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text(
        "_id,title,text,category\n"
        'r1,제목,"본문, 쉼표 포함",law\n'
        "r2,too,many,fields,here\n"
        'r3,,"여러\n줄 본문",finance\n'
        "r4,empty,,law\n",
        encoding="utf-8",
    )
    result = load_file(path)
    assert [d.doc_id for d in result.documents] == ["r1", "r3"]
    first, second = result.documents
    assert (first.title, first.text, first.metadata) == (
        "제목",
        "본문, 쉼표 포함",
        {"category": "law"},
    )
    assert second.text == "여러\n줄 본문"
    assert second.source == f"{path}#4"
    assert [(p.line, p.reason) for p in result.problems] == [
        (3, "has a different number of fields than the header (4)"),
        (6, "empty text"),
    ]


def test_csv_long_cells_load_and_a_huge_one_stops_the_file(tmp_path):
    path = tmp_path / "long.csv"
    article = "긴 본문 " * 50_000
    huge = "x" * (CSV_FIELD_LIMIT + 1)
    path.write_text(f"id,text\na,{article}\nb,{huge}\nc,never read\n", encoding="utf-8")
    result = load_file(path)
    assert [d.doc_id for d in result.documents] == ["a"]
    assert len(result.problems) == 1
    assert result.problems[0].line == 3
    assert result.problems[0].reason.startswith("CSV error, the rest of the file is skipped")


def test_csv_custom_columns_and_missing_text_column(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("번호,질문,답변\n1,보증금은?,돌려받습니다\n", encoding="utf-8")
    columns = CsvColumns(id="번호", title="질문", text="답변")
    document = only_document(path, csv_columns=columns)
    assert (document.doc_id, document.title, document.text) == ("1", "보증금은?", "돌려받습니다")
    reason = only_problem(path)
    assert reason == "no 'text' column (columns: 번호, 질문, 답변)"


def test_cp949_csv_without_id_column(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("title,text\n계약,전세 계약서 내용\n".encode("cp949"))
    document = only_document(path)
    assert document.doc_id == f"{path}#2"
    assert document.text == "전세 계약서 내용"


def test_discover_walks_sorted_passes_hidden_over_and_lists_unread_kinds(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    wanted = [
        tmp_path / "a.txt",
        tmp_path / "b" / "deep" / "x.PDF",
        tmp_path / "b" / "y.md",
        tmp_path / "c.jsonl",
    ]
    skipped = [tmp_path / ".hidden.txt", tmp_path / ".git" / "notes.md", tmp_path / "z.doc"]
    for path in wanted + skipped:
        path.write_text("text", encoding="utf-8")
    found = discover(tmp_path)
    assert found.files == wanted
    assert found.skipped == [str(tmp_path / "z.doc")]  # hidden ones are not even listed
    assert discover(tmp_path / "z.doc").files == [tmp_path / "z.doc"]
    with pytest.raises(InputError):
        discover(tmp_path / "missing")


def test_supported_suffixes():
    documents = {".txt", ".md", ".html", ".htm", ".pdf", ".jsonl", ".csv"}
    office = {".hwp", ".hwpx", ".docx", ".pptx", ".xlsx"}
    images = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
    assert documents | office | images == SUPPORTED_SUFFIXES
    # Old binary Office files stay unread: they are reported, not guessed at.
    assert not {".doc", ".ppt", ".xls"} & SUPPORTED_SUFFIXES
