"""The push manifest's data model: routes mapped to their ordered assets, and the rules.

The file format is read by :mod:`.loader` and written by :mod:`.writer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from ..errors import RoutePatternError
from ..model import Asset
from ..push_policy import NO_POLICY, Decision, Policy
from .rules import RoutePattern, Rule, RuleIndex, resolve_route

__all__ = [
    "ENTRY_KEYS",
    "MANIFEST_VERSION",
    "Manifest",
]

MANIFEST_VERSION = 1


# Manifest key -> Asset field. Order here is the order keys are written in.
ENTRY_KEYS: Mapping[str, str] = {
    "path": "path",
    "as": "destination",
    "type": "type",
    "crossorigin": "crossorigin",
    "media": "media",
    "module": "module",
    "push": "push",
    "hint": "hint",
    "imagesrcset": "imagesrcset",
    "imagesizes": "imagesizes",
    "fetchpriority": "fetchpriority",
    "integrity": "integrity",
    # {preconnect: ORIGIN, crossorigin: ...}: an origin to connect to, not a file.
    "preconnect": "path",
}


@dataclass(frozen=True, slots=True)
class Manifest:
    """Routes (URL paths such as ``/`` or ``/docs/``) mapped to their ordered assets."""

    routes: Mapping[str, tuple[Asset, ...]] = field(default_factory=dict)
    version: int = MANIFEST_VERSION
    # Line of each route key in the file it was loaded from (for error messages).
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    rules: tuple[Rule, ...] = ()
    filename: str = field(default="manifest", compare=False)
    # Lines of each entry path per route, for `check` messages.
    entry_lines: Mapping[tuple[str, str], int] = field(default_factory=dict, compare=False)
    entry_columns: Mapping[tuple[str, str], int] = field(default_factory=dict, compare=False)
    # The rules by what they match (see RuleIndex), made once here.
    rule_index: RuleIndex = field(init=False, repr=False, compare=False)
    # route_patterns, found on first use (not once per route asked: issue 22 item 7).
    _route_patterns: tuple[RoutePattern, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule_index", RuleIndex.of(self.rules))

    def decisions(
        self,
        route: str,
        *,
        policy: Policy = NO_POLICY,
        size_of: Callable[[str], int | None] = lambda _path: None,
    ) -> list[Decision]:
        """Every entry of ``route`` after rules and policy, with the reasons (see rules.py)."""
        return resolve_route(
            route,
            self.generated(route),
            self.rule_index.matching(route),
            policy=policy,
            size_of=size_of,
            source=self.filename,
        )

    def assets(
        self,
        route: str,
        *,
        policy: Policy = NO_POLICY,
        size_of: Callable[[str], int | None] = lambda _path: None,
    ) -> tuple[Asset, ...]:
        """The entries the runtime sends for ``route`` (removed ones left out)."""
        return tuple(
            d.asset for d in self.decisions(route, policy=policy, size_of=size_of) if not d.removed
        )

    def generated(self, route: str) -> tuple[Asset, ...]:
        """The generated entries of ``route``: its own, else those of a rule route matching it.

        ``pushgen build --app`` writes a Quart rule with arguments (``/blog/<slug>``)
        as a route holding what every page of that rule needs, so that URLs the
        build never rendered get them too; an exact route always wins.
        """
        own = self.routes.get(route)
        if own is not None:
            return own
        return next((self.routes[p.text] for p in self.route_patterns if p.matches(route)), ())

    @property
    def all_routes(self) -> frozenset[str]:
        """Every route the manifest names: the generated ones and those exact rules name."""
        return frozenset(self.routes).union(self.rule_index.exact)

    @property
    def route_patterns(self) -> tuple[RoutePattern, ...]:
        """The generated routes that are Quart rules with arguments, in file order."""
        if self._route_patterns is None:
            found = _route_patterns(tuple(r for r in self.routes if "<" in r))
            object.__setattr__(self, "_route_patterns", found)
            return found
        return self._route_patterns

    @property
    def patterns(self) -> tuple[Rule, ...]:
        """Rules whose ``match`` is a glob or a Quart-style rule (not one exact route)."""
        return tuple(rule for rule in self.rules if rule.match.kind != "exact")


@lru_cache(maxsize=64)
def _route_patterns(routes: tuple[str, ...]) -> tuple[RoutePattern, ...]:
    out = []
    for route in routes:
        try:
            pattern = RoutePattern.parse(route)
        except RoutePatternError:
            continue  # not a rule pushgen can match (the loader reported it)
        if pattern.kind == "rule":
            out.append(pattern)
    return tuple(out)
