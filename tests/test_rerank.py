"""Cross-encoder reranker: training data (BM25-mined negatives, pairs), training, reranking."""

import json

import pytest

from seoga.answer.base import Passage
from seoga.errors import InputError
from seoga.rerank.model import Reranker
from seoga.rerank.training import (
    Pair,
    RerankerTrainingConfig,
    mine_pairs,
    new_cross_encoder,
    optimizer,
    read_pairs,
    split_by_query,
    train_reranker,
)
from tests.answer_models import build_tiny_bert, build_tiny_bert_classifier
from tests.test_ask import write_qa_set


def test_bm25_negatives_are_never_judged_relevant(tmp_path, monkeypatch):
    monkeypatch.setenv("SEOGA_HOME", str(tmp_path / "home"))
    data = write_qa_set(tmp_path / "set")
    (data / "qrels").mkdir()
    (data / "qrels" / "train.tsv").write_text((data / "qrels.tsv").read_text())
    pairs = mine_pairs(data, RerankerTrainingConfig(negatives=2), show_progress=False)
    qrels = {
        line.split("\t")[0]: line.split("\t")[1]
        for line in (data / "qrels.tsv").read_text().splitlines()[1:]
    }
    corpus = {
        json.loads(line)["_id"]: json.loads(line)["text"]
        for line in (data / "corpus.jsonl").read_text().splitlines()
    }
    positives = [p for p in pairs if p.label == 1.0]
    negatives = [p for p in pairs if p.label == 0.0]
    assert len(positives) == len(qrels) and negatives
    for pair in negatives:
        assert corpus[qrels[pair.group]] not in pair.passage
    assert len({p.group for p in negatives}) > 1


def test_pairs_file_and_held_out_split(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"query": "q", "passage": "p", "label": 1}\n{"query": "q", "passage": "x"}\n')
    with pytest.raises(InputError, match=r"pairs.jsonl:2"):
        read_pairs(path)
    pairs = [Pair(f"q{i}", "p", float(i % 2), f"q{i // 2}") for i in range(40)]
    train, held = split_by_query(pairs, 0.25, seed=0)
    assert len(held) == 10 and not {p.group for p in held} & {p.group for p in train}


def test_trained_reranker_orders_and_calibrates(tmp_path):
    base = build_tiny_bert(tmp_path / "bert")
    lines = []
    for index in range(30):
        lines.append({"query": f"search {index}", "passage": "search engine offline", "label": 1})
        lines.append({"query": f"search {index}", "passage": "korean world hello", "label": 0})
    data = tmp_path / "pairs.jsonl"
    data.write_text("\n".join(json.dumps(line) for line in lines))
    config = RerankerTrainingConfig(
        base=str(base),
        epochs=8,
        learning_rate=1e-3,
        batch_size=8,
        max_length=32,
        calibration_fraction=0.2,
    )
    record = train_reranker(data, tmp_path / "rr", config, show_progress=False)
    assert record["held_out_pairs"] > 0 and record["scaling"]["temperature"] > 0
    reranker = Reranker(tmp_path / "rr")
    passages = [
        Passage(1, "a", "", "korean world hello"),
        Passage(2, "b", "", "search engine offline"),
    ]
    reranked = reranker.rerank("search 99", passages)
    assert [p.doc_id for p in reranked] == ["b", "a"] and [p.number for p in reranked] == [1, 2]
    assert reranked[0].relevance > 0.5 > reranked[1].relevance


def test_an_encoder_gets_a_mean_pooled_head_and_a_cross_encoder_keeps_its_own(tmp_path):
    config = RerankerTrainingConfig(learning_rate=1e-4, head_learning_rate=1e-2)
    encoder = new_cross_encoder(str(build_tiny_bert(tmp_path / "bert")), max_length=32)
    assert len(list(encoder)) == 3 and encoder.num_labels == 1
    head, body = sorted(optimizer(encoder, config).param_groups, key=lambda group: -group["lr"])
    assert head["lr"] == 1e-2 and body["lr"] == 1e-4
    assert sum(p.numel() for p in head["params"]) == encoder[-1].linear.weight.numel() + 1
    classifier = new_cross_encoder(
        str(build_tiny_bert_classifier(tmp_path / "classifier")), max_length=32
    )
    assert len(list(classifier)) == 1
    assert [group["lr"] for group in optimizer(classifier, config).param_groups] == [1e-4]
