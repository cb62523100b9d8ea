"""pushgen's import graph, read from the source with ast (nothing is imported).

An edge A -> B means that running A may import B: at the top of A's module, or in
one of its functions (a lazy import still ties A to B when that function runs).
Imports under ``if TYPE_CHECKING:`` are left out: they never run. Importing
``pushgen.x.y`` also runs ``pushgen/x/__init__.py``, so a module depends on the
packages above what it imports, except its own.

The package graph folds that graph into rooms: each sub-package of pushgen
(``pushgen.build``, ``pushgen.runtime``, ...) is one node, and each top-level
module (``pushgen.config``, ``pushgen.links``) is one of the ground floor's.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.clients import REPO

PACKAGE = REPO / "pushgen"


@dataclass(frozen=True, slots=True)
class Module:
    name: str  # pushgen.build.pipeline
    path: Path
    is_package: bool
    tree: ast.Module
    pushgen_imports: frozenset[str]  # as written, resolved to absolute names
    other_imports: frozenset[str]  # top-level names of everything else: lxml, os, ...


@cache
def modules() -> Mapping[str, Module]:
    """Every module of the pushgen package by its dotted name."""
    found: dict[str, Module] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        ours: set[str] = set()
        others: set[str] = set()
        for node in _import_nodes(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    (ours if _is_ours(alias.name) else others).add(alias.name)
                continue
            target = _absolute(node, name, is_package)
            if not _is_ours(target):
                others.add(target)
                continue
            ours.update(f"{target}.{alias.name}" for alias in node.names)
            ours.add(target)
        found[name] = Module(
            name,
            path,
            is_package,
            tree,
            frozenset(ours),
            frozenset(other.split(".")[0] for other in others if other),
        )
    return found


@cache
def import_graph() -> Mapping[str, frozenset[str]]:
    """Module -> the pushgen modules (and their packages) running it may import."""
    known = modules()
    graph: dict[str, frozenset[str]] = {}
    for name, module in known.items():
        targets: set[str] = set()
        for imported in module.pushgen_imports:
            parts = imported.split(".")
            for end in range(2, len(parts) + 1):
                above = ".".join(parts[:end])
                # Its own packages are already running when the module runs.
                if above in known and not (name == above or name.startswith(above + ".")):
                    targets.add(above)
        graph[name] = frozenset(targets)
    return graph


def reachable(start: str) -> set[str]:
    """Every pushgen module that importing ``start`` may end up importing."""
    graph = import_graph()
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def package_of(name: str) -> str:
    """The room of module ``name``: its sub-package of pushgen, else the top-level module itself.

    ``pushgen.build.sources.quart_app`` -> ``pushgen.build``; ``pushgen.links`` ->
    ``pushgen.links``; ``pushgen`` (the package's ``__init__``) stays ``pushgen``.
    """
    parts = name.split(".")
    return ".".join(parts[:2])


def package_graph(
    graph: Mapping[str, frozenset[str]] | None = None,
) -> Mapping[str, frozenset[str]]:
    """Room -> the rooms its modules may import (from ``graph``, the import graph by default)."""
    rooms: dict[str, set[str]] = {}
    for name, targets in (import_graph() if graph is None else graph).items():
        here = package_of(name)
        edges = rooms.setdefault(here, set())
        edges.update(package_of(target) for target in targets)
        edges.discard(here)
    return {room: frozenset(targets) for room, targets in rooms.items()}


def cycles(graph: Mapping[str, frozenset[str]] | None = None) -> list[list[str]]:
    """One shortest cycle (a -> b -> ... -> a) in each group of nodes that import each other.

    ``graph`` is the module import graph unless given (:func:`package_graph` for
    the rooms). The groups are the graph's strongly connected components (Tarjan)."""
    graph = import_graph() if graph is None else graph
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in sorted(graph.get(name, frozenset())):
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group: list[str] = []
            while not group or group[-1] != name:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(_shortest_cycle(graph, min(group), set(group)))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def _shortest_cycle(graph: Mapping[str, frozenset[str]], start: str, group: set[str]) -> list[str]:
    came_from: dict[str, str] = {}
    todo = [start]
    while todo:
        name = todo.pop(0)
        for target in sorted(graph.get(name, frozenset()) & group):
            if target == start:
                path = [name]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = name
                todo.append(target)
    raise AssertionError(f"{start} is in a cycle that leads back to it")


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for other in node.orelse:
                yield from _import_nodes_in(other)
            continue
        yield from _import_nodes_in(node)


def _import_nodes_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _import_nodes(node)


def _absolute(node: ast.ImportFrom, here: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = here.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_ours(name: str) -> bool:
    return name == "pushgen" or name.startswith("pushgen.")
