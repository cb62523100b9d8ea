"""Hand-written rules of a manifest, and deciding what a route pushes and hints.

The ``routes`` of a manifest are written by the build; ``rules`` are written by
people and never touched by the build. A rule names the routes it applies to with
``match`` and then adds, changes or removes entries, or sets the push policy::

    rules:
      - match: /blog/<slug>          # Quart-style rule: dynamic routes the build never saw
        add:
          - {path: /static/css/blog.css, as: style}
      - match: "/docs/*"             # glob: '*' stays within a segment, '**' crosses them
        set:
          - {path: "/static/img/*", hint: false}
        remove: [/static/js/analytics.js]
        policy: {max_pushes: 4}

Resolution is pure: generated entries + every matching rule in file order + the
policy (:mod:`pushgen.push_policy`), giving each entry a :class:`Decision` that says why it is pushed, only
hinted, or dropped — what ``pushgen explain`` prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from ..errors import RoutePatternError
from ..model import Asset
from ..push_policy import NO_POLICY, Decision, Policy, apply_policy, media_matches_screen

if TYPE_CHECKING:  # Werkzeug is imported only when a rule needs it (RoutePattern._rule)
    from werkzeug.routing import Rule as WerkzeugRule

    from .werkzeug_rule import CompiledRule, RouteVariable

__all__ = [
    "EntryChange",
    "Glob",
    "PatternKind",
    "PrefixIndex",
    "RoutePattern",
    "Rule",
    "RuleIndex",
    "compile_glob",
    "glob_matches",
    "literal_prefix",
    "resolve_route",
    "rule_key",
]

# The policy that sets nothing: every field inherits (a rule without ``policy:``).


class Glob:
    """A compiled glob: ``*`` within one path segment, ``**`` across them, ``?`` one character.

    Matching runs the pattern as a set of positions advanced together over the
    path, one bit per position of an int (shift-and, Baeza-Yates and Gonnet
    1992), so it costs time linear in the path whatever the stars: a regular
    expression with three ``.*`` backtracks polynomially (153 s for a 20 KB path,
    issue 11 item 9).
    """

    __slots__ = ("_accept", "_free", "_literal", "_one", "_stars", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        literal: dict[str, int] = {}
        one = stars = free = 0  # positions of ?, of * and of **
        position = 0
        i = 0
        while i < len(text):
            bit = 1 << position
            if text.startswith("**", i):
                free |= bit
                i += 2
            elif text[i] == "*":
                stars |= bit
                i += 1
            elif text[i] == "?":
                one |= bit
                i += 1
            else:
                literal[text[i]] = literal.get(text[i], 0) | bit
                i += 1
            position += 1
        self._literal, self._one, self._stars, self._free = literal, one, stars, free
        self._accept = 1 << position

    def _closure(self, states: int) -> int:
        # A star may match nothing: being before it is being after it too.
        skippable = self._stars | self._free
        while True:
            more = states | ((states & skippable) << 1)
            if more == states:
                return states
            states = more

    def matches(self, path: str) -> bool:
        literal, one, stars, free = self._literal, self._one, self._stars, self._free
        states = self._closure(1)
        for char in path:
            if char == "/":
                advance, stay = literal.get(char, 0), free
            else:
                advance, stay = literal.get(char, 0) | one, stars | free
            states = self._closure(((states & advance) << 1) | (states & stay))
            if not states:
                return False
        return bool(states & self._accept)


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> Glob:
    """The :class:`Glob` of ``pattern``, compiled once."""
    return Glob(pattern)


PatternKind = Literal["exact", "glob", "rule"]


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """What a rule's ``match`` names: one route, a glob, or a Quart-style rule.

    A Quart-style rule (``/blog/<slug>``, ``/u/<int(min=1):id>``) is matched by
    ``werkzeug.routing``, the router Quart itself uses, compiled once (werkzeug_rule.py): a
    route matches exactly when Quart would serve it from that rule (a redirect,
    such as a missing trailing slash, is no match). Globs in its literal parts
    (``/blog/<slug>/*``) become converters of the same rule. Globs alone are
    matched by :class:`Glob`. ``variables`` are the rule's variables as Werkzeug
    parses them, and ``werkzeug_rule`` the compiled rule, for exporters.
    """

    text: str
    kind: PatternKind
    glob: Glob | None = field(default=None, compare=False)
    variables: tuple[RouteVariable, ...] = field(default=(), compare=False)
    werkzeug_rule: WerkzeugRule | None = field(default=None, compare=False, repr=False)
    _compiled: CompiledRule | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> RoutePattern:
        """Parse ``text``; raises :class:`RoutePatternError` with a sentence a person can act on."""
        if not text.startswith("/") and text not in ("*", "**"):
            raise RoutePatternError(
                text, f"match {text!r} must be a route starting with '/', or '*' for every route"
            )
        if "<" in text:
            return cls._rule(text)
        if text in ("*", "**"):
            return cls(text, "glob", glob=compile_glob("**"))
        if any(c in text for c in "*?"):
            return cls(text, "glob", glob=compile_glob(text))
        return cls(text, "exact")

    @classmethod
    def _rule(cls, text: str) -> RoutePattern:
        # Werkzeug is imported here, the first time a manifest has a Quart-style
        # rule, not when the build starts (issue 27: start-up).
        from .werkzeug_rule import compile_rule

        compiled = compile_rule(text)
        return cls(
            text,
            "rule",
            variables=compiled.variables,
            werkzeug_rule=compiled.rule,
            _compiled=compiled,
        )

    def matches(self, route: str) -> bool:
        if self.glob is not None:
            return self.glob.matches(route)
        if self._compiled is None:
            return route == self.text
        return self._compiled.matches(route)


def _path_matches(pattern: str, path: str) -> bool:
    if "*" not in pattern and "?" not in pattern:
        return pattern == path
    return compile_glob(pattern).matches(path)


@dataclass(frozen=True, slots=True)
class EntryChange:
    """A rule's ``set`` item: for entries whose path matches ``path`` (a glob), these values."""

    path: str
    values: Mapping[str, object]


def rule_key(line: int) -> str:
    """The key that stands for the rule on ``line`` beside routes in a manifest's location maps.

    ``Manifest.entry_lines`` maps (route, path) to a line; a rule's entries are
    kept there under this key, which cannot be a route (routes start with '/').
    """
    return f"rule:{line}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One item of a manifest's ``rules`` list."""

    match: RoutePattern
    line: int

    @property
    def key(self) -> str:
        """This rule's key in a manifest's location maps (see :func:`rule_key`)."""
        return rule_key(self.line)

    add: tuple[Asset, ...] = ()
    set: tuple[EntryChange, ...] = ()
    remove: tuple[str, ...] = ()
    policy: Policy = NO_POLICY


def literal_prefix(pattern: RoutePattern) -> str:
    """The text every route ``pattern`` matches starts with ("" when it names none).

    A glob's text up to its first wildcard; a Quart rule's up to its first variable
    or wildcard. Werkzeug merges doubled slashes in a rule's text before matching
    it, so a rule whose literal part holds "//" gets "" (tried everywhere).
    """
    text = pattern.text
    if pattern.kind == "exact":
        return text
    stops = "<*?" if pattern.kind == "rule" else "*?"
    end = next((i for i, c in enumerate(text) if c in stops), len(text))
    prefix = text[:end]
    return "" if pattern.kind == "rule" and "//" in prefix else prefix


class _PrefixNode:
    __slots__ = ("children", "longest", "partial")

    def __init__(self) -> None:
        self.children: dict[str, _PrefixNode] = {}
        # The rest of a prefix after this node's whole segments -> positions.
        self.partial: dict[str, list[int]] = {}
        self.longest = 0


class PrefixIndex:
    """Positions of patterns by their literal prefix, to find a path's candidates without trying each.

    A pattern can only match a path that starts with its literal prefix (see
    :func:`literal_prefix`), so the prefixes are kept in a tree of whole path
    segments: a lookup walks the path's segments down the tree and collects the
    patterns whose prefix the path starts with, in position order. Its cost is the
    path's segments that the tree holds plus the candidates, not the number of
    patterns: 16,000 glob rules were 16,000 tries for every request for a missing
    page (issue 22 item 7). A prefix that does not start with '/' ("") is a
    candidate for every path.
    """

    __slots__ = ("_everywhere", "_root")

    def __init__(self, prefixes: Iterable[str]) -> None:
        self._root = _PrefixNode()
        self._everywhere: list[int] = []
        for position, prefix in enumerate(prefixes):
            if not prefix.startswith("/"):
                self._everywhere.append(position)
                continue
            *segments, partial = prefix[1:].split("/")
            node = self._root
            for segment in segments:
                node = node.children.setdefault(segment, _PrefixNode())
            node.partial.setdefault(partial, []).append(position)
            node.longest = max(node.longest, len(partial))

    def candidates(self, path: str) -> list[int]:
        """Positions of the prefixes ``path`` starts with, in increasing order."""
        found = list(self._everywhere)
        node: _PrefixNode | None = self._root if path.startswith("/") else None
        start = 1
        while node is not None:
            end = path.find("/", start)
            part = path[start:] if end < 0 else path[start:end]
            if node.partial:
                # Only prefixes of the segment as long as this node's longest rest.
                for length in range(min(len(part), node.longest) + 1):
                    found.extend(node.partial.get(part[:length], ()))
            if end < 0:
                break
            node = node.children.get(part)
            start = end + 1
        found.sort()
        return found


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """Rules by what they match, to find a route's rules without trying each one.

    Exact rules are a dictionary lookup (16,000 exact rules were 16,000 comparisons
    per route, issue 11 item 9); glob and Quart-style rules are found by their
    literal prefix (:class:`PrefixIndex`) and only those candidates are tried.
    """

    rules: tuple[Rule, ...]
    exact: Mapping[str, tuple[int, ...]]
    globs: tuple[int, ...]
    quart_rules: tuple[int, ...]
    globs_by_prefix: PrefixIndex = field(compare=False, repr=False)
    quart_rules_by_prefix: PrefixIndex = field(compare=False, repr=False)

    @classmethod
    def of(cls, rules: Sequence[Rule]) -> RuleIndex:
        exact: dict[str, list[int]] = {}
        kinds: dict[PatternKind, list[int]] = {"glob": [], "rule": []}
        for position, rule in enumerate(rules):
            if rule.match.kind == "exact":
                exact.setdefault(rule.match.text, []).append(position)
            else:
                kinds[rule.match.kind].append(position)
        globs, quart_rules = tuple(kinds["glob"]), tuple(kinds["rule"])
        return cls(
            tuple(rules),
            {k: tuple(v) for k, v in exact.items()},
            globs,
            quart_rules,
            PrefixIndex(literal_prefix(rules[i].match) for i in globs),
            PrefixIndex(literal_prefix(rules[i].match) for i in quart_rules),
        )

    def matching_patterns(self, route: str) -> list[int]:
        """Positions of the glob and Quart-style rules that match ``route``, in file order."""
        rules, globs, quart_rules = self.rules, self.globs, self.quart_rules
        # Werkzeug matches "/" + the path without its leading slashes (MapAdapter.match).
        path = "/" + route.lstrip("/") if route else ""
        found = [globs[i] for i in self.globs_by_prefix.candidates(route)]
        found += [quart_rules[i] for i in self.quart_rules_by_prefix.candidates(path)]
        found.sort()
        return [i for i in found if rules[i].match.matches(route)]

    def matching(self, route: str) -> tuple[Rule, ...]:
        """The rules whose ``match`` matches ``route``, in file order."""
        found = self.exact.get(route, ())
        hits = self.matching_patterns(route)
        if hits:
            found = tuple(sorted((*found, *hits)))
        return tuple(self.rules[i] for i in found)


def resolve_route(
    route: str,
    generated: Sequence[Asset],
    rules: Sequence[Rule],
    *,
    policy: Policy = NO_POLICY,
    size_of: Callable[[str], int | None] = lambda _path: None,
    source: str = "manifest",
) -> list[Decision]:
    """The entries of ``route``: generated ones, then every matching rule, then policy.

    Removed entries are kept in the result (``removed=True``) so that ``explain``
    can say why something is missing; the runtime drops them.
    """
    decisions = [Decision(asset, ("generated by pushgen build",)) for asset in generated]
    effective = Policy()
    fonts_where = ""
    for rule in rules:
        if not rule.match.matches(route):
            continue
        where = f"rule at {source}:{rule.line} (match {rule.match.text})"
        decisions = _apply_rule(decisions, rule, where)
        if not rule.policy.empty:
            effective = rule.policy.over(effective)
            if rule.policy.fonts is not None:
                fonts_where = where
    if effective.fonts == "all":
        decisions = [_all_fonts(d, fonts_where) for d in decisions]
    if effective.empty:
        # Generated entries already follow the site's policy (the build applied
        # it); it only matters here as the base a rule's policy overrides.
        return decisions
    if policy.push is not None:
        decisions = [_held_back(d, policy.push, effective) for d in decisions]
    return apply_policy(decisions, effective.over(policy), size_of)


def _held_back(decision: Decision, site_push: frozenset[str], effective: Policy) -> Decision:
    """``decision`` pinned when the build held back its push for a reason a policy does not undo.

    A generated entry of a destination the site pushes, yet not pushed, was held
    back by the build (a defer script, a script's later fetch; issue 15): a
    rule's `set` can undo that, a rule's policy cannot.
    """
    d = decision
    if (
        not (d.added_by or d.pinned_push or d.removed or d.asset.push)
        and d.asset.destination in site_push
        and media_matches_screen(d.asset.media)
        and not (effective.fonts == "all" and d.asset.destination == "font")
    ):
        return replace(d, pinned_push=True)
    return d


def _apply_rule(decisions: list[Decision], rule: Rule, where: str) -> list[Decision]:
    """``decisions`` after the ``add``, ``set`` and ``remove`` of ``rule`` (``where`` says which)."""
    decisions = list(decisions)
    for asset in rule.add:
        existing = next((i for i, d in enumerate(decisions) if d.asset.path == asset.path), None)
        decision = Decision(asset, (f"added by {where}",), pinned_push=True, added_by=rule.line)
        if existing is None:
            decisions.append(decision)
        else:
            decisions[existing] = decision
    for change in rule.set:
        for i, decision in enumerate(decisions):
            if decision.removed or not _path_matches(change.path, decision.asset.path):
                continue
            values = dict(change.values)
            shown = ", ".join(f"{k}: {_show(v)}" for k, v in values.items())
            decisions[i] = Decision(
                replace(decision.asset, **values),  # type: ignore[arg-type]
                (*decision.reasons, f"{shown} by {where}"),
                False,
                decision.pinned_push or "push" in values,
                decision.added_by,
            )
    for pattern in rule.remove:
        for i, decision in enumerate(decisions):
            if not decision.removed and _path_matches(pattern, decision.asset.path):
                decisions[i] = Decision(
                    decision.asset,
                    (*decision.reasons, f"removed by {where}"),
                    True,
                    decision.pinned_push,
                )
    return decisions


def _all_fonts(decision: Decision, where: str) -> Decision:
    """A generated font entry under a rule's ``fonts: all``: hinted, pushed as the policy says.

    The build traced fonts per page (pushgen/build/fonts/) and listed, without a
    hint, those the page's text does not use; the rule undoes that for its routes.
    """
    asset = decision.asset
    if asset.destination != "font" or decision.added_by or decision.removed or asset.hint:
        return decision
    return replace(
        decision,
        asset=replace(asset, hint=True),
        reasons=(*decision.reasons, f"hinted: fonts: all by {where}"),
    )


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def glob_matches(pattern: str, path: str) -> bool:
    """Whether a ``set``/``remove`` path pattern matches ``path`` (for check and warnings)."""
    return _path_matches(pattern, path)
