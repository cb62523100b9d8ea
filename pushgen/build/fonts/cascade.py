"""The cascade of the font properties for per-page font tracing (CSS Cascade 5, section 6).

Each element's computed ``font-family``, ``font-weight`` and ``font-style`` from the
declarations that reach it (:data:`Hit`), what it inherits, and the UA style sheet's
font rules (HTML Standard, "Rendering"). A value that may be one of several (a rule
under ``:hover`` or a width media query) is kept as :data:`Variants`: each possible
value with the reason it may not hold ("" when it certainly does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...model import UNKNOWN, FontDeclarations

__all__ = [
    "ROOT_FAMILY",
    "UA_ANY",
    "UA_FAMILY",
    "Hit",
    "State",
    "Variants",
    "cascade",
    "computed",
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

# One declaration that reached an element: (precedence, declarations, reason).
Hit = tuple[tuple[int, int, tuple[int, int, int], int], FontDeclarations, str]
# A computed value that may be one of several: (value, reason it may not hold or "").
Variants = tuple[tuple[Any, str], ...]


@dataclass(slots=True)
class State:
    """An element's computed font: family, weight and style, each as variants."""

    family: Variants
    weight: Variants
    style: Variants


def reachable(
    hits: dict[_Element, list[Hit]], generated: dict[tuple[_Element, str], list[Hit]]
) -> frozenset[str] | None:
    """The families an element of the page may compute to; None when any (a ``var()``)."""
    named: set[str] = set(ROOT_FAMILY)
    for family in UA_FAMILY.values():
        named.update(family)
    for found in (hits, generated):
        for element_hits in found.values():
            for _, declarations, _ in element_hits:
                if declarations.family is not None:
                    named.update(declarations.family)
    return None if UNKNOWN in named else frozenset(named)


def cascade(
    hits: list[Hit] | None,
    name: str,
    inherited: Variants,
    ua: Any,
    resolve: Callable[[Any, Variants], Variants],
) -> Variants:
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


def computed(parent: State, hits: list[Hit] | None, tag: str) -> State:
    """The computed font of an element with ``tag`` that ``hits`` reach, under ``parent``."""
    return State(
        cascade(hits, "family", parent.family, UA_FAMILY.get(tag), _family),
        cascade(hits, "weight", parent.weight, _UA_WEIGHT.get(tag), _weight),
        cascade(hits, "style", parent.style, _UA_STYLE.get(tag), _style),
    )
