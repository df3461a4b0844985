"""A document's section path travels with each chunk: into what the indexes see, the store,
search results, answers' passages, the CLI and the server."""

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seoga.answer.pipeline import Asker
from seoga.cli import app
from seoga.collection import Collection, passage_text
from seoga.index.store import SCHEMA, SECTION_COLUMN, STORE_NAME, Store, StoredChunk
from seoga.serve.service import Service
from seoga.serve.settings import ServeSettings
from seoga.settings import CollectionSettings
from seoga.text.documents import Chunk, Document
from seoga.text.formats.structure import BLOCK_SEPARATOR

TITLE = "과업지시서"
SCHEDULE = "과업 세부내용 > 추진 일정"
BUDGET = "과업 세부내용 > 소요 예산"
# The section paths' words ("추진", "일정", "예산") are in no chunk's text.
SCHEDULE_TEXT = "착수 보고는 계약 후 2주 안에 합니다."
BUDGET_TEXT = "총 사업비는 5억 원입니다."
NOTE_TEXT = "사무실 이전 안내 메모입니다."


def plan() -> Document:
    """A document with two sections, as a format reader would give it."""
    budget_start = len(SCHEDULE_TEXT) + len(BLOCK_SEPARATOR)
    return Document(
        "plan",
        f"{SCHEDULE_TEXT}{BLOCK_SEPARATOR}{BUDGET_TEXT}",
        title=TITLE,
        metadata={"sections": [[0, SCHEDULE], [budget_start, BUDGET]]},
    )


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sections") / "kb"
    collection = Collection.create(root, CollectionSettings(embedder=None))
    collection.add_documents([plan(), Document("note", NOTE_TEXT, title="메모")])
    return root


def run(*args: str):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_passage_text_puts_the_section_between_title_and_text():
    assert passage_text("T", "body", "A > B") == "T\nA > B\nbody"
    assert passage_text("", "body", "A") == "A\nbody"
    # Without a section, as before sections existed: indexes built then stay valid.
    assert passage_text("T", "body") == passage_text("T", "body", "") == "T\nbody"
    assert passage_text("", "body") == "body"


def chunk_columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        found = [row[1] for row in connection.execute("PRAGMA table_info(chunks)")]
    connection.close()
    return found


def old_store(path: Path) -> Path:
    """A store as seoga wrote it before chunks had a section, holding one chunk."""
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA.replace(f",\n    {SECTION_COLUMN}", ""))
    connection.execute("INSERT INTO files VALUES ('f', 'hash', 1)")
    connection.execute("INSERT INTO documents VALUES ('d', 'f', 'Title', 'old text', 'f', '{}')")
    connection.execute("INSERT INTO chunks VALUES (0, 'd', 0, 0, 8, 'old text', 'old text')")
    connection.commit()
    connection.close()
    return path


def test_an_older_store_reads_without_sections_and_gains_them_when_written(tmp_path):
    path = old_store(tmp_path / STORE_NAME)
    assert "section" not in chunk_columns(path)
    expected = StoredChunk(0, "d", 0, "old text", "Title", "f", "")
    reader = Store(path, read_only=True)
    assert list(reader.iter_chunks()) == [expected]
    assert reader.chunks([0]) == {0: expected}
    reader.close()
    assert "section" not in chunk_columns(path)

    copy = Store.copy(path, tmp_path / "next.sqlite")
    copy.add_chunks([1], [Chunk("d", 1, "new text", 9, 17, "A > B")], [["new", "text"]])
    copy.commit()
    assert [chunk.section for chunk in copy.iter_chunks()] == ["", "A > B"]
    copy.close()

    writer = Store(path)
    assert "section" in chunk_columns(path)
    assert list(writer.iter_chunks()) == [expected]
    writer.close()


def test_search_finds_a_chunk_by_its_section_path_and_returns_it(kb):
    collection = Collection.open(kb)
    stored = {chunk.text: chunk.section for chunk in collection.store.iter_chunks()}
    assert stored == {SCHEDULE_TEXT: SCHEDULE, BUDGET_TEXT: BUDGET, NOTE_TEXT: ""}
    # "추진 일정" and "예산" are only in the section paths.
    for query, section, snippet in (
        ("추진 일정", SCHEDULE, SCHEDULE_TEXT),
        ("예산", BUDGET, BUDGET_TEXT),
    ):
        (hit,) = collection.search(query, k=1)
        assert (hit.doc_id, hit.section, hit.snippet) == ("plan", section, snippet)
        assert hit.to_dict()["section"] == section
    (note,) = collection.search("사무실 이전", k=1)
    assert (note.doc_id, note.section) == ("note", "")


def test_answers_and_their_passages_carry_the_section(kb):
    (passage,) = Asker(kb).passages("추진 일정")[:1]
    assert (passage.doc_id, passage.section) == ("plan", SCHEDULE)
    answer = json.loads(run("ask", "추진 일정은?", "-c", str(kb), "--json"))
    assert answer["passages"][0]["section"] == SCHEDULE
    assert f"{TITLE} > {SCHEDULE}" in run("ask", "추진 일정은?", "-c", str(kb))


def test_cli_and_server_show_the_section_after_the_title(kb):
    hits = json.loads(run("search", "예산", "-c", str(kb), "-k", "1", "--json"))
    assert hits[0]["section"] == BUDGET
    assert f"1. {TITLE} > {BUDGET}" in run("search", "예산", "-c", str(kb), "-k", "1")
    assert "메모 >" not in run("search", "사무실 이전", "-c", str(kb), "-k", "1")
    served = Service(ServeSettings(collection=kb)).search("예산", k=1)
    assert served["hits"][0]["section"] == BUDGET
