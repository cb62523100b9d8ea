"""Header building: manifest entries in, ready-to-send push lists and ``Link`` values out.

Everything here is pure and runs once per manifest load, never per request. A
:class:`RouteTable` maps every URL path a page answers to (``/docs/``, ``/docs``,
``/docs/index.html``) to one :class:`RoutePlan` holding what the runtime sends:

* ``push_paths``: the paths to promise with HTTP/2 server push (RFC 9113 §8.4);
* ``links``: one ``Link`` value per hinted entry, as bytes;
* ``link_header``: the same values joined into one ``Link`` field (RFC 8288 §3: a
  ``Link`` field is a comma-separated list of links), and ``link_field`` its bytes,
  which both the final response and the 103 Early Hints (RFC 8297, through the ASGI
  ``http.response.early_hint`` extension) carry.

Both carry at most ``max_link_bytes`` bytes of values (8 KiB by default,
``PUSHGEN_MAX_LINK_BYTES``): a field over a client's limit loses the whole
response, so :func:`pushgen.hint_budget.fit_links` keeps the most important
hints that fit and the route's plan records what it left out.

The values themselves, the wire format the exports write too, are
:mod:`pushgen.links`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import quote, unquote

from ..errors import Diagnostic, LinkFieldError
from ..hint_budget import DEFAULT_MAX_LINK_BYTES, FittedLinks
from ..links import hintable, normalise_base_path, route_aliases, route_links
from ..manifest import Manifest
from ..model import Asset
from ..push_policy import NO_POLICY, Policy, within_max_pushes
from ..urls import wire_path

__all__ = [
    "RoutePlan",
    "RouteTable",
    "build_route_table",
    "plan_route",
]

# What stays as it is in a request path looked up in the route table: RFC 3986
# unreserved and sub-delims, ':' '@' '/' '?', and '%' so existing escapes are kept.
# Paths sent in Link values and pushes are urls.wire_path's (the URL Standard's).
_PATH_SAFE = "/?:@!$&'()*+,;=-._~%"


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """What to send for one route, computed once when the manifest is loaded.

    ``route`` is the manifest's route key; ``push_paths`` are percent-encoded
    ASCII paths in manifest order (already capped); ``links`` are the route's
    ``Link`` values and ``link_header`` the same values as one ``Link`` field
    (empty when nothing is hinted), within the byte budget. ``cut`` says what
    the budget left out (None when every hint fits).

    ``link_field`` is ``link_header`` as the bytes a response head carries, made
    once per plan, not per request; the 103 carries the same one field. One
    field instead of one per hint is one header for h2 to validate and HPACK to
    encode (then send as an index from the second page on a connection): the
    per-field work was what the 103 still cost a page request, profiled under
    h2load (docs/performance.md, runtime_goal). RFC 8288 §3 makes the two forms
    equivalent; Chromium preloads from a comma-joined 103
    (tests/scenarios/test_browser.py).
    """

    route: str
    push_paths: tuple[str, ...] = ()
    links: tuple[bytes, ...] = ()
    link_header: str = ""
    cut: FittedLinks | None = field(default=None, compare=False, repr=False)
    link_field: bytes = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Derived once; link_header holds only ASCII (links.link_value's values).
        object.__setattr__(self, "link_field", self.link_header.encode("latin-1"))


_PATTERN_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Every URL path a route answers to, mapped to that route's :class:`RoutePlan`.

    ``plans`` is keyed by *decoded* URL paths (as found in an ASGI scope's
    ``path``), so a request costs one dictionary lookup. ``diagnostics`` lists
    manifest values that could not be turned into a header and were left out;
    ``routes`` counts the manifest's routes.
    """

    plans: Mapping[str, RoutePlan] = field(default_factory=lambda: MappingProxyType({}))
    diagnostics: tuple[Diagnostic, ...] = ()
    routes: int = 0
    # Plans for paths that only pattern rules (/blog/<slug>, /docs/*) match,
    # computed on first request and kept in a bounded cache.
    fallback: Callable[[str], RoutePlan | None] | None = field(default=None, compare=False)
    _cache: dict[str, RoutePlan | None] = field(default_factory=dict, compare=False, repr=False)

    def lookup(self, path: str, root_path: str = "") -> RoutePlan | None:
        """The plan for an ASGI ``path``, or None when the path is not a route.

        Under the ASGI spec ``path`` includes ``root_path`` (the prefix the app is
        mounted at). The path is tried as it is first (a site built with its base
        path includes the prefix in its routes), then without ``root_path``; a path
        no route names is then tried against the manifest's pattern rules.
        """
        plan = self.plans.get(path)
        if plan is None and root_path and path.startswith(root_path):
            plan = self.plans.get(path[len(root_path) :] or "/")
        if plan is None and self.fallback is not None:
            try:
                plan = self._cache[path]
            except KeyError:
                if len(self._cache) >= _PATTERN_CACHE_SIZE:
                    # Arbitrary request paths must not grow memory without bound.
                    self._cache.clear()
                plan = self._cache[path] = self.fallback(path)
        return plan


