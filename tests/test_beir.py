"""BEIR-layout JSON-lines readers: what they read, and the line they name when a line is bad."""

import pytest

from seoga.errors import InputError
from seoga.evaluate.beir import read_corpus_texts, read_queries
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
