"""`seoga tune`: retrieval grids reuse one encoded collection and match `evaluate_retrieval`;
training grids train and score each trial; recommend grids score as `seoga eval recommend`
does; an interrupted grid resumes where it stopped."""

import json

import pytest
import yaml

from seoga.errors import InputError
from seoga.evaluate.retrieval import evaluate_retrieval
from seoga.settings import CollectionSettings, FusionSettings
from seoga.tune import load_grid, tune
from seoga.tune import retrieval as retrieval_trials
from seoga.tune import workers as tune_workers
from tests.test_train_data import make_beir


def write_grid(path, spec):
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


@pytest.fixture
def beir(tmp_path):
    root = make_beir(tmp_path / "beir")
    # Judge more queries in the default qrels so scores differ between settings.
    (root / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td4\t1\n")
    return root


def retrieval_spec(beir, tiny_model, cache):
    return {
        "kind": "retrieval",
        "data": str(beir),
        "settings": {"embedder": str(tiny_model), "analyzer": "english"},
        "cache_dir": str(cache),
        "grid": {
            "bm25.k1": [1.2, 0.5],
            "fusion.method": ["convex", "rrf"],
            "fusion.dense_weight": [0.3, 0.8],
        },
    }


def test_retrieval_grid_matches_evaluate_and_encodes_once(beir, tiny_model, tmp_path):
    cache = tmp_path / "cache"
    grid = load_grid(write_grid(tmp_path / "grid.yaml", retrieval_spec(beir, tiny_model, cache)))
    report = tune(grid, show_progress=False)
    assert report.ran == 8 and report.skipped == 0
    assert len(list((cache / "eval").glob("beir-*.build.json"))) == 1, "one collection, built once"
    default = next(
        row
        for row in report.rows
        if row["trial"] == {"bm25.k1": 1.2, "fusion.method": "convex", "fusion.dense_weight": 0.3}
    )
    reference = evaluate_retrieval(
        beir,
        "hybrid",
        settings=CollectionSettings(embedder=str(tiny_model), analyzer="english"),
        fusion=FusionSettings(method="convex", dense_weight=0.3),
        cache_dir=cache,
    )
    assert default["metrics"]["ndcg@10"] == pytest.approx(reference["ndcg@10"])
    for name in ("results.csv", "results.json", "results.md", "best.json", "trials.jsonl"):
        assert (grid.output / name).is_file()
    best = json.loads((grid.output / "best.json").read_text())
    assert best["score"] == max(row["score"] for row in report.rows)
    assert (grid.output / "results.md").read_text().startswith("| rank | bm25.k1 |")


def test_interrupted_grid_resumes(beir, tiny_model, tmp_path, monkeypatch):
    spec = retrieval_spec(beir, tiny_model, tmp_path / "cache")
    grid_file = write_grid(tmp_path / "grid.yaml", spec)
    real = retrieval_trials.sparse_rankings
    calls = []

    def interrupted(task):
        calls.append(task)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(retrieval_trials, "sparse_rankings", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tune(load_grid(grid_file), show_progress=False)
    recorded = (tmp_path / "grid-results" / "trials.jsonl").read_text().splitlines()
    assert len(recorded) == 4  # the first BM25 setting's four fusions
    monkeypatch.setattr(retrieval_trials, "sparse_rankings", real)
    report = tune(load_grid(grid_file), show_progress=False)
    assert report.skipped == 4 and report.ran == 4 and len(report.rows) == 8
    again = tune(load_grid(grid_file), show_progress=False)
    assert again.ran == 0 and again.skipped == 8


def test_training_grid(tiny_model, tmp_path):
    sts = tmp_path / "sts.tsv"
    sts.write_text(
        "hello world\thello world\t5\nhello\tkorean passage\t0\nsearch engine\tthe engine\t4\n"
        "offline\tquery\t1\n",
        encoding="utf-8",
    )
    spec = {
        "kind": "training",
        "train": {"base": str(tiny_model), "data": "sts.tsv", "max_steps": 1, "batch_size": 4},
        "eval": "sts.tsv",
        "metric": "spearman",
        "grid": {"lr": [1e-3, 1e-2], "temperature": [0.05]},
    }
    grid = load_grid(write_grid(tmp_path / "g.yaml", spec), seed=3)
    report = tune(grid, show_progress=False)
    assert json.loads((grid.output / "best.json").read_text())["fixed"]["seed"] == 3
    assert report.ran == 2 and all("spearman" in row["metrics"] for row in report.rows)
    assert not (tmp_path / "g-results" / "models").exists() or not any(
        (tmp_path / "g-results" / "models").iterdir()
    )


def test_recommend_grids_score_as_the_evaluators_do(tmp_path):
    from seoga.evaluate.next_item import evaluate_next_item
    from seoga.evaluate.recommend import evaluate_recommender
    from seoga.recommend import Columns, make_recommender, read_interactions, split_interactions
    from seoga.recommend.data.interactions import align
    from seoga.recommend.data.sessions import SessionSettings, prepare_split
    from seoga.recommend.data.splits import Split
    from tests.recommend_data import clicks_log, write_csv
    from tests.test_recommend_sessions import TRAIN, session_log

    copies = [(s + 10 * copy, i, t) for copy in range(3) for s, i, t in TRAIN]
    train = session_log(tmp_path, copies, "tr.tsv")
    valid = session_log(tmp_path, [(9, "a", 20), (9, "b", 21), (9, "c", 22)], "valid.tsv")
    spec = {
        "kind": "recommend",
        "data": "tr.tsv",
        "eval": "valid.tsv",
        "metric": "mrr@20",
        "recommend": {
            "model": "sr",
            "protocol": "next-item",
            "columns": {"user": "SessionId", "item": "ItemId", "time": "Time"},
        },
        "grid": {"steps": [1, 3]},
    }
    report = tune(load_grid(write_grid(tmp_path / "sr.yaml", spec)), show_progress=False)
    columns = Columns(user="SessionId", item="ItemId", time="Time")
    held, log = align(read_interactions(valid, columns), read_interactions(train, columns))
    parts = prepare_split(Split(log, held, "given"), SessionSettings())
    for row in report.rows:
        direct = evaluate_next_item(make_recommender("sr", **row["trial"]), parts)
        assert row["score"] == pytest.approx(direct["mrr@20"]), row

    clicks = write_csv(tmp_path / "clicks.csv", clicks_log(), value_name="clicks")
    spec = {
        "kind": "recommend",
        "data": "clicks.csv",
        "split": "leave-last-out",
        "metric": "hr@10",
        "recommend": {"model": "als"},
        "grid": {"factors": [4, 8]},
    }
    report = tune(load_grid(write_grid(tmp_path / "als.yaml", spec), seed=2), show_progress=False)
    split = split_interactions(read_interactions(clicks), "leave-last-out")
    for row in report.rows:
        model = make_recommender("als", seed=2, **row["trial"])
        assert row["score"] == pytest.approx(evaluate_recommender(model, split)["hr@10"])
    with pytest.raises(
        InputError, match="cannot be tuned in a recommend grid; use one of: .*steps"
    ):
        load_grid(write_grid(tmp_path / "bad.yaml", {**spec, "recommend": {"model": "sr"}}))


def test_bad_grids(tmp_path):
    with pytest.raises(InputError, match="cannot be tuned in a retrieval grid"):
        load_grid(write_grid(tmp_path / "a.yaml", {"data": ".", "grid": {"lr": [1]}}))
    with pytest.raises(InputError, match="needs `eval:`"):
        load_grid(
            write_grid(tmp_path / "b.yaml", {"kind": "training", "data": ".", "grid": {"lr": [1]}})
        )
    (tmp_path / "c.yaml").write_text("grid: [unclosed", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_grid(tmp_path / "c.yaml")


def bm25_grid(beir, tmp_path) -> dict:
    """A BM25-only retrieval grid of four trials."""
    return {
        "data": str(beir),
        "settings": {"embedder": None, "analyzer": "english"},
        "cache_dir": str(tmp_path / "cache"),
        "grid": {"bm25.k1": [0.5, 1.2], "bm25.b": [0.3, 0.75]},
    }


def scores_by_trial(report) -> dict[str, float]:
    return {json.dumps(row["trial"], sort_keys=True): row["score"] for row in report.rows}


def test_parallel_workers_give_the_same_results(beir, tmp_path, monkeypatch):
    spec = bm25_grid(beir, tmp_path)
    serial = tune(load_grid(write_grid(tmp_path / "serial.yaml", spec)), show_progress=False)
    monkeypatch.setattr(tune_workers, "available_memory", lambda: 64 << 30)
    monkeypatch.setattr("seoga.models.embedders.available_cpus", lambda: 2)
    parallel = tune(
        load_grid(write_grid(tmp_path / "parallel.yaml", {**spec, "workers": 2})),
        show_progress=False,
    )
    assert scores_by_trial(parallel) == scores_by_trial(serial)
    assert tune_workers.allowed_workers(8, 1 << 40) == 1, "no more workers than memory holds"


def test_trials_on_a_dask_cluster_give_the_same_results(beir, tmp_path):
    spec = bm25_grid(beir, tmp_path)
    serial = tune(load_grid(write_grid(tmp_path / "serial.yaml", spec)), show_progress=False)
    clustered = tune(
        load_grid(write_grid(tmp_path / "dask.yaml", spec), dask="local:2"), show_progress=False
    )
    assert scores_by_trial(clustered) == scores_by_trial(serial)
