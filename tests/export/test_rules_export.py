"""Route rules exported as Werkzeug (and so Quart) reads them (issue 12, item 3).

The exporters translate a rule from Werkzeug's own parse and its converters'
expressions: converter arguments (``any(a,b)``, ``length=``, ``signed=``,
``fixed_digits=``) hold in regex targets; ``min``/``max`` (a numeric check no
expression makes) are written wider, with a warning on the rule's line; splat
targets refuse what a placeholder cannot say, on the rule's line.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.routing import Rule as WerkzeugRule
from werkzeug.routing.exceptions import RequestRedirect

from pushgen.errors import ManifestError
from pushgen.export import ExportResult, export_manifest
from pushgen.manifest import Manifest, parse_manifest
from pushgen.manifest.rules import RoutePattern, Rule
from pushgen.model import Asset
from tests import export_syntax

LINE = 6


def export(match: str, fmt: str, *, skip_patterns: bool = False) -> ExportResult:
    rule = Rule(RoutePattern.parse(match), LINE, add=(Asset("/p.css", "style"),))
    manifest = Manifest(rules=(rule,), filename="m.yaml")
    return export_manifest(manifest, fmt, root="/srv", skip_patterns=skip_patterns)


def nginx_regex(match: str) -> str:
    result = export(match, "nginx")
    assert result.ok, result.errors
    [location] = export_syntax.nginx(result.text)
    assert location.words[:2] == ("location", "~")
    return location.words[2]


@pytest.mark.parametrize(
    ("match", "regex"),
    [
        ("/p/<any(a,bb):x>", "^/p/(?:a|bb)$"),
        ("/p/<string(length=2):c>", "^/p/[^/]{2}$"),
        ("/p/<string(minlength=2,maxlength=4):c>", "^/p/[^/]{2,4}$"),
        ("/p/<int(signed=True):n>", "^/p/-?\\d+$"),
        ("/p/<int(fixed_digits=4):n>", "^/p/\\d{4}$"),
        ("/p/<float:f>", "^/p/\\d+\\.\\d+$"),
        ("/p/<path:rest>", "^/p/[^/].*?$"),
        ("/p/<slug>", "^/p/[^/]+$"),
    ],
)
def test_regex_targets_write_the_converters_own_expression(match: str, regex: str) -> None:
    assert nginx_regex(match) == regex
    assert export(match, "nginx").cuts == ()


@pytest.mark.parametrize("fmt", ["nginx", "apache", "h2o", "firebase"])
def test_min_and_max_are_widened_with_a_warning_on_the_rules_line(fmt: str) -> None:
    result = export("/p/<int(min=1, max=99):id>", fmt)
    assert result.ok
    [warning] = result.warnings
    assert str(warning) == (
        f"m.yaml:{LINE}: warning: rule `match: /p/<int(min=1, max=99):id>`: widened: "
        "<int:id> is written as \\d+, without its min, max check: hints also reach the "
        "values outside it"
    )


@pytest.mark.parametrize("fmt", ["netlify", "cloudflare"])
@pytest.mark.parametrize(
    "match",
    ["/p/<any(a,b):x>", "/p/<string(length=2):c>", "/p/<int(min=1):n>", "/p/<uuid:u>"],
)
def test_splat_targets_refuse_converters_a_placeholder_cannot_say(fmt: str, match: str) -> None:
    result = export(match, fmt)
    [error] = result.errors
    assert error.line == LINE
    assert "placeholders match any segment, with no equivalent of the" in error.message
    assert "--skip-patterns" in error.message
    skipped = export(match, fmt, skip_patterns=True)
    assert skipped.ok and [c.line for c in skipped.cuts] == [LINE]


def test_a_rule_werkzeug_cannot_read_never_reaches_an_exporter() -> None:
    # The loader reads rules with Werkzeug's own parser, so such a rule is
    # refused at its line before any format sees it.
    text = (
        'version: 1\nrules:\n  - match: "/p/<any(a,a-b):x>"\n    add: [{path: /p.css, as: style}]\n'
    )
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "m.yaml")
    assert str(caught.value) == (
        "m.yaml:3:12: error: Cannot parse converter argument 'a-' in '/p/<any(a,a-b):x>'"
    )


def test_splat_targets_keep_plain_placeholders() -> None:
    result = export("/p/<string:slug>/<x>", "netlify")
    assert result.ok
    assert list(export_syntax.headers_file(result.text)) == ["/p/:slug/:x"]


RULES = [
    '/p/<any(a,bb,"a-b"):x>',
    "/p/<string(length=2):c>",
    "/p/<string(minlength=2,maxlength=3):c>",
    "/p/<int:n>",
    "/p/<int(signed=True):n>",
    "/p/<int(fixed_digits=3):n>",
    "/p/<float:f>",
    "/p/<float(signed=True):f>",
    "/p/<x>.html",
    "/p/<path:rest>",
]


def werkzeug_matches(match: str, path: str) -> bool:
    adapter = Map([WerkzeugRule(match, endpoint="e")]).bind("example.org")
    try:
        adapter.match(path)
    except RequestRedirect:
        return False
    except HTTPException:
        return False
    return True


@pytest.mark.parametrize("match", RULES)
@settings(max_examples=150, deadline=None)
@given(segment=st.text(alphabet="ab-.019x/", max_size=6))
def test_exported_expressions_match_what_werkzeug_matches(match: str, segment: str) -> None:
    path = "/p/" + segment
    expression = nginx_regex(match)
    assert (re.fullmatch(expression[1:-1], path) is not None) == werkzeug_matches(match, path)
