"""HWPX (OWPML): tiny packages built in code, and the real files of ../shared/data."""

import io
import re
import zipfile
from pathlib import Path

import pytest

from seoga.text.formats.base import ReadOptions
from seoga.text.formats.hwpx import read_hwpx
from seoga.text.loaders import load_file

HP = "http://www.hancom.co.kr/hwpml/2011/paragraph"
HP2016 = "http://www.hancom.co.kr/hwpml/2016/paragraph"
HS = "http://www.hancom.co.kr/hwpml/2011/section"
HH = "http://www.hancom.co.kr/hwpml/2011/head"
OPF = "http://www.idpf.org/2007/opf/"

HEADER = f"""<?xml version="1.0" encoding="UTF-8"?>
<hh:head xmlns:hh="{HH}"><hh:refList>
<hh:paraProperties>
  <hh:paraPr id="0"><hh:heading type="NONE" idRef="0" level="0"/></hh:paraPr>
  <hh:paraPr id="5"><hh:heading type="OUTLINE" idRef="0" level="1"/></hh:paraPr>
</hh:paraProperties>
<hh:styles>
  <hh:style id="0" type="PARA" name="바탕글" engName="Normal" paraPrIDRef="0"/>
  <hh:style id="2" type="PARA" name="개요 1" engName="Outline 1" paraPrIDRef="0"/>
</hh:styles>
</hh:refList></hh:head>"""


def package(
    title: str = "시험 문서",
    sections: tuple[str, ...] = ("section0.xml",),
    creator: str = "홍길동",
) -> str:
    items = "".join(
        f'<opf:item id="s{number}" href="Contents/{name}" media-type="application/xml"/>'
        for number, name in enumerate(sections)
    )
    spine = "".join(f'<opf:itemref idref="s{number}"/>' for number in range(len(sections)))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<opf:package xmlns:opf="{OPF}"><opf:metadata><opf:title>{title}</opf:title>
<opf:meta name="creator" content="text">{creator}</opf:meta>
<opf:meta name="CreatedDate" content="text">2023-01-26T23:01:12Z</opf:meta>
<opf:meta name="ModifiedDate" content="text">2023-05-02T07:01:50Z</opf:meta>
<opf:meta name="date" content="text">2023년 1월 27일</opf:meta></opf:metadata>
<opf:manifest><opf:item id="header" href="Contents/header.xml" media-type="application/xml"/>
{items}</opf:manifest><opf:spine><opf:itemref idref="header"/>{spine}</opf:spine></opf:package>"""


def section(body: str, namespace: str = HP) -> str:
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    return f'{declaration}<hs:sec xmlns:hs="{HS}" xmlns:hp="{namespace}">{body}</hs:sec>'


def para(content: str, style: str = "0", shape: str = "0") -> str:
    return f'<hp:p paraPrIDRef="{shape}" styleIDRef="{style}"><hp:run>{content}</hp:run></hp:p>'


def text(value: str) -> str:
    return f"<hp:t>{value}</hp:t>"


def cell(row: int, column: int, value: str, rows: int = 1, columns: int = 1) -> str:
    return (
        f"<hp:tc><hp:subList>{para(text(value))}</hp:subList>"
        f'<hp:cellAddr colAddr="{column}" rowAddr="{row}"/>'
        f'<hp:cellSpan colSpan="{columns}" rowSpan="{rows}"/></hp:tc>'
    )


def table(rows: list[list[str]], caption: str = "") -> str:
    caption_xml = f"<hp:caption><hp:subList>{para(text(caption))}</hp:subList></hp:caption>"
    body = "".join(
        "<hp:tr>" + "".join(cell(r, c, value) for c, value in enumerate(row)) + "</hp:tr>"
        for r, row in enumerate(rows)
    )
    return f"<hp:tbl>{caption_xml if caption else ''}{body}</hp:tbl>"


def hwpx(parts: dict[str, str], manifest: str | None = None) -> bytes:
    """An HWPX package: mimetype, header, a content.hpf (unless manifest is "") and parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/hwp+zip", zipfile.ZIP_STORED)
        archive.writestr("Contents/header.xml", HEADER)
        if manifest != "":
            sections = tuple(name.removeprefix("Contents/") for name in parts)
            archive.writestr("Contents/content.hpf", manifest or package(sections=sections))
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def read(data: bytes, name: str = "doc.hwpx"):
    return read_hwpx(Path(name), data, ReadOptions())


