"""`seoga read`, the formats report of `seoga index`, `--ocr` and `--filter` from the command
line: a Hangul document made in code goes in, its table rows and section path come out."""

import json

from tests.hwp_files import extended_control, hwp_file, paragraph, table
from tests.test_cli import EXIT_USER_ERROR, seoga


def notice(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    rows = [["구분", "담당 부서"], ["예산", "정보화담당관"], ["일정", "기획예산과"]]
    body = (
        paragraph(0, "Ⅱ. 과업 세부내용")
        + paragraph(0, "2. 추진 체계")
        + paragraph(0, extended_control(11, "tbl "), controls=[table(rows)])
    )
    (folder / "공고.hwp").write_bytes(hwp_file([body]))
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 binary word file")
    return folder


def test_read_shows_sections_and_table_rows(tmp_path):
    folder = notice(tmp_path)
    shown = seoga("read", str(folder / "공고.hwp"), "--json")
    assert shown.returncode == 0, shown.stderr
    (document,) = json.loads(shown.stdout)["documents"]
    assert "구분: 예산 | 담당 부서: 정보화담당관" in document["text"]
    paths = [path for _, path in document["metadata"]["sections"]]
    assert paths == ["Ⅱ. 과업 세부내용", "Ⅱ. 과업 세부내용 > 2. 추진 체계"]
    plain = seoga("read", str(folder / "공고.hwp"))
    assert "§ Ⅱ. 과업 세부내용 > 2. 추진 체계" in plain.stdout
    unread = seoga("read", str(folder / "old.doc"))
    assert unread.returncode == 1 and "unsupported file type .doc" in unread.stderr
    bad = seoga("read", str(folder / "공고.hwp"), "--ocr", "sometimes")
    assert bad.returncode == EXIT_USER_ERROR and "auto, always, never" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_index_counts_formats_and_search_shows_the_section(tmp_path):
    folder = notice(tmp_path)
    kb = str(tmp_path / "kb")
    indexed = seoga("index", str(folder), "-c", kb, "--embedder", "none", "--json")
    assert indexed.returncode == 0, indexed.stderr
    report = json.loads(indexed.stdout)
    assert report["formats"] == {"hwp": 1}
    assert report["skipped"]["by_extension"] == {".doc": 1}
    found = seoga("search", "정보화담당관", "-c", kb, "--json")
    (hit,) = json.loads(found.stdout)
    assert hit["section"] == "Ⅱ. 과업 세부내용 > 2. 추진 체계"
    assert hit["title"] == "공고"
    shown = seoga("search", "정보화담당관", "-c", kb)
    assert "공고 > Ⅱ. 과업 세부내용 > 2. 추진 체계" in shown.stdout
    filtered = seoga("search", "정보화담당관", "-c", kb, "--filter", "author:nobody", "--json")
    assert json.loads(filtered.stdout) == []
