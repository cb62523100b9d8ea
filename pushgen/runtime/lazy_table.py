"""A route table that plans each route on its first request: ready at once at 100,000 routes.

:func:`pushgen.runtime.headers.build_route_table` plans every route and every
alias of it up front: 2.5 s and a dictionary of 300,000 paths at 100,000 routes
(issue 27). :func:`lazy_route_table` gives a :class:`RouteTable` whose ``plans``
answers the same question for one path when it is asked: it works out which
routes could have that path among their aliases (the inverse of
:func:`pushgen.links.route_aliases`), checks each with the same rule the eager
table follows (an exact route wins; else the first route in sorted order whose
aliases hold the path), and plans only the winner, once. The routes whose
plans may report a problem (a hint no header can carry, a cut by the Link
budget) are planned at load, so the table's ``diagnostics`` are the eager
table's; they are found from each distinct entry's Link value, not by planning
every route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from urllib.parse import unquote

from ..errors import Diagnostic, LinkFieldError
from ..hint_budget import DEFAULT_MAX_LINK_BYTES, LINK_SEPARATOR
from ..links import link_value, normalise_base_path, route_aliases
from ..manifest import Manifest
from ..manifest.compiled import CompiledRoutes
from ..model import Asset
from ..push_policy import NO_POLICY, Policy
from .headers import RoutePlan, RouteTable, _Limits, _plan_checked, build_route_table

__all__ = ["lazy_route_table"]

log = logging.getLogger("pushgen")
_MISS_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _Planning:
    """How routes are planned: the runtime's options, as build_route_table takes them."""

    base: str
    pretty_urls: bool
    limits: _Limits
    filename: str
    size_of: Callable[[str], int | None]
    policy: Policy


class _LazyPlans(Mapping[str, RoutePlan]):
    """Decoded URL path -> :class:`RoutePlan`, each found and planned when first asked."""

    def __init__(self, manifest: Manifest, planning: _Planning) -> None:
        self._manifest = manifest
        self._planning = planning
        self._exact = manifest.rule_index.exact
        base = planning.base
        # Routes whose table key is not the route itself (outside the base path,
        # or percent-encoded): key -> those routes. Most sites have none.
        self._shifted: dict[str, list[str]] = {}
        # Under the base path "/" only a percent-encoded route moves: one C-speed test each.
        every = self._routes()
        for route in (r for r in every if "%" in r) if base == "/" else every:
            key = self._key(route)
            if key != route:
                self._shifted.setdefault(key, []).append(route)
        self._moved = {r for routes in self._shifted.values() for r in routes}
        self._plans: dict[str, RoutePlan | None] = {}  # by route; None: left out
        self._found: dict[str, RoutePlan | None] = {}  # by path

    def _routes(self) -> Iterator[str]:
        yield from self._manifest.routes
        yield from (r for r in self._exact if r not in self._manifest.routes)

    def _key(self, route: str) -> str:
        full = self._full(route)
        return unquote(full) if "%" in full else full

    def _named(self, key: str) -> list[str]:
        """The routes whose table key is ``key``, in sorted order."""
        named = list(self._shifted.get(key, ()))
        if key not in self._moved and (key in self._manifest.routes or key in self._exact):
            named.append(key)
        return sorted(named)

    def plan_early(self) -> tuple[Diagnostic, ...]:
        """Plan now the routes whose plans may have something to say; what they say.

        The eager table reports, at load, each hint no header can carry and each
        route the Link budget cuts; so does this one. Only the routes that can
        (:func:`_routes_to_plan_early`) are planned, in the eager table's order.
        """
        problems: list[Diagnostic] = []
        for route in _routes_to_plan_early(self._manifest, self._planning):
            self._plan(route, problems)
        return tuple(problems)

    def _plan(self, route: str, problems: list[Diagnostic] | None = None) -> RoutePlan | None:
        if route in self._plans:
            return self._plans[route]
        p = self._planning
        manifest = self._manifest
        assets = manifest.assets(route, policy=p.policy, size_of=p.size_of)
        found: list[Diagnostic] = [] if problems is None else problems
        plan: RoutePlan | None = _plan_checked(
            route,
            assets,
            limits=p.limits,
            line=manifest.lines.get(route, 0),
            filename=p.filename,
            problems=found,
        )
        if problems is None:  # planned on a request: nothing at load said it
            for diagnostic in found:
                log.warning("%s", diagnostic)
        assert plan is not None
        if not plan.push_paths and not plan.links and route not in manifest.routes:
            plan = None  # an exact rule's route that sends nothing is no route
        self._plans[route] = plan
        return plan

    def _find(self, path: str) -> RoutePlan | None:
        # The exact route: the last in sorted order wins, as in the eager table.
        for route in reversed(self._named(path)):
            plan = self._plan(route)
            if plan is not None:
                return plan
        candidates: set[str] = set()
        for key in _alias_sources(path, self._planning.pretty_urls):
            candidates.update(self._named(key))
        for route in sorted(candidates):
            full_aliases = route_aliases(self._full(route), pretty_urls=self._planning.pretty_urls)
            if path in (unquote(alias) for alias in full_aliases[1:]):
                plan = self._plan(route)
                if plan is not None:
                    return plan
        return None

    def _full(self, route: str) -> str:
        base = self._planning.base
        return route if route.startswith(base) or route + "/" == base else base + route.lstrip("/")

    def get(self, path: str, default: RoutePlan | None = None) -> RoutePlan | None:  # type: ignore[override]
        try:
            found = self._found[path]
        except KeyError:
            if len(self._found) >= _MISS_CACHE_SIZE and path not in self._found:
                # Paths no route names must not grow memory without bound; the
                # plans themselves stay (self._plans, bounded by the manifest).
                self._found.clear()
            found = self._found[path] = self._find(path)
        return default if found is None else found

    def __getitem__(self, path: str) -> RoutePlan:
        plan = self.get(path)
        if plan is None:
            raise KeyError(path)
        return plan

    def __iter__(self) -> Iterator[str]:
        # Every path: only for inspection (tests, a debugger), never per request.
        seen: set[str] = set()
        for route in sorted(set(self._routes())):
            for alias in route_aliases(self._full(route), pretty_urls=self._planning.pretty_urls):
                path = unquote(alias)
                if path not in seen and self.get(path) is not None:
                    seen.add(path)
                    yield path

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _routes_to_plan_early(manifest: Manifest, planning: _Planning) -> list[str]:
    """The routes whose plans may report a problem, sorted; a superset, never fewer.

    A plan reports an entry whose values no header can carry, and a route whose
    hints exceed the Link byte budget. Without rules, a route can do either only
    if its own entries do: each distinct entry's Link value is made once, and a
    route whose values (with separators) fit the budget, none refused, is left to
    its first request. Rules that add or set entries can change that, so the
    routes they apply to are planned too; so is every route only an exact rule
    names. A manifest not from the compiled form has every route planned.
    """
    routes = manifest.routes
    limit = planning.limits.max_link_bytes

    def weigh(asset: Asset) -> int:
        try:
            value = link_value(asset)
        except LinkFieldError:
            return limit + 1
        return 0 if value is None else len(value) + len(LINK_SEPARATOR)

    early = set(routes.heavier(weigh, limit) if isinstance(routes, CompiledRoutes) else routes)
    index = manifest.rule_index
    early.update(route for route in index.exact if route not in routes)
    changing = [rule for rule in manifest.rules if rule.add or rule.set]
    if any(rule.match.kind != "exact" for rule in changing):
        early.update(route for route in routes if index.matching(route))
    else:
        early.update(rule.match.text for rule in changing if rule.match.text in routes)
    return sorted(early)


