"""The ask pipeline and its CLI: retrieval → (rerank) → reader → cited, calibrated answer."""

import json

import pytest

from seoga import Asker, Collection, CollectionSettings
from seoga.answer.base import ABSTAIN_MESSAGE, Passage
from seoga.answer.highlighter import Highlighter
from seoga.text.analyzers import build_analyzer
from tests.answer_models import build_tiny_bert, build_tiny_t5
from tests.test_cli import EXIT_USER_ERROR, seoga


def cli(*args: str):
    """Run the CLI in this process (imports are paid once); returns the click result."""
    from typer.testing import CliRunner

    from seoga.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


FACTS = [
    ("lease", "Lease renewal", "A tenant may renew a lease once. The renewal adds two years."),
    ("bm25", "BM25", "BM25 ranks documents by term frequency. It was made in the nineties."),
    ("fusion", "Fusion", "Reciprocal rank fusion merges ranked lists. Its constant is sixty."),
    ("kiwi", "Kiwi", "Kiwi splits Korean text into morphemes. It is written in C++."),
    ("faiss", "Faiss", "Faiss stores dense vectors. It searches them with HNSW graphs."),
    ("jeonse", "전세", "전세 계약은 2년 단위입니다. 계약갱신요구권은 한 번 쓸 수 있습니다."),
]
QUESTIONS = [
    ("q1", "How many years does a lease renewal add?", ["two years"], "lease"),
    ("q2", "What does BM25 rank documents by?", ["term frequency"], "bm25"),
    ("q3", "What is the constant of reciprocal rank fusion?", ["sixty"], "fusion"),
    ("q4", "What does Kiwi split Korean text into?", ["morphemes"], "kiwi"),
    ("q5", "What does Faiss search dense vectors with?", ["HNSW graphs"], "faiss"),
    ("q6", "계약갱신요구권은 몇 번 쓸 수 있나요?", ["한 번"], "jeonse"),
]


def write_qa_set(folder):
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "\n".join(
            json.dumps({"_id": i, "title": t, "text": x}, ensure_ascii=False) for i, t, x in FACTS
        ),
        encoding="utf-8",
    )
    (folder / "queries.jsonl").write_text(
        "\n".join(
            json.dumps({"_id": q, "text": t}, ensure_ascii=False) for q, t, _, _ in QUESTIONS
        ),
        encoding="utf-8",
    )
    (folder / "answers.jsonl").write_text(
        "\n".join(
            json.dumps({"_id": q, "answers": a}, ensure_ascii=False) for q, _, a, _ in QUESTIONS
        ),
        encoding="utf-8",
    )
    (folder / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, _, _, d in QUESTIONS)
    )
    return folder


@pytest.fixture(scope="module")
def qa_set(tmp_path_factory):
    return write_qa_set(tmp_path_factory.mktemp("qa") / "set")


@pytest.fixture(scope="module")
def kb(tmp_path_factory, qa_set, tiny_model):
    collection = Collection.create(
        tmp_path_factory.mktemp("kb") / "kb", CollectionSettings(embedder=str(tiny_model))
    )
    collection.add([qa_set / "corpus.jsonl"])
    return collection.root


def test_highlighter_picks_the_answering_sentence():
    highlighter = Highlighter(build_analyzer("english"))
    passages = [
        Passage(1, "a", "BM25", "BM25 is a ranking function. It ranks by term frequency."),
        Passage(2, "b", "Other", "Dense retrieval uses vectors."),
    ]
    answer = highlighter.read("by what frequency does it rank", passages)
    assert answer.text == "It ranks by term frequency." and answer.citations == [1]
    marked = answer.marked_context(answer.spans[0], "<", ">")
    assert marked == "BM25 is a ranking function. <It ranks by term frequency.>"
    assert answer.scores == sorted(answer.scores, reverse=True)


def test_python_api_answers_with_citations(kb):
    asker = Asker(kb)  # the highlighter over the collection's own models
    answer = asker.ask("What does BM25 rank documents by?")
    assert "term frequency" in answer.text
    assert answer.cited()[0].doc_id == "bm25"
    assert 0.0 <= answer.confidence <= 1.0 and not answer.calibrated and not answer.abstained
    assert [p.number for p in answer.passages] == list(range(1, len(answer.passages) + 1))


