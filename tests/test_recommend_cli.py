"""`seoga recommend` and `seoga eval recommend` end to end on generated logs."""

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.recommend_data import clicks_log, clustered_log, write_csv
from tests.test_cli import EXIT_USER_ERROR
from tests.test_train_cli import run

README = Path(__file__).parents[1] / "README.md"


def test_fit_recommend_and_evaluate(tmp_path):
    clicks = write_csv(tmp_path / "clicks.csv", clicks_log(), value_name="clicks")
    fitted = run(
        "recommend", "fit", str(clicks), "--model", "als", "--out", str(tmp_path / "als"),
        "--set", "factors=8", "--seed", "3",
    )  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    manifest = json.loads((tmp_path / "als" / "manifest.json").read_text())
    assert manifest["model"] == "als" and manifest["seed"] == 3
    assert manifest["settings"]["factors"] == 8 and manifest["data"]["rows"] == 480

    mine = run(
        "recommend", "for-user", "u0", "--recommender", str(tmp_path / "als"), "-k", "3", "--json"
    )
    listed = json.loads(mine.stdout)
    assert len(listed) == 3 and all(int(hit["item"][1:]) % 3 == 0 for hit in listed)
    seen = {f"i{i}" for i in clicks_log().item_ids.raw(clicks_log().items[clicks_log().users == 0])}
    assert not {hit["item"] for hit in listed} & seen

    new = run(
        "recommend", "for-user", "new", "--history", "i1,i4,i7", "--model",
        str(tmp_path / "als"), "--json",
    )  # fmt: skip
    assert all(int(hit["item"][1:]) % 3 == 1 for hit in json.loads(new.stdout)[:3])
    explained = run(
        "recommend",
        "for-user",
        "u0",
        "--recommender",
        str(tmp_path / "als"),
        "--explain",
        "-k",
        "2",
    )
    assert explained.returncode == 0 and "because" in explained.stdout
    similar = run(
        "recommend", "similar-items", "i3", "--recommender", str(tmp_path / "als"), "--json"
    )
    assert json.loads(similar.stdout)[0]["item"] != "i3"

    metrics = tmp_path / "metrics.json"
    evaluated = run(
        "eval", "recommend", str(clicks), "--model", "als", "--split", "leave-last-out",
        "--set", "factors=8", "--out", str(metrics),
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    scores = json.loads(metrics.read_text())
    assert scores["hr@10"] > 0.5 and scores["split"] == "leave-last-out"
    assert scores["settings"]["factors"] == 8 and scores["data"]["rows"] < 480


def test_ratings_with_items_given_folds_and_predict(tmp_path):
    log, _, cold = clustered_log(n_users=30, n_items=20, per_user=8, cold_items=3)
    ratings = write_csv(tmp_path / "ratings.csv", log)
    items = tmp_path / "items.csv"
    items.write_text(
        "item,genre,blurb\n"
        + "".join(f"i{i},{['drama', 'comedy', 'horror'][i % 3]},film {i}\n" for i in range(23))
    )
    out = tmp_path / "fm"
    fitted = run(
        "recommend", "fit", str(ratings), "--model", "fm", "--items", str(items),
        "--text-field", "blurb", "--text-model", "none", "--set", "epochs=3",
        "--set", "min_feature_count=1",
        "--out", str(out),
    )  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    listed = json.loads(
        run("recommend", "for-user", "u1", "--recommender", str(out), "--json").stdout
    )
    assert all(hit["label"] == f"film {hit['item'][1:]}" for hit in listed)
    predicted = run("recommend", "predict", "u1", "i2", "i21", "--recommender", str(out), "--json")
    rows = json.loads(predicted.stdout)
    assert rows[0]["known_item"] and not rows[1]["known_item"]  # i21: features only
    # i21 is scored through its genre: i21 % 3 == 0, the genre of i0, i3, ... not the mean of all.
    assert rows[1]["score"] != pytest.approx(rows[0]["score"])

    train = write_csv(tmp_path / "u1.base", log)
    test = write_csv(tmp_path / "u1.test", cold)
    metrics = tmp_path / "given.json"
    evaluated = run(
        "eval", "recommend", "--train", str(train), "--test", str(test), "--model", "mf",
        "--items", str(items), "--set", "epochs=3", "--min-rating", "4", "--out", str(metrics),
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    scores = json.loads(metrics.read_text())
    assert {"rmse", "mae", "hr@10", "ndcg@10", "coverage"} <= set(scores)


def test_errors_are_messages(tmp_path, main_run):
    bad = tmp_path / "log.csv"
    bad.write_text("user,item,rating\n1,a,4\n2,b,lots\n")
    failed = main_run("recommend", "fit", str(bad), "--model", "mf", "--out", str(tmp_path / "m"))
    message = " ".join(failed.stderr.split())
    assert failed.returncode == EXIT_USER_ERROR and "log.csv:3: 'lots' is not a number" in message
    assert "Traceback" not in failed.stderr and not (tmp_path / "m").exists()
    missing = main_run("recommend", "for-user", "1", "--recommender", str(tmp_path / "none"))
    assert missing.returncode == EXIT_USER_ERROR
    assert "not a recommender folder" in " ".join(missing.stderr.split())
    good = tmp_path / "good.csv"
    good.write_text("user,item\n1,a\n2,b\n")
    setting = main_run(
        "recommend", "fit", str(good), "--model", "als", "--set", "oops", "--out", str(tmp_path)
    )
    assert setting.returncode == EXIT_USER_ERROR and "NAME=VALUE" in setting.stderr
    # A model folder that cannot be written is said so before fitting, not an internal error.
    nowhere = main_run("recommend", "fit", str(good), "--out", str(good / "model"))
    message = " ".join(nowhere.stderr.split())
    assert nowhere.returncode == EXIT_USER_ERROR and "cannot write the model folder" in message
    assert "good.csv is a file, not a folder" in message


def test_text_only_when_named_and_the_readmes_serving_fit(tmp_path, monkeypatch, main_run):
    ratings = write_csv(
        tmp_path / "ratings.csv", clustered_log(n_users=10, n_items=6, per_user=4)[0]
    )
    movies = tmp_path / "movies.csv"
    movies.write_text("item,title\n" + "".join(f"i{i},Film {i}\n" for i in range(6)))
    unused = main_run("recommend", "fit", str(ratings), "--model", "fm", "--items", str(movies),
                      "--text-model", "some-embedder", "--out", str(tmp_path / "fm"))  # fmt: skip
    assert unused.returncode == EXIT_USER_ERROR
    assert "names (repeatable, e.g. --text-field title)" in " ".join(unused.stderr.split())
    # The Serving section's command, as written, on a served collection's event log.
    command = re.search(r"`(seoga recommend fit [^`]*kb[^`]*)`", README.read_text()).group(1)
    events = [{"type": "click", "item": f"d{(u + i) % 5}", "user": f"u{u}"} for u in range(6)
              for i in range(3)]  # fmt: skip
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    monkeypatch.chdir(tmp_path)
    fitted = main_run(*shlex.split(command)[1:])
    assert fitted.returncode == 0, fitted.stderr


GODFATHER = "Godfather, The (1972)"
TITLED = [(GODFATHER, "Heat (1995)"), ("Heat (1995)", "Up (2009)"), (GODFATHER, "Up (2009)")]


def test_ids_with_commas_unknown_ids_and_unknown_users(tmp_path, main_run):
    log = tmp_path / "titled.csv"
    rows = [f'u{n},"{a}"\nu{n},"{b}"' for n, (a, b) in enumerate(TITLED * 4)]
    log.write_text("user,item\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for name, extra in (("sr", []), ("rules", ["--min-support", "0.1"])):
        out = str(tmp_path / name)
        fitted = run("recommend", "fit", str(log), "--model", name, "--out", out, *extra)
        assert fitted.returncode == 0, fitted.stderr
    sr, rules = str(tmp_path / "sr"), str(tmp_path / "rules")
    together = run("recommend", "together", GODFATHER, "--model", rules, "--json")
    assert together.returncode == 0 and {hit["item"] for hit in json.loads(together.stdout)} == {
        "Heat (1995)",
        "Up (2009)",
    }
    after = run("recommend", "next", "--session-items", "Up (2009)", "--session-items", GODFATHER,
                "--model", sr, "--json")  # fmt: skip
    assert after.returncode == 0 and json.loads(after.stdout)[0]["source"] == "model"
    new = run("recommend", "for-user", "new", "--history", f"{GODFATHER}:5", "--model", sr)
    assert new.returncode == 0 and "Heat (1995)" in new.stdout
    for asked in (
        ("together", "Heat (1995),Jaws (1975)", "--model", rules),
        ("next", "--session-items", "Heat (1995),Jaws (1975)", "--model", sr),
        ("for-user", "new", "--history", "Jaws (1975)", "--history", "Heat (1995)", "--model", sr),
    ):
        refused = main_run("recommend", *asked)
        message = " ".join(refused.stderr.split())
        assert (
            refused.returncode == EXIT_USER_ERROR
            and "not items of this model: 'Jaws (1975)'" in message
        )
    stranger = run("recommend", "for-user", "nobody", "--model", sr, "--json")
    assert stranger.returncode == 0 and json.loads(stranger.stdout)[0]["source"] == "popular"
    assert "user 'nobody' is not in this model" in " ".join(stranger.stderr.split())


@pytest.mark.shared_data
def test_movielens_small_as_it_comes(shared_data, tmp_path):
    folder = shared_data / "movielens_latest_small"
    metrics = tmp_path / "ml.json"
    evaluated = run(
        "eval", "recommend", str(folder), "--model", "mf", "--split", "random:0.2",
        "--seed", "42", "--set", "epochs=5", "--out", str(metrics),
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    scores = json.loads(metrics.read_text())
    assert scores["train_rows"] + scores["test_rows"] == 100004
    assert 0.8 < scores["rmse"] < 1.0 and 0 < scores["coverage"] <= 1
