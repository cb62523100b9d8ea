"""Custom properties as a browser computes them, for font tracing (CSS Variables 1).

A custom property (``--name: value``) is an ordinary cascaded, inherited property
whose computed value is its token sequence with every ``var()`` in it substituted
(section 2). A font property whose value uses ``var()`` is read once the element's
custom properties are known (section 3): each ``var(--name, fallback)`` takes the
property's value, or else its fallback; without either the declaration is invalid
at computed-value time and the property acts as ``unset`` (inherited for the font
properties, ``normal`` for ``content``). ``initial`` makes a custom property the
guaranteed-invalid value, ``inherit``/``unset`` take the parent's, and custom
properties of one element that depend on each other in a cycle are all
guaranteed-invalid (section 2.3).

A value that only possibly holds (a rule under ``:hover``) stays a possibility,
with its reason, as the font properties' do (:mod:`.cascade`); a property pushgen
does not follow (one registered with ``@property``, or one the sheets set for no
font but a ``style`` attribute names) is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import tinycss2

from ...model import UNKNOWN, FontDeclarations, VarValue
from ...scan.font_rules import read_value
from .cascade import Hit, cascade, declared

__all__ = ["CustomVariants", "Customs", "needed_names", "read_var", "substitute"]

_Node = Any  # tinycss2 nodes carry no type hints

# A custom property's computed value as variants: its text (None: the
# guaranteed-invalid value, UNKNOWN inside: not known) and why it may not hold.
CustomVariants = tuple[tuple[str | None, str], ...]
Lookup = Callable[[str], CustomVariants]

_INVALID: CustomVariants = ((None, ""),)
_INHERITING = frozenset({"inherit", "unset", "revert", "revert-layer"})
# Substituting several possible values multiplies the texts; past this many the
# value counts as unknown (no real sheet comes near).
_MAX_VARIANTS = 16
_BLOCKS = {"() block": ("(", ")"), "[] block": ("[", "]"), "{} block": ("{", "}")}
_VAR_NAME = re.compile(r"var\(\s*(--[^\s,()]+)", re.IGNORECASE)
# What a font field acts as when its declaration is invalid at computed-value time.
_UNSET: dict[str, object] = {
    "family": ("inherit",),
    "weight": "inherit",
    "style": "inherit",
    "content": "",
}


def needed_names(declarations: Iterable[FontDeclarations]) -> frozenset[str]:
    """The custom properties the font values of ``declarations`` depend on, at any depth."""
    listed = list(declarations)
    needed: set[str] = set()
    for found in listed:
        for value in (found.family, found.weight, found.style, found.content):
            if isinstance(value, VarValue):
                needed.update(_VAR_NAME.findall(value.text))
    texts: dict[str, list[str]] = {}
    for found in listed:
        for name, text in found.custom:
            texts.setdefault(name, []).append(text)
    todo = list(needed)
    while todo:
        for text in texts.get(todo.pop(), ()):
            for name in _VAR_NAME.findall(text):
                if name not in needed:
                    needed.add(name)
                    todo.append(name)
    return frozenset(needed)


class Customs:
    """An element's custom properties: what its own declarations set, the rest inherited.

    Values are computed on first use and kept; an element without a custom
    property of its own shares its parent's (the walk hands the parent's on).
    ``unfollowed`` names the properties the tracing does not follow (set by the
    sheets for no font value, or registered with ``@property``): a value naming
    one is unknown.
    """

    __slots__ = ("_active", "_cyclic", "_memo", "hits", "parent", "unfollowed")

    def __init__(
        self, parent: Customs | None, hits: list[Hit], unfollowed: frozenset[str] = frozenset()
    ) -> None:
        self.parent = parent
        self.hits = hits
        self.unfollowed = unfollowed
        self._memo: dict[str, CustomVariants] = {}
        self._active: list[str] = []
        self._cyclic: set[str] = set()

    def lookup(self, name: str) -> CustomVariants:
        """The computed value of ``--name`` here, for ``var()``."""
        if name in self.unfollowed:
            return ((UNKNOWN, f"a custom property pushgen does not follow ({name})"),)
        return self.value(name)

    def value(self, name: str) -> CustomVariants:
        found = self._memo.get(name)
        if found is not None:
            return found
        if not any(declared(d, name) is not None for _, d, _ in self.hits):
            found = _INVALID if self.parent is None else self.parent.value(name)
            self._memo[name] = found
            return found
        if name in self._active:
            # A cycle (section 2.3): every property in it is guaranteed-invalid.
            self._cyclic.update(self._active[self._active.index(name) :])
            return _INVALID
        self._active.append(name)
        try:
            found = self._computed(name)
        finally:
            self._active.pop()
        if name in self._cyclic:
            found = _INVALID
        self._memo[name] = found
        return found

    def _computed(self, name: str) -> CustomVariants:
        inherited = _INVALID if self.parent is None else self.parent.value(name)
        return cascade(self.hits, name, inherited, None, self._resolve)

    def _resolve(self, text: str, inherited: CustomVariants) -> CustomVariants:
        keyword = text.strip().lower()
        if keyword == "initial":
            return _INVALID  # the initial value of a custom property
        if keyword in _INHERITING:
            return inherited  # custom properties inherit
        if "var(" not in keyword:
            return ((text, ""),)
        return substitute(text, self.lookup)


def substitute(text: str, lookup: Lookup) -> CustomVariants:
    """``text`` with each ``var()`` replaced (CSS Variables 1, section 3), as variants.

    None where a ``var()`` has no value and no fallback: the declaration is
    invalid at computed-value time.
    """
    if UNKNOWN in text:  # a value the scanner could not write out
        return ((UNKNOWN, ""),)
    return _tokens(tinycss2.parse_component_value_list(text), lookup)


def _tokens(tokens: list[_Node], lookup: Lookup) -> CustomVariants:
    results: list[tuple[str | None, str]] = [("", "")]
    for token in tokens:
        if token.type == "function" and token.lower_name == "var":
            pieces = _var(token.arguments, lookup)
        elif token.type == "function" and _has_var(token.arguments):
            name = tinycss2.serializer.serialize_identifier(token.name)
            pieces = tuple(
                (None if t is None else f"{name}({t})", w)
                for t, w in _tokens(token.arguments, lookup)
            )
        elif token.type in _BLOCKS and _has_var(token.content):
            opening, closing = _BLOCKS[token.type]
            pieces = tuple(
                (None if t is None else f"{opening}{t}{closing}", w)
                for t, w in _tokens(token.content, lookup)
            )
        else:
            pieces = ((_serialize([token]), ""),)
        results = [
            (None if a is None or b is None else a + b, why or more)
            for a, why in results
            for b, more in pieces
        ]
        results = list(dict.fromkeys(results))
        if len(results) > _MAX_VARIANTS:
            return ((UNKNOWN, "a value with too many possible custom properties"),)
    return tuple(results)


def _var(arguments: list[_Node], lookup: Lookup) -> CustomVariants:
    """One ``var(--name[, fallback])``'s substitutions."""
    index = 0
    while index < len(arguments) and arguments[index].type in ("whitespace", "comment"):
        index += 1
    if index >= len(arguments) or arguments[index].type != "ident":
        return _INVALID
    name = arguments[index].value
    if not name.startswith("--"):
        return _INVALID
    rest = [t for t in arguments[index + 1 :] if t.type != "comment"]
    while rest and rest[0].type == "whitespace":
        rest.pop(0)
    fallback: list[_Node] | None = None
    if rest:
        if not (rest[0].type == "literal" and rest[0].value == ","):
            return _INVALID
        # The fallback's white space at either end is no part of it (section 3).
        fallback = rest[1:]
        while fallback and fallback[0].type == "whitespace":
            fallback.pop(0)
        while fallback and fallback[-1].type == "whitespace":
            fallback.pop()
    out: list[tuple[str | None, str]] = []
    for value, why in lookup(name):
        if value is not None:
            out.append((value, why))
        elif fallback is not None:
            out.extend((text, why or more) for text, more in _tokens(fallback, lookup))
        else:
            out.append((None, why))
    return tuple(dict.fromkeys(out))


def _has_var(tokens: list[_Node]) -> bool:
    return "var(" in _serialize(tokens).lower()


def _serialize(tokens: list[_Node]) -> str:
    try:
        text: str = tinycss2.serialize(tokens)
    except RecursionError:  # tinycss2's serializer recurses into nested blocks
        return UNKNOWN
    return text


def read_var(value: VarValue, field: str, lookup: Lookup) -> tuple[tuple[Any, str], ...]:
    """The value of ``field`` a declaration using ``var()`` gives, as variants.

    Substituted, then read as the sheet's own declarations are read; where that
    fails (a ``var()`` with nothing to take, an invalid result) the field acts as
    ``unset`` (section 3.1, invalid at computed-value time).
    """
    out: list[tuple[Any, str]] = []
    for text, why in substitute(value.text, lookup):
        if text is None:
            out.append((_UNSET[field], why))
        elif UNKNOWN in text:
            unknown: object = (UNKNOWN,) if field == "family" else UNKNOWN
            out.append((unknown, why))
        else:
            parsed = read_value(value.property, text)
            found = None if parsed is None else parsed.get(field)
            out.append((_UNSET[field] if found is None else found, why))
    return tuple(dict.fromkeys(out))
