"""Causal graphs written by the user: YAML (`nodes`, `edges`, `unobserved`) or DOT.

    nodes: [popularity, activity, recommended, clicked]
    edges: [[popularity, recommended], [popularity, clicked], [recommended, clicked], ...]
    unobserved: [intent]

In DOT a node is unobserved with `intent [observed="no"]` (DoWhy's mark) or `[unobserved=true]`.
Without `nodes` the edges name the nodes. With it, an edge may name only listed or unobserved
nodes: a misspelt name would otherwise be a new node, and `identify`, which reads no data, would
answer for a different graph. Every node must be a column of the data unless unobserved.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from seoga.errors import InputError

DOT_SUFFIXES = (".dot", ".gv")
YAML_SUFFIXES = (".yaml", ".yml")
EDGE_ENDS = 2
UNOBSERVED_MARKS = {("observed", "no"), ("observed", "false"), ("unobserved", "true")}


@dataclass(frozen=True)
class CausalGraph:
    """A directed acyclic graph of causes; `unobserved` nodes have no column in the data."""

    edges: tuple[tuple[str, str], ...]
    nodes: tuple[str, ...] = ()
    unobserved: frozenset[str] = field(default_factory=frozenset)
    source: str = "graph"

    def __post_init__(self) -> None:
        graph = self.networkx()
        if not nx.is_directed_acyclic_graph(graph):
            cycle = " → ".join(edge[0] for edge in nx.find_cycle(graph))
            raise InputError(f"{self.source}: a causal graph has no cycles; this one has {cycle}.")
        missing = sorted(self.unobserved - set(graph))
        if missing:
            raise InputError(
                f"{self.source}: unobserved {', '.join(missing)} are not in the graph."
            )

    @property
    def all_nodes(self) -> list[str]:
        return list(self.networkx())

    @property
    def observed(self) -> list[str]:
        return [node for node in self.all_nodes if node not in self.unobserved]

    def networkx(self) -> nx.DiGraph:
        graph = nx.DiGraph()
        graph.add_nodes_from(self.nodes)
        graph.add_edges_from(self.edges)
        return graph

    def require(self, *names: str) -> None:
        """Each name must be an observed node (a treatment, an outcome)."""
        for name in names:
            if name not in self.all_nodes:
                known = ", ".join(self.all_nodes)
                raise InputError(f"{self.source} has no node {name!r}; its nodes: {known}.")
            if name in self.unobserved:
                raise InputError(f"{self.source}: {name!r} is unobserved; it cannot be estimated.")

    def check_data(self, columns: Iterable[str], where: str) -> None:
        """Every observed node needs a column in the data."""
        absent = [node for node in self.observed if node not in set(columns)]
        if absent:
            raise InputError(
                f"{where} has no column for {', '.join(absent)} of {self.source}; add the "
                "columns, or list those nodes under `unobserved` in the graph."
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.all_nodes,
            "edges": [list(edge) for edge in self.edges],
            "unobserved": sorted(self.unobserved),
        }


def _unlisted(edge: tuple[str, str], known: set[str], where: str) -> InputError:
    """The error for an edge naming a node that is not listed, with the closest listed name."""
    name = next(end for end in edge if end not in known)
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"did you mean {close[0]!r}, or" if close else "did you mean to"
    return InputError(
        f"{where} ({edge[0]} → {edge[1]}) names {name!r}, which is not among the nodes "
        f"({', '.join(sorted(known))}); {hint} add it to `nodes` (or `unobserved`)?"
    )


def graph_from_dict(payload: Any, source: str, edge_lines: list[int] | None = None) -> CausalGraph:
    """A graph from a parsed YAML mapping; `edge_lines` (each edge's line) places its errors."""
    if not isinstance(payload, dict) or "edges" not in payload:
        raise InputError(f"{source}: a graph file has `edges: [[cause, effect], ...]`.")
    unknown = sorted(set(payload) - {"nodes", "edges", "unobserved"})
    if unknown:
        raise InputError(f"{source}: a graph has nodes, edges, unobserved; not {unknown}.")
    nodes = tuple(str(node) for node in payload.get("nodes") or [])
    unobserved = frozenset(str(node) for node in payload.get("unobserved") or [])
    listed = payload["edges"] or []
    lines: list[int | None] = list(edge_lines or [])
    if len(lines) != len(listed):
        lines = [None] * len(listed)  # no lines to name, only the edges' numbers
    edges = []
    for number, (edge, at) in enumerate(zip(listed, lines, strict=True), start=1):
        line = f":{at}" if at is not None else ""
        where = f"{source}{line}: edge {number}"
        if not (isinstance(edge, list | tuple) and len(edge) == EDGE_ENDS):
            raise InputError(f"{where} is {edge!r}; write [cause, effect].")
        ends = (str(edge[0]), str(edge[1]))
        if nodes and not set(ends) <= set(nodes) | unobserved:
            raise _unlisted(ends, set(nodes) | unobserved, where)
        edges.append(ends)
    return CausalGraph(edges=tuple(edges), nodes=nodes, unobserved=unobserved, source=source)


def _edge_lines(text: str) -> list[int] | None:
    """The line each item of a YAML graph's `edges` starts on (None when it has no such list)."""
    import yaml

    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if key.value == "edges" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return None


def _dot_name(name: str) -> str:
    return name.strip().strip('"')


def graph_from_dot(text: str, source: str) -> CausalGraph:
    import pydot

    try:
        parsed = pydot.graph_from_dot_data(text)
    except Exception as error:  # noqa: BLE001 (pydot raises its parser's own errors)
        raise InputError(f"{source}: not a DOT graph ({error}).") from None
    if not parsed:
        raise InputError(f"{source}: not a DOT graph.")
    dot = parsed[0]
    if dot.get_type() != "digraph":
        raise InputError(f"{source}: a causal graph is a `digraph`, with `->` edges.")
    nodes, unobserved = [], set()
    for node in dot.get_nodes():
        name = _dot_name(node.get_name())
        if name in ("node", "edge", "graph"):
            continue
        nodes.append(name)
        marks = {
            (key, str(value).strip('"').lower()) for key, value in node.get_attributes().items()
        }
        if marks & UNOBSERVED_MARKS:
            unobserved.add(name)
    edges = tuple(
        (_dot_name(edge.get_source()), _dot_name(edge.get_destination()))
        for edge in dot.get_edges()
    )
    return CausalGraph(edges, tuple(nodes), frozenset(unobserved), source)


def read_graph(path: str | Path) -> CausalGraph:
    """A graph from a YAML or DOT file (by suffix; DOT if the text starts with `digraph`)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: give a graph file (YAML or DOT).") from None
    if path.suffix.lower() in DOT_SUFFIXES or text.lstrip().startswith(("digraph", "strict")):
        return graph_from_dot(text, str(path))
    try:
        payload = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{line}: not valid YAML ({error}).") from None
    return graph_from_dict(payload, str(path), _edge_lines(text))
