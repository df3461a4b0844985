"""`seoga eval recommend` for people and for machines: figures a narrow terminal does not cut,
and JSON on request."""

import json

from typer.testing import CliRunner

from seoga.cli import app
from tests.recommend_data import clustered_log, write_csv

NARROW = "80"


def evaluate(tmp_path, *extra: str, columns: str = NARROW):
    log, _, _ = clustered_log(n_users=30, n_items=20, per_user=8)
    ratings = write_csv(tmp_path / "ratings.csv", log)
    # Ratings give the most figures: errors and list metrics both.
    arguments = ["eval", "recommend", str(ratings), "--model", "mf", "--set", "epochs=2", *extra]
    result = CliRunner().invoke(app, arguments, env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_narrow_terminal_gets_one_line_per_figure(tmp_path):
    shown = evaluate(tmp_path)
    assert "…" not in shown
    lines = [line for line in shown.splitlines() if "recall@10" in line]
    assert len(lines) == 1 and any(character.isdigit() for character in lines[0])


def test_json_on_request(tmp_path):
    metrics = json.loads(evaluate(tmp_path, "--json"))
    assert metrics["model"] == "mf" and metrics["rmse"] > 0 and 0.0 <= metrics["hr@10"] <= 1.0


def test_fit_reports_its_figures_in_words_or_as_json(tmp_path):
    log, _, _ = clustered_log(n_users=30, n_items=20, per_user=8)
    ratings = write_csv(tmp_path / "ratings.csv", log)
    fit = ["recommend", "fit", str(ratings), "--model", "mf", "--set", "epochs=3"]
    said = CliRunner().invoke(app, [*fit, "--out", str(tmp_path / "a")], env={"COLUMNS": "200"})
    assert said.exit_code == 0, said.output
    assert "validation rmse" in said.stdout and "{" not in said.stdout
    shown = CliRunner().invoke(app, [*fit, "--out", str(tmp_path / "b"), "--json"])
    report = json.loads(shown.stdout)
    assert report["model"] == "mf" and report["metrics"]["best_epoch"] >= 1


def test_an_out_that_cannot_be_written_is_a_message(tmp_path):
    log, _, _ = clustered_log(n_users=30, n_items=20, per_user=8)
    ratings = write_csv(tmp_path / "ratings.csv", log)
    blocked = tmp_path / "file"
    blocked.write_text("a file, not a folder")
    arguments = ["eval", "recommend", str(ratings), "--model", "popular"]
    result = CliRunner().invoke(app, [*arguments, "--out", str(blocked / "m.json")])
    assert result.exit_code != 0 and "cannot write" in str(result.exception)
