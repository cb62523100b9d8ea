"""Which web fonts a page's first render uses: per-page font tracing (issue 15).

A browser downloads an ``@font-face`` source only when text is laid out with the
face: an element (or its ``::before``/``::after``) has text, its computed
``font-family`` names the face's family before any family that ends the search,
font matching picks the face for its computed weight and style (CSS Fonts 4,
section 5.2: italic falls back to oblique then normal; the nearest weight in the
order the spec gives), and, where the face has a ``unicode-range``, the text has a
character in it. subfont (Munter's per-page font tracing) works the same way in a
headless DOM; here the DOM is lxml's and selectors are matched with cssselect.

Most of a build's pages share their sheets, so the work is arranged as a browser's
style engine arranges it (issue 17): the sheets' rules are compiled once per tuple
of sheets into a table keyed by the id, class or tag each selector's subject
needs, and a page runs only the selectors whose key it has; chains of tags,
classes and ids are matched from the subject up through its ancestors, XPath
(cssselect) taking the rest; a page whose matched rules name no face's family
is decided without a walk; and the walk stops once every face is certainly
used. tests/build/test_fonts_equivalence.py holds this to the straightforward
tracing (tests/build/fonts_reference.py), verdicts and reasons alike.

:func:`trace_fonts` takes the parsed page and the stylesheets that apply to it
(their :class:`~pushgen.model.FontSheet`, read once per sheet by scan.css) and says,
for each face's font path:

* ``"used"``: text that certainly renders uses it: pushed or hinted as the policy says;
* ``"possible"``: only through something that cannot be decided statically (a
  selector with ``:hover`` or a pseudo-element, a rule under ``@media (max-width:
  ...)`` or ``@supports``, a ``var()``, a selector cssselect cannot read, a named
  font before it that the visitor may have installed): hinted, never pushed;
* ``"unused"``: no text of the page is set in it: listed only, with the reason.

The characters checked against ``unicode-range`` are those of the text set in the
family (each element's own text and its generated content), not the whole page's:
that is the text a browser shapes with the face, so a page with Cyrillic only in a
``<code>`` block set in a monospace family does not fetch the Cyrillic subset of the
body font.

Not modelled (each errs toward fetching): ``display: none`` from stylesheets (only
the ``hidden`` attribute, elements never rendered and ``style`` attributes hide
text), ``text-transform``, ``font-synthesis``, ``font-stretch``, cascade layers,
a ``<base href>`` for inline ``@font-face`` sources, and a script that sets a
family at run time (a rule's ``set: [{path: ..., hint: true}]`` hints such a font).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lxml import etree

from ..model import UNKNOWN, FontDeclarations, FontFace, FontPolicy, FontSheet
from ..push_policy import media_matches_screen
from ..scan.html import html_tree
from .font_selectors import PageIndex, Selector, compile_selectors, match_selector, with_attribute

__all__ = [
    "FontPolicy",
    "FontUse",
    "SheetFonts",
    "Verdict",
    "parse_page",
    "screen_media",
    "trace_fonts",
]

Verdict = Literal["used", "possible", "unused"]

_Element = Any  # lxml elements carry no type hints

# Elements whose contents are never rendered (HTML Standard, "Rendering": display:
# none in the UA style sheet), scripting enabled (noscript is not rendered).
_NOT_RENDERED = frozenset(
    {
        "head", "script", "style", "title", "meta", "link", "base", "template", "noscript",
        "area", "datalist", "param", "source", "track", "rp",
    }
)  # fmt: skip
# HTML Standard, "Rendering", the UA style sheet's font rules.
_UA_WEIGHT = {
    **dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6", "th", "optgroup"), "700"),
    **dict.fromkeys(("b", "strong"), "bolder"),
    **dict.fromkeys(("input", "button", "select", "textarea"), "400"),
}
_UA_STYLE = {
    **dict.fromkeys(("i", "em", "cite", "var", "dfn", "address"), "italic"),
    **dict.fromkeys(("input", "button", "select", "textarea"), "normal"),
}
_UA_FAMILY: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("code", "kbd", "samp", "pre", "tt", "xmp", "listing", "plaintext"), ("monospace",)
    ),
    # Form controls get the system font (Chromium: font: -webkit-small-control).
    **dict.fromkeys(("input", "button", "select", "textarea"), ("system-ui",)),
}
_ROOT_FAMILY = ("serif",)
# Generic families every browser resolves to a font it has, so font matching ends
# there (CSS Fonts 4, section 2.1.1). ui-serif, ui-monospace and the like are
# Safari's only: elsewhere a browser passes over them like a font it lacks.
_STOPPING = frozenset(
    {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}
)  # the initial value: the browser's default, a generic family

_WHITESPACE = frozenset(" \t\n\r\f")


@dataclass(frozen=True, slots=True)
class SheetFonts:
    """A stylesheet as a page applies it: its font rules and faces, the media it is for."""

    fonts: FontSheet
    media: str | None
    display: str


@dataclass(frozen=True, slots=True)
class FontUse:
    """What tracing decided for one font path of a page, and why (for ``pushgen explain``)."""

    verdict: Verdict
    reason: str


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


def _conditions(conditions: Iterable[str]) -> str | None:
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


def parse_page(html: bytes | str) -> _Element | None:
    """The page as the scanner parses it (decoded as a browser would), for selector
    matching; the scan already reported what went wrong in it."""
    return html_tree(html)


# One declaration that reached an element: (precedence, declarations, reason).
_Hit = tuple[tuple[int, int, tuple[int, int, int], int], FontDeclarations, str]
# A computed value that may be one of several: (value, reason it may not hold or "").
_Variants = tuple[tuple[Any, str], ...]


@dataclass(slots=True)
class _State:
    family: _Variants
    weight: _Variants
    style: _Variants


@dataclass(slots=True)
class _Usage:
    """Text set in one computed font: its characters (None: not known), by reason."""

    chars: dict[str, set[int] | None] = field(default_factory=dict)

    def add(self, reason: str, chars: set[int] | None) -> None:
        if reason not in self.chars:
            self.chars[reason] = None if chars is None else set(chars)
            return
        known = self.chars[reason]
        if known is not None:
            if chars is None:
                self.chars[reason] = None
            else:
                known |= chars


def trace_fonts(
    root: _Element,
    sheets: Sequence[SheetFonts],
    style_attribute: Callable[[str], FontDeclarations | None],
) -> dict[str, FontUse]:
    """Which face paths of ``sheets`` the page ``root`` uses (see the module docstring).

    ``sheets`` are in cascade order; ``style_attribute`` reads a ``style=""``
    value (cached by the caller: pages repeat them).
    """
    table = _table(sheets)
    if not table.faces:
        return {}
    hits, generated = _match_rules(root, table, style_attribute)
    reachable = _reachable(hits, generated)
    if reachable is not None and reachable.isdisjoint(table.families):
        # No element can compute to a face's family: every face is unused, for the
        # same reason on every such page (the walk would find nothing to change it).
        if table.unused is None:
            table.unused = _decide(table.faces, {})
        return dict(table.unused)
    # The walk may stop once every face an element can reach is certainly used:
    # more text only adds uses (see _Settled), unless generated content of an
    # unknown value turns known characters into unknown ones.
    settled = None if generated else _Settled(table, reachable)
    usage = _compute(root, hits, generated, settled)
    if settled is not None and settled.result is not None:
        return settled.result
    return _decide(table.faces, usage)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One selector of one rule of a page's sheets, in cascade order."""

    selector: Selector
    declarations: FontDeclarations
    order: int  # the rule's place among the sheets' rules (its precedence)
    reason: str  # why the rule only possibly applies (its media, @supports), "" if not
    where: str  # sheet:line, for the reason


