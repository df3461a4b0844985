"""`seoga causal ...`: did showing it cause the click? Graphs, effects, refuters, simulations."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seoga.atomic import write_json_atomic
from seoga.cli.options import JsonOption
from seoga.cli.output import console, print_json

app = typer.Typer(
    help="Causal effects from interaction logs: identify, estimate, refute, simulate.",
    no_args_is_help=True,
)

DataArgument = Annotated[
    Path,
    typer.Argument(help="Units: a CSV, a JSONL, an event log or a served collection's folder."),
]
GraphOption = Annotated[
    Path, typer.Option(help="The causal graph: YAML (nodes, edges, unobserved) or DOT.")
]
TreatmentOption = Annotated[str, typer.Option(help="The treatment column (0/1 for most methods).")]
OutcomeOption = Annotated[str, typer.Option(help="The outcome column.")]
MethodOption = Annotated[
    str,
    typer.Option(
        help="backdoor (= regression), stratification, ipw, doubly-robust (dr) or frontdoor."
    ),
]
AdjustOption = Annotated[
    str | None,
    typer.Option(help="Columns to adjust for, comma-separated (default: from the graph)."),
]
SeedOption = Annotated[int, typer.Option(help="Random seed: same seed, same interval.")]
OutputOption = Annotated[Path | None, typer.Option("--out", help="Write the result as JSON here.")]


def _columns(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        console.print(escape(line), highlight=False)


def _write(output: Path | None, payload: dict) -> None:
    if output is not None:
        output.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")


@app.command("effect")
def effect_command(
    data: DataArgument,
    graph: GraphOption,
    treatment: TreatmentOption,
    outcome: OutcomeOption,
    method: MethodOption = "backdoor",
    adjust: AdjustOption = None,
    # The backslash keeps rich from reading the interval as a markup tag.
    clip: Annotated[
        float, typer.Option(help="Propensity scores kept inside \\[clip, 1 − clip].")
    ] = 0.01,
    horvitz_thompson: Annotated[
        bool, typer.Option(help="IPW without self-normalising the weights.")
    ] = False,
    strata: Annotated[int, typer.Option(help="Propensity strata (stratification).")] = 20,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap rounds for the interval.")] = 200,
    level: Annotated[float, typer.Option(help="Confidence level of the interval.")] = 0.95,
    seed: SeedOption = 0,
    output: OutputOption = None,
    as_json: JsonOption = False,
) -> None:
    """Estimate the effect of TREATMENT on OUTCOME, with its interval and the naive contrast."""
    from seoga.causal import EstimatorOptions, estimate_effect, read_graph, read_table
    from seoga.causal.reading import effect_lines, effect_readings

    table = read_table(data)
    result = estimate_effect(
        table,
        read_graph(graph),
        treatment,
        outcome,
        method=method,
        adjustment=_columns(adjust),
        options=EstimatorOptions(clip=clip, normalise=not horvitz_thompson, strata=strata),
        rounds=bootstrap,
        level=level,
        seed=seed,
        where=str(data),
        show_progress=not as_json,
    )
    payload = result.to_dict() | {
        "data": str(data),
        "graph": str(graph),
        "readings": effect_readings(result),
    }
    _write(output, payload)
    if as_json:
        print_json(payload)
        return
    _print_lines(effect_lines(result))


@app.command("identify")
def identify_command(
    graph: GraphOption,
    treatment: TreatmentOption,
    outcome: OutcomeOption,
    as_json: JsonOption = False,
) -> None:
    """Which sets to adjust for (backdoor, frontdoor), and why."""
    from seoga.causal import identify, read_graph

    found = identify(read_graph(graph), treatment, outcome)
    if as_json:
        print_json(found.to_dict())
        return
    if found.backdoor is not None:
        shown = ", ".join(found.backdoor) or "nothing (no backdoor path)"
        console.print(f"backdoor: adjust for {escape(shown)}", highlight=False)
        others = [", ".join(item) or "∅" for item in found.backdoor_sets[1:]]
        if others:
            console.print(f"  other valid sets: {escape(' | '.join(others))}", highlight=False)
    else:
        console.print("backdoor: no valid set of observed nodes", highlight=False)
    for reason in found.reasons.get("backdoor", []):
        console.print(f"  {escape(reason)}", highlight=False)
    if found.frontdoor:
        console.print(f"frontdoor: through {escape(', '.join(found.frontdoor))}", highlight=False)
        for reason in found.reasons["frontdoor"]:
            console.print(f"  {escape(reason)}", highlight=False)
    else:
        console.print("frontdoor: no observed mediator set qualifies", highlight=False)


@app.command("simulate")
def simulate_command(
    scenario: Annotated[
        str, typer.Option(help="popularity-confounded (backdoor) or hidden-intent (frontdoor).")
    ],
    out: Annotated[Path, typer.Option(help="CSV to write; its graph and truth go beside it.")],
    n: Annotated[int, typer.Option("--units", help="Units (user-item impressions).")] = 50_000,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Write a seeded log with a known effect, the graph it was drawn from, and the truth."""
    import yaml

    from seoga.causal import simulate
    from seoga.causal.reading import simulation_lines, simulation_readings

    made = simulate(scenario, n, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    made.data.to_csv(out, index=False)
    graph_path = out.with_suffix(".graph.yaml")
    graph_path.write_text(
        yaml.safe_dump(made.graph.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    summary = made.to_dict() | {"data": str(out), "graph_file": str(graph_path)}
    summary["readings"] = simulation_readings(made, summary["naive"])
    write_json_atomic(out.with_suffix(".truth.json"), summary)
    if as_json:
        print_json(summary)
        return
    _print_lines(simulation_lines(made, summary["naive"], str(out), str(graph_path)))


@app.command("refute")
def refute_command(
    refuter: Annotated[
        str, typer.Option(help="placebo, random-common-cause or subset (DoWhy's refuters).")
    ],
    data: Annotated[
        Path | None,
        typer.Argument(help="Units, as for effect (default: the file the --effect record names)."),
    ] = None,
    effect: Annotated[
        Path | None,
        typer.Option(
            help="The JSON `effect --out` wrote: refute that estimate (its method, "
            "adjustment set and options; its data and graph unless given)."
        ),
    ] = None,
    graph: Annotated[Path | None, typer.Option(help="The causal graph (YAML or DOT).")] = None,
    treatment: Annotated[str | None, typer.Option(help="The treatment column.")] = None,
    outcome: Annotated[str | None, typer.Option(help="The outcome column.")] = None,
    method: Annotated[
        str | None, typer.Option(help="Without --effect: as for effect (default: backdoor).")
    ] = None,
    adjust: AdjustOption = None,
    simulations: Annotated[int, typer.Option(help="Refuter simulations.")] = 50,
    seed: SeedOption = 0,
    output: OutputOption = None,
    as_json: JsonOption = False,
) -> None:
    """Try to knock the estimate over: a placebo treatment, a random confounder, subsets."""
    from seoga.causal.reading import refutation_lines, refutation_readings
    from seoga.causal.refutation import refute_target, target

    chosen = target(
        effect,
        data=data,
        graph=graph,
        treatment=treatment,
        outcome=outcome,
        method=method,
        adjustment=_columns(adjust),
    )
    result = refute_target(chosen, refuter, simulations=simulations, seed=seed)
    payload = result.to_dict() | {"readings": refutation_readings(result)}
    _write(output, payload)
    if as_json:
        print_json(payload)
        return
    _print_lines(refutation_lines(result))
    console.print(
        f"{'passed' if result.passed else 'FAILED'}: {escape(result.rule)}",
        style="green" if result.passed else "red",
        highlight=False,
    )


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="causal")
