"""The cascade of one property for per-page font tracing (CSS Cascade 5, section 6).

The declarations that reach an element (:data:`Hit`) decide its value of one
property, font or custom; what does not decide it is inherited. A value that may
be one of several (a rule under ``:hover`` or a width media query) is kept as
:data:`Variants`: each possible value with the reason it may not hold ("" when it
certainly does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...model import FontDeclarations

__all__ = ["Hit", "Variants", "cascade", "declared"]

# One declaration that reached an element: (precedence, declarations, reason).
Hit = tuple[tuple[int, int, tuple[int, int, int], int], FontDeclarations, str]
# A computed value that may be one of several: (value, reason it may not hold or "").
Variants = tuple[tuple[Any, str], ...]


def declared(declarations: FontDeclarations, name: str) -> Any:
    """The value ``declarations`` give property ``name`` (a field, or a ``--custom`` one)."""
    if name.startswith("--"):
        for key, text in declarations.custom:
            if key == name:
                return text
        return None
    return getattr(declarations, name)


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
            value = declared(declarations, name)
            if value is None or (precedence[0] and name not in declarations.important):
                continue
            if precedence[0] == 0 and name in declarations.important:
                continue  # its !important hit stands for it
            out.extend((resolved, reason or why) for resolved, why in resolve(value, inherited))
            if not reason:
                return tuple(dict.fromkeys(out))
    out.extend(inherited if ua is None else resolve(ua, inherited))
    return tuple(dict.fromkeys(out))
