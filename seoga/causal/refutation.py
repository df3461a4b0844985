"""Which estimate `refute` tries to knock over: the one `effect` recorded, or one named by hand.

`effect --out` writes the method, the adjustment set, the estimator's options and the files
it read; given that record, the refuter re-estimates by the same method, set and options (as
far as DoWhy's estimator takes them, and says where it cannot). Without one the method is
`--method` (regression by default) and the output names it, so a refutation never stands
silently for a different estimator than the effect the user made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from seoga.causal.dowhy_bridge import DEFAULT_SIMULATIONS, Refutation, refute
from seoga.causal.effect import adjustment_for, method_name
from seoga.causal.estimators import EstimatorOptions
from seoga.causal.graph import read_graph
from seoga.causal.identify import identify
from seoga.causal.logs import read_table
from seoga.causal.values import checked_units
from seoga.errors import InputError

DEFAULT_METHOD = "regression"
RECORD_FIELDS = ("method", "treatment", "outcome", "estimate", "adjustment_set")


@dataclass(frozen=True)
class Target:
    """The estimate to refute: what to read, and how it was (or is to be) estimated."""

    data: Path
    graph: Path
    treatment: str
    outcome: str
    method: str
    adjustment: list[str] | None = None
    options: EstimatorOptions = field(default_factory=EstimatorOptions)
    recorded: float | None = None  # the estimate `effect` made


def _read_record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: give the file `effect --out` wrote.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not the JSON `effect --out` writes ({error}).") from None
    if not isinstance(record, dict):
        raise InputError(f"{path}: not an effect record (it holds no JSON object).")
    absent = [name for name in RECORD_FIELDS if name not in record]
    if absent:
        raise InputError(f"{path}: not an effect record (it lacks {', '.join(absent)}).")
    return record


def _shown(value: Any) -> str:
    return (", ".join(value) or "nothing") if isinstance(value, list) else str(value)


def _agree(name: str, given: Any, recorded: Any, record: Path) -> Any:
    """The recorded value, unless the caller gave a different one."""
    if given is not None and given != recorded:
        raise InputError(
            f"{record} records the effect with {name} {_shown(recorded)}, not {_shown(given)}; "
            "leave the option out to refute that effect, or run `effect` again with yours."
        )
    return recorded


def _given(name: str, value: Any) -> Any:
    if value is None:
        raise InputError(f"give {name}, or --effect with the file `effect --out` wrote.")
    return value


def target(
    record: Path | None = None,
    *,
    data: Path | None = None,
    graph: Path | None = None,
    treatment: str | None = None,
    outcome: str | None = None,
    method: str | None = None,
    adjustment: list[str] | None = None,
) -> Target:
    """The estimate to refute: `record`'s (the files it names unless others are given), or the
    one the arguments describe."""
    if record is None:
        return Target(
            data=_given("DATA", data),
            graph=_given("--graph", graph),
            treatment=_given("--treatment", treatment),
            outcome=_given("--outcome", outcome),
            method=method_name(method or DEFAULT_METHOD),
            adjustment=adjustment,
        )
    made = _read_record(record)
    # A record written before the options were recorded has none: the defaults it was made with.
    known = {option.name for option in fields(EstimatorOptions)}
    options = {key: value for key, value in (made.get("options") or {}).items() if key in known}
    return Target(
        data=data or Path(_given("DATA (the record names none)", made.get("data"))),
        graph=graph or Path(_given("--graph (the record names none)", made.get("graph"))),
        treatment=_agree("treatment", treatment, made["treatment"], record),
        outcome=_agree("outcome", outcome, made["outcome"], record),
        method=_agree("method", method and method_name(method), made["method"], record),
        # The set's order changes no estimate.
        adjustment=_agree(
            "adjustment set",
            adjustment and sorted(adjustment),
            sorted(made["adjustment_set"]),
            record,
        ),
        options=EstimatorOptions(**options),
        recorded=float(made["estimate"]),
    )


def refute_target(
    chosen: Target, refuter: str, *, simulations: int = DEFAULT_SIMULATIONS, seed: int = 0
) -> Refutation:
    """DoWhy's `refuter` on the estimate `chosen` describes, its data checked as `effect`'s."""
    table = read_table(chosen.data)
    causal_graph = read_graph(chosen.graph)
    causal_graph.check_data(table.columns, str(chosen.data))
    found = identify(causal_graph, chosen.treatment, chosen.outcome)
    adjustment = adjustment_for(chosen.method, found, chosen.adjustment)
    used = checked_units(
        table, chosen.treatment, chosen.outcome, adjustment, chosen.method, str(chosen.data)
    )
    result = refute(
        table.assign(**{column: used[column] for column in used.columns}),
        causal_graph,
        chosen.treatment,
        chosen.outcome,
        chosen.method,
        adjustment,
        refuter,
        options=chosen.options,
        simulations=simulations,
        seed=seed,
    )
    result.recorded = chosen.recorded
    return result
