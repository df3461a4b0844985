"""The distillation lab from the command line and its data, on tiny random models: an embedder
student (layer-dropped and ALBERT-style) scored on an STS dev file, `seoga optimize`, and a
reranker student; distillation text from tables and folders with the right prompts."""

import json

import pytest

from seoga.distill.built_students import albert_student
from seoga.distill.data import distillation_texts, texts_of
from seoga.errors import InputError
from tests.conftest import E5_PROMPTS, build_tiny_model
from tests.test_train_cli import run

SENTENCES = [
    ("hello world", "hello search world", 4.5),
    ("the engine", "a document of english", 1.0),
    ("korean query", "korean passage", 3.0),
    ("offline search", "search offline", 5.0),
    ("the a of", "hello engine", 0.5),
    ("english document", "english passage", 3.5),
]


@pytest.fixture(scope="module")
def tiny_e5(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("e5"), E5_PROMPTS, layers=4)


@pytest.fixture
def sts_file(tmp_path):
    path = tmp_path / "sts.tsv"
    rows = ["sentence1\tsentence2\tscore"] + [f"{a}\t{b}\t{s}" for a, b, s in SENTENCES]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(
        "# Search\n\nHello world of search. The engine is offline. It finds a passage.",
        encoding="utf-8",
    )
    return folder


def test_texts_carry_the_prompt_of_their_role(sts_file, docs):
    sentences = texts_of(sts_file, E5_PROMPTS)
    assert sentences[0] == "query: hello world" and len(sentences) == 2 * len(SENTENCES)
    passages = texts_of(docs, E5_PROMPTS)
    assert passages and all(text.startswith("passage: ") for text in passages)
    with_queries = texts_of(docs, E5_PROMPTS, sentence_queries=True)
    assert with_queries[: len(passages)] == passages
    assert with_queries[len(passages) :] == [
        "query: Hello world of search.",
        "query: The engine is offline.",
        "query: It finds a passage.",
    ]
    both = distillation_texts([sts_file, docs, sts_file], E5_PROMPTS, max_texts=5, seed=1)
    assert len(both) == len(set(both)) == 5
    with pytest.raises(InputError, match="does not exist"):
        texts_of(docs / "missing", E5_PROMPTS)


def test_distill_embedder_then_optimize_from_the_cli(tiny_e5, sts_file, docs, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "student"
    result = run(
        "distill", "embedder", "--teacher", str(tiny_e5), "--student-layers", "2",
        "--data", str(sts_file), "--data", str(docs), "--eval", str(sts_file),
        "--epochs", "2", "--batch-size", "4", "--learning-rate", "1e-3", "--max-length", "32",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert "student written to" in result.stdout
    card = json.loads((out / "distill.json").read_text(encoding="utf-8"))
    assert card["student"]["layers"] == 2 and len(card["epochs"]) == 2
    assert card["data"]["sources"] == [str(sts_file), str(docs)]
    assert SentenceTransformer(str(out)).prompts["query"] == "query: "
    optimized = run(
        "optimize", str(out), "--trim-vocab", str(docs), "--no-base-vocab",
        "--out", str(tmp_path / "int8"), "--json",
    )  # fmt: skip
    report = json.loads(optimized.stdout)
    assert report["int8"] and report["vocabulary"]["after"] < report["vocabulary"]["before"]
    assert (tmp_path / "int8" / "seoga-onnx.json").is_file()
    kb = tmp_path / "kb"
    indexed = run("index", str(docs), "-c", str(kb), "--embedder", str(tmp_path / "int8"))
    assert indexed.returncode == 0, indexed.stdout
    found = run("search", "offline engine", "-c", str(kb), "--mode", "dense", "--json")
    assert json.loads(found.stdout)[0]["doc_id"].endswith("a.md")


def test_albert_student_factorises_and_shares(tiny_e5, sts_file, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "albert"
    result = run(
        "distill", "embedder", "--teacher", str(tiny_e5), "--student", "albert",
        "--embedding-size", "8", "--share-layers", "all", "--data", str(sts_file),
        "--batch-size", "4", "--max-length", "32", "--out", str(out), "--json",
    )  # fmt: skip
    card = json.loads(result.stdout)
    assert card["student"]["model_type"] == "albert" and card["student"]["kind"] == "albert"
    saved = SentenceTransformer(str(out))
    backbone = saved[0].auto_model
    assert backbone.config.embedding_size == 8 and len(backbone.encoder.albert_layer_groups) == 1
    teacher = SentenceTransformer(str(tiny_e5))
    assert sum(p.numel() for p in saved.parameters()) < sum(p.numel() for p in teacher.parameters())
    assert saved.encode(["hello world"]).shape == (1, teacher.get_embedding_dimension())


def test_albert_refuses_what_it_cannot_share(tiny_e5):
    from sentence_transformers import SentenceTransformer

    teacher = SentenceTransformer(str(tiny_e5))
    with pytest.raises(InputError, match="attention alone cannot be shared"):
        albert_student(teacher, [2, 4], 8, "attention")
    with pytest.raises(InputError, match="embedding-size"):
        albert_student(teacher, [2, 4], 64, "all")


def test_distill_reranker_from_the_cli(tiny_reranker, reranker_pairs, tmp_path):
    out = tmp_path / "rr"
    result = run(
        "distill", "reranker", "--teacher", str(tiny_reranker), "--data", str(reranker_pairs),
        "--student-layers", "2", "--losses", "soft-kd,hard-label", "--temperature", "4",
        "--held-out", "0.25", "--batch-size", "8", "--max-length", "32",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert "held-out ECE" in result.stdout
    record = json.loads((out / "seoga_model.json").read_text(encoding="utf-8"))
    assert record["kind"] == "reranker" and record["distilled_from"] == str(tiny_reranker.resolve())
