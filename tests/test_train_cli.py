"""The training lab from the command line, end to end on a tiny model: train from a collection,
re-index with the trained model, train with LoRA on scored pairs, eval sts, tune, and errors."""

import json

import yaml
from typer.testing import CliRunner

from seoga import Collection
from seoga.cli import app
from tests.test_cli import EXIT_USER_ERROR
from tests.test_train_data import make_beir


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run(*args: str) -> Result:
    """The CLI in this process (fast: torch is imported once); errors are checked by `seoga`."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


def test_train_index_eval_tune(tmp_path, tiny_model):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(
        "# Search\n\nHello world of search. The engine is offline. It finds a passage.",
        encoding="utf-8",
    )
    (docs / "b.txt").write_text(
        "A query finds a document. The document answers the query. Korean works too.",
        encoding="utf-8",
    )
    kb = tmp_path / "kb"
    assert (
        run("index", str(docs), "-c", str(kb), "--embedder", str(tiny_model), "--json").returncode
        == 0
    )

    model = tmp_path / "models" / "kb-ict"
    trained = run(
        "train", "embedder", "--collection", str(kb), "--objective", "ict", "--base",
        str(tiny_model), "--out", str(model), "--max-steps", "2", "--batch-size", "2", "--json",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    card = json.loads(trained.stdout)
    assert card["objective"] == "ict" and (model / "seoga-train.json").is_file()

    reindexed = run(
        "index", str(docs), "-c", str(tmp_path / "kb2"), "--embedder", str(model), "--json"
    )
    assert reindexed.returncode == 0, reindexed.stderr
    manifest = json.loads((tmp_path / "kb2" / "manifest.json").read_text())
    assert manifest["embedder"]["location"] == str(model.resolve())
    # The same collection, re-encoded with the model trained on it.
    before = Collection.open(kb).search("offline engine", k=2, mode="dense")
    reembedded = run("index", str(docs), "-c", str(kb), "--embedder", str(model))
    assert reembedded.returncode == 0 and "re-encoded" in reembedded.stdout
    kb_after = Collection.open(kb)
    assert kb_after.settings.embedder == str(model.resolve())
    after = kb_after.search("offline engine", k=2, mode="dense")
    assert {hit.doc_id for hit in after} <= {hit.doc_id for hit in before} | {
        d["doc_id"] for d in kb_after.documents()
    }
    assert [hit.score for hit in after] != [hit.score for hit in before]

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "hello world\thello world\t5\nhello\tkorean passage\t0\nsearch engine\tthe engine\t4\n"
        "offline\tquery\t1\n",
        encoding="utf-8",
    )
    sts_model = tmp_path / "models" / "sts"
    lora = run(
        "train", "embedder", "--data", str(pairs), "--format", "scored-pairs", "--loss", "cosent",
        "--lora-rank", "2", "--base", str(tiny_model), "--out", str(sts_model), "--max-steps", "1",
    )  # fmt: skip
    assert lora.returncode == 0, lora.stderr
    assert "LoRA rank 2:" in lora.stdout and "model written to" in lora.stdout

    result = tmp_path / "sts.json"
    scored = run("eval", "sts", str(pairs), "--model", str(sts_model), "--out", str(result))
    assert scored.returncode == 0, scored.stderr
    assert "spearman" in scored.stdout and json.loads(result.read_text())["pairs"] == 4

    beir = make_beir(tmp_path / "beir")
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        yaml.safe_dump(
            {
                "data": str(beir),
                "settings": {"embedder": None, "analyzer": "english"},
                "cache_dir": str(tmp_path / "cache"),
                "grid": {"bm25.k1": [0.9, 1.2], "bm25.b": [0.75]},
            }
        ),
        encoding="utf-8",
    )
    tuned = run("tune", str(grid))
    assert tuned.returncode == 0, tuned.stderr
    assert "best: ndcg@10=" in tuned.stdout and (tmp_path / "grid-results" / "best.json").is_file()
    # The screen keeps what was varied and the chosen metric whole; the rest is in results.md.
    header = next(line for line in tuned.stdout.splitlines() if "rank" in line)
    assert "bm25.k1" in header and "ndcg@10" in header and "recall" not in header
    assert "recall" in (tmp_path / "grid-results" / "results.md").read_text(encoding="utf-8")


def test_train_errors_are_messages(tmp_path, tiny_model, main_run):
    bad = tmp_path / "bad.tsv"
    bad.write_text("anchor\tpositive\nfine\trow\nno tab here\n", encoding="utf-8")
    failed = main_run(
        "train",
        "embedder",
        "--data",
        str(bad),
        "--base",
        str(tiny_model),
        "--out",
        str(tmp_path / "m"),
    )
    assert failed.returncode == EXIT_USER_ERROR
    assert "bad.tsv:3" in failed.stderr and "Traceback" not in failed.stderr
    assert not (tmp_path / "m").exists()
    wrong = main_run(
        "train", "embedder", "--collection", str(tmp_path), "--out", str(tmp_path / "m")
    )
    assert wrong.returncode == EXIT_USER_ERROR and "--objective simcse" in wrong.stderr
