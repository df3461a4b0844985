"""The structure holds: imports point down the layers, the CLI only parses and prints, and
modules stay a size a person can read (tests/layers.py reads the imports)."""

import ast

from tests.layers import (
    PACKAGE,
    imports,
    lazy_without_reason,
    module_circles,
    room_circles,
    room_of,
    upward,
)

MAX_UPWARD = 5
ENTRY_POINTS = {"cli", "__main__"}
MAX_CLI_LINES = 250
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300


def test_no_import_circles_between_modules_or_rooms():
    found = imports()
    assert module_circles(found) == []
    assert room_circles(found) == []


def test_imports_point_down_the_layers_unless_a_comment_says_why():
    rising = upward(imports())
    assert len(rising) <= MAX_UPWARD, [f"{i.module}:{i.line} → {i.target}" for i in rising]
    assert all(item.justified for item in rising), [i for i in rising if not i.justified]


def test_functions_import_seoga_modules_only_to_put_off_heavy_packages():
    lazy = lazy_without_reason(imports())
    assert lazy == [], [f"{i.module}:{i.line} → {i.target}" for i in lazy]


def test_the_cli_only_parses_calls_and_renders():
    found = imports()
    # `python -m seoga` (__main__) is the CLI's own entry point.
    borrowed = [
        i for i in found if room_of(i.target) == "cli" and room_of(i.module) not in ENTRY_POINTS
    ]
    assert borrowed == [], "library code must not import the CLI"
    for path in (PACKAGE / "cli").glob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_CLI_LINES, f"{path.name}: {lines} lines"


def test_modules_and_classes_stay_readable():
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(PACKAGE).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                length = node.end_lineno - node.lineno + 1
                assert length <= MAX_CLASS_LINES, f"{name}: class {node.name} has {length} lines"
