"""`seoga causal ...`: did showing it cause the click? Graphs, effects, refuters, simulations."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seoga.atomic import write_json_atomic
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
OutputOption = Annotated[Path | None, typer.Option(help="Write the result as JSON here.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
DIGITS = 4


def _columns(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


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
    clip: Annotated[
        float, typer.Option(help="Propensity scores kept inside [clip, 1 − clip].")
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
    payload = result.to_dict() | {"data": str(data), "graph": str(graph)}
    _write(output, payload)
    if as_json:
        print_json(payload)
        return
    console.print(
        f"{escape(treatment)} → {escape(outcome)} by {result.method} over {result.units:,} units, "
        f"adjusting for {escape(', '.join(result.adjustment_set) or 'nothing')}",
        highlight=False,
    )
    console.print(
        f"effect {result.estimate:+.{DIGITS}f}  ({result.level:.0%} interval "
        f"{result.ci_low:+.{DIGITS}f} … {result.ci_high:+.{DIGITS}f})",
        highlight=False,
    )
    console.print(f"naive  {result.naive:+.{DIGITS}f}  (no adjustment)", highlight=False)
    if 0 <= result.estimate < result.naive:  # both the same way, the naive one larger
        share = 1 - result.estimate / result.naive
        console.print(
            f"{share:.0%} of the naive difference would have happened without the treatment.",
            highlight=False,
        )


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
    n: Annotated[int, typer.Option("--n", help="Units (user-item impressions).")] = 50_000,
    seed: SeedOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Write a seeded log with a known effect, the graph it was drawn from, and the truth."""
    import yaml

    from seoga.causal import simulate

    made = simulate(scenario, n, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    made.data.to_csv(out, index=False)
    graph_path = out.with_suffix(".graph.yaml")
    graph_path.write_text(
        yaml.safe_dump(made.graph.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    summary = made.to_dict() | {"data": str(out), "graph_file": str(graph_path)}
    write_json_atomic(out.with_suffix(".truth.json"), summary)
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{len(made.data):,} units of {scenario} → {out} (graph {graph_path}); true effect of "
        f"{made.treatment} on {made.outcome} {made.truth:+.{DIGITS}f}, naive "
        f"{summary['naive']:+.{DIGITS}f}",
        highlight=False,
    )


@app.command("refute")
def refute_command(
    data: DataArgument,
    graph: GraphOption,
    treatment: TreatmentOption,
    outcome: OutcomeOption,
    refuter: Annotated[
        str, typer.Option(help="placebo, random-common-cause or subset (DoWhy's refuters).")
    ],
    method: MethodOption = "backdoor",
    adjust: AdjustOption = None,
    simulations: Annotated[int, typer.Option(help="Refuter simulations.")] = 50,
    seed: SeedOption = 0,
    output: OutputOption = None,
    as_json: JsonOption = False,
) -> None:
    """Try to knock the estimate over: a placebo treatment, a random confounder, subsets."""
    from seoga.causal import adjustment_for, identify, method_name, read_graph, read_table
    from seoga.causal.dowhy_bridge import refute

    table = read_table(data)
    causal_graph = read_graph(graph)
    causal_graph.check_data(table.columns, str(data))
    name = method_name(method)
    chosen = adjustment_for(name, identify(causal_graph, treatment, outcome), _columns(adjust))
    result = refute(
        table,
        causal_graph,
        treatment,
        outcome,
        name,
        chosen,
        refuter,
        simulations=simulations,
        seed=seed,
    )
    payload = result.to_dict() | {"method": name, "adjustment_set": chosen}
    _write(output, payload)
    if as_json:
        print_json(payload)
        return
    console.print(
        f"{refuter}: estimate {result.estimate:+.{DIGITS}f} → {result.new_effect:+.{DIGITS}f} "
        f"over {simulations} simulations"
        + (f", p = {result.p_value:.3f}" if result.p_value is not None else ""),
        highlight=False,
    )
    console.print(
        f"{'passed' if result.passed else 'FAILED'}: {result.rule}",
        style="green" if result.passed else "red",
        highlight=False,
    )


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="causal")
