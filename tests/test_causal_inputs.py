"""Causal commands with a user's mistakes in their files, refuting the estimate `effect` made,
the help text, and the plain sentence beside each printed number (issue 35, item 8)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seoga.causal import estimate_effect, read_graph, read_table, simulate
from seoga.causal.dowhy_bridge import Refutation
from seoga.causal.effect import EffectResult
from seoga.causal.reading import effect_readings, refutation_readings
from seoga.cli import app
from seoga.errors import InputError

TYPO_YAML = """\
nodes: [popularity, activity, recommended, clicked]
edges:
  - [popularity, recommended]
  - [populariy, clicked]
  - [recommended, clicked]
"""
TYPO_LINE = 4
UNITS = 2_000
ROUNDS = 5
SIMULATIONS = 3
WIDE = {"COLUMNS": "200"}


def invoke(*arguments: str):
    return CliRunner().invoke(app, ["causal", *arguments], env=WIDE)


def message(result) -> str:
    return str(result.output) + str(result.exception)


@pytest.fixture
def logged(tmp_path):
    """A simulated log and its graph on disk: (csv, graph)."""
    made = simulate("popularity-confounded", UNITS, 0)
    data = tmp_path / "sim.csv"
    made.data.to_csv(data, index=False)
    graph = tmp_path / "model.yaml"
    graph.write_text(
        "nodes: [popularity, activity, recommended, clicked]\n"
        "edges: [[popularity, recommended], [activity, recommended], [popularity, clicked],"
        " [activity, clicked], [recommended, clicked]]\n"
    )
    return data, graph


# 1. An edge to a node that `nodes` does not list.


def test_an_edge_to_an_unlisted_node_names_its_line_and_the_closest_node(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(TYPO_YAML)
    with pytest.raises(InputError, match=f"model.yaml:{TYPO_LINE}: .*populariy.*'popularity'"):
        read_graph(path)
    result = invoke(
        "identify", "--graph", str(path), "--treatment", "recommended", "--outcome", "clicked"
    )
    assert result.exit_code != 0
    assert "adjust for" not in result.output
    assert f"model.yaml:{TYPO_LINE}" in message(result)


def test_a_graph_without_a_node_list_takes_its_nodes_from_the_edges(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("edges: [[a, b], [u, b], [u, a]]\nunobserved: [u]\n")
    assert set(read_graph(path).all_nodes) == {"a", "b", "u"}
    listed = tmp_path / "listed.yaml"
    listed.write_text("nodes: [a, b]\nedges: [[a, b], [u, b], [u, a]]\nunobserved: [u]\n")
    assert read_graph(listed).unobserved == {"u"}  # an unobserved node need not be listed


# 2. A word where the methods need numbers.


def test_a_word_in_the_treatment_column_names_file_line_column_and_value(logged, tmp_path):
    data, graph = logged
    lines = data.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[3].split(",")  # line 4: the third unit
    row[header.index("recommended")] = "yes"
    lines[3] = ",".join(row)
    bad = tmp_path / "yes.csv"
    bad.write_text("\n".join(lines) + "\n")
    for method in ("backdoor", "doubly-robust"):
        result = invoke(
            "effect", str(bad), "--graph", str(graph), "--treatment", "recommended",
            "--outcome", "clicked", "--method", method, "--bootstrap", str(ROUNDS),
        )  # fmt: skip
        assert result.exit_code != 0
        text = message(result)
        assert "internal error" not in text
        assert "yes.csv:4" in text and "recommended" in text and "'yes'" in text
        assert "0/1" in text


def test_lines_are_counted_as_a_user_counts_them(tmp_path):
    # A blank line and a quoted value over two lines come before the bad row (line 6).
    path = tmp_path / "units.csv"
    path.write_text('t,y,note\n1,1.0,fine\n\n0,0.5,"two\nlines"\nno,1.0,typo\n0,0.2,fine\n')
    with pytest.raises(InputError, match=r"units.csv:6: column t has 'no'"):
        estimate_effect(
            read_table(path), read_graph_of(tmp_path, "edges: [[t, y]]"), "t", "y", rounds=ROUNDS
        )
    jsonl = tmp_path / "units.jsonl"
    jsonl.write_text('{"t": 1, "y": 1}\n\n{"t": 0, "y": "lots"}\n')
    with pytest.raises(InputError, match=r"units.jsonl:3: column y has 'lots'"):
        estimate_effect(
            read_table(jsonl), read_graph_of(tmp_path, "edges: [[t, y]]"), "t", "y", rounds=ROUNDS
        )


def read_graph_of(folder, text: str):
    path = folder / "graph.yaml"
    path.write_text(text)
    return read_graph(path)


def test_a_table_built_in_python_names_the_row(tmp_path):
    made = simulate("popularity-confounded", 200, 0)
    data = made.data.astype({"clicked": object})
    data.loc[7, "clicked"] = "maybe"
    with pytest.raises(InputError, match=r"row 8: column clicked has 'maybe'"):
        estimate_effect(data, made.graph, "recommended", "clicked", rounds=ROUNDS)


# 3. Refute the estimate that `effect` made.


def recorded_effect(logged, record: Path, *method: str) -> dict:
    """`seoga causal effect` on the logged units with the `method` options, kept in `record`."""
    data, graph = logged
    made = invoke(
        "effect", str(data), "--graph", str(graph), "--treatment", "recommended",
        "--outcome", "clicked", *method, "--bootstrap", str(ROUNDS), "--out", str(record),
    )  # fmt: skip
    assert made.exit_code == 0, message(made)
    return json.loads(record.read_text())


def test_refute_refutes_the_recorded_effect(logged, tmp_path):
    pytest.importorskip("dowhy", reason="DoWhy is installed by scripts/setup.sh")
    data, graph = logged
    record = tmp_path / "effect.json"
    recorded = recorded_effect(logged, record, "--method", "dr")
    refuted = invoke(
        "refute", "--effect", str(record), "--refuter", "subset",
        "--simulations", str(SIMULATIONS), "--json",
    )  # fmt: skip
    assert refuted.exit_code == 0, message(refuted)
    payload = json.loads(refuted.output)
    assert payload["method"] == "doubly-robust"
    assert payload["recorded"] == pytest.approx(recorded["estimate"])
    assert payload["adjustment_set"] == recorded["adjustment_set"]
    text = invoke(
        "refute", str(data), "--graph", str(graph), "--treatment", "recommended",
        "--outcome", "clicked", "--refuter", "subset", "--simulations", str(SIMULATIONS),
    )  # fmt: skip
    assert text.exit_code == 0, message(text)
    assert "regression" in text.output  # without --effect it says which estimate it refutes
    clash = invoke("refute", "--effect", str(record), "--method", "ipw", "--refuter", "subset")
    assert clash.exit_code != 0 and "doubly-robust" in message(clash)


def test_refute_says_when_dowhy_cannot_refute_the_recorded_estimator(logged, tmp_path):
    pytest.importorskip("dowhy", reason="DoWhy is installed by scripts/setup.sh")
    record = tmp_path / "effect.json"
    recorded_effect(logged, record, "--method", "ipw", "--horvitz-thompson")
    refuted = invoke(
        "refute", "--effect", str(record), "--refuter", "subset", "--simulations",
        str(SIMULATIONS),
    )  # fmt: skip
    assert refuted.exit_code == 0, message(refuted)
    assert "Horvitz–Thompson" in refuted.output


# 4. The help keeps its brackets.


def test_the_clip_help_shows_its_interval():
    result = invoke("effect", "--help")
    assert result.exit_code == 0
    assert "[clip, 1 − clip]" in result.output


# 5. A plain sentence for every number.


def effect(estimate: float, low: float, high: float, naive: float = 0.2) -> EffectResult:
    return EffectResult(
        method="doubly-robust", treatment="recommended", outcome="clicked", estimate=estimate,
        ci_low=low, ci_high=high, naive=naive, adjustment_set=["popularity"], units=UNITS,
        seed=0, rounds=ROUNDS, level=0.95,
    )  # fmt: skip


def test_an_effect_reads_as_a_sentence():
    raised = effect_readings(effect(0.04, 0.02, 0.06))
    assert "raises clicked by about 0.0400" in raised["estimate"]
    assert "95% interval +0.0200 to +0.0600" in raised["estimate"]
    lowered = effect_readings(effect(-0.04, -0.06, -0.02))["estimate"]
    assert "lowers clicked by about 0.0400" in lowered
    unclear = effect_readings(effect(0.005, -0.02, 0.03))["estimate"]
    assert "includes zero" in unclear and "raises" not in unclear
    assert "0.2000 higher" in raised["naive"]
    assert raised["naive_share"].startswith("80%")


def refutation(refuter: str, p_value: float) -> Refutation:
    return Refutation(
        refuter=refuter, estimate=0.04, new_effect=0.001, p_value=p_value, passed=True,
        rule="", simulations=SIMULATIONS, method="doubly-robust",
        adjustment_set=["popularity"], treatment="recommended",
    )  # fmt: skip


def test_a_refuters_numbers_read_as_sentences():
    placebo = refutation_readings(refutation("placebo", 0.467))
    assert "shuffled" in placebo["new_effect"]
    assert placebo["p_value"].startswith("p = 0.467: zero lies within")
    assert (
        "finds an effect where there can be none"
        in (refutation_readings(refutation("placebo", 0.01))["p_value"])
    )
    subset = refutation_readings(refutation("subset", 0.01))
    assert "lies outside" in subset["p_value"]


def test_the_cli_prints_the_sentences_and_keeps_them_in_its_json(logged):
    data, graph = logged
    common = [
        "effect", str(data), "--graph", str(graph), "--treatment", "recommended",
        "--outcome", "clicked", "--bootstrap", str(ROUNDS),
    ]  # fmt: skip
    shown = invoke(*common)
    assert shown.exit_code == 0, message(shown)
    assert "If the graph is right, setting recommended to 1 rather than 0" in shown.output
    assert "Without adjustment" in shown.output
    payload = json.loads(invoke(*common, "--json").output)
    assert set(payload["readings"]) >= {"estimate", "naive"}