def _alias_sources(path: str, pretty_urls: bool) -> tuple[str, ...]:
    """The table keys whose aliases (route_aliases, after the first) may include ``path``."""
    sources = [path + "/", path + "/index.html"]
    if path.endswith("/"):
        sources.append(path + "index.html")
    if path.endswith("/index.html"):
        sources.append(path[: -len("index.html")])
    if path.endswith(".html"):
        sources.append(path[: -len(".html")])
    elif pretty_urls:
        sources.append(path + ".html")
    return tuple(sources)


def lazy_route_table(
    manifest: Manifest,
    *,
    base_path: str = "/",
    pretty_urls: bool = False,
    max_pushes: int | None = None,
    max_link_bytes: int = DEFAULT_MAX_LINK_BYTES,
    filename: str = "<manifest>",
    size_of: Callable[[str], int | None] = lambda _path: None,
    policy: Policy = NO_POLICY,
) -> RouteTable:
    """The table :func:`build_route_table` makes, with each route planned on first request.

    The same arguments, the same answers for every path. The pattern rules'
    fallback is build_route_table's own, made over the manifest without its
    routes listed (:class:`_Unlisted`), so it is not planned twice.
    """
    planning = _Planning(
        normalise_base_path(base_path),
        pretty_urls,
        _Limits(max_pushes, max_link_bytes),
        filename,
        size_of,
        policy,
    )
    patterns = build_route_table(
        _Unlisted(
            routes=manifest.routes,
            lines=manifest.lines,
            rules=manifest.rules,
            filename=manifest.filename,
            entry_lines=manifest.entry_lines,
            entry_columns=manifest.entry_columns,
        ),
        base_path=base_path,
        pretty_urls=pretty_urls,
        max_pushes=max_pushes,
        max_link_bytes=max_link_bytes,
        filename=filename,
        size_of=size_of,
        policy=policy,
    )
    plans = _LazyPlans(manifest, planning)
    return replace(patterns, plans=plans, diagnostics=plans.plan_early())


class _Unlisted(Manifest):
    """A manifest that lists no routes to plan up front (``all_routes`` is empty).

    Only for :func:`build_route_table` to make the pattern rules' fallback over it:
    everything else (``routes``, ``assets``, the rules) is the manifest's own.
    """

    __slots__ = ()

    @property
    def all_routes(self) -> frozenset[str]:
        return frozenset()
