"""Quart-style rules (``/blog/<slug>``) compiled by Werkzeug, the router Quart uses.

Kept apart from :mod:`pushgen.manifest.rules` so that Werkzeug (50-150 ms to
import) is loaded only when a manifest has such a rule (issue 27: start-up):
:meth:`pushgen.manifest.rules.RoutePattern.parse` imports this module the first
time it meets a ``<``; exporters that write rules (export/patterns.py) import it
beside Werkzeug.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, Map, MapAdapter, RoutingException
from werkzeug.routing import Rule as WerkzeugRule
from werkzeug.routing.rules import _part_re, parse_converter_args

from ..errors import RoutePatternError

__all__ = ["GLOB_OF_CONVERTER", "CompiledRule", "RouteVariable", "compile_rule"]


@dataclass(frozen=True, slots=True)
class RouteVariable:
    """A variable of a Quart-style rule, as Werkzeug parses it: ``<int(min=1):id>``."""

    name: str
    converter: str  # "default" when the rule names none, as Werkzeug calls it
    args: tuple[object, ...] = ()
    kwargs: Mapping[str, object] = field(default_factory=dict)


# Stand-ins for glob characters inside a Quart-style rule (/blog/<slug>/*), as
# Werkzeug converters so that Werkzeug matches the whole rule.
class _OneSegment(BaseConverter):
    regex = "[^/]*"
    part_isolating = True


class _AnySegments(BaseConverter):
    regex = ".*"
    part_isolating = False


class _OneCharacter(BaseConverter):
    regex = "[^/]"
    part_isolating = True


_GLOB_CONVERTERS: Mapping[str, type[BaseConverter]] = {
    "pushgen_star": _OneSegment,
    "pushgen_globstar": _AnySegments,
    "pushgen_qmark": _OneCharacter,
}
# The glob each stand-in converter was made from, for exporters that write globs.
GLOB_OF_CONVERTER: Mapping[type[BaseConverter], Literal["star", "globstar", "qmark"]] = {
    _OneSegment: "star",
    _AnySegments: "globstar",
    _OneCharacter: "qmark",
}
_GLOB_AS_CONVERTER = {"**": "pushgen_globstar", "*": "pushgen_star", "?": "pushgen_qmark"}
_GLOB_TOKEN = re.compile(r"\*\*|\*|\?")
_NUMBER_ARGUMENTS = frozenset({"min", "max", "fixed_digits", "length", "minlength", "maxlength"})
_MALFORMED = "malformed variable in {text!r}; write it like <slug> or <int:id>"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A Quart-style rule as Werkzeug compiled it, bound once for matching routes.

    ``variables`` are the rule's variables as Werkzeug parses them, ``rule`` the
    compiled rule (for exporters).
    """

    variables: tuple[RouteVariable, ...]
    rule: WerkzeugRule
    _adapter: MapAdapter = field(repr=False)

    def matches(self, route: str) -> bool:
        """Whether Quart would serve ``route`` from this rule."""
        try:
            self._adapter.match(route, method="GET")
        except (HTTPException, RoutingException):
            # NotFound, or a redirect (RequestRedirect: a missing trailing slash,
            # doubled slashes): Quart would not serve this route from the rule.
            return False
        return True


def compile_rule(text: str) -> CompiledRule:
    """Compile the Quart-style rule ``text``; raises :class:`RoutePatternError` a person can act on."""
    translated: list[str] = []
    variables: list[RouteVariable] = []
    glob_variable = _glob_variable()
    position = 0
    while position < len(text):
        # Werkzeug's own tokenizer of rules, so that what counts as a
        # variable, and its arguments, are what Quart will see.
        part = _part_re.match(text, position)
        if part is None:
            raise RoutePatternError(text, _MALFORMED.format(text=text))
        position = part.end()
        if part.group("static") is not None:
            translated.append(_GLOB_TOKEN.sub(glob_variable, part.group("static")))
        elif part.group("variable") is not None:
            converter = part.group("converter") or "default"
            if converter not in Map.default_converters:
                known = ", ".join(sorted(Map.default_converters))
                raise RoutePatternError(
                    text, f"unknown converter {converter!r} in {text!r}; use one of {known}"
                )
            try:
                args, kwargs = parse_converter_args(part.group("arguments") or "")
            except ValueError as exc:
                raise RoutePatternError(text, f"{exc} in {text!r}") from None
            for key, value in kwargs.items():
                # Werkzeug takes <int(min=x):id> and fails on the first request.
                if key in _NUMBER_ARGUMENTS and not (
                    isinstance(value, int | float) and not isinstance(value, bool)
                ):
                    raise RoutePatternError(
                        text, f"{key}={value!r} of <{converter}> in {text!r} must be a number"
                    )
            variables.append(RouteVariable(part.group("variable"), converter, args, kwargs))
            translated.append(part.group(0))
        else:
            translated.append(part.group(0))
    rule = WerkzeugRule("".join(translated), endpoint="pushgen")
    try:
        url_map = Map([rule], converters=dict(_GLOB_CONVERTERS))
    except (ValueError, TypeError, LookupError) as exc:
        # Converter arguments Werkzeug refuses: <int(min=x):id>, <any:x>, ...
        raise RoutePatternError(text, f"{text!r} is not a rule Quart accepts: {exc}") from None
    return CompiledRule(tuple(variables), rule, url_map.bind("pushgen.invalid"))


def _glob_variable() -> Callable[[re.Match[str]], str]:
    count = iter(range(1 << 30))

    def variable(found: re.Match[str]) -> str:
        return f"<{_GLOB_AS_CONVERTER[found.group()]}:pushgen_glob_{next(count)}>"

    return variable