def only_document(data: bytes):
    result = read(data)
    assert not result.problems, result.problems
    assert len(result.documents) == 1
    return result.documents[0]


def test_table_rows_are_read_with_their_header_and_caption():
    body = para(
        text("성적표") + table([["이름", "국어", "영어"], ["철수", "77", "77"]], "표 1. 성적")
    )
    document = only_document(hwpx({"Contents/section0.xml": section(body)}))
    assert "표 1. 성적\n이름 | 국어 | 영어\n이름: 철수 | 국어: 77 | 영어: 77" in document.text
    # The paragraph's own text comes before the table it anchors.
    assert document.text.index("성적표") < document.text.index("표 1. 성적")


def test_merged_cells_fill_every_row_and_a_nested_table_reads_inside_its_cell():
    nested = table([["가", "나"], ["1", "2"]])
    rows = (
        "<hp:tr>" + cell(0, 0, "구분") + cell(0, 1, "내용") + "</hp:tr>"
        "<hp:tr>" + cell(1, 0, "일정", rows=2) + cell(1, 1, "3월") + "</hp:tr>"
        "<hp:tr>"
        f"<hp:tc><hp:subList>{para(nested)}</hp:subList>"
        '<hp:cellAddr colAddr="1" rowAddr="2"/><hp:cellSpan colSpan="1" rowSpan="1"/></hp:tc>'
        "</hp:tr>"
    )
    document = only_document(
        hwpx({"Contents/section0.xml": section(para(f"<hp:tbl>{rows}</hp:tbl>"))})
    )
    assert "구분: 일정 | 내용: 3월" in document.text
    assert "구분: 일정 | 내용: 가 | 나 가: 1 | 나: 2" in document.text


def test_headings_from_outline_styles_and_shapes_make_the_section_path():
    body = (
        para(text("과업 개요"), style="2")
        + para(text("본문 문장입니다."))
        + para(text("추진 일정"), shape="5")
        + para(text("일정은 3월입니다."))
        # Outline numbering on a long paragraph is a list item, not a heading.
        + para(text("가" * 80), shape="5")
    )
    document = only_document(hwpx({"Contents/section0.xml": section(body)}))
    paths = [path for _, path in document.metadata["sections"]]
    assert paths == ["과업 개요", "과업 개요 > 추진 일정"]


def test_hand_numbered_short_paragraphs_are_headings():
    body = para(text("Ⅰ. 사업 개요")) + para(text("1. 추진 배경")) + para(text("내용입니다."))
    document = only_document(hwpx({"Contents/section0.xml": section(body)}))
    assert document.metadata["sections"][-1][1] == "Ⅰ. 사업 개요 > 1. 추진 배경"


def test_the_2016_namespace_reads_alike():
    body = para(text("새 이름공간의 본문"))
    document = only_document(hwpx({"Contents/section0.xml": section(body, HP2016)}))
    assert document.text == "새 이름공간의 본문"


def test_package_properties_become_title_and_metadata():
    document = only_document(hwpx({"Contents/section0.xml": section(para(text("본문")))}))
    assert document.title == "시험 문서"
    assert document.metadata["author"] == "홍길동"
    assert document.metadata["created"] == "2023-01-26T23:01:12+00:00"
    assert document.metadata["modified"] == "2023-05-02T07:01:50+00:00"


