"""Causal analysis of interaction logs: graphs, identification, estimators, refuters, simulator.

from seoga.causal import read_graph, read_table, estimate_effect
effect = estimate_effect(read_table("events.csv"), read_graph("model.yaml"),
                         "recommended", "clicked", method="doubly-robust")
"""

from seoga.causal.effect import (
    EffectResult,
    adjustment_for,
    bootstrap,
    estimate_effect,
    method_name,
)
from seoga.causal.estimators import METHODS, EstimatorOptions
from seoga.causal.graph import CausalGraph, read_graph
from seoga.causal.identify import Identification, identify
from seoga.causal.logs import events_table, read_table
from seoga.causal.simulate import SCENARIOS, Simulation, simulate

__all__ = [
    "METHODS",
    "SCENARIOS",
    "CausalGraph",
    "EffectResult",
    "EstimatorOptions",
    "Identification",
    "Simulation",
    "adjustment_for",
    "bootstrap",
    "estimate_effect",
    "events_table",
    "identify",
    "method_name",
    "read_graph",
    "read_table",
    "simulate",
]
