"""Which variables to adjust for, and why: backdoor sets (DoWhy) and the frontdoor set.

Backdoor sets come from DoWhy's exhaustive search over the observed nodes. The frontdoor set is
searched here, smallest first: DoWhy's search leaves only its inner loop when it finds a set,
so on a chain of mediators it returns the largest valid one, which its own two-stage estimator
then refuses. Each condition is checked by d-separation (networkx) on the graph with the
edges the criterion removes; the reasons name the paths each set blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import networkx as nx

from seoga.causal.graph import CausalGraph
from seoga.errors import InputError

ARROW_OUT, ARROW_IN = "→", "←"


@dataclass
class Identification:
    """How the effect of `treatment` on `outcome` can be estimated from the observed nodes."""

    treatment: str
    outcome: str
    backdoor_sets: list[list[str]] = field(default_factory=list)
    frontdoor: list[str] | None = None
    reasons: dict[str, list[str]] = field(default_factory=dict)

    @property
    def backdoor(self) -> list[str] | None:
        """The smallest valid backdoor set (None when there is none)."""
        return self.backdoor_sets[0] if self.backdoor_sets else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "treatment": self.treatment,
            "outcome": self.outcome,
            "backdoor": self.backdoor,
            "backdoor_sets": self.backdoor_sets,
            "frontdoor": self.frontdoor,
            "reasons": self.reasons,
        }


def describe_path(graph: nx.DiGraph, path: list[str]) -> str:
    """`a ← b → c` for a path of nodes, with each edge's direction."""
    parts = [path[0]]
    for left, right in zip(path, path[1:], strict=False):
        parts += [ARROW_OUT if graph.has_edge(left, right) else ARROW_IN, right]
    return " ".join(parts)


def backdoor_paths(graph: nx.DiGraph, treatment: str, outcome: str) -> list[list[str]]:
    from dowhy.graph import get_backdoor_paths

    return get_backdoor_paths(graph, [treatment], [outcome])


def _blocker(graph: nx.DiGraph, path: list[str], conditioned: set[str]) -> str | None:
    """Why `conditioned` blocks the path: a chain or fork node in it, or an unconditioned
    collider; None when the path stays open."""
    from dowhy.graph import is_blocked

    if not is_blocked(graph, path, conditioned):
        return None
    for node in path[1:-1]:
        if node in conditioned:
            return f"adjusting for {node}"
    return "a collider left alone"


def backdoor_sets(graph: CausalGraph, treatment: str, outcome: str) -> list[list[str]]:
    """Every valid backdoor adjustment set of observed nodes, smallest first, once each."""
    from dowhy.causal_identifier.auto_identifier import BackdoorAdjustment, identify_backdoor

    found = identify_backdoor(
        graph.networkx(),
        [treatment],
        [outcome],
        graph.observed,
        BackdoorAdjustment.BACKDOOR_EXHAUSTIVE,
    )
    unique = {tuple(sorted(item.get_adjustment_variables())) for item in found}
    return [list(item) for item in sorted(unique, key=lambda item: (len(item), item))]


def _without_edges_out(graph: nx.DiGraph, nodes: set[str]) -> nx.DiGraph:
    cut = graph.copy()
    cut.remove_edges_from([edge for edge in graph.edges if edge[0] in nodes])
    return cut


def frontdoor_reasons(
    graph: nx.DiGraph, treatment: str, outcome: str, mediators: set[str]
) -> list[str] | None:
    """The three frontdoor conditions for `mediators`, each with its reason; None if one fails.

    1. they intercept every directed path from treatment to outcome;
    2. no backdoor path from treatment to them is open;
    3. every backdoor path from them to the outcome is blocked by the treatment.
    """
    directed = list(nx.all_simple_paths(graph, treatment, outcome))
    if not directed or any(not mediators & set(path[1:-1]) for path in directed):
        return None
    if not nx.is_d_separator(_without_edges_out(graph, {treatment}), {treatment}, mediators, set()):
        return None
    if not nx.is_d_separator(
        _without_edges_out(graph, mediators), mediators, {outcome}, {treatment}
    ):
        return None
    names = ", ".join(sorted(mediators))
    return [
        f"{names} intercept every directed path: "
        + "; ".join(describe_path(graph, path) for path in directed),
        f"no open backdoor path from {treatment} to {names}",
        f"every backdoor path from {names} to {outcome} is blocked by {treatment}",
    ]


def frontdoor_set(graph: CausalGraph, treatment: str, outcome: str) -> tuple[list[str], list[str]]:
    """The smallest observed set meeting the frontdoor criterion and its reasons ([] if none)."""
    network = graph.networkx()
    candidates = sorted(
        (nx.descendants(network, treatment) - {outcome} - nx.descendants(network, outcome))
        & set(graph.observed)
    )
    for size in range(1, len(candidates) + 1):
        for chosen in combinations(candidates, size):
            reasons = frontdoor_reasons(network, treatment, outcome, set(chosen))
            if reasons is not None:
                return list(chosen), reasons
    return [], []


def identify(graph: CausalGraph, treatment: str, outcome: str) -> Identification:
    """Backdoor sets and the frontdoor set for the effect of `treatment` on `outcome`."""
    graph.require(treatment, outcome)
    network = graph.networkx()
    if not nx.has_path(network, treatment, outcome):
        raise InputError(
            f"{graph.source}: no directed path from {treatment} to {outcome}; in this graph "
            f"{treatment} has no effect on {outcome} to estimate."
        )
    result = Identification(treatment, outcome, backdoor_sets(graph, treatment, outcome))
    paths = backdoor_paths(network, treatment, outcome)
    if result.backdoor is not None:
        chosen = set(result.backdoor)
        lines = [
            f"{describe_path(network, path)}: blocked by {_blocker(network, path, chosen)}"
            for path in paths
        ]
        result.reasons["backdoor"] = lines or [f"no backdoor path from {treatment} to {outcome}"]
    else:
        hidden = sorted(graph.unobserved)
        result.reasons["backdoor"] = [
            f"no observed set blocks every backdoor path (unobserved: {', '.join(hidden)}): "
            + "; ".join(describe_path(network, path) for path in paths)
        ]
    mediators, reasons = frontdoor_set(graph, treatment, outcome)
    if mediators:
        result.frontdoor = mediators
        result.reasons["frontdoor"] = reasons
    return result
