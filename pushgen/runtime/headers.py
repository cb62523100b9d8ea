"""Header building: manifest entries in, ready-to-send push lists and ``Link`` values out.

Everything here is pure and runs once per manifest load, never per request. A
:class:`RouteTable` maps every URL path a page answers to (``/docs/``, ``/docs``,
``/docs/index.html``) to one :class:`RoutePlan` holding what the runtime sends:

* ``push_paths``: the paths to promise with HTTP/2 server push (RFC 9113 §8.4);
* ``links``: one ``Link`` value per hinted entry, as bytes, for a 103 Early Hints
  response (RFC 8297) through the ASGI ``http.response.early_hint`` extension;
* ``link_header``: the same values joined into one ``Link`` field for the final
  response (RFC 8288 §3: a ``Link`` field is a comma-separated list of links).

Both carry at most ``max_link_bytes`` bytes of values (8 KiB by default,
``PUSHGEN_MAX_LINK_BYTES``): a field over a client's limit loses the whole
response, so :func:`pushgen.hint_budget.fit_links` keeps the most important
hints that fit and the route's plan records what it left out.

The values follow the preload specification
(https://w3c.github.io/preload/, https://html.spec.whatwg.org/#link-type-preload)::

    </static/a.css>; rel=preload; as=style
    </static/f.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin
    </static/app.js>; rel=modulepreload
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from urllib.parse import quote, unquote

from ..errors import Diagnostic, LinkFieldError
from ..hint_budget import DEFAULT_MAX_LINK_BYTES, FittedLinks, Hint, fit_links, importance
from ..manifest import Manifest, yaml_scalar
from ..manifest.rules import Policy
from ..model import PRELOAD_DESTINATIONS, Asset
from ..urls import wire_path

_NO_POLICY = Policy()

__all__ = [
    "RoutePlan",
    "RouteTable",
    "build_route_table",
    "check_link_fields",
    "link_budget_problems",
    "link_value",
    "normalise_base_path",
    "plan_route",
    "route_aliases",
    "route_links",
    "wire_path",
]

# What stays as it is in a request path looked up in the route table: RFC 3986
# unreserved and sub-delims, ':' '@' '/' '?', and '%' so existing escapes are kept.
# Paths sent in Link values and pushes are urls.wire_path's (the URL Standard's).
_PATH_SAFE = "/?:@!$&'()*+,;=-._~%"
# A header field value may hold visible ASCII, space and tab (RFC 9110 §5.5);
# anything else could split or corrupt the field.
_FIELD_UNSAFE = re.compile(r"[^\t\x20-\x7e]")


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """What to send for one route, computed once when the manifest is loaded.

    ``route`` is the manifest's route key; ``push_paths`` are percent-encoded
    ASCII paths in manifest order (already capped); ``links`` are the 103 Early
    Hints values and ``link_header`` the same values as one ``Link`` field
    (empty when nothing is hinted), within the byte budget. ``cut`` says what
    the budget left out (None when every hint fits).
    """

    route: str
    push_paths: tuple[str, ...] = ()
    links: tuple[bytes, ...] = ()
    link_header: str = ""
    cut: FittedLinks | None = field(default=None, compare=False, repr=False)


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


def _quoted(value: str) -> str:
    # quoted-string (RFC 9110 §5.6.4): backslash-escape '"' and '\'.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_value(asset: Asset) -> str | None:
    """The ``Link`` value announcing ``asset``, or None when it is not hinted.

    None for ``hint: false`` entries and for destinations a browser cannot
    preload (``as=video`` and the like would only produce a console warning),
    except module scripts, which are always ``rel=modulepreload``. Raises
    :class:`LinkFieldError` when ``type`` or ``media`` holds characters a header
    field cannot carry.
    """
    if not asset.hint:
        return None
    if asset.preconnect:
        # HTML Standard, link type preconnect; Chromium acts on it in a 103 too.
        cors = {"anonymous": "; crossorigin", "use-credentials": "; crossorigin=use-credentials"}
        return f"<{asset.path}>; rel=preconnect{cors.get(asset.crossorigin or '', '')}"
    check_link_fields(asset)
    parts = [f"<{wire_path(asset.path)}>"]
    if asset.module:
        # rel=modulepreload fetches in CORS mode with credentials "same-origin"
        # unless told otherwise, so only use-credentials needs saying; `as`
        # defaults to script (HTML Living Standard, link-type-modulepreload).
        parts.append("rel=modulepreload")
        if asset.destination != "script":
            parts.append(f"as={asset.destination}")
        if asset.crossorigin == "use-credentials":
            parts.append("crossorigin=use-credentials")
    else:
        if asset.destination not in PRELOAD_DESTINATIONS:
            return None
        parts += ["rel=preload", f"as={asset.destination}"]
        if asset.type is not None:
            parts.append(f"type={_quoted(asset.type)}")
        # A bare `crossorigin` is the anonymous state; fonts need it even on the
        # same origin or the preloaded response is not reused (Fetch, CORS mode).
        if asset.crossorigin == "anonymous":
            parts.append("crossorigin")
        elif asset.crossorigin == "use-credentials":
            parts.append("crossorigin=use-credentials")
    if asset.media is not None:
        parts.append(f"media={_quoted(asset.media)}")
    # HTML Standard, link type preload: an image preload with imagesrcset and
    # imagesizes fetches the candidate the <img> will pick; fetchpriority sets
    # the request's priority (Chromium reads all three from a Link header or 103).
    if asset.destination == "image" and asset.imagesrcset is not None:
        parts.append(f"imagesrcset={_quoted(asset.imagesrcset)}")
        if asset.imagesizes is not None:
            parts.append(f"imagesizes={_quoted(asset.imagesizes)}")
    if asset.fetchpriority is not None:
        parts.append(f"fetchpriority={asset.fetchpriority}")
    return "; ".join(parts)


def check_link_fields(asset: Asset) -> None:
    """Raise :class:`LinkFieldError` when ``asset``'s ``type``, ``media``, ``imagesrcset``
    or ``imagesizes`` holds a character a header field cannot carry.

    The one rule for those values: :func:`link_value` (the runtime, ``pushgen
    check``, the exports) and the build, which leaves such an entry out.
    """
    for name, value in (
        ("type", asset.type),
        ("media", asset.media),
        ("imagesrcset", asset.imagesrcset),
        ("imagesizes", asset.imagesizes),
    ):
        if value is not None and _FIELD_UNSAFE.search(value):
            raise LinkFieldError(name, value)


def route_links(assets: Iterable[Asset], max_bytes: int = DEFAULT_MAX_LINK_BYTES) -> FittedLinks:
    """The ``Link`` values of the hinted ``assets`` that fit ``max_bytes`` (see pushgen.hint_budget).

    Raises :class:`LinkFieldError` like :func:`link_value`.
    """
    hints: list[Hint] = []
    for asset in assets:
        value = link_value(asset)
        if value is not None:
            hints.append(Hint(value, importance(asset)))
    return fit_links(hints, max_bytes)


def _most_link_bytes(asset: Asset) -> int:
    """At least as many bytes as :func:`link_value` can make of ``asset`` (cheap: no formatting)."""
    # A path byte becomes at most "%XX"; a quoted value doubles at most ('\\"');
    # the names, `rel`, `as` and `crossorigin` take under 160 bytes together.
    quoted = (asset.type, asset.media, asset.imagesrcset, asset.imagesizes)
    return 3 * len(asset.path.encode()) + 2 * sum(len(v) + 2 for v in quoted if v) + 160


def link_budget_problems(
    manifest: Manifest,
    *,
    max_link_bytes: int = DEFAULT_MAX_LINK_BYTES,
    policy: Policy = _NO_POLICY,
    text: str | None = None,
) -> list[Diagnostic]:
    """A warning (at the route's line) for each route whose hints the runtime would cut.

    The same cut as :func:`build_route_table` makes when it plans the route, so
    ``pushgen build`` and ``pushgen check`` say beforehand what a server leaves
    out. Entries no header can carry are left out here (``check`` reports them).
    A route whose entries cannot reach the budget is not formatted at all. A
    route's line comes from ``manifest.lines`` or, for a manifest the build has
    just written, from its ``text``.
    """
    found: list[Diagnostic] = []
    for route in sorted(manifest.all_routes):
        assets = manifest.assets(route, policy=policy) if manifest.rules else manifest.routes[route]
        if sum(_most_link_bytes(a) + 2 for a in assets if a.hint) <= max_link_bytes:
            continue
        fitted = route_links(_hintable(assets).assets, max_link_bytes)
        if fitted.dropped:
            line = manifest.lines.get(route) or _written_line(text, route)
            column = 3 if line else 0  # the route's key, under `routes:`
            found.append(Diagnostic(manifest.filename, line, column, fitted.message(route)))
    return found


def _written_line(text: str | None, route: str) -> int:
    """The line of ``route``'s key in a routes block the build wrote (0 when not found)."""
    if text is None:
        return 0
    key = f"\n  {yaml_scalar(route)}:"
    at = text.find(key)
    while at >= 0 and text[at + len(key) : at + len(key) + 1] not in ("\n", "\r", " "):
        at = text.find(key, at + 1)  # a longer key that starts with this one
    return 0 if at < 0 else text.count("\n", 0, at) + 2


def plan_route(
    route: str,
    assets: Iterable[Asset],
    *,
    max_pushes: int | None = None,
    max_link_bytes: int = DEFAULT_MAX_LINK_BYTES,
) -> RoutePlan:
    """The :class:`RoutePlan` for ``route``: pushed paths (at most ``max_pushes``) and links.

    The links are those of :func:`route_links` (at most ``max_link_bytes`` bytes).
    Raises :class:`LinkFieldError` like :func:`link_value`.
    """
    assets = tuple(assets)
    pushes: list[str] = []
    for asset in assets:
        if asset.push and (max_pushes is None or len(pushes) < max_pushes):
            pushes.append(wire_path(asset.path))
    fitted = route_links(assets, max_link_bytes)
    return RoutePlan(
        route=route,
        push_paths=tuple(pushes),
        links=tuple(v.encode("ascii") for v in fitted.kept),
        link_header=fitted.field,
        cut=fitted if fitted.dropped else None,
    )


def normalise_base_path(base_path: str) -> str:
    """``base_path`` with exactly one leading and one trailing slash (``blog`` -> ``/blog/``)."""
    stripped = base_path.strip("/")
    return f"/{stripped}/" if stripped else "/"


def route_aliases(route: str, *, pretty_urls: bool = False) -> tuple[str, ...]:
    """Every URL path that serves the page of ``route``, ``route`` first.

    A directory route answers with and without its trailing slash and as
    ``index.html``; an ``.html`` route also without the suffix when pretty URLs
    are on; a suffix-less route (what a pretty-URL build writes) also with it.
    """
    aliases = [route]
    if route.endswith("/"):
        aliases.append(route + "index.html")
        if route != "/":
            aliases.append(route[:-1])
    elif route.endswith("/index.html"):
        directory = route[: -len("index.html")]
        aliases.append(directory)
        if directory != "/":
            aliases.append(directory[:-1])
    elif route.endswith(".html"):
        if pretty_urls:
            aliases.append(route[: -len(".html")])
    elif not route.rsplit("/", 1)[-1].count("."):
        aliases.append(route + ".html")
    return tuple(aliases)


@dataclass(frozen=True, slots=True)
class _Hintable:
    """A route's entries with the hint taken off each whose values no header can carry."""

    assets: tuple[Asset, ...]
    refused: tuple[tuple[str, str], ...]  # (path, why) of each entry that lost its hint


def _hintable(assets: Iterable[Asset]) -> _Hintable:
    kept: list[Asset] = []
    refused: list[tuple[str, str]] = []
    for asset in assets:
        try:
            link_value(asset)
        except LinkFieldError as exc:
            refused.append((asset.path, str(exc)))
            asset = replace(asset, hint=False)
        kept.append(asset)
    return _Hintable(tuple(kept), tuple(refused))


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
        hintable = _hintable(assets)
        if problems is not None:
            for path, why in hintable.refused:
                message = f"route {route!r}: {path}: {why}; not hinted"
                problems.append(Diagnostic(filename, line, 0, message))
        plan = plan_route(
            route,
            hintable.assets,
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
    policy: Policy = _NO_POLICY,
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
