"""The rule table of per-page font tracing: a tuple of sheets' font rules, compiled once.

Most of a build's pages share their sheets, so the work is arranged as a browser's
style engine arranges it (issue 17): the sheets' rules are compiled once per tuple
of sheets into a table keyed by the id, class or tag each selector's subject needs,
and a page runs only the selectors whose key it has (:func:`match_rules`), in
cascade order as if every rule had been tried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from ...model import FontDeclarations, FontFace, FontRule, FontSheet
from ...push_policy import media_matches_screen
from .cascade import Hit
from .matching import FontUse
from .selectors import PageIndex, Selector, compile_selectors, match_selector, with_attribute
from .state import UA_ANY, State, computed, initial_state
from .variables import needed_names

__all__ = [
    "Entry",
    "PageHits",
    "SheetFonts",
    "StateMemo",
    "Table",
    "add_hits",
    "add_style_hits",
    "conditions_reason",
    "match_rules",
    "screen_media",
    "table_for",
]

_Element = Any  # lxml elements carry no type hints


@dataclass(frozen=True, slots=True)
class SheetFonts:
    """A stylesheet as a page applies it: its font rules and faces, the media it is for."""

    fonts: FontSheet
    media: str | None
    display: str


def screen_media(media: str | None) -> Literal["always", "maybe", "never"]:
    """Whether a screen applies ``media``: always, never (print), or it depends (its size...)."""
    if media is None or not media.strip():
        return "always"
    if not media_matches_screen(media):
        return "never"
    for query in media.split(","):
        if query.strip().lower() in ("all", "screen", "only screen", "only all"):
            return "always"
    return "maybe"


def conditions_reason(conditions: Iterable[str]) -> str | None:
    """None when ``conditions`` never hold on a screen, else the first that may not ("")."""
    for condition in conditions:
        if condition.startswith("@media "):
            kind = screen_media(condition[len("@media ") :])
            if kind == "never":
                return None
            if kind == "maybe":
                return f"a rule under {condition}"
        else:
            return f"a rule under {condition}"
    return ""


@dataclass(frozen=True, slots=True)
class Entry:
    """One selector of one rule of a page's sheets, in cascade order."""

    selector: Selector
    declarations: FontDeclarations
    order: int  # the rule's place among the sheets' rules (its precedence)
    reason: str  # why the rule only possibly applies (its media, @supports), "" if not
    where: str  # sheet:line, for the reason


@dataclass(frozen=True, slots=True)
class PageHits:
    """Every declaration that reaches each element of a page (:func:`match_rules`)."""

    elements: dict[_Element, list[Hit]]
    generated: dict[tuple[_Element, str], list[Hit]]  # (element, "before" | "after")


@dataclass(slots=True)
class Table:
    """What a tuple of sheets says, made once per build for every page that links them.

    Each selector is filed under the id, class or tag its subject must have, so a
    page runs only those whose key it has (browsers hash rules the same way), in
    cascade order as if every rule had been tried.
    """

    sheets: tuple[FontSheet, ...]  # held: the cache key is their ids
    faces: list[tuple[FontFace, str]]
    families: frozenset[str]
    entries: list[Entry]
    keyless: list[int]  # entries every page runs (no key, or no XPath)
    by_key: dict[str, dict[str, list[int]]]  # "id" | "class" | "tag" -> name -> entries
    # The custom properties the tracing does not follow: those the sheets set that
    # no font value depends on (left out of `entries`; a rule that sets only such is
    # left out whole), and those registered with @property (their inheritance and
    # initial value are the registration's: not modelled).
    unfollowed: frozenset[str]
    states: StateMemo  # the computed states of the tables' pages (see StateMemo)
    unused: dict[str, FontUse] | None = None  # the verdicts when no face is reachable


class StateMemo:
    """Computed states by derivation (parent state, the hits, the tag), kept per rule table.

    Pages that link the same sheets repeat the same derivations (the root under
    ``html { font-family: ... }``, ``<em>`` in every ``<p>``): each is worked out once
    (:func:`~.state.computed` runs three cascades) and the same object returned, so
    a page's text buckets and the walk's checks meet fewer new states. The parent
    is held in the value, so its ``id()`` in the key cannot be reused while the
    entry lives; the memo is emptied whole when it grows past ``limit`` entries.
    """

    __slots__ = ("_limit", "_memo", "initial")

    def __init__(self, unfollowed: frozenset[str], limit: int = 4096) -> None:
        self.initial = initial_state(unfollowed)
        self._limit = limit
        self._memo: dict[tuple[int, str, tuple[Hit, ...]], tuple[State, State]] = {}

    def derive(self, parent: State, hits: list[Hit] | None, tag: str) -> State:
        """:func:`~.state.computed` of ``parent``, ``hits`` and ``tag``, worked out once.

        The tag matters only where the UA style sheet gives it a font property;
        elsewhere it is left out of the key, so ``<p>`` and ``<li>`` under the same
        rules share their state.
        """
        key = (id(parent), tag if tag in UA_ANY else "", tuple(hits) if hits else ())
        found = self._memo.get(key)
        if found is not None and found[0] is parent:
            return found[1]
        if len(self._memo) >= self._limit:
            self._memo.clear()
        state = computed(parent, hits, tag)
        self._memo[key] = (parent, state)
        return state


_TableKey = tuple[tuple[int, str | None, str], ...]
_tables: dict[_TableKey, Table] = {}
# Callers hold their sheets for the build (graph.py caches them); a process that
# traces with ever new sheets (tests) gets a fresh cache now and then.
_TABLES_MAX = 512