@dataclass(slots=True)
class _Table:
    """What a tuple of sheets says, made once per build for every page that links them.

    Each selector is filed under the id, class or tag its subject must have, so a
    page runs only those whose key it has (browsers hash rules the same way), in
    cascade order as if every rule had been tried.
    """

    sheets: tuple[FontSheet, ...]  # held: the cache key is their ids
    faces: list[tuple[FontFace, str]]
    families: frozenset[str]
    entries: list[_Entry]
    keyless: list[int]  # entries every page runs (no key, or no XPath)
    by_key: dict[str, dict[str, list[int]]]  # "id" | "class" | "tag" -> name -> entries
    unused: dict[str, FontUse] | None = None  # the verdicts when no face is reachable


_TableKey = tuple[tuple[int, str | None, str], ...]
_tables: dict[_TableKey, _Table] = {}
# Callers hold their sheets for the build (graph.py caches them); a process that
# traces with ever new sheets (tests) gets a fresh cache now and then.
_TABLES_MAX = 512


def _table(sheets: Sequence[SheetFonts]) -> _Table:
    key = tuple((id(sheet.fonts), sheet.media, sheet.display) for sheet in sheets)
    table = _tables.get(key)
    if table is None:
        if len(_tables) >= _TABLES_MAX:
            _tables.clear()
        table = _tables[key] = _make_table(sheets)
    return table


