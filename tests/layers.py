"""seoga's rooms and the imports between them, read from the code with `ast`.

A room is a top-level module or package of seoga (`text`, `index`, `serve`, …). Rooms sit in
layers, bottom first (LAYERS); an import may point down or sideways within its layer, never up,
unless the line above it says why with a comment holding "upward". Every import counts, the ones
inside functions too: hiding a circle in a function does not remove it.

    python -m tests.layers      # prints the figures: circles, upward imports, function-level ones
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "seoga"
# Bottom first; a room may import its own layer and those below.
LAYERS = [
    {"errors", "paths", "progress", "version", "atomic", "samples"},
    {"eventlog", "text"},
    {"models", "datasets"},
    {"parallel"},
    {"index"},
    {"search"},
    {"settings", "calibrate"},
    {"collection"},
    {"recommend", "causal"},
    {"rerank"},
    {"answer"},
    {"train"},
    {"evaluate"},
    {"demo", "tune"},
    {"distill", "serve"},
    {"cli", "__main__", "__init__"},
]
JUSTIFIED = "upward"
# Packages slow to import, or optional: a function may import a seoga module only when that
# module brings one of these (through its own top-level imports) that the importing one does not.
HEAVY = (
    "accelerate",
    "dask",
    "distributed",
    "dowhy",
    "fastapi",
    "matplotlib",
    "networkx",
    "onnxruntime",
    "pandas",
    "peft",
    "ranx",
    "scipy.optimize",
    "sentence_transformers",
    "sklearn",
    "torch",
    "transformers",
    "uvicorn",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported seoga module, dotted
    line: int
    in_function: bool
    justified: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(room: str) -> int:
    for number, rooms in enumerate(LAYERS):
        if room in rooms:
            return number
    raise KeyError(f"room {room!r} is in no layer of tests/layers.py: place it")


def known_modules() -> set[str]:
    return {module_name(path) for path in PACKAGE.rglob("*.py")}


def imports() -> list[Import]:
    """Every import of a seoga module by a seoga module."""
    modules = known_modules()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        module = module_name(path)
        tree = ast.parse(source)
        functions = [
            node
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        inner = {id(child) for f in functions for child in ast.walk(f)}
        for node in ast.walk(tree):
            for target in targets(node, module, path.name == "__init__.py", modules):
                above = lines[node.lineno - 2] if node.lineno > 1 else ""
                justified = JUSTIFIED in above or JUSTIFIED in lines[node.lineno - 1]
                found.append(Import(module, target, node.lineno, id(node) in inner, justified))
    return found


def top_level(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported: not in functions, not for type checks."""
    found = []
    work = list(tree.body)
    while work:
        node = work.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            work += node.body + node.orelse
        elif isinstance(node, ast.Try):
            work += node.body + node.orelse + node.finalbody
            work += [child for handler in node.handlers for child in handler.body]
    return found


def heavy_loads() -> dict[str, set[str]]:
    """For each seoga module, the HEAVY packages importing it loads (through seoga's top-level
    imports, the packages above it included; a third-party package's own imports not followed)."""
    modules = known_modules()
    direct: dict[str, set[str]] = {}
    seoga_deps: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = module_name(path)
        nodes = top_level(ast.parse(path.read_text(encoding="utf-8")))
        names = [
            alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names
        ]
        names += [node.module for node in nodes if isinstance(node, ast.ImportFrom) and node.module]
        direct[module] = {h for h in HEAVY for name in names if f"{name}.".startswith(f"{h}.")}
        package = path.name == "__init__.py"
        seoga_deps[module] = {t for node in nodes for t in targets(node, module, package, modules)}
        parts = module.split(".")
        seoga_deps[module] |= {".".join(parts[:end]) for end in range(1, len(parts))}
    loads: dict[str, set[str]] = {}
    for module in seoga_deps:
        seen, work = {module}, [module]
        while work:
            for target in seoga_deps.get(work.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    work.append(target)
        loads[module] = set().union(*(direct.get(m, set()) for m in seen))
    return loads


def lazy_without_reason(found: list[Import]) -> list[Import]:
    """Imports inside functions of seoga modules that bring no HEAVY package the importing
    module does not already load: nothing is saved by putting them off."""
    loads = heavy_loads()
    return [
        item
        for item in found
        if item.in_function and not loads.get(item.target, set()) - loads[item.module]
    ]


def targets(node: ast.AST, module: str, package: bool, modules: set[str]) -> list[str]:
    """The seoga modules `node` imports (a `from x import y` of a submodule y names x.y)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "seoga"]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    if base.split(".")[0] != "seoga":
        return []
    named = [f"{base}.{alias.name}" for alias in node.names]
    submodules = [name for name in named if name in modules]
    return submodules if len(submodules) == len(named) else [base, *submodules]


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def graph(found: list[Import], key) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for item in found:
        source, target = key(item.module), key(item.target)
        if source != target:
            edges[source].add(target)
    return edges


def module_circles(found: list[Import]) -> list[list[str]]:
    # A package's __init__ re-exporting its own modules is not a circle of logic.
    inside = [i for i in found if not i.target.startswith(i.module + ".")]
    return circles(graph(inside, lambda name: name))


def room_circles(found: list[Import]) -> list[list[str]]:
    return circles(graph(found, room_of))


def upward(found: list[Import]) -> list[Import]:
    return [
        item for item in found if layer_of(room_of(item.target)) > layer_of(room_of(item.module))
    ]


def main() -> None:
    found = imports()
    rising = upward(found)
    print(f"imports between seoga modules: {len(found)}")
    print(f"circles between modules: {len(module_circles(found))}")
    for group in module_circles(found):
        print("  " + " ↔ ".join(group))
    print(f"circles between rooms: {len(room_circles(found))}")
    for group in room_circles(found):
        print("  " + " ↔ ".join(group))
    print(f"imports up the layers: {len(rising)} ({sum(i.justified for i in rising)} justified)")
    for item in rising:
        mark = "" if item.justified else "  (no comment saying why)"
        print(f"  {item.module}:{item.line} → {item.target}{mark}")
    inner = [i for i in found if i.in_function]
    lazy = lazy_without_reason(found)
    print(f"imports inside functions: {len(inner)} ({len(lazy)} bringing no heavy package)")
    for item in lazy:
        print(f"  {item.module}:{item.line} → {item.target}")


if __name__ == "__main__":
    sys.exit(main())
