"""The straightforward font tracing, kept as the oracle the fast one is compared with.

This is pushgen/build/fonts/'s matching and walk as they were before its fast
paths (a rule table per tuple of sheets, chains of tags, classes and ids matched
without XPath, a page skipped when no rule names a face's family, a walk that
stops once every face is decided): every rule of every sheet is tried on the
page (skipped, as before, when the page lacks its subject's id, class or tag,
through the shared index), every other selector runs cssselect's XPath, and
every element of the page is walked. tests/build/test_fonts_equivalence.py holds
the two to the same results on the bench shapes and on seeded random pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lxml import etree

from pushgen.build.fonts import FontUse, SheetFonts, screen_media
from pushgen.build.fonts.cascade import Hit as _Hit
from pushgen.build.fonts.matching import Usage as _Usage
from pushgen.build.fonts.matching import chars_of as _chars
from pushgen.build.fonts.matching import decide as _decide
from pushgen.build.fonts.selectors import PageIndex, Selector, compile_selectors
from pushgen.build.fonts.state import UA_ANY as _UA_ANY
from pushgen.build.fonts.state import State as _State
from pushgen.build.fonts.state import computed as _computed
from pushgen.build.fonts.state import generated_content as _generated_content
from pushgen.build.fonts.state import initial_state as _initial_state
from pushgen.build.fonts.table import add_hits, add_style_hits
from pushgen.build.fonts.table import conditions_reason as _conditions
from pushgen.build.fonts.trace import NOT_RENDERED as _NOT_RENDERED
from pushgen.build.fonts.trace import hidden as _hidden
from pushgen.build.fonts.variables import needed_names
from pushgen.model import UNKNOWN, FontDeclarations, FontFace

_Element = Any  # lxml elements carry no type hints


def trace_fonts(
    root: _Element,
    sheets: Sequence[SheetFonts],
    style_attribute: Callable[[str], FontDeclarations | None],
) -> dict[str, FontUse]:
    """Which face paths of ``sheets`` the page ``root`` uses (see the module docstring).

    ``sheets`` are in cascade order; ``style_attribute`` reads a ``style=""``
    value (cached by the caller: pages repeat them).
    """
    faces: list[tuple[FontFace, str]] = []
    rules: list[tuple[str, FontDeclarations, str, str]] = []
    for sheet in sheets:
        media = screen_media(sheet.media)
        if media == "never":
            continue
        sheet_reason = (
            f"stylesheet {sheet.display} for media {sheet.media}" if media == "maybe" else ""
        )
        for face in sheet.fonts.faces:
            reason = _conditions(face.conditions)
            if reason is not None and face.path:
                faces.append((face, sheet_reason or reason))
        for rule in sheet.fonts.rules:
            reason = _conditions(rule.conditions)
            if reason is not None:
                where = f"{sheet.display}:{rule.line}"
                rules.append(
                    (
                        rule.selector,
                        rule.declarations,
                        sheet_reason or reason,
                        where,
                    )
                )
    if not faces:
        return {}
    hits, generated = _match_rules(root, rules, style_attribute)
    # The custom properties the tracing does not follow, as pushgen's table says
    # (a property the sheets set for no font value, or one @property registers).
    declared = [declarations for _, declarations, _, _ in rules]
    unfollowed = frozenset(name for found in declared for name, _ in found.custom)
    unfollowed -= needed_names(declared)
    unfollowed |= {name for sheet in sheets for name in sheet.fonts.registered}
    usage = _compute(root, hits, generated, unfollowed)
    return _decide(faces, usage)


def _xpath_matches(
    selector: Selector, root: _Element, index: PageIndex
) -> tuple[list[_Element], str] | None:
    """The elements ``selector`` matches and why only possibly ("" when for certain).

    None when the page lacks the id, class or tag its subject needs.
    """
    if selector.xpath is not None and selector.key is not None:
        candidates = index.get(selector.key.kind, selector.key.name)
        if not candidates:
            return None
        if selector.simple:
            return candidates, selector.reason
    if selector.xpath is not None:
        try:
            return list(selector.xpath(root)), selector.reason
        except etree.XPathError:
            pass  # cssselect wrote what libxml2 cannot run: not decidable either
    return list(root.iter(etree.Element)), selector.reason or "a selector pushgen cannot match"


def _match_rules(
    root: _Element,
    rules: Sequence[tuple[str, FontDeclarations, str, str]],
    style_attribute: Callable[[str], FontDeclarations | None],
) -> tuple[dict[_Element, list[_Hit]], dict[tuple[_Element, str], list[_Hit]]]:
    """Every declaration that reaches each element (and each ``::before``/``::after``)."""
    index = PageIndex(root)
    hits: dict[_Element, list[_Hit]] = {}
    generated: dict[tuple[_Element, str], list[_Hit]] = {}
    for order, (selector_list, declarations, rule_reason, where) in enumerate(rules):
        for selector in compile_selectors(selector_list):
            matched = _xpath_matches(selector, root, index)
            if matched is None:
                continue
            elements, selector_reason = matched
            reason = rule_reason or selector_reason
            reason = reason and f"{reason} ({where})"
            add_hits(hits, generated, selector, elements, declarations, order, reason)
    add_style_hits(root, hits, style_attribute)
    return hits, generated


def _compute(
    root: _Element,
    hits: dict[_Element, list[_Hit]],
    generated: dict[tuple[_Element, str], list[_Hit]],
    unfollowed: frozenset[str],
) -> dict[tuple[tuple[str, ...], str, str], _Usage]:
    """Walk the tree in document order: each text's computed font and characters.

    Elements without a rule of their own share their parent's computed state, so
    text is gathered per state and its characters counted once per state.
    """
    initial = _initial_state(unfollowed)
    states: dict[_Element, _State | None] = {}
    texts: dict[int, tuple[_State, list[str]]] = {}
    generated_texts: list[tuple[_State, set[int] | None, str]] = []
    # Keyed by id(): every state stays referenced from `states` for the walk.
    ua_states: dict[tuple[int, str], _State] = {}

    def add_text(state: _State, text: str) -> None:
        bucket = texts.get(id(state))
        if bucket is None:
            bucket = texts[id(state)] = (state, [])
        bucket[1].append(text)

    for element in root.iter(etree.Element):
        parent = element.getparent()
        parent_state = initial if parent is None else states[parent]
        tail = element.tail
        if tail and parent_state is not None and not tail.isspace():
            add_text(parent_state, tail)  # a tail is text of the parent
        tag = element.tag
        element_hits = hits.get(element)
        if parent_state is None or tag in _NOT_RENDERED or _hidden(element, element_hits):
            states[element] = None
            continue
        if element_hits:
            state = _computed(parent_state, element_hits, tag)
        elif tag in _UA_ANY:
            # The same tag under the same state computes the same: <em> in every <p>.
            known = ua_states.get((id(parent_state), tag))
            if known is None:
                known = ua_states[(id(parent_state), tag)] = _computed(parent_state, None, tag)
            state = known
        else:
            state = parent_state
        states[element] = state
        text = element.text
        if text and not text.isspace():
            add_text(state, text)
        if tag == "input":
            for name in ("value", "placeholder"):
                if element.get(name):
                    add_text(state, element.get(name))
        for pseudo in ("before", "after"):
            pseudo_hits = generated.get((element, pseudo))
            if not pseudo_hits:
                continue
            pseudo_state = _computed(state, pseudo_hits, "")
            content = _generated_content(pseudo_hits, pseudo_state)
            for value, why in content:
                if value != "":
                    chars = None if value == UNKNOWN else _chars(value) or None
                    generated_texts.append((pseudo_state, chars, why))

    usage: dict[tuple[tuple[str, ...], str, str], _Usage] = {}
    gathered = [(state, _chars("".join(parts)), "") for state, parts in texts.values()]
    for state, chars, doubt in (*gathered, *generated_texts):
        for family, family_why in state.family:
            for weight, weight_why in state.weight:
                for style, style_why in state.style:
                    key = (family, weight, style)
                    found = usage.get(key)
                    if found is None:
                        found = usage[key] = _Usage()
                    found.add(doubt or family_why or weight_why or style_why, chars)
    return usage