def _make_table(sheets: Sequence[SheetFonts]) -> _Table:
    faces: list[tuple[FontFace, str]] = []
    entries: list[_Entry] = []
    order = 0
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
            if reason is None:
                continue
            where = f"{sheet.display}:{rule.line}"
            for selector in compile_selectors(rule.selector):
                entries.append(
                    _Entry(selector, rule.declarations, order, sheet_reason or reason, where)
                )
            order += 1
    keyless: list[int] = []
    by_key: dict[str, dict[str, list[int]]] = {"id": {}, "class": {}, "tag": {}}
    for number, entry in enumerate(entries):
        key = entry.selector.key
        if entry.selector.xpath is None or key is None:
            keyless.append(number)
        else:
            by_key[key[0]].setdefault(key[1], []).append(number)
    return _Table(
        tuple(sheet.fonts for sheet in sheets),
        faces,
        frozenset(face.family for face, _ in faces),
        entries,
        keyless,
        by_key,
    )


def _candidates(table: _Table, index: PageIndex) -> list[int]:
    """The entries whose subject key the page has (and the keyless ones), in cascade order."""
    found = list(table.keyless)
    for kind, names in table.by_key.items():
        if not names:
            continue
        if kind == "tag":
            # Few tags, each found by lxml's C filter.
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


def _match_rules(
    root: _Element,
    table: _Table,
    style_attribute: Callable[[str], FontDeclarations | None],
) -> tuple[dict[_Element, list[_Hit]], dict[tuple[_Element, str], list[_Hit]]]:
    """Every declaration that reaches each element (and each ``::before``/``::after``)."""
    index = PageIndex(root)
    hits: dict[_Element, list[_Hit]] = {}
    generated: dict[tuple[_Element, str], list[_Hit]] = {}
    entries = table.entries
    for number in _candidates(table, index):
        entry = entries[number]
        selector, declarations = entry.selector, entry.declarations
        matched = match_selector(selector, root, index)
        if matched is None:
            continue
        elements, selector_reason = matched
        reason = entry.reason or selector_reason
        reason = reason and f"{reason} ({entry.where})"
        add_hits(hits, generated, selector, elements, declarations, entry.order, reason)
    add_style_hits(root, hits, style_attribute)
    return hits, generated


