"""The rooms diagram of docs/architecture.md says what the code does (issue 24).

The diagram (Mermaid, under "## The rooms") draws each room of the package graph
(tests/import_graph.py: each sub-package of pushgen, each top-level module) and
the imports between them. Read from the code with ast, as tests/test_structure.py
reads it: every package is a node; every top-level module is a node or named in
the ground floor's node; every import between two drawn rooms is an arrow, and
every arrow is an import. A ground-floor module may import only the ground floor:
one that imports a room is drawn as a node of its own, with its arrows. So a new
package, or a new import between rooms, fails here until the diagram says it. A
dotted arrow is an import by name at run time (``importlib``: cli.py loads the
command that runs), which may not show in the ast graph: it counts as drawn, and is
not held to the code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tests.clients import REPO
from tests.import_graph import modules, package_graph

DOCUMENT = REPO / "docs" / "architecture.md"
GROUND = "ground"  # the node that lists the ground floor's modules
# Rooms the diagram draws ahead of the code, while issue 24's step is being merged:
# each is checked like any other once the code has it.
PLANNED = frozenset({"sources", "processes"})

_BLOCK = re.compile(r"^## The rooms\n.*?^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)
# An arrow, solid (an import) or dotted (an import by name), with an optional label.
_ARROW = re.compile(r'\s*(-->|-\.->)(?:\|"[^"]*"\|)?\s*', re.ASCII)
_NODE = re.compile(r'\s*([A-Za-z]\w*)\s*(?:\["([^"]*)"\])?\s*')


@dataclass(frozen=True, slots=True)
class Diagram:
    """A Mermaid flowchart read into nodes (id -> label) and arrows (from, to)."""

    nodes: Mapping[str, str]
    arrows: frozenset[tuple[str, str]]
    # Dotted arrows: a room that imports another by name when it runs (importlib),
    # which the ast graph may not see; drawn, but not held to the code.
    by_name: frozenset[tuple[str, str]] = frozenset()


def read_diagram(text: str) -> Diagram:
    """The rooms diagram in ``text``: ``id["label"]`` nodes, ``a --> b & c`` arrows,
    ``a -.->|"label"| b`` dotted ones and ``a ~~~ b`` invisible links (layout only).

    Anything else in the block fails: a line this reader cannot read would
    otherwise hide an arrow from the check.
    """
    block = _BLOCK.search(text)
    assert block is not None, "docs/architecture.md has no ```mermaid block under '## The rooms'"
    nodes: dict[str, str] = {}
    arrows: set[tuple[str, str]] = set()
    by_name: set[tuple[str, str]] = set()

    def node(token: str, line: str) -> str:
        found = _NODE.fullmatch(token)
        assert found is not None, f"cannot read {token!r} in the rooms diagram's line {line!r}"
        name, label = found.groups()
        if label is not None or name not in nodes:
            nodes[name] = label if label is not None else nodes.get(name, name)
        return name

    for raw in block.group(1).splitlines():
        line = raw.strip()
        if not line or line.startswith("%%") or line.startswith("flowchart"):
            continue
        if "~~~" in line:  # an invisible link: where a node is laid out, not an import
            for token in line.split("~~~"):
                node(token, line)
            continue
        parts = _ARROW.split(line)
        assert len(parts) in (1, 3), f"one arrow a line, please (a --> b & c): {line!r}"
        source = node(parts[0], line)
        if len(parts) > 1:
            dotted = parts[1] == "-.->"
            for target in parts[2].split("&"):
                (by_name if dotted else arrows).add((source, node(target, line)))
    return Diagram(nodes, frozenset(arrows), frozenset(by_name))


def _room_name(room: str) -> str:
    """``pushgen.build`` -> ``build``; ``pushgen.__main__`` -> ``main`` (its node's id)."""
    return room.removeprefix("pushgen.").strip("_")


def problems(
    diagram: Diagram,
    graph: Mapping[str, frozenset[str]],
    packages: frozenset[str],
) -> list[str]:
    """What the diagram leaves out or draws wrong, against the room graph ``graph``."""
    found: list[str] = []
    ground = diagram.nodes.get(GROUND, "")
    rooms = {_room_name(room): room for room in graph if room != "pushgen"}
    on_ground = {
        name
        for name in rooms
        if name not in diagram.nodes and re.search(rf"\b{re.escape(name)}\.py\b", ground)
    }
    for name, room in sorted(rooms.items()):
        if name in diagram.nodes or name in on_ground:
            continue
        if room in packages:
            found.append(f"the package {room} is not a node of the rooms diagram")
        else:
            found.append(
                f"{room} is neither a node nor named ({name}.py) in the ground floor's node"
            )
    for room, targets in sorted(graph.items()):
        here = _room_name(room)
        for target in sorted(targets):
            there = _room_name(target)
            if there in on_ground:
                continue  # every room may import the ground floor
            if here in on_ground:
                found.append(
                    f"{room} is drawn on the ground floor but imports {target}: draw it as a"
                    f" node of its own, with an arrow {here} --> {there}"
                )
            elif (here, there) not in diagram.arrows | diagram.by_name:
                found.append(f"{room} imports {target}: draw the arrow {here} --> {there}")
    for here, there in sorted(diagram.arrows):
        unknown = [n for n in (here, there) if n not in rooms and n not in PLANNED]
        if unknown:
            found.append(f"the arrow {here} --> {there} names no package or module: {unknown}")
        elif here in rooms and there in rooms and rooms[there] not in graph[rooms[here]]:
            found.append(
                f"the arrow {here} --> {there} is drawn, but {rooms[here]} does not import it"
            )
    for name in re.findall(r"\b(\w+)\.py\b", ground):
        if name not in rooms and name not in PLANNED:
            found.append(f"the ground floor names {name}.py, which is not a module of pushgen/")
    return found


def _packages() -> frozenset[str]:
    return frozenset(name for name, module in modules().items() if module.is_package)


def _new(found: list[str]) -> list[str]:
    """``found`` less what the real diagram and code already give (that is the test above's)."""
    diagram = read_diagram(DOCUMENT.read_text(encoding="utf-8"))
    already = problems(diagram, package_graph(), _packages())
    return [problem for problem in found if problem not in already]


def test_the_rooms_diagram_draws_every_room_and_import() -> None:
    diagram = read_diagram(DOCUMENT.read_text(encoding="utf-8"))
    found = problems(diagram, package_graph(), _packages())
    assert found == [], "docs/architecture.md's rooms diagram:\n" + "\n".join(found)


def test_the_check_sees_the_diagram() -> None:
    # A reader that found nothing would leave nothing to check: the diagram has the
    # rooms, the ground floor and the arrows everyone knows.
    diagram = read_diagram(DOCUMENT.read_text(encoding="utf-8"))
    assert {"build", "scan", "manifest", "runtime", "commands", GROUND} <= set(diagram.nodes)
    assert ("build", "scan") in diagram.arrows
    assert "errors.py" in diagram.nodes[GROUND]


def test_a_new_package_or_import_fails_the_check() -> None:
    diagram = read_diagram(DOCUMENT.read_text(encoding="utf-8"))
    graph = dict(package_graph())
    # A new room, and the scanners climbing into the build (a planted import).
    graph["pushgen.newroom"] = frozenset({"pushgen.scan"})
    graph["pushgen.scan"] = graph["pushgen.scan"] | {"pushgen.build"}
    # A ground-floor module that starts importing a room.
    graph["pushgen.urls"] = graph["pushgen.urls"] | {"pushgen.manifest"}
    found = problems(diagram, graph, _packages() | {"pushgen.newroom"})
    assert _new(found) == [
        "the package pushgen.newroom is not a node of the rooms diagram",
        "pushgen.newroom imports pushgen.scan: draw the arrow newroom --> scan",
        "pushgen.scan imports pushgen.build: draw the arrow scan --> build",
        "pushgen.urls is drawn on the ground floor but imports pushgen.manifest: draw it as a"
        " node of its own, with an arrow urls --> manifest",
    ]


def test_a_stale_arrow_fails_the_check() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    planted = text.replace(
        'scan["scan/<br>pure scanners"]', 'scan["scan/<br>pure scanners"] --> build'
    )
    assert planted != text
    found = problems(read_diagram(planted), package_graph(), _packages())
    assert _new(found) == [
        "the arrow scan --> build is drawn, but pushgen.scan does not import it",
    ]
