"""Rules at scale and rule warnings shared by `check` and `build` (issue 11 items 8 and 9).

No timed assertions: linearity is shown by counting the work (how often a rule's
pattern is tried), and a path that made the old regular expressions backtrack
for minutes is matched at once (the suite's timeout would catch a regression).
bench/rules_bench.py prints the times.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgen.build import build_site
from pushgen.config import load_config
from pushgen.errors import RoutePatternError
from pushgen.manifest import parse_manifest
from pushgen.manifest.check import SHOWN_PER_KIND, check_manifest, rule_problems
from pushgen.manifest.rules import Glob, RoutePattern, Rule, RuleIndex, glob_matches
from tests.sites import SMALL_SITE, write_site


def exact_rules_manifest(count: int) -> str:
    rules = "".join(
        f"  - match: /page/{i}.html\n"
        f"    add: [{{path: /static/css/p{i}.css, as: style}}]\n"
        f"    set: [{{path: /static/css/p{i}.css, push: false}}]\n"
        for i in range(count)
    )
    routes = "".join(
        f"  /page/{i}.html:\n    - {{path: /static/css/site.css, as: style}}\n"
        for i in range(count)
    )
    return f"version: 1\nrules:\n{rules}routes:\n{routes}"


def test_checking_exact_rules_tries_no_pattern_per_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count = 2000
    manifest = parse_manifest(exact_rules_manifest(count), "m.yaml")
    tried = 0
    original = RoutePattern.matches

    def counting(self: RoutePattern, route: str) -> bool:
        nonlocal tried
        tried += 1
        return original(self, route)

    monkeypatch.setattr(RoutePattern, "matches", counting)
    assert rule_problems(manifest) == []
    for i in (0, count // 2, count - 1):
        route = f"/page/{i}.html"
        assert [d.asset.path for d in manifest.decisions(route)] == [
            "/static/css/site.css",
            f"/static/css/p{i}.css",
        ]
    # Only resolve_route confirming the one rule found for each of the three
    # routes; quadratic was count * count = 4,000,000 tries.
    assert tried == 3


def test_sixteen_thousand_exact_rules_load_and_check(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(exact_rules_manifest(16_000))
    assert check_manifest(path) == []


def test_three_globstars_match_a_20_kb_path_in_linear_time() -> None:
    path = "/" + "a/" * 10_000 + "b"
    assert glob_matches("/**/**/**/c", path) is False  # the regex backtracked 153 s here
    assert glob_matches("/**/**/**/b", path) is True
    assert RoutePattern.parse("/**a*/**a*/**x").matches(path) is False


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/static/*.css", "/static/a.css", True),
        ("/static/*.css", "/static/a/b.css", False),
        ("/static/**.css", "/static/a/b.css", True),
        ("/static/**", "/static/", True),
        ("/a?c", "/abc", True),
        ("/a?c", "/a/c", False),
        ("/**/x", "/x", False),
        ("/**x", "/x", True),
        ("**", "", True),
        ("*", "/", False),
        ("/a*b*c", "/aXbYbc", True),
        ("/a*b*c", "/aXbY/c", False),
    ],
)
def test_glob_matching(pattern: str, path: str, expected: bool) -> None:
    assert Glob(pattern).matches(path) is expected


def test_repeated_warnings_are_counted_not_listed(tmp_path: Path) -> None:
    rules = "".join(f"  - {{match: /p{i}, remove: [/x.js]}}\n" for i in range(1000))
    routes = "".join(f"  /p{i}:\n    - {{path: /a.js, as: script}}\n" for i in range(1000))
    path = tmp_path / "m.yaml"
    path.write_text(f"version: 1\nrules:\n{rules}routes:\n{routes}")
    found = check_manifest(path)
    assert len(found) == SHOWN_PER_KIND + 1
    assert [str(d) for d in found[-2:]] == [
        f"{path}:12:27: warning: /x.js matches no entry of the routes this rule applies to",
        f"{path}:12:27: warning: ... and 990 more like the one above",
    ]


RULES = """\
rules:
  - match: /login
    add: [{path: /static/css/site.css, as: style}]
  - match: /login
    set: [{path: /static/css/site.css, push: false}]
  - match: /nowhere
    remove: [/static/js/app.js]
  - match: /docs/*
    remove: [/static/js/none.js]
"""


def test_build_and_check_warn_alike_about_rules(tmp_path: Path) -> None:
    site = write_site(tmp_path, SMALL_SITE)
    manifest = site / "push-manifest.yaml"
    manifest.write_text(RULES)
    result = build_site(load_config(site))
    expected = [
        "rule matches /nowhere, which is not a page of the site",
        "/static/js/none.js matches no entry of the routes this rule applies to",
    ]
    # An exact rule for a route only the Quart app serves may change what another
    # rule adds to it: no warning (the build warned "not a page of the site").
    assert [d.message for d in result.warnings] == expected
    assert [d.message for d in check_manifest(manifest)] == expected
    assert [(d.line, d.column) for d in result.warnings] == [(6, 0), (9, 14)]


def pattern_rules_manifest(count: int, match: str = "/section{i}/*") -> str:
    rules = "".join(
        f"  - match: {match.format(i=i)}\n    add: [{{path: /static/css/s{i}.css, as: style}}]\n"
        for i in range(count)
    )
    return f"version: 1\nrules:\n{rules}"


def counting_matches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every route a rule's pattern is tried on, from now on."""
    tried: list[str] = []
    original = RoutePattern.matches

    def counting(self: RoutePattern, route: str) -> bool:
        tried.append(route)
        return original(self, route)

    monkeypatch.setattr(RoutePattern, "matches", counting)
    return tried


@pytest.mark.parametrize("match", ["/section{i}/*", "/section{i}/<slug>", "/s/{i}/**.html"])
def test_a_route_tries_only_the_pattern_rules_its_prefix_names(
    monkeypatch: pytest.MonkeyPatch, match: str
) -> None:
    """4,000 pattern rules were 4,000 tries for every missing page (issue 22 item 7)."""
    manifest = parse_manifest(pattern_rules_manifest(4_000, match), "m.yaml")
    tried = counting_matches(monkeypatch)
    for i in range(50):
        assert manifest.rule_index.matching(f"/missing/{i}/page") == ()
    assert tried == []  # was 50 x 4,000
    page = match.format(i=7).replace("<slug>", "x").replace("**", "a/b").replace("*", "x")
    assert [r.line for r in manifest.rule_index.matching(page)] == [3 + 2 * 7]
    assert len(tried) == 1


# Pieces of random patterns and paths: literals that share prefixes, every glob,
# Werkzeug variables of each width, percent-escapes, dots, doubled slashes.
_PATTERN_PIECES = ["a", "b", "ab", "a.b", "%41", "", "*", "**", "?", "a*", "*b", "a?"]
_VARIABLES = ["<{}>", "<int:{}>", "<path:{}>", "<any(a,ab):{}>", "x<{}>"]
_PATH_PIECES = ["a", "b", "ab", "a.b", "%41", "A", "", "1", "12", "x", "xa", "a/b"]


@st.composite
def _patterns(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.sampled_from(_PATTERN_PIECES + _VARIABLES), min_size=0, max_size=4))
    names = iter(f"v{i}" for i in range(len(pieces)))
    text = "/" + "/".join(p.format(next(names)) for p in pieces)
    return draw(st.sampled_from([text, text + "/", "*", "**"])) if pieces else text


def _rules(texts: list[str]) -> list[Rule]:
    rules = []
    for line, text in enumerate(texts, start=1):
        try:
            rules.append(Rule(RoutePattern.parse(text), line))
        except RoutePatternError:
            continue  # a rule Werkzeug refuses is refused by the loader too
    return rules


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(_patterns(), min_size=1, max_size=12),
    paths=st.lists(
        st.lists(st.sampled_from(_PATH_PIECES), max_size=5).map(lambda p: "/" + "/".join(p)),
        min_size=1,
        max_size=8,
    ),
)
def test_the_index_finds_what_trying_every_rule_finds(texts: list[str], paths: list[str]) -> None:
    rules = _rules(texts)
    index = RuleIndex.of(rules)
    for path in [*paths, "", "a", "//a"]:
        expected = tuple(rule for rule in rules if rule.match.matches(path))
        assert index.matching(path) == expected, path
