"""Exports of many routes and pattern rules do work linear in them (issue 22 item 7).

No timed assertions: the work is counted (how often a rule's pattern, or a
target's expression, is tried on a path), which is deterministic. Four times the
routes and rules must be at most four times the tries; every format was
quadratic (4,000 glob rules took 26 s for nginx). bench/rules_bench.py prints the
times.
"""

from __future__ import annotations

import re

import pytest

import pushgen.export.blocks
from pushgen.export import FORMATS, export_manifest
from pushgen.manifest import parse_manifest
from pushgen.manifest.rules import RoutePattern


def many_rules(count: int) -> str:
    """``count`` routes, exact rules for other routes, glob rules and Quart rules, and one
    rule for every route."""
    rules = "  - match: /**\n    add: [{path: /static/css/all.css, as: style}]\n"
    for i in range(count):
        rules += (
            f"  - match: /extra/{i}.html\n    add: [{{path: /static/css/e{i}.css, as: style}}]\n"
            f"  - match: /section{i}/*\n    add: [{{path: /static/css/s{i}.css, as: style}}]\n"
            f"  - match: /blog{i}/<slug>\n    add: [{{path: /static/css/b{i}.css, as: style}}]\n"
        )
    routes = "".join(
        f"  /page/{i}.html:\n    - {{path: /static/css/p{i}.css, as: style}}\n"
        for i in range(count)
    )
    return f"version: 1\nrules:\n{rules}routes:\n{routes}"


def tries(monkeypatch: pytest.MonkeyPatch, count: int, format: str) -> int:
    """Patterns and target expressions tried while exporting ``many_rules(count)``."""
    manifest = parse_manifest(many_rules(count), "m.yaml")
    tried = 0
    matches = RoutePattern.matches
    target_matches = getattr(pushgen.export.blocks, "target_matches", None)

    def counting_pattern(self: RoutePattern, route: str) -> bool:
        nonlocal tried
        tried += 1
        return matches(self, route)

    def counting_target(pattern: re.Pattern[str], path: str) -> bool:
        nonlocal tried
        tried += 1
        assert target_matches is not None
        return bool(target_matches(pattern, path))

    with monkeypatch.context() as patch:
        patch.setattr(RoutePattern, "matches", counting_pattern)
        patch.setattr(pushgen.export.blocks, "target_matches", counting_target, raising=False)
        result = export_manifest(manifest, format, root="/srv/www", skip_patterns=True)
    assert not result.errors
    return tried


@pytest.mark.parametrize("format", list(FORMATS))
def test_four_times_the_rules_is_at_most_four_times_the_work(
    monkeypatch: pytest.MonkeyPatch, format: str
) -> None:
    small, large = tries(monkeypatch, 150, format), tries(monkeypatch, 600, format)
    # Quadratic was 16 times (and 1,000 rules took 1.8 s for nginx, 4,000 26 s).
    assert large <= 4 * small + 8, (small, large)
