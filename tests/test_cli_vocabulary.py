"""One vocabulary across every command group: the test walks every command's options; the
spellings it replaced still work for one release, with a note."""

import json

import typer
from typer.testing import CliRunner

from seoga.cli import app
from seoga.cli.vocabulary import (
    RECOMMENDER_COMMANDS,
    RENAMED,
    modernised,
    options_of,
    renames_for,
)
from tests.recommend_data import clicks_log, write_csv

# What a parameter holds → how every command spells it.
SPELLINGS = {
    "out": "--out",
    "output": "--out",
    "k": "-k",
    "learning_rate": "--learning-rate",
    "lr": "--learning-rate",
    "max_length": "--max-length",
    "max_seq_length": "--max-length",
    **{f"{name}": f"--{name}-column" for name in ("rating", "weight", "time")},
}
# Commands that print no result to read: a server, the demo's tour, a removal, key changes, and
# tune (its results are a folder of runs).
NO_RESULT = {("serve",), ("demo",), ("remove",), ("keys", "create"), ("keys", "revoke"), ("tune",)}
COLUMN_COMMANDS = {("recommend", "fit"), ("eval", "recommend"), ("eval", "related")}


def commands(group=None, path=()):
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_speaks_the_vocabulary():
    wrong = []
    for path, command in commands():
        spelled = options_of(command)
        wrong += [(path, old) for old in renames_for(path) if old in spelled]
        for parameter in command.params:
            wanted = SPELLINGS.get(parameter.name)
            if parameter.param_type_name == "option" and wanted and wanted not in parameter.opts:
                wrong.append((path, parameter.opts))
        if path in COLUMN_COMMANDS:
            wrong += [(path, f"--{n}") for n in ("user", "item") if f"--{n}-column" not in spelled]
        if path[0] == "recommend" and path[-1] in RECOMMENDER_COMMANDS:
            wrong += [] if "--recommender" in spelled else [(path, "no --recommender")]
    assert wrong == []


def test_every_command_with_a_result_prints_it_as_json_on_request():
    lacking = [path for path, command in commands() if "--json" not in options_of(command)]
    assert set(lacking) <= NO_RESULT, set(lacking) - NO_RESULT


def test_each_renamed_spelling_lands_on_an_option_that_exists():
    everywhere = set().union(*(options_of(command) for _, command in commands()))
    assert set(RENAMED.values()) <= everywhere


def test_old_spellings_are_rewritten_with_a_note():
    known = {"--out", "--user-column", "-k"}
    rewritten, notes = modernised(
        ["data.csv", "--output=m.json", "--user", "u", "--top", "3", "--", "--user"],
        ("eval", "recommend"),
        known,
    )
    assert rewritten == [
        "data.csv", "--out=m.json", "--user-column", "u", "-k", "3", "--", "--user",
    ]  # fmt: skip
    assert len(notes) == 3 and "--output is now --out" in notes[0]


def test_an_old_spelling_still_works_from_the_command_line(tmp_path):
    clicks = write_csv(tmp_path / "clicks.csv", clicks_log(), value_name="clicks")
    metrics = tmp_path / "metrics.json"
    result = CliRunner().invoke(
        app,
        ["eval", "recommend", str(clicks), "--model", "popular", "--user", "user",
         "--output", str(metrics)],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "--output is now --out" in result.stderr and "--user is now" in result.stderr
    assert json.loads(metrics.read_text())["model"] == "popular"
