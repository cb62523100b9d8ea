"""The shape of the package, so that it keeps holding as code is added (issue 13).

No import cycles, between modules or between packages (STYLE.md 12: a loop
between rooms is as wrong as one between modules); no function longer than a screen or two; no module so long that
it holds more than one concern. What the runtime may import is in
tests/runtime/test_imports.py.
"""

from __future__ import annotations

import ast

from tests.clients import REPO
from tests.import_graph import cycles, import_graph, modules, package_graph

# "No function longer than about 100 lines; no module longer than about 800" (issue 13).
MAX_FUNCTION_LINES = 100
MAX_MODULE_LINES = 800


def test_the_graph_sees_the_package() -> None:
    # A graph that read nothing would find no cycle: make sure it knows the rooms and
    # the imports between them.
    graph = import_graph()
    assert {"pushgen.build.pipeline", "pushgen.runtime.quart", "pushgen.scan.css"} <= set(graph)
    assert "pushgen.scan.css" in graph["pushgen.build.graph"]
    assert "pushgen.manifest" in graph["pushgen.runtime.manifest_state"]


def test_no_import_cycles_inside_pushgen() -> None:
    found = cycles()
    assert found == [], "modules that import each other (lazy imports count): " + _shown(found)


def test_no_import_cycles_between_packages() -> None:
    # The rooms: build, runtime, manifest, ... and each top-level module (the
    # ground floor). config -> manifest -> runtime -> config had no loop between
    # modules, and was one between rooms.
    found = cycles(package_graph())
    assert found == [], (
        "packages that import each other (lazy imports count); move the shared word "
        "down to a top-level module: " + _shown(found)
    )


def test_the_package_check_fails_on_a_planted_cycle() -> None:
    # A new module in manifest/ that climbs into the runtime, as manifest/check.py
    # importing runtime.headers did: nothing imports it back, so the module check
    # passes, and the package check must name the loop it makes between the rooms.
    graph = dict(import_graph())
    graph["pushgen.manifest.planted"] = frozenset({"pushgen.runtime.headers"})
    assert "pushgen.manifest" in package_graph(graph)["pushgen.runtime"]
    assert cycles(graph) == []
    found = cycles(package_graph(graph))
    # One loop (config -> manifest -> runtime -> config: the runtime reads the
    # settings), shown once through the planted climb.
    assert len(found) == 1
    assert "pushgen.manifest -> pushgen.runtime" in _shown(found)
    assert found[0][0] == found[0][-1]


def test_the_package_graph_groups_modules_by_room() -> None:
    rooms = package_graph()
    assert "pushgen.scan" in rooms["pushgen.build"]
    assert "pushgen.manifest" in rooms["pushgen.runtime"]
    # A top-level module is a room of its own on the ground floor.
    assert {"pushgen.model", "pushgen.errors", "pushgen.config"} <= set(rooms)
    assert "pushgen.build.pipeline" not in rooms


def _shown(found: list[list[str]]) -> str:
    return "; ".join(" -> ".join(cycle) for cycle in found)


def test_no_function_is_longer_than_100_lines() -> None:
    long = []
    for module in modules().values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    where = module.path.relative_to(REPO)
                    long.append(f"{where}:{node.lineno} {node.name} ({length} lines)")
    assert long == [], "split these into phases (STYLE.md 1c): " + ", ".join(long)


def test_no_module_is_longer_than_800_lines() -> None:
    long = []
    for module in modules().values():
        length = len(module.path.read_text(encoding="utf-8").splitlines())
        if length > MAX_MODULE_LINES:
            long.append(f"{module.path.relative_to(REPO)} ({length} lines)")
    assert long == [], "one concern per module (STYLE.md 1): split " + ", ".join(long)
