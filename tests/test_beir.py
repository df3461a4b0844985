"""BEIR-layout JSON-lines readers: what they read, and the line they name when a line is bad."""

import pytest

from seoga.datasets.beir import read_corpus_texts, read_qrels, read_queries
from seoga.errors import InputError
from seoga.evaluate.qa import read_answers


def test_readers_key_each_line_by_its_id(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        '{"_id": 1, "title": "Title", "text": "Body"}\n\n{"_id": "b", "text": "Only"}\n',
        encoding="utf-8",
    )
    assert read_corpus_texts(corpus) == {"1": "Title\nBody", "b": "Only"}
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"_id": "q", "answers": ["Seoul", " ", 7]}\n', encoding="utf-8")
    assert read_answers(answers) == {"q": ["Seoul", "7"]}


@pytest.mark.parametrize("bad_line", ["not json", '{"text": "no id"}', '["a", "list"]'])
def test_a_bad_line_is_named(tmp_path, bad_line):
    queries = tmp_path / "queries.jsonl"
    queries.write_text(f'{{"_id": "q1", "text": "fine"}}\n{bad_line}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"queries\.jsonl:2: expected a query object"):
        read_queries(queries)


def test_qrels_with_or_without_a_header(tmp_path):
    with_header = tmp_path / "with.tsv"
    with_header.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n", encoding="utf-8")
    without = tmp_path / "without.tsv"
    without.write_text("q1\td1\t1\nq2\td3\t2\n", encoding="utf-8")
    assert read_qrels(with_header) == {"q1": {"d1": 1}}
    assert read_qrels(without) == {"q1": {"d1": 1}, "q2": {"d3": 2}}
    bad = tmp_path / "bad.tsv"
    bad.write_text("q1\td1\t1\nq2\td3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.tsv:2: expected query-id"):
        read_qrels(bad)


def test_store_reads_more_chunks_than_one_sql_statement_binds(tmp_path, monkeypatch):
    from seoga.collection import Collection
    from seoga.index import store
    from seoga.settings import CollectionSettings

    docs = tmp_path / "docs"
    docs.mkdir()
    for number in range(5):
        (docs / f"{number}.txt").write_text(f"passage number {number} about fusion", "utf-8")
    collection = Collection.create(tmp_path / "kb", CollectionSettings(embedder=None))
    collection.add([docs])
    ids = [chunk.chunk_id for chunk in collection.store.iter_chunks()]
    monkeypatch.setattr(store, "SQL_VARIABLES_PER_QUERY", 2)
    assert sorted(collection.store.chunks(ids)) == sorted(ids) and len(ids) == 5
