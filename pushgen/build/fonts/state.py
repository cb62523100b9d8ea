"""Each element's computed font for per-page font tracing.

The computed ``font-family``, ``font-weight`` and ``font-style`` of an element
(and the ``content`` of its ``::before``/``::after``) from the declarations that
reach it (:func:`.cascade.cascade`), what it inherits, the UA style sheet's font
rules (HTML Standard, "Rendering") and its custom properties (:mod:`.variables`),
through which a value using ``var()`` is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...model import UNKNOWN, VarValue
from .cascade import Hit, Variants, cascade
from .variables import Customs, read_var

__all__ = [
    "ROOT_FAMILY",
    "UA_ANY",
    "UA_FAMILY",
    "State",
    "computed",
    "generated_content",
    "initial_state",
    "reachable",
]

_Element = Any  # lxml elements carry no type hints

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
UA_FAMILY: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("code", "kbd", "samp", "pre", "tt", "xmp", "listing", "plaintext"), ("monospace",)
    ),
    # Form controls get the system font (Chromium: font: -webkit-small-control).
    **dict.fromkeys(("input", "button", "select", "textarea"), ("system-ui",)),
}
ROOT_FAMILY = ("serif",)
# The tags the UA style sheet gives a font property of their own.
UA_ANY = frozenset(UA_FAMILY) | frozenset(_UA_WEIGHT) | frozenset(_UA_STYLE)


@dataclass(slots=True)
class State:
    """An element's computed font: family, weight and style, each as variants, and the
    custom properties it has."""

    family: Variants
    weight: Variants
    style: Variants
    custom: Customs


def initial_state(unfollowed: frozenset[str] = frozenset()) -> State:
    """The root's parent: the initial values (``unfollowed``: see :class:`.variables.Customs`)."""
    custom = Customs(None, [], unfollowed)
    return State(((ROOT_FAMILY, ""),), (("400", ""),), (("normal", ""),), custom)


def reachable(
    hits: dict[_Element, list[Hit]], generated: dict[tuple[_Element, str], list[Hit]]
) -> frozenset[str] | None:
    """The families an element of the page may compute to; None when any (a ``var()``)."""
    named: set[str] = set(ROOT_FAMILY)
    for ua_family in UA_FAMILY.values():
        named.update(ua_family)
    for found in (hits, generated):
        for element_hits in found.values():
            for _, declarations, _ in element_hits:
                family = declarations.family
                if isinstance(family, VarValue):
                    return None  # the family a custom property gives is read per element
                if family is not None:
                    named.update(family)
    return None if UNKNOWN in named else frozenset(named)


def _family(value: tuple[str, ...], inherited: Variants) -> Variants:
    return inherited if value == ("inherit",) else ((value, ""),)


def _weight(value: str, inherited: Variants) -> Variants:
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


def _style(value: str, inherited: Variants) -> Variants:
    if value == "inherit":
        return inherited
    if value == UNKNOWN:
        return ((UNKNOWN, "a font-style set through var()"),)
    return ((value, ""),)


def _as_is(value: str, inherited: Variants) -> Variants:
    return ((value, ""),)


_Resolve = Callable[[Any, Variants], Variants]


def _through_var(field: str, resolve: _Resolve, custom: Customs) -> _Resolve:
    """``resolve``, reading a value that uses ``var()`` with the element's custom properties."""

    def run(value: Any, inherited: Variants) -> Variants:
        if not isinstance(value, VarValue):
            return resolve(value, inherited)
        try:
            found = read_var(value, field, custom.lookup)
        except RecursionError:
            # var() in var() (or inherit through custom properties) thousands deep:
            # no real sheet does it; the value is not known rather than a traceback.
            unknown = (UNKNOWN,) if field == "family" else UNKNOWN
            found = ((unknown, "custom properties nested too deep to follow"),)
        out: list[tuple[Any, str]] = []
        for parsed, why in found:
            out.extend((result, why or more) for result, more in resolve(parsed, inherited))
        return tuple(out)

    return run


def computed(parent: State, hits: list[Hit] | None, tag: str) -> State:
    """The computed font of an element with ``tag`` that ``hits`` reach, under ``parent``."""
    custom = parent.custom
    if hits and any(d.custom for _, d, _ in hits):
        custom = Customs(custom, [hit for hit in hits if hit[1].custom], custom.unfollowed)
    return State(
        cascade(
            hits,
            "family",
            parent.family,
            UA_FAMILY.get(tag),
            _through_var("family", _family, custom),
        ),
        cascade(
            hits,
            "weight",
            parent.weight,
            _UA_WEIGHT.get(tag),
            _through_var("weight", _weight, custom),
        ),
        cascade(
            hits, "style", parent.style, _UA_STYLE.get(tag), _through_var("style", _style, custom)
        ),
        custom,
    )


def generated_content(hits: list[Hit], state: State) -> Variants:
    """The ``content`` of a ``::before``/``::after`` that ``hits`` reach, its font ``state``."""
    return cascade(hits, "content", (), None, _through_var("content", _as_is, state.custom))
