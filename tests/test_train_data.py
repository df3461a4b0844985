"""Training data formats: each reader, format detection, and file:line errors on bad rows."""

import json

import pytest

from seoga.errors import InputError
from seoga.train.data import (
    detect_format,
    file_passages,
    read_beir,
    read_examples,
    read_labeled,
    read_nli,
    read_pairs,
    read_scored_pairs,
    read_triplets,
)


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_pairs_with_and_without_header(tmp_path):
    headed = write(
        tmp_path / "p.tsv", "query\tpassage\n전세 갱신\t계약갱신요구권 행사\nbm25\tranks\n"
    )
    pairs = read_pairs(headed)
    assert pairs.kind == "pairs" and pairs.columns["anchor"] == ["전세 갱신", "bm25"]
    bare = write(tmp_path / "p.csv", 'a,"b, with comma"\nc,d\n')
    assert read_pairs(bare).columns["positive"] == ["b, with comma", "d"]


def test_pairs_bad_row_names_file_and_line(tmp_path):
    bad = write(tmp_path / "p.tsv", "anchor\tpositive\nok\tfine\nmissing a tab\n")
    with pytest.raises(InputError, match=r"p\.tsv:3: expected at least 2 columns"):
        read_pairs(bad)
    empty = write(tmp_path / "e.tsv", "anchor\tpositive\nok\t \n")
    with pytest.raises(InputError, match=r"e\.tsv:2: empty positive"):
        read_pairs(empty)