def table_for(sheets: Sequence[SheetFonts]) -> Table:
    """The rule table of ``sheets``, made on first use and cached by the sheets' identity."""
    key = tuple((id(sheet.fonts), sheet.media, sheet.display) for sheet in sheets)
    table = _tables.get(key)
    if table is None:
        if len(_tables) >= _TABLES_MAX:
            _tables.clear()
        table = _tables[key] = _make_table(sheets)
    return table


def _make_table(sheets: Sequence[SheetFonts]) -> Table:
    faces: list[tuple[FontFace, str]] = []
    applicable: list[tuple[FontRule, str, str]] = []  # a rule, why only possibly, where
    for sheet in sheets:
        media = screen_media(sheet.media)
        if media == "never":
            continue
        sheet_reason = (
            f"stylesheet {sheet.display} for media {sheet.media}" if media == "maybe" else ""
        )
        for face in sheet.fonts.faces:
            reason = conditions_reason(face.conditions)
            if reason is not None and face.path:
                faces.append((face, sheet_reason or reason))
        for rule in sheet.fonts.rules:
            reason = conditions_reason(rule.conditions)
            if reason is not None:
                applicable.append((rule, sheet_reason or reason, f"{sheet.display}:{rule.line}"))
    declarations = [rule.declarations for rule, _, _ in applicable]
    variables = needed_names(declarations)
    unfollowed = frozenset(name for found in declarations for name, _ in found.custom) - variables
    unfollowed |= {name for sheet in sheets for name in sheet.fonts.registered}
    entries: list[Entry] = []
    order = 0
    for rule, reason, where in applicable:
        followed = _followed(rule.declarations, variables)
        if followed is None:
            continue
        for selector in compile_selectors(rule.selector):
            entries.append(Entry(selector, followed, order, reason, where))
        order += 1
    keyless: list[int] = []
    by_key: dict[str, dict[str, list[int]]] = {"id": {}, "class": {}, "tag": {}}
    for number, entry in enumerate(entries):
        key = entry.selector.key
        if entry.selector.xpath is None or key is None:
            keyless.append(number)
        else:
            by_key[key.kind].setdefault(key.name, []).append(number)
    return Table(
        tuple(sheet.fonts for sheet in sheets),
        faces,
        frozenset(face.family for face, _ in faces),
        entries,
        keyless,
        by_key,
        unfollowed,
        StateMemo(unfollowed),
    )


def _followed(declarations: FontDeclarations, variables: frozenset[str]) -> FontDeclarations | None:
    """``declarations`` with only the custom properties font values depend on; None when
    that leaves nothing (a rule of a theme's variables no font uses)."""
    if not declarations.custom:
        return declarations
    custom = tuple((name, text) for name, text in declarations.custom if name in variables)
    if custom == declarations.custom:
        return declarations
    kept = replace(declarations, custom=custom)
    if not custom and kept == FontDeclarations(important=kept.important):
        return None
    return kept


def _candidates(table: Table, index: PageIndex) -> list[int]:
    """The entries whose subject key the page has (and the keyless ones), in cascade order."""
    found = list(table.keyless)
    for kind, names in table.by_key.items():
        if not names:
            continue
        if kind == "tag":
            # Few tags, found by lxml's C filter (in one walk when there are several).
            index.fetch_tags(names)
            for name, numbers in names.items():
                if index.get(kind, name):
                    found.extend(numbers)
            continue
        present = index.table(kind)
        small, large = (present, names) if len(present) < len(names) else (names, present)
        for name in small:
            if name in large:
                found.extend(names[name])
    found.sort()
    return found


def match_rules(
    root: _Element,
    table: Table,
    style_attribute: Callable[[str], FontDeclarations | None],
) -> PageHits:
    """Every declaration that reaches each element (and each ``::before``/``::after``)."""
    index = PageIndex(root)
    hits: dict[_Element, list[Hit]] = {}
    generated: dict[tuple[_Element, str], list[Hit]] = {}
    entries = table.entries
    for number in _candidates(table, index):
        entry = entries[number]
        selector, declarations = entry.selector, entry.declarations
        matched = match_selector(selector, root, index)
        if matched is None:
            continue
        reason = entry.reason or matched.reason
        reason = reason and f"{reason} ({entry.where})"
        add_hits(hits, generated, selector, matched.elements, declarations, entry.order, reason)
    add_style_hits(root, hits, style_attribute)
    return PageHits(hits, generated)


def add_hits(
    hits: dict[_Element, list[Hit]],
    generated: dict[tuple[_Element, str], list[Hit]],
    selector: Selector,
    elements: list[_Element],
    declarations: FontDeclarations,
    order: int,
    reason: str,
) -> None:
    """Record that ``declarations`` (rule number ``order``) reach ``elements`` through ``selector``."""
    for important in (False, True):
        if important and not declarations.important:
            continue
        precedence = (int(important), 0, selector.specificity, order)
        hit = (precedence, declarations, reason)
        for element in elements:
            if selector.pseudo:
                generated.setdefault((element, selector.pseudo), []).append(hit)
            else:
                hits.setdefault(element, []).append(hit)


def add_style_hits(
    root: _Element,
    hits: dict[_Element, list[Hit]],
    style_attribute: Callable[[str], FontDeclarations | None],
) -> None:
    """Record the ``style`` attributes' declarations on their elements."""
    for element, value in with_attribute(root, "style"):
        inline = style_attribute(value)
        if inline is not None:
            # CSS Style Attributes: above every selector, below !important rules.
            for important in (False, True):
                if important and not inline.important:
                    continue
                hits.setdefault(element, []).append(((int(important), 1, (0, 0, 0), 0), inline, ""))