def test_cli_ask_eval_calibrate_cycle(tmp_path, qa_set, kb):
    shown = cli("ask", "What does Kiwi split Korean text into?", "-c", str(kb))
    assert shown.exit_code == 0, shown.output
    assert "morphemes" in shown.stdout and "[1]" in shown.stdout and "uncalibrated" in shown.stdout

    metrics_path = tmp_path / "m.json"
    evaluated = cli("eval", "qa", str(qa_set), "-c", str(kb), "--out", str(metrics_path))
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads(metrics_path.read_text())
    for key in ("exact_match", "f1", "gold_passage_recall", "abstention_rate", "ece"):
        assert key in metrics
    assert metrics["n_questions"] == len(QUESTIONS) and metrics["gold_passage_recall"] > 0.5

    plot = tmp_path / "r.png"
    fitted = cli("calibrate", "--data", str(qa_set), "-c", str(kb), "--plot", str(plot), "--json")
    assert fitted.exit_code == 0, fitted.output
    stored = json.loads((kb / "calibration.json").read_text())["readers"]["highlighter"]
    assert stored["scaling"]["temperature"] > 0 and "ece_before" in stored["fit"]
    assert plot.read_bytes()[:4] == b"\x89PNG"

    answered = json.loads(
        cli("ask", "What does Faiss search dense vectors with?", "-c", str(kb), "--json").stdout
    )
    assert answered["calibrated"] and answered["threshold"] == pytest.approx(stored["threshold"])
    withheld = cli("ask", "What does Faiss search?", "-c", str(kb), "--threshold", "1.01")
    assert withheld.exit_code == 0 and ABSTAIN_MESSAGE in withheld.stdout


def test_cli_trains_span_fid_and_reranker_and_asks_with_them(tmp_path, qa_set, kb):
    base = build_tiny_bert(tmp_path / "bert")
    squad = tmp_path / "squad.json"
    paragraphs = [
        {
            "context": text,
            "qas": [
                {
                    "id": q,
                    "question": question,
                    "answers": [{"text": a[0], "answer_start": text.find(a[0])}],
                }
                for q, question, a, doc in QUESTIONS
                if doc == doc_id
            ],
        }
        for doc_id, _, text in FACTS
    ]
    squad.write_text(
        json.dumps({"data": [{"title": "facts", "paragraphs": paragraphs}]}), encoding="utf-8"
    )
    common = ["--base", str(base), "--epochs", "1", "--json"]
    reader = cli(
        "train",
        "reader",
        "--data",
        str(squad),
        "--out",
        str(tmp_path / "reader"),
        "--max-length",
        "48",
        "--stride",
        "16",
        *common,
    )
    assert reader.exit_code == 0, reader.output
    assert json.loads(reader.stdout)["config"]["seed"] == 42

    reranker = cli(
        "train",
        "reranker",
        "--data",
        str(qa_set),
        "--split",
        "test",
        "--out",
        str(tmp_path / "rr"),
        "--negatives",
        "2",
        "--max-length",
        "64",
        *common,
    )
    assert reranker.exit_code == 0, reranker.output

    span = cli(
        "ask",
        "What does BM25 rank documents by?",
        "-c",
        str(kb),
        "--reader",
        f"span:{tmp_path / 'reader'}",
        "--rerank",
        str(tmp_path / "rr"),
        "--json",
    )
    assert span.exit_code == 0, span.output
    answer = json.loads(span.stdout)
    assert answer["reader"] == "span" and answer["text"] and answer["citations"]
    assert all(p["relevance"] is not None for p in answer["passages"])

    t5 = build_tiny_t5(tmp_path / "t5")
    fid_data = tmp_path / "fid.jsonl"
    fid_data.write_text(
        "\n".join(
            json.dumps(
                {
                    "question": q,
                    "answers": a,
                    "passages": [text for d, _, text in FACTS if d == doc],
                }
            )
            for _, q, a, doc in QUESTIONS
        ),
        encoding="utf-8",
    )
    fid = cli(
        "train",
        "fid",
        "--data",
        str(fid_data),
        "--base",
        str(t5),
        "--out",
        str(tmp_path / "fid"),
        "--epochs",
        "1",
        "--answer-tokens",
        "4",
        "--json",
    )
    assert fid.exit_code == 0, fid.output
    generated = cli(
        "ask",
        "What is the constant of reciprocal rank fusion?",
        "-c",
        str(kb),
        "--reader",
        f"fid:{tmp_path / 'fid'}",
        "-k",
        "2",
    )
    assert generated.exit_code == 0, generated.output
    assert "[1]" in generated.stdout


def test_cli_refuses_bad_reader_specs(kb):
    unknown = seoga("ask", "anything", "-c", str(kb), "--reader", "oracle")
    assert unknown.returncode == EXIT_USER_ERROR and "unknown reader" in unknown.stderr
    no_path = seoga("ask", "anything", "-c", str(kb), "--reader", "span")
    assert no_path.returncode == EXIT_USER_ERROR and "span:PATH" in no_path.stderr
    assert "Traceback" not in unknown.stderr + no_path.stderr