def test_triplets_and_jsonl(tmp_path):
    rows = [
        {"anchor": "a", "positive": "p", "negative": "n"},
        {"anchor": "b", "positive": "q", "negative": "m"},
    ]
    path = write(tmp_path / "t.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    triplets = read_triplets(path)
    assert triplets.columns == {
        "anchor": ["a", "b"],
        "positive": ["p", "q"],
        "negative_1": ["n", "m"],
    }
    broken = write(tmp_path / "b.jsonl", json.dumps(rows[0]) + "\n{not json\n")
    with pytest.raises(InputError, match=r"b\.jsonl:2: invalid JSON"):
        read_triplets(broken)


def test_scored_pairs_sts_layouts(tmp_path):
    korsts = write(
        tmp_path / "sts-dev.tsv",
        "genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2\n"
        'main\tMSRvid\t2012\t0001\t5.000\t"따옴표" 문장\t같은 문장\n',
    )
    pairs = read_scored_pairs(korsts)
    assert pairs.columns == {
        "sentence1": ['"따옴표" 문장'],
        "sentence2": ["같은 문장"],
        "score": [5.0],
    }
    # STS-B: no header, unquoted, licence fields after sentence2.
    stsb = write(
        tmp_path / "sts-test.csv", 'g\tf\t2012\t1\t2.5\tA "quoted" one.\tAnother.\textra\tfields\n'
    )
    assert read_scored_pairs(stsb).columns["sentence1"] == ['A "quoted" one.']
    three = write(tmp_path / "s.tsv", "a\tb\t0.5\n")
    assert read_scored_pairs(three).columns["score"] == [0.5]
    bad = write(tmp_path / "bad.tsv", "a\tb\t0.5\nc\td\thigh\n")
    with pytest.raises(InputError, match=r"bad\.tsv:2: the score 'high' is not a number"):
        read_scored_pairs(bad)


def test_nli_triplets(tmp_path):
    nli = write(
        tmp_path / "xnli.tsv",
        "sentence1\tsentence2\tgold_label\n"
        "전제\t함의\tentailment\n전제\t모순\tcontradiction\n전제\t중립\tneutral\n"
        "외톨이 전제\t함의만\tentailment\n",
    )
    triplets = read_nli(nli)
    assert triplets.columns == {"anchor": ["전제"], "positive": ["함의"], "negative_1": ["모순"]}
    assert "1 premises" in triplets.notes[0]
    bad = write(tmp_path / "bad.tsv", "sentence1\tsentence2\tgold_label\n전제\t가설\tmaybe\n")
    with pytest.raises(InputError, match=r"bad\.tsv:2: unknown NLI label 'maybe'"):
        read_nli(bad)


def test_labeled(tmp_path):
    path = write(tmp_path / "l.tsv", "text\tlabel\nx\tcat\ny\tdog\nz\tcat\n")
    assert read_labeled(path).columns == {"text": ["x", "y", "z"], "label": [0, 1, 0]}


@pytest.mark.shared_data
def test_detect_format(tmp_path, shared_data):
    assert detect_format(shared_data / "korsts" / "sts-test.tsv") == "scored-pairs"
    assert detect_format(shared_data / "stsbenchmark" / "sts-test.csv") == "scored-pairs"
    assert detect_format(shared_data / "kornli" / "xnli.dev.ko.tsv") == "nli"
    assert detect_format(shared_data / "beir_scifact") == "beir"
    assert detect_format(write(tmp_path / "s.tsv", "x\ty\t0.5\n")) == "scored-pairs"
    assert detect_format(write(tmp_path / "t.tsv", "x\ty\tz\n")) == "triplets"
    assert detect_format(write(tmp_path / "p.tsv", "x\ty\n")) == "pairs"
    docs = write(tmp_path / "docs.jsonl", '{"_id": "1", "title": "t", "text": "x"}\n')
    assert detect_format(docs) == "corpus"
    assert detect_format(write(tmp_path / "notes.txt", "a\tb\n")) == "corpus"
    unknown = write(tmp_path / "u.tsv", "w\tx\ty\tz\n")
    with pytest.raises(InputError, match="give --format"):
        read_examples(unknown)


@pytest.mark.shared_data
def test_real_files_read_whole(shared_data):
    sts = read_scored_pairs(shared_data / "stsbenchmark" / "sts-test.csv")
    assert len(sts) == 1379
    assert len(read_scored_pairs(shared_data / "korsts" / "sts-test.tsv")) == 1379
    assert len(read_nli(shared_data / "kornli" / "xnli.dev.ko.tsv")) >= 800


def make_beir(root, *, train_split=True):
    root.mkdir(parents=True, exist_ok=True)
    docs = {
        "d1": ("BM25", "BM25 ranks documents by term frequency and document length."),
        "d2": ("Dense", "Dense retrieval encodes queries and passages as vectors."),
        "d3": ("Fusion", "Fusion mixes sparse and dense rankings of documents."),
        "d4": ("Kiwi", "Kiwi splits Korean text into morphemes for the index."),
        "d5": ("BM25", "BM25 ranks documents by term frequency and document length."),
    }
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in docs.items())
    )
    queries = {
        "q1": "how does bm25 rank documents",
        "q2": "dense vectors for passages",
        "q3": "korean morphemes",
    }
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items())
    )
    (root / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq3\td4\t1\n")
    if train_split:
        (root / "qrels").mkdir(exist_ok=True)
        (root / "qrels" / "train.tsv").write_text(
            "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n"
        )
    return root


def test_beir_split(tmp_path):
    root = make_beir(tmp_path / "beir")
    train = read_beir(root, "train")
    assert set(train.qrels) == {"q1", "q2"} and train.corpus["d1"].startswith("BM25\n")
    pairs = train.examples()
    assert pairs.columns["anchor"] == ["how does bm25 rank documents", "dense vectors for passages"]
    assert set(read_beir(root).qrels) == {"q3"}
    with pytest.raises(InputError, match="no qrels for split 'dev'.*splits found: train"):
        read_beir(root, "dev")


def test_file_passages(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write(folder / "a.md", "# Title\n\nFirst sentence here. Second sentence there.")
    passages = file_passages(folder)
    assert passages and passages[0].title == "Title" and "Second sentence" in passages[0].text
    with pytest.raises(InputError, match="no readable documents"):
        file_passages(write(tmp_path / "empty.txt", ""))