def test_sections_follow_the_spine_and_a_missing_manifest_reads_by_number():
    parts = {
        "Contents/section1.xml": section(para(text("둘째 구역"))),
        "Contents/section0.xml": section(para(text("첫째 구역"))),
    }
    # The spine lists section1 first: that is the reading order.
    spine_first = only_document(hwpx(parts, manifest=package(sections=("section1.xml",))))
    assert spine_first.text == "둘째 구역\n\n첫째 구역"
    parts["Contents/section10.xml"] = section(para(text("열한째 구역")))
    parts["Contents/section2.xml"] = section(para(text("셋째 구역")))
    without = only_document(hwpx(parts, manifest=""))
    assert without.text == "첫째 구역\n\n둘째 구역\n\n셋째 구역\n\n열한째 구역"
    assert without.title == "doc"
    odd = package(sections=("missing.xml",))
    assert only_document(hwpx(parts, manifest=odd)).text == without.text


def test_notes_go_to_the_end_and_headers_footers_are_said_once():
    def note(kind: str, value: str) -> str:
        inner = f"<hp:subList>{para(text(value))}</hp:subList>"
        return f"<hp:ctrl><hp:{kind}>{inner}</hp:{kind}></hp:ctrl>"

    furniture = note("header", "기관 머리말") + note("footer", "대외비")
    first = para(furniture + text("본문에 각주") + note("footNote", "각주 내용") + text(" 이어짐"))
    second = para(furniture + text("둘째 구역") + note("endNote", "미주 내용"))
    document = only_document(
        hwpx({"Contents/section0.xml": section(first), "Contents/section1.xml": section(second)})
    )
    blocks = ["기관 머리말", "대외비", "본문에 각주 이어짐", "둘째 구역"]
    blocks += ["각주", "각주 내용", "미주", "미주 내용"]
    assert document.text == "\n\n".join(blocks)
    assert [path for _, path in document.metadata["sections"]] == ["각주", "미주"]


def test_fields_tabs_breaks_boxes_and_tracked_deletions():
    field = (
        '<hp:ctrl><hp:fieldBegin type="CLICK_HERE" name="날짜"/></hp:ctrl>'
        + text("2024년 3월")
        + "<hp:ctrl><hp:fieldEnd/></hp:ctrl>"
    )
    inline = (
        "<hp:t>앞<hp:tab/>뒤<hp:lineBreak/>다음 줄<hp:markpenBegin/>강조<hp:markpenEnd/>"
        "<hp:deleteBegin/> 지운 글<hp:deleteEnd/> 끝</hp:t>"
    )
    box = (
        "<hp:rect><hp:drawText><hp:subList>"
        + para(text("상자 안 글"))
        + "</hp:subList></hp:drawText><hp:shapeComment>사각형입니다.</hp:shapeComment></hp:rect>"
    )
    body = para(field) + para(inline + box)
    document = only_document(hwpx({"Contents/section0.xml": section(body)}))
    assert document.text == "2024년 3월\n\n앞 뒤\n다음 줄강조 끝\n\n상자 안 글"


def test_a_switch_reads_one_of_its_alternatives():
    switch = (
        f'<hp:switch><hp:case hp:required-namespace="{HP2016}">{text("새 방식")}</hp:case>'
        f"<hp:default>{text('옛 방식')}</hp:default></hp:switch>"
    )
    assert only_document(hwpx({"Contents/section0.xml": section(para(switch))})).text == "새 방식"


def test_a_file_with_no_text_is_a_problem_not_an_empty_document():
    result = read(hwpx({"Contents/section0.xml": section(para(""))}))
    assert not result.documents
    assert [problem.reason for problem in result.problems] == ["no text"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 truncated", "zip"),
        (b"not a zip at all", "not a zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "OLE"),
        (hwpx({"Contents/other.xml": "<a/>"}, manifest=""), "no Contents/sectionN.xml"),
        (hwpx({"Contents/section0.xml": "<hs:sec"}), "broken XML in Contents/section0.xml"),
        (
            hwpx(
                {
                    "Contents/section0.xml": section(para(text("암호"))),
                    "META-INF/manifest.xml": "<manifest><encryption-data/></manifest>",
                }
            ),
            "password-protected (encrypted) HWPX file",
        ),
    ],
)
def test_unreadable_files_are_problems(data, reason):
    result = read(data)
    assert not result.documents
    assert reason in result.problems[0].reason