def plan_route(
    route: str,
    assets: Iterable[Asset],
    *,
    max_pushes: int | None = None,
    max_link_bytes: int = DEFAULT_MAX_LINK_BYTES,
) -> RoutePlan:
    """The :class:`RoutePlan` for ``route``: pushed paths (at most ``max_pushes``) and links.

    The links are those of :func:`route_links` (at most ``max_link_bytes`` bytes).
    Raises :class:`LinkFieldError` like :func:`pushgen.links.link_value`.
    """
    assets = tuple(assets)
    kept = within_max_pushes((asset.push for asset in assets), max_pushes)
    pushes = [wire_path(asset.path) for asset, push in zip(assets, kept, strict=True) if push]
    fitted = route_links(assets, max_link_bytes)
    return RoutePlan(
        route=route,
        push_paths=tuple(pushes),
        links=tuple(v.encode("ascii") for v in fitted.kept),
        link_header=fitted.field,
        cut=fitted if fitted.dropped else None,
    )


@dataclass(frozen=True, slots=True)
class _Limits:
    max_pushes: int | None
    max_link_bytes: int


def _plan_checked(
    route: str,
    assets: tuple[Asset, ...],
    *,
    limits: _Limits,
    line: int,
    filename: str,
    problems: list[Diagnostic] | None,
) -> RoutePlan:
    try:
        plan = plan_route(
            route, assets, max_pushes=limits.max_pushes, max_link_bytes=limits.max_link_bytes
        )
    except LinkFieldError:
        unsendable = hintable(assets)
        if problems is not None:
            for path, why in unsendable.refused:
                message = f"route {route!r}: {path}: {why}; not hinted"
                problems.append(Diagnostic(filename, line, 0, message))
        plan = plan_route(
            route,
            unsendable.assets,
            max_pushes=limits.max_pushes,
            max_link_bytes=limits.max_link_bytes,
        )
    if plan.cut is not None and problems is not None:
        problems.append(Diagnostic(filename, line, 0, plan.cut.message(route)))
    return plan


def build_route_table(
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
    """Turn ``manifest`` into a :class:`RouteTable` keyed by every alias of every route.

    Each route's entries are the generated ones with the manifest's rules and
    their policies applied (``size_of`` gives file sizes for byte budgets). Routes
    are URL paths as the browser requests them, base path included (what
    ``pushgen build`` writes); a hand-written route outside ``base_path`` is taken
    as relative to it. Keys are percent-decoded, like an ASGI scope's ``path``.
    An exact route always wins over another route's alias. An entry whose
    ``type``/``media`` cannot go into a header loses its hint (the push stays)
    and is reported in ``diagnostics`` with the route's line. Routes that only
    pattern rules name are planned on first request (``RouteTable.fallback``).
    ``policy`` is the site's (``pushgen.yaml``), under the rules' own policies.
    """
    base = normalise_base_path(base_path)
    limits = _Limits(max_pushes, max_link_bytes)
    plans: dict[str, RoutePlan] = {}
    exact: dict[str, RoutePlan] = {}
    problems: list[Diagnostic] = []
    for route in sorted(manifest.all_routes):
        assets = manifest.assets(route, policy=policy, size_of=size_of)
        line = manifest.lines.get(route, 0)
        plan = _plan_checked(
            route, assets, limits=limits, line=line, filename=filename, problems=problems
        )
        if not plan.push_paths and not plan.links and route not in manifest.routes:
            continue
        full = route if route.startswith(base) or route + "/" == base else base + route.lstrip("/")
        aliases = [unquote(alias) for alias in route_aliases(full, pretty_urls=pretty_urls)]
        exact[aliases[0]] = plan
        for alias in aliases[1:]:
            plans.setdefault(alias, plan)
    plans.update(exact)
    fallback = None
    patterns = manifest.patterns
    route_patterns = manifest.route_patterns  # /blog/<slug> written by `build --app`
    if any(rule.add for rule in patterns) or route_patterns:

        def fallback(path: str) -> RoutePlan | None:
            last = path.rsplit("/", 1)[-1]
            if "." in last and not last.endswith((".html", ".htm")):
                # A pattern names pages (/blog/<slug>, /docs/*); a stylesheet or
                # image it happens to match must not push assets, least of all itself.
                return None
            route = quote(path, safe=_PATH_SAFE)
            # Found by literal prefix, not by trying every rule (issue 22 item 7).
            if not manifest.rule_index.matching_patterns(route) and not any(
                pattern.matches(route) for pattern in route_patterns
            ):
                return None
            assets = manifest.assets(route, policy=policy, size_of=size_of)
            plan = _plan_checked(
                route, assets, limits=limits, line=0, filename=filename, problems=None
            )
            return plan if plan.push_paths or plan.links else None

    return RouteTable(
        plans=MappingProxyType(plans),
        diagnostics=tuple(problems),
        routes=len(manifest.routes),
        fallback=fallback,
    )
