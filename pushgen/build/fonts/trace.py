"""The walk of per-page font tracing: each text's computed font, then each face's verdict.

:func:`trace_fonts` matches the rule table (:mod:`.table`) against the page, decides
a page whose matched rules name no face's family without a walk, and otherwise walks
the tree in document order (:func:`_compute`), stopping once every face is certainly
used (:class:`_Settled`); font matching (:mod:`.matching`) gives the verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lxml import etree

from ...model import UNKNOWN, FontDeclarations
from ...scan.html import html_tree
from .cascade import Hit
from .matching import FontUse, UsageMap, chars_of, decide, usage_of
from .state import UA_ANY, State, computed, generated_content, reachable
from .table import SheetFonts, StateMemo, Table, match_rules, table_for

__all__ = ["NOT_RENDERED", "hidden", "parse_page", "trace_fonts"]

_Element = Any  # lxml elements carry no type hints

# Elements whose contents are never rendered (HTML Standard, "Rendering": display:
# none in the UA style sheet), scripting enabled (noscript is not rendered).
NOT_RENDERED = frozenset(
    {
        "head", "script", "style", "title", "meta", "link", "base", "template", "noscript",
        "area", "datalist", "param", "source", "track", "rp",
    }
)  # fmt: skip


def parse_page(html: bytes | str) -> _Element | None:
    """The page as the scanner parses it (decoded as a browser would), for selector
    matching; the scan already reported what went wrong in it."""
    return html_tree(html)


def trace_fonts(
    root: _Element,
    sheets: Sequence[SheetFonts],
    style_attribute: Callable[[str], FontDeclarations | None],
) -> dict[str, FontUse]:
    """Which face paths of ``sheets`` the page ``root`` uses (see :mod:`pushgen.build.fonts`).

    ``sheets`` are in cascade order; ``style_attribute`` reads a ``style=""``
    value (cached by the caller: pages repeat them).
    """
    table = table_for(sheets)
    if not table.faces:
        return {}
    matched = match_rules(root, table, style_attribute)
    hits, generated = matched.elements, matched.generated
    families = reachable(hits, generated)
    if families is not None and families.isdisjoint(table.families):
        # No element can compute to a face's family: every face is unused, for the
        # same reason on every such page (the walk would find nothing to change it).
        if table.unused is None:
            table.unused = decide(table.faces, {})
        return dict(table.unused)
    # The walk may stop once every face an element can reach is certainly used:
    # more text only adds uses (see _Settled), unless generated content of an
    # unknown value turns known characters into unknown ones.
    settled = None if generated else _Settled(table, families)
    usage = _compute(root, hits, generated, settled, table.unfollowed, table.states)
    if settled is not None and settled.result is not None:
        return settled.result
    return decide(table.faces, usage)


class _Settled:
    """Whether the walk so far already decides every face (see :func:`trace_fonts`).

    Text only adds uses: in :func:`~.matching.decide` more characters, or text in
    more computed fonts, mark more faces, never fewer, and a face certainly used
    stays so. Once every face of a family some element may compute to is certainly
    used, the rest of the page cannot change a verdict; the faces of the other
    families stay unused, for a reason that does not depend on the text.
    """

    __slots__ = ("checks", "faces", "needed", "result")

    def __init__(self, table: Table, families: frozenset[str] | None) -> None:
        self.faces = table.faces
        self.needed = {
            face.path for face, _ in table.faces if families is None or face.family in families
        }
        self.result: dict[str, FontUse] | None = None
        # A page that never uses one of its faces would pay a check at every new
        # computed font: after these many, the walk just goes on to the end.
        self.checks = 12

    def __call__(self, usage: UsageMap) -> bool:
        self.checks -= 1
        decided = decide(self.faces, usage)
        if all(decided[path].verdict == "used" for path in self.needed):
            self.result = decided
            return True
        return False


def _compute(
    root: _Element,
    hits: dict[_Element, list[Hit]],
    generated: dict[tuple[_Element, str], list[Hit]],
    settled: _Settled | None = None,
    unfollowed: frozenset[str] = frozenset(),
    states_of: StateMemo | None = None,
) -> UsageMap:
    """Walk the tree in document order: each text's computed font and characters.

    Elements without a rule of their own share their parent's computed state, so
    text is gathered per state and its characters counted once per state. With
    ``settled``, the walk stops where it says the rest cannot change a verdict
    (asked each time text meets a computed font for the first time; the map is
    then empty, ``settled.result`` holding the verdicts). ``unfollowed``
    are the custom properties the sheets set that no font value of theirs needs.
    ``states_of`` (the table's) gives the same state object for the same
    derivation on every page; without it the walk keeps its own.
    """
    memo = states_of if states_of is not None else StateMemo(unfollowed)
    initial = memo.initial
    states: dict[_Element, State | None] = {}
    texts = _Texts(settled)
    add_text = texts.add
    generated_texts: list[tuple[State, set[int] | None, str]] = []
    derive = memo.derive
    hits_of = hits.get
    for element in root.iter(etree.Element):
        parent = element.getparent()
        parent_state = initial if parent is None else states[parent]
        if parent_state is None:
            # Inside an element that does not render: neither it nor its tail does.
            states[element] = None
            continue
        tail = element.tail
        # A tail is text of the parent.
        if tail and not tail.isspace() and add_text(parent_state, tail):
            break
        tag = element.tag
        element_hits = hits_of(element)
        if tag in NOT_RENDERED or (
            hidden(element, element_hits)
            if element_hits is not None or tag == "input"
            # hidden() of an element no rule reaches, not an <input>: one call less
            # for most elements of a page.
            else element.get("hidden") is not None
        ):
            states[element] = None
            continue
        state = states[element] = (
            derive(parent_state, element_hits, tag)
            if element_hits or tag in UA_ANY
            else parent_state
        )
        text = element.text
        if text and not text.isspace() and add_text(state, text):
            break
        if tag == "input" and any(
            add_text(state, element.get(name))
            for name in ("value", "placeholder")
            if element.get(name)
        ):
            break
        if generated:
            generated_texts.extend(_generated_texts(element, state, generated))
    if settled is not None and settled.result is not None:
        return {}  # settled decided every face: its result stands, not this map's
    return usage_of(texts.by_state, generated_texts)


class _Texts:
    """The characters of the text set in each state, keyed by id(): every state stays
    referenced from the walk's ``states`` (and the memo) while it runs."""

    __slots__ = ("by_state", "settled")

    def __init__(self, settled: _Settled | None) -> None:
        self.by_state: dict[int, tuple[State, set[str]]] = {}
        self.settled = settled

    def add(self, state: State, text: str) -> bool:
        """Count ``text`` in ``state``; True when the walk may stop."""
        bucket = self.by_state.get(id(state))
        if bucket is not None:
            bucket[1].update(text)
            return False
        self.by_state[id(state)] = (state, set(text))
        settled = self.settled
        return settled is not None and settled.checks > 0 and settled(usage_of(self.by_state, []))


def _generated_texts(
    element: _Element, state: State, generated: dict[tuple[_Element, str], list[Hit]]
) -> list[tuple[State, set[int] | None, str]]:
    """The text ``element``'s ``::before`` and ``::after`` generate, in their computed fonts."""
    out: list[tuple[State, set[int] | None, str]] = []
    for pseudo in ("before", "after"):
        pseudo_hits = generated.get((element, pseudo))
        if not pseudo_hits:
            continue
        pseudo_state = computed(state, pseudo_hits, "")
        content = generated_content(pseudo_hits, pseudo_state)
        for value, why in content:
            if value != "":
                chars = None if value == UNKNOWN else chars_of(value) or None
                out.append((pseudo_state, chars, why))
    return out


def hidden(element: _Element, hits: list[Hit] | None) -> bool:
    """Whether ``element`` is not rendered (``hidden``, a hidden input, ``display: none`` inline)."""
    if element.tag == "input":
        if (element.get("type") or "").lower() == "hidden":
            return True
    elif element.get("hidden") is not None:
        return True
    # display: none in a style attribute (stylesheets' display is not followed).
    return hits is not None and any(
        precedence[1] == 1 and declarations.display_none for precedence, declarations, _ in hits
    )