def test_entity_bombs_are_refused_wherever_the_dtd_sits():
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE hs:sec [{entities}]><hs:sec xmlns:hs="{HS}">&l9;</hs:sec>'
    )
    result = read(hwpx({"Contents/section0.xml": bomb}))
    assert "forbidden XML entities" in result.problems[0].reason
    # Past the prologue the archive check reads, defusedxml still refuses it.
    padded = bomb.replace("?>", "?>" + "<!-- padding -->" * 1000, 1)
    result = read(hwpx({"Contents/section0.xml": padded}))
    assert "forbidden XML entities" in result.problems[0].reason


def test_hostile_cell_addresses_cost_no_memory():
    rows = "<hp:tr>" + cell(0, 0, "머리") + cell(10**9, 10**9, "멀리", 10**9, 10**9) + "</hp:tr>"
    document = only_document(
        hwpx({"Contents/section0.xml": section(para(f"<hp:tbl>{rows}</hp:tbl>"))})
    )
    assert "머리" in document.text
    assert "멀리" in document.text


def test_the_registry_reads_hwpx(tmp_path):
    path = tmp_path / "보고서.hwpx"
    path.write_bytes(hwpx({"Contents/section0.xml": section(para(text("등록된 형식")))}))
    result = load_file(path)
    assert result.documents[0].text == "등록된 형식"


# --- Real files ------------------------------------------------------------------------------

# Text deleted under change tracking: the preview shows it, seoga leaves it out.
DELETED_WORDS = {"reader_writer_ChangeTrack.hwpx": {"추적"}}


@pytest.fixture(scope="module")
def real_files(shared_data) -> list[Path]:
    files = sorted((shared_data / "office_docs" / "hwpx").glob("*.hwpx"))
    if not files:
        pytest.skip("no HWPX files under office_docs/hwpx")
    return files


def read_real(path: Path):
    return read_hwpx(path, path.read_bytes(), ReadOptions())


@pytest.mark.shared_data
def test_every_real_file_reads_and_holds_its_preview_text(real_files):
    read_count = 0
    for path in real_files:
        result = read_real(path)
        if not result.documents:
            # Files of shapes, pictures, equations or form controls only: no body text.
            assert [problem.reason for problem in result.problems] == ["no text"], path.name
            continue
        read_count += 1
        with zipfile.ZipFile(path) as archive:
            preview = archive.read("Preview/PrvText.txt").decode("utf-8", errors="replace")
        words = set(re.findall(r"[^\s<>]+", preview)) - DELETED_WORDS.get(path.name, set())
        text = result.documents[0].text
        assert not [word for word in words if word not in text], path.name
        for word in DELETED_WORDS.get(path.name, ()):
            assert word not in text
    assert read_count >= len(real_files) // 2


@pytest.mark.shared_data
def test_real_table_reads_row_by_row(real_files):
    path = next(path for path in real_files if path.name == "tool_textextractor_Table.hwpx")
    document = read_real(path).documents[0]
    assert "이름: 칠득이 | 국어: 77 | 영어: 77 | 수학: 77" in document.text
    assert document.text.startswith("C반 기말고사")
    assert document.metadata["author"] == "fff"


@pytest.mark.shared_data
def test_real_header_and_footer_are_read_once(real_files):
    path = next(path for path in real_files if path.name == "reader_writer_HeaderFooter.hwpx")
    text = read_real(path).documents[0].text
    assert text.count("머리말 테스트") == 1
    assert text.count("꼬리말") == 1


@pytest.mark.shared_data
def test_real_outline_paragraphs_are_headings(real_files):
    path = next(path for path in real_files if path.name == "tool_textextractor_ParaHead.hwpx")
    sections = read_real(path).documents[0].metadata["sections"]
    assert sections[-1][1] == "개요2 > 개요2-1 > 개요2-1-1"


@pytest.mark.shared_data
def test_a_blank_real_file_is_a_problem(real_files):
    path = next(path for path in real_files if path.name == "tool_blank.hwpx")
    assert [problem.reason for problem in read_real(path).problems] == ["no text"]
