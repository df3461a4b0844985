"""Issue 33: one rule for blank text (files, Python and HTTP), and a record's own `metadata`
object as its document's metadata, which filters then match."""

import json

import pytest

from seoga.collection import Collection
from seoga.errors import InputError
from seoga.search.filters import DocumentFilter
from seoga.settings import NO_EMBEDDER, CollectionSettings
from seoga.text.documents import Document, is_blank
from seoga.text.loaders import load_file
from tests.test_serve_api import auth, served  # noqa: F401 (a fixture pytest finds by name)

# Shows nothing, so nothing in it could ever be found: spaces of every kind, control and
# format characters, zero-width characters and the Hangul fillers.
BLANK_TEXTS = (
    "",
    " \t\n",
    "\u3000\u00a0\u2028",  # ideographic and no-break space, line separator
    "\x00\x07\x1b",
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width space/joiners, word joiner, BOM
    "\u3164",  # HANGUL FILLER, a letter to Unicode
    "\u115f\u1160\uffa0",  # Hangul choseong/jungseong fillers, halfwidth filler
    "\ufe0f\u034f",  # variation selector, combining grapheme joiner
)
TEXTS = ("가", " a ", "\u3164가", "\ue000", "\u200b1")  # a private-use glyph is shown by its font


@pytest.mark.parametrize("text", BLANK_TEXTS)
def test_blank_texts_are_blank(text):
    assert is_blank(text)


@pytest.mark.parametrize("text", TEXTS)
def test_texts_with_a_visible_character_are_not_blank(text):
    assert not is_blank(text)


def bm25_collection(path) -> Collection:
    """BM25 alone: no model to load."""
    return Collection.create(path, CollectionSettings(embedder=NO_EMBEDDER))


def test_file_loader_rejects_invisible_text(tmp_path):
    records = tmp_path / "records.jsonl"
    lines = [{"id": "filler", "text": "\u3164\u200b"}, {"id": "ok", "text": "본문"}]
    records.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = load_file(records)
    assert [d.doc_id for d in result.documents] == ["ok"]
    assert [(p.line, p.reason) for p in result.problems] == [(1, "empty text")]
    filler = tmp_path / "filler.txt"
    filler.write_text("\u3164\u3164\n\u200d", encoding="utf-8")
    assert [p.reason for p in load_file(filler).problems] == ["no text"]


@pytest.mark.parametrize("text", ["   \n\t", "\u3164", "\x00\u200b"])
def test_python_api_rejects_blank_text_naming_the_document(tmp_path, text):
    collection = bm25_collection(tmp_path / "kb")
    documents = [Document("fine", "본문 있음"), Document("empty-one", text)]
    with pytest.raises(InputError, match="'empty-one'.*blank"):
        collection.add_documents(documents)
    with pytest.raises(InputError, match="'empty-one'.*blank"):
        collection.put_documents(documents, prefix="api:")
    assert not collection.generation  # nothing of the request was written


def test_http_api_rejects_blank_text_naming_the_document(served):  # noqa: F811
    response = served.post(
        "/v1/documents",
        json={"documents": [{"id": "ok", "text": "본문"}, {"id": "blank", "text": " \u3164\x00"}]},
        params={"wait": True},
        headers=auth(served, "admin"),
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"][-1] == "text"
    assert "'blank'" in error["msg"] and "blank" in error["msg"]
    found = served.get("/v1/documents/ok", headers=auth(served, "search"))
    assert found.status_code == 404  # the request was refused as a whole


def write_jsonl(path, records: list[dict]) -> None:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")


def test_a_records_metadata_object_is_its_documents_metadata(tmp_path):
    path = tmp_path / "records.jsonl"
    write_jsonl(
        path,
        [
            {"id": "a", "text": "x", "lang": "ko", "metadata": {"year": 2001, "lang": "ko"}},
            {"id": "b", "text": "y", "metadata": None},
        ],
    )
    result = load_file(path)
    assert result.problems == []
    assert [d.metadata for d in result.documents] == [{"lang": "ko", "year": 2001}, {}]


def test_a_records_metadata_must_be_an_object_that_agrees_with_its_fields(tmp_path):
    path = tmp_path / "records.jsonl"
    write_jsonl(
        path,
        [
            {"id": "a", "text": "x", "year": 2000, "metadata": {"year": 2001}},
            {"id": "b", "text": "y", "metadata": ["year", 2001]},
            {"id": "c", "text": "z", "metadata": {"year": 2001}},
        ],
    )
    result = load_file(path)
    assert [d.doc_id for d in result.documents] == ["c"]
    clash, not_object = result.problems
    assert clash.line == 1 and "'year'" in clash.reason and "metadata" in clash.reason
    assert not_object.line == 2 and "object" in not_object.reason


def test_a_jsonl_metadata_object_is_filtered_on(tmp_path, main_run):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_jsonl(
        folder / "records.jsonl",
        [
            {
                "id": "old",
                "text": "계약 갱신 안내",
                "metadata": {"year": 2001, "tags": ["법", "계약"]},
            },
            {"id": "new", "text": "계약 갱신 안내문", "metadata": {"year": 2024}},
        ],
    )
    collection = bm25_collection(tmp_path / "kb")
    collection.add([folder])

    def found(*fields: str) -> list[str]:
        where = DocumentFilter.parse(None, list(fields))
        return [hit.doc_id for hit in collection.search("계약 갱신", where=where)]

    assert found("year:2001") == ["old"]
    assert found("tags:법") == ["old"]  # a list matches when one of its values does
    assert found("year:1999") == []
    shown = main_run("search", "계약 갱신", "-c", str(tmp_path / "kb"), "--filter", "year:2001")
    assert shown.returncode in (0, None), shown.stderr
    assert "old" in shown.stdout and "new" not in shown.stdout


def test_filters_match_list_items_nested_objects_and_json_scalars():
    where = DocumentFilter(
        metadata={"tags": "법", "author.name": "홍길동", "draft": "false", "year": "2001"}
    )
    metadata = {"tags": ["법", "계약"], "author": {"name": "홍길동"}, "draft": False, "year": 2001}
    assert where.passes("doc", metadata)
    assert not where.passes("doc", {**metadata, "tags": ["계약"]})
    assert not where.passes("doc", {**metadata, "author": "홍길동"})
    assert not where.passes("doc", {**metadata, "draft": True})
    # A key that holds a dot itself is found as it is.
    assert DocumentFilter(metadata={"dc.title": "공고"}).passes("doc", {"dc.title": "공고"})
