"""The shape of the package, so that it keeps holding as code is added (issue 13).

No import cycles, between modules or between packages (STYLE.md 12: a loop
between rooms is as wrong as one between modules); no function longer than a screen or two; no module so long that
it holds more than one concern; no function whose result is a tuple read by position
(STYLE.md 14). What the runtime may import is in tests/runtime/test_imports.py.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.clients import REPO
from tests.import_graph import cycles, import_graph, modules, package_graph

# Issue 24: "No module over 600 lines, no class over 300, no function over 60
# (docstrings excluded)" (issue 13 had set 800 and 100).
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 300
MAX_MODULE_LINES = 600


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


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    """Lines of ``node`` without its docstring (the rule is about code, not prose)."""
    assert node.end_lineno is not None
    length = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        assert first.end_lineno is not None
        length -= first.end_lineno - first.lineno + 1
    return length


def _longer_than(kinds: tuple[type, ...], limit: int) -> list[str]:
    long = []
    for module in modules().values():
        for node in ast.walk(module.tree):
            if isinstance(node, kinds):
                assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                if (length := _length(node)) > limit:
                    where = module.path.relative_to(REPO)
                    long.append(f"{where}:{node.lineno} {node.name} ({length} lines)")
    return long


def test_no_function_is_longer_than_60_lines() -> None:
    long = _longer_than((ast.FunctionDef, ast.AsyncFunctionDef), MAX_FUNCTION_LINES)
    assert long == [], "split these into phases (STYLE.md 1c): " + ", ".join(long)


def test_no_class_is_longer_than_300_lines() -> None:
    long = _longer_than((ast.ClassDef,), MAX_CLASS_LINES)
    assert long == [], "one concern per class: split " + ", ".join(long)


def test_the_length_rule_leaves_docstrings_out() -> None:
    tree = ast.parse('def f():\n    """One.\n\n    Two.\n    """\n    return 1\n')
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert _length(function) == 2


def test_no_module_is_longer_than_600_lines() -> None:
    long = []
    for module in modules().values():
        length = len(module.path.read_text(encoding="utf-8").splitlines())
        if length > MAX_MODULE_LINES:
            long.append(f"{module.path.relative_to(REPO)} ({length} lines)")
    assert long == [], "one concern per module (STYLE.md 1): split " + ", ".join(long)


# Functions whose result must keep a fixed tuple shape, and why.
_ALLOWED = {
    # Jinja2 calls it and unpacks (source, filename, uptodate) by position.
    "pushgen.build.template_env:CharsetLoader.get_source": "Jinja2's BaseLoader.get_source shape",
    # A sort key: tuples compare field by field, which is the point.
    "pushgen.export.blocks:_order.key": "a sort key (key=)",
}
# Rooms a rewrite has not reached yet (none: issue 24 named every result).
_NOT_YET: set[str] = set()


def _fixed_tuple(annotation: ast.expr | None) -> bool:
    """``tuple[A, B]``, alone or in a union (``tuple[A, B] | None``); not ``tuple[A, ...]``."""
    if isinstance(annotation, ast.BinOp):
        return _fixed_tuple(annotation.left) or _fixed_tuple(annotation.right)
    if not (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "tuple"
        and isinstance(annotation.slice, ast.Tuple)
    ):
        return False
    return not any(
        isinstance(e, ast.Constant) and e.value is Ellipsis for e in annotation.slice.elts
    )


def _positional_results(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, line) of every function in ``tree`` that returns a fixed-length tuple."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = prefix + node.name
            if not isinstance(node, ast.ClassDef) and _fixed_tuple(node.returns):
                yield name, node.lineno
            yield from _positional_results(node, name + ".")
        else:
            yield from _positional_results(node, prefix)


def _not_yet(module: str) -> bool:
    return any(module == room or module.startswith(room + ".") for room in _NOT_YET)


def test_no_function_returns_a_positional_tuple() -> None:
    # STYLE.md 14: a result is a dataclass whose parts have names (or the one
    # thing callers use), never a tuple the caller unpacks by position.
    found = []
    for name, module in modules().items():
        if _not_yet(name):
            continue
        for function, line in _positional_results(module.tree):
            if f"{name}:{function}" not in _ALLOWED:
                found.append(f"{module.path.relative_to(REPO)}:{line} {function}")
    assert found == [], "return a frozen dataclass (STYLE.md 14): " + ", ".join(found)


def test_every_allowed_tuple_result_still_exists() -> None:
    # An exception outliving its function would let a new one of that name through.
    seen = {
        f"{name}:{function}"
        for name, module in modules().items()
        for function, _ in _positional_results(module.tree)
    }
    assert set(_ALLOWED) <= seen


def test_the_tuple_check_catches_a_planted_offence() -> None:
    planted = ast.parse(
        "class Scanner:\n"
        "    def where(self) -> tuple[int, int] | None: ...\n"
        "    def lines(self) -> tuple[int, ...]: ...\n"
        "def read() -> tuple[str, bytes]:\n"
        "    def key(x: int) -> tuple[int, str]: ...\n"
        "def named() -> Found: ...\n"
    )
    assert list(_positional_results(planted)) == [
        ("Scanner.where", 2),
        ("read", 4),
        ("read.key", 5),
    ]