def add_hits(
    hits: dict[_Element, list[_Hit]],
    generated: dict[tuple[_Element, str], list[_Hit]],
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
    hits: dict[_Element, list[_Hit]],
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


def _reachable(
    hits: dict[_Element, list[_Hit]], generated: dict[tuple[_Element, str], list[_Hit]]
) -> frozenset[str] | None:
    """The families an element of the page may compute to; None when any (a ``var()``)."""
    named: set[str] = set(_ROOT_FAMILY)
    for family in _UA_FAMILY.values():
        named.update(family)
    for found in (hits, generated):
        for element_hits in found.values():
            for _, declarations, _ in element_hits:
                if declarations.family is not None:
                    named.update(declarations.family)
    return None if UNKNOWN in named else frozenset(named)


def _cascade(
    hits: list[_Hit] | None,
    name: str,
    inherited: _Variants,
    ua: Any,
    resolve: Callable[[Any, _Variants], _Variants],
) -> _Variants:
    """The computed value of property ``name`` as variants (CSS Cascade 5, section 6).

    The winning declaration decides when its rule certainly applies. A rule that
    only possibly applies (``:hover``, a media query on the width) adds its value
    as a possibility, and the cascade goes on to what holds when it does not:
    the page as it loads on a typical screen, which stays certain.
    """
    out: list[tuple[Any, str]] = []
    if hits:
        for precedence, declarations, reason in sorted(hits, key=lambda h: h[0], reverse=True):
            value = getattr(declarations, name)
            if value is None or (precedence[0] and name not in declarations.important):
                continue
            if precedence[0] == 0 and name in declarations.important:
                continue  # its !important hit stands for it
            out.extend((resolved, reason or why) for resolved, why in resolve(value, inherited))
            if not reason:
                return tuple(dict.fromkeys(out))
    out.extend(inherited if ua is None else resolve(ua, inherited))
    return tuple(dict.fromkeys(out))


def _family(value: tuple[str, ...], inherited: _Variants) -> _Variants:
    return inherited if value == ("inherit",) else ((value, ""),)


def _weight(value: str, inherited: _Variants) -> _Variants:
    if value == "inherit":
        return inherited
    if value == UNKNOWN:
        return ((UNKNOWN, "a font-weight set through var()"),)
    if value in ("bolder", "lighter"):
        # CSS Fonts 4, section 2.2: relative weights from the parent's.
        return tuple(
            (w if w == UNKNOWN else _relative(float(w), value), why) for w, why in inherited
        )
    return ((value, ""),)


def _relative(weight: float, direction: str) -> str:
    if direction == "bolder":
        result = 400 if weight < 350 else 700 if weight < 550 else 900 if weight < 900 else weight
    else:
        result = weight if weight < 100 else 100 if weight < 550 else 400 if weight < 750 else 700
    return f"{result:g}"


def _style(value: str, inherited: _Variants) -> _Variants:
    if value == "inherit":
        return inherited
    if value == UNKNOWN:
        return ((UNKNOWN, "a font-style set through var()"),)
    return ((value, ""),)


def _computed(parent: _State, hits: list[_Hit] | None, tag: str) -> _State:
    return _State(
        _cascade(hits, "family", parent.family, _UA_FAMILY.get(tag), _family),
        _cascade(hits, "weight", parent.weight, _UA_WEIGHT.get(tag), _weight),
        _cascade(hits, "style", parent.style, _UA_STYLE.get(tag), _style),
    )


_UA_ANY = frozenset(_UA_FAMILY) | frozenset(_UA_WEIGHT) | frozenset(_UA_STYLE)
_WHITESPACE_CODES = frozenset(map(ord, _WHITESPACE))


class _Settled:
    """Whether the walk so far already decides every face (see :func:`trace_fonts`).

    Text only adds uses: in :func:`_decide` more characters, or text in more
    computed fonts, mark more faces, never fewer, and a face certainly used stays
    so. Once every face of a family some element may compute to is certainly
    used, the rest of the page cannot change a verdict; the faces of the other
    families stay unused, for a reason that does not depend on the text.
    """

    __slots__ = ("checks", "faces", "needed", "result")

    def __init__(self, table: _Table, reachable: frozenset[str] | None) -> None:
        self.faces = table.faces
        self.needed = {
            face.path for face, _ in table.faces if reachable is None or face.family in reachable
        }
        self.result: dict[str, FontUse] | None = None
        # A page that never uses one of its faces would pay a check at every new
        # computed font: after these many, the walk just goes on to the end.
        self.checks = 12

    def __call__(self, usage: dict[tuple[tuple[str, ...], str, str], _Usage]) -> bool:
        self.checks -= 1
        decided = _decide(self.faces, usage)
        if all(decided[path].verdict == "used" for path in self.needed):
            self.result = decided
            return True
        return False


def _compute(
    root: _Element,
    hits: dict[_Element, list[_Hit]],
    generated: dict[tuple[_Element, str], list[_Hit]],
    settled: _Settled | None = None,
) -> dict[tuple[tuple[str, ...], str, str], _Usage]:
    """Walk the tree in document order: each text's computed font and characters.

    Elements without a rule of their own share their parent's computed state, so
    text is gathered per state and its characters counted once per state. With
    ``settled``, the walk stops where it says the rest cannot change a verdict
    (asked each time text meets a computed font for the first time).
    """
    initial = _State(((_ROOT_FAMILY, ""),), (("400", ""),), (("normal", ""),))
    states: dict[_Element, _State | None] = {}
    # The characters of the text set in each state, keyed by id(): every state
    # stays referenced from `states` for the walk.
    texts: dict[int, tuple[_State, set[str]]] = {}
    generated_texts: list[tuple[_State, set[int] | None, str]] = []
    ua_states: dict[tuple[int, str], _State] = {}

    def add_text(state: _State, text: str) -> bool:
        """Count ``text`` in ``state``; True when the walk may stop."""
        bucket = texts.get(id(state))
        if bucket is not None:
            bucket[1].update(text)
            return False
        texts[id(state)] = (state, set(text))
        return settled is not None and settled.checks > 0 and settled(_usage(texts, []))

    for element in root.iter(etree.Element):
        parent = element.getparent()
        parent_state = initial if parent is None else states[parent]
        tail = element.tail
        # A tail is text of the parent.
        if (
            tail
            and parent_state is not None
            and not tail.isspace()
            and add_text(parent_state, tail)
        ):
            break
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
        if text and not text.isspace() and add_text(state, text):
            break
        if tag == "input" and any(
            add_text(state, element.get(name))
            for name in ("value", "placeholder")
            if element.get(name)
        ):
            break
        for pseudo in ("before", "after"):
            pseudo_hits = generated.get((element, pseudo))
            if not pseudo_hits:
                continue
            content = _cascade(pseudo_hits, "content", (), None, lambda v, _i: ((v, ""),))
            pseudo_state = _computed(state, pseudo_hits, "")
            for value, why in content:
                if value != "":
                    chars = None if value == UNKNOWN else _chars(value) or None
                    generated_texts.append((pseudo_state, chars, why))
    return _usage(texts, generated_texts)


def _usage(
    texts: dict[int, tuple[_State, set[str]]],
    generated_texts: list[tuple[_State, set[int] | None, str]],
) -> dict[tuple[tuple[str, ...], str, str], _Usage]:
    """The characters of the text set in each computed (family, weight, style), by reason."""
    usage: dict[tuple[tuple[str, ...], str, str], _Usage] = {}
    gathered = [
        (state, {ord(c) for c in chars} - _WHITESPACE_CODES, "") for state, chars in texts.values()
    ]
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


def _chars(text: str) -> set[int]:
    return {ord(c) for c in set(text)} - _WHITESPACE_CODES


def _hidden(element: _Element, hits: list[_Hit] | None) -> bool:
    if element.tag == "input":
        if (element.get("type") or "").lower() == "hidden":
            return True
    elif element.get("hidden") is not None:
        return True
    # display: none in a style attribute (stylesheets' display is not followed).
    return hits is not None and any(
        precedence[1] == 1 and declarations.display_none for precedence, declarations, _ in hits
    )


def _select(faces: list[FontFace], weight: str, style: str) -> list[FontFace]:
    """The faces of one family font matching picks (CSS Fonts 4, section 5.2, steps 4.1-4.4)."""
    if style == UNKNOWN or weight == UNKNOWN:
        return list(faces)
    order = {
        "italic": ("italic", "oblique", "normal"),
        "oblique": ("oblique", "italic", "normal"),
    }.get(style, ("normal", "oblique", "italic"))
    same: list[FontFace] = []
    for wanted in order:
        same = [f for f in faces if f.style == wanted]
        if same:
            break
    desired = float(weight)
    inside = [f for f in same if f.weight[0] <= desired <= f.weight[1]]
    if inside:
        return inside
    below = [f for f in same if f.weight[1] < desired]
    above = [f for f in same if f.weight[0] > desired]
    near_above = [f for f in above if f.weight[0] <= 500]
    if 400 <= desired <= 500 and near_above:
        chosen = min(near_above, key=lambda f: f.weight[0])
    elif desired <= 500 and below:
        chosen = max(below, key=lambda f: f.weight[1])
    elif above:
        chosen = min(above, key=lambda f: f.weight[0])
    else:
        chosen = max(below, key=lambda f: f.weight[1])
    return [f for f in same if f.weight == chosen.weight]


def _covered(face: FontFace, chars: set[int] | None) -> set[int] | None:
    """The characters of ``chars`` the face covers (None in, None out: not known)."""
    if face.ranges is None or chars is None:
        return chars
    return {c for c in chars if any(low <= c <= high for low, high in face.ranges)}


def _decide(
    faces: list[tuple[FontFace, str]],
    usage: dict[tuple[tuple[str, ...], str, str], _Usage],
) -> dict[str, FontUse]:
    by_family: dict[str, list[FontFace]] = {}
    face_reason: dict[int, str] = {}
    for face, reason in faces:
        by_family.setdefault(face.family, []).append(face)
        face_reason[id(face)] = reason
    used: dict[str, str] = {}  # path -> "" (certainly used) or why only possibly

    def mark(face: FontFace, reason: str) -> None:
        reason = reason or face_reason[id(face)]
        if face.path not in used or (used[face.path] and not reason):
            used[face.path] = reason

    for (families, weight, style), found in usage.items():
        for text_reason, chars in found.chars.items():
            reason = text_reason
            remaining = chars
            for family in families:
                if family == UNKNOWN:
                    for family_faces in by_family.values():
                        for face in _select(family_faces, weight, style):
                            if _covered(face, chars) != set():
                                mark(face, reason or "a font-family set through var()")
                    break
                if family in _STOPPING:
                    break
                if family not in by_family:
                    # A named font that is no web font here: installed or not,
                    # nothing says; what follows it only possibly renders.
                    reason = reason or f"after {family!r}, a font the visitor may have installed"
                    continue
                for face in reversed(_select(by_family[family], weight, style)):
                    covered = _covered(face, remaining)
                    if covered is None:
                        mark(face, reason or "text generated from an unknown value")
                    elif covered:
                        mark(face, reason)
                        assert remaining is not None
                        remaining = remaining - covered
                if remaining is not None and not remaining:
                    break
    out: dict[str, FontUse] = {}
    for face, _ in faces:
        if face.path in out and out[face.path].verdict != "unused":
            continue
        if face.path in used:
            reason = used[face.path]
            out[face.path] = FontUse("possible", reason) if reason else FontUse("used", "")
        else:
            out[face.path] = FontUse("unused", _unused(face, usage))
    return out


def _unused(face: FontFace, usage: dict[tuple[tuple[str, ...], str, str], _Usage]) -> str:
    weight = (
        f"{face.weight[0]:g}"
        if face.weight[0] == face.weight[1]
        else f"{face.weight[0]:g}-{face.weight[1]:g}"
    )
    described = f"{face.family!r} at weight {weight} {face.style}"
    if face.ranges is not None and any(face.family in families for families, _, _ in usage):
        return (
            f"not hinted: no text of this page in {described} has a character of its unicode-range"
        )
    return f"not hinted: no element of this page sets text in {described}"
