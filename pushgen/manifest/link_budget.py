"""Which routes of a manifest would lose hints to the ``Link`` byte budget, as warnings.

``pushgen build`` and ``pushgen check`` say beforehand what a server leaves out:
the cut is :func:`pushgen.links.route_links`'s, the one the runtime makes when
it plans a route (pushgen.runtime.headers).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import Diagnostic
from ..hint_budget import DEFAULT_MAX_LINK_BYTES
from ..links import hintable, route_links
from ..model import Asset
from ..push_policy import NO_POLICY, Policy
from .compiled import CompiledRoutes
from .document import Manifest
from .writer import yaml_scalar

__all__ = ["link_budget_problems"]


def link_budget_problems(
    manifest: Manifest,
    *,
    max_link_bytes: int = DEFAULT_MAX_LINK_BYTES,
    policy: Policy = NO_POLICY,
    text: str | None = None,
) -> list[Diagnostic]:
    """A warning (at the route's line) for each route whose hints the runtime would cut.

    The same cut as :func:`pushgen.runtime.headers.build_route_table` makes when it plans the route, so
    ``pushgen build`` and ``pushgen check`` say beforehand what a server leaves
    out. Entries no header can carry are left out here (``check`` reports them).
    A route whose entries cannot reach the budget is not formatted at all. A
    route's line comes from ``manifest.lines`` or, for a manifest the build has
    just written, from its ``text``.
    """
    found: list[Diagnostic] = []
    for route in _may_pass(manifest, max_link_bytes, policy):
        assets = manifest.assets(route, policy=policy) if manifest.rules else manifest.routes[route]
        fitted = route_links(hintable(assets).assets, max_link_bytes)
        if fitted.dropped:
            line = manifest.lines.get(route) or _written_line(text, route)
            column = 3 if line else 0  # the route's key, under `routes:`
            found.append(Diagnostic(manifest.filename, line, column, fitted.message(route)))
    return found


def _may_pass(manifest: Manifest, max_link_bytes: int, policy: Policy) -> list[str]:
    """The routes (sorted) whose hints may pass ``max_link_bytes``: the others are not formatted.

    Without rules a route's entries are its own, so each distinct entry is weighed
    once (the compiled form holds them once already: issue 27, 100,000 routes).
    """
    if manifest.rules:
        return [
            route
            for route in sorted(manifest.all_routes)
            if _weight(manifest.assets(route, policy=policy)) > max_link_bytes
        ]
    routes = manifest.routes
    if isinstance(routes, CompiledRoutes):
        return sorted(routes.heavier(_entry_weight, max_link_bytes))
    # Each entry weighed once, by the asset's id: a build's routes share their Asset
    # objects, which ``manifest.routes`` keeps alive. At 10,000 routes this was 10%
    # of a one-page rebuild.
    weights: dict[int, int] = {}
    heavier = []
    for route, assets in routes.items():
        total = 0
        for asset in assets:
            weight = weights.get(id(asset))
            if weight is None:
                weight = weights[id(asset)] = _entry_weight(asset)
            total += weight
        if total > max_link_bytes:
            heavier.append(route)
    return sorted(heavier)


def _weight(assets: Iterable[Asset]) -> int:
    return sum(_entry_weight(a) for a in assets)


def _entry_weight(asset: Asset) -> int:
    """At least the bytes ``asset`` adds to a Link header (and its ", "), 0 for no hint."""
    return _most_link_bytes(asset) + 2 if asset.hint else 0


def _written_line(text: str | None, route: str) -> int:
    """The line of ``route``'s key in a routes block the build wrote (0 when not found)."""
    if text is None:
        return 0
    key = f"\n  {yaml_scalar(route)}:"
    at = text.find(key)
    while at >= 0 and text[at + len(key) : at + len(key) + 1] not in ("\n", "\r", " "):
        at = text.find(key, at + 1)  # a longer key that starts with this one
    return 0 if at < 0 else text.count("\n", 0, at) + 2


def _most_link_bytes(asset: Asset) -> int:
    """At least as many bytes as :func:`link_value` can make of ``asset`` (cheap: no formatting)."""
    # A path byte becomes at most "%XX"; a quoted value doubles at most ('\\"');
    # the names, `rel`, `as` and `crossorigin` take under 160 bytes together.
    quoted = (asset.type, asset.media, asset.imagesrcset, asset.imagesizes, asset.integrity)
    return 3 * len(asset.path.encode()) + 2 * sum(len(v) + 2 for v in quoted if v) + 160
