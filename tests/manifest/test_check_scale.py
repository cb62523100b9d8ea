"""``pushgen check`` of many pattern rules and many routes is linear (issue 22).

The rule warnings (:func:`rule_problems`) once tried every pattern rule that sets
or removes entries against every route. The work is counted (how often a rule's
pattern is tried), never timed: past the bound the count raises, so a quadratic
check fails at once instead of running for minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.manifest import parse_manifest
from pushgen.manifest.check import check_manifest, rule_problems
from pushgen.manifest.rules import RoutePattern


def sections(rules: int, routes: int) -> str:
    """``rules`` glob rules, each setting an entry of its own section, and ``routes`` pages.

    Route ``i`` is in section ``i``, with the entry its rule sets; rule 0 also sets
    a path no page has (the one warning), and one Quart rule spans every section.
    """
    out = ["version: 1", "rules:"]
    for i in range(rules):
        path = "/static/none.css" if i == 0 else f"/static/s{i}.css"
        out += [f"  - match: /section{i}/*", f"    set: [{{path: {path}, push: false}}]"]
    out += ["  - match: /section<int:n>/page.html", "    remove: [/static/site.css]"]
    out.append("routes:")
    for i in range(routes):
        out += [
            f"  /section{i}/page.html:",
            f"    - {{path: /static/s{i}.css, as: style}}",
            "    - {path: /static/site.css, as: style}",
        ]
    return "\n".join(out) + "\n"


class _Tries:
    """Counts ``RoutePattern.matches``, and refuses to go past ``bound``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, bound: int) -> None:
        self.count = 0
        original = RoutePattern.matches

        def counting(pattern: RoutePattern, route: str) -> bool:
            self.count += 1
            assert self.count <= bound, f"more than {bound:,} pattern tries: quadratic"
            return original(pattern, route)

        monkeypatch.setattr(RoutePattern, "matches", counting)


def test_four_times_the_rules_and_routes_is_four_times_the_tries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = parse_manifest(sections(500, 500), "m.yaml")
    large = parse_manifest(sections(2_000, 2_000), "m.yaml")
    tries = _Tries(monkeypatch, 10**7)
    [warning] = rule_problems(small)
    assert (warning.line, warning.column) == (4, 11)
    assert warning.message == (
        "/static/none.css matches no entry of the routes this rule applies to"
    )
    once, tries.count = tries.count, 0
    assert len(rule_problems(large)) == 1
    # 4x: each route tries its own section's glob and the one Quart rule (twice:
    # finding the rules that apply, then the entries they add); c19f3c3 made 16x.
    assert tries.count <= 4 * once, (once, tries.count)


def test_check_of_16000_rules_and_10000_routes_tries_each_route_a_few_times(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manifest = tmp_path / "push-manifest.yaml"
    manifest.write_text(sections(16_000, 10_000))
    # Each route tries its section's glob and the Quart rule in each pass over the
    # routes (the rule warnings, the entries they add, the Link budget): 8 measured.
    # c19f3c3: 16,000 x 10,000 = 160,000,000 tries (the bound stops it at once).
    tries = _Tries(monkeypatch, 10 * 10_000)
    found = check_manifest(manifest)
    assert [(d.line, d.message) for d in found] == [
        (4, "/static/none.css matches no entry of the routes this rule applies to")
    ]
    assert tries.count >= 10_000  # every route did try its own rules
